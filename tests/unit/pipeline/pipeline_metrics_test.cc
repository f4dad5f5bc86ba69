// ExportPipelineMetrics: counters from the first scrape, the latest-run gauges absent until a task
// set them, timestamps in seconds.
#include "pipeline/pipeline_metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace pulse::pipeline {
namespace {

bool Has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(PipelineMetrics, CountersStartAtZeroAndLatestValuesAppearOnceSet) {
  PipelineStats stats;
  metrics::Registry registry;
  ExportPipelineMetrics(stats, registry);
  std::string text = registry.Render();
  EXPECT_TRUE(Has(text, "pulse_ingest_rows_total{outcome=\"rejected\"} 0")) << text;
  EXPECT_TRUE(Has(text, "pulse_ingest_gate_total{decision=\"suppress\"} 0")) << text;
  EXPECT_TRUE(Has(text, "pulse_ingest_files_total{outcome=\"duplicate\"} 0")) << text;
  EXPECT_TRUE(Has(text, "pulse_forecast_rows_total 0")) << text;
  for (const char* absent :
       {"pulse_forecast_series ", "pulse_forecast_skipped_series ", "pulse_forecast_last_success_timestamp_seconds ",
        "pulse_trust_last_success_timestamp_seconds "})
    EXPECT_EQ(text.find(absent), std::string::npos) << absent << "\n" << text;

  stats.ingest_accepted += 7;
  stats.forecast_series = 0;  // a run that forecast nothing still reports it
  stats.forecast_skipped = 2;
  stats.forecast_last_micros = 1'700'000'000'500'000;
  stats.trust_rows += 12;
  text = registry.Render();
  EXPECT_TRUE(Has(text, "pulse_ingest_rows_total{outcome=\"accepted\"} 7")) << text;
  EXPECT_TRUE(Has(text, "pulse_forecast_series 0")) << text;
  EXPECT_TRUE(Has(text, "pulse_forecast_skipped_series 2")) << text;
  EXPECT_TRUE(Has(text, "pulse_forecast_last_success_timestamp_seconds 1700000000.5")) << text;
  EXPECT_TRUE(Has(text, "pulse_trust_rows_total 12")) << text;
  EXPECT_EQ(text.find("pulse_trust_last_success_timestamp_seconds "), std::string::npos) << text;
}

}  // namespace
}  // namespace pulse::pipeline
