// pulse drift's library call (pipeline/drift_job.h) on a temporary local lake: input drift on a
// series with a level shift and none on a steady one, forecast outcomes and coverage, the
// drift_events table, idempotency, retraining triggers through the in-process broker, bad input.
#include "pipeline/drift_job.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/metrics.h"
#include "core/time.h"
#include "ingest/file_ingest.h"
#include "jobs/celery_protocol.h"
#include "jobs/inprocess_broker.h"
#include "pipeline/forecast_signals.h"

namespace pulse::pipeline {
namespace {

namespace fs = std::filesystem;

int64_t Month(int i) { return time::AddMonths(*time::FromCivil(2000, 1, 1), i); }

// A deterministic wiggle in [-1, 1] (no RNG: the same numbers on every machine).
double Noise(int i) { return std::sin(i * 1.7) * 0.6 + std::sin(i * 0.37) * 0.4; }

class DriftJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_drift_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    lake_ = lake::Lake::Open((dir_ / "lake").string()).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Months [from, to) of "steady" (level 10) and "shifted" (level 10, +shift from month `shift_at`).
  void Ingest(int from, int to, int shift_at, double shift) {
    std::string csv = "name,ts,value\n";
    for (int i = from; i < to; ++i) {
      csv += "steady," + time::FormatTimestamp(Month(i)) + "," + std::to_string(10 + Noise(i)) + "\n";
      csv += "shifted," + time::FormatTimestamp(Month(i)) + "," +
             std::to_string(10 + Noise(i + 100) + (i >= shift_at ? shift : 0.0)) + "\n";
    }
    const auto path = dir_ / ("s" + std::to_string(from) + ".csv");
    std::ofstream(path) << csv;
    auto report = ingest::IngestFile(*lake_, path.string(), {.kind = "macro"});
    ASSERT_TRUE(report.ok()) << report.status().message();
    ASSERT_EQ(report->gate.suppress, 0) << "a suppressed row would hide the shift from drift detection";
  }

  std::shared_ptr<arrow::RecordBatch> Events() {
    auto table = lake_->OpenTable("drift_events").value()->Read().value();
    return table->CombineChunksToBatch().ValueOrDie();
  }

  fs::path dir_;
  std::unique_ptr<lake::Lake> lake_;
};

DriftOptions Options() {
  DriftOptions o;
  o.reference_points = 40;
  o.current_points = 12;
  o.min_coverage_outcomes = 5;
  return o;
}

TEST_F(DriftJobTest, LevelShiftIsDriftSteadySeriesIsNot) {
  Ingest(0, 64, 52, 2.0);
  auto report = DetectDrift(*lake_, Options());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->series_checked, 2);
  EXPECT_EQ(report->input_drift, (std::vector<std::string>{"shifted"}));
  EXPECT_GE(report->detections["ks"], 1);
  EXPECT_FALSE(report->duplicate);
  auto events = Events();
  ASSERT_EQ(events->num_rows(), report->rows);
  auto series = std::static_pointer_cast<arrow::StringArray>(events->GetColumnByName("series"));
  auto detector = std::static_pointer_cast<arrow::StringArray>(events->GetColumnByName("detector"));
  auto is_default = std::static_pointer_cast<arrow::BooleanArray>(events->GetColumnByName("default_test"));
  auto decision = std::static_pointer_cast<arrow::StringArray>(events->GetColumnByName("decision"));
  auto p_value = std::static_pointer_cast<arrow::DoubleArray>(events->GetColumnByName("p_value"));
  auto window_start = std::static_pointer_cast<arrow::TimestampArray>(events->GetColumnByName("window_start"));
  auto reference_start = std::static_pointer_cast<arrow::TimestampArray>(events->GetColumnByName("reference_start"));
  auto version = std::static_pointer_cast<arrow::Int64Array>(events->GetColumnByName("signals_version"));
  std::set<std::string> detectors;
  for (int64_t i = 0; i < events->num_rows(); ++i) {
    detectors.insert(detector->GetString(i));
    EXPECT_EQ(window_start->Value(i), Month(52));  // the latest 12 of 64 months
    EXPECT_EQ(reference_start->Value(i), Month(12));
    EXPECT_EQ(version->Value(i), report->signals_version);
    if (detector->GetString(i) == "ks") {
      EXPECT_TRUE(is_default->Value(i));
      EXPECT_EQ(decision->GetString(i), series->GetString(i) == "shifted" ? "drift" : "ok") << series->GetString(i);
      EXPECT_EQ(p_value->Value(i) < 0.05, series->GetString(i) == "shifted");
    }
  }
  EXPECT_EQ(detectors, (std::set<std::string>{"ks", "psi", "jensenshannon", "wasserstein"}));
  // The same signals version again: nothing written.
  auto again = DetectDrift(*lake_, Options());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(Events()->num_rows(), report->rows);
}

TEST_F(DriftJobTest, ForecastOutcomesGiveStreamingAndCoverageRows) {
  Ingest(0, 52, 1000, 0.0);
  ASSERT_TRUE(ForecastSignals(*lake_, {}).ok());
  Ingest(52, 64, 52, 3.0);  // the forecasts' targets now observed: shifted ones far outside the bands
  auto report = DetectDrift(*lake_, Options());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto events = Events();
  auto series = std::static_pointer_cast<arrow::StringArray>(events->GetColumnByName("series"));
  auto detector = std::static_pointer_cast<arrow::StringArray>(events->GetColumnByName("detector"));
  auto statistic = std::static_pointer_cast<arrow::DoubleArray>(events->GetColumnByName("statistic"));
  auto points = std::static_pointer_cast<arrow::Int64Array>(events->GetColumnByName("points"));
  auto decision = std::static_pointer_cast<arrow::StringArray>(events->GetColumnByName("decision"));
  std::map<std::string, std::map<std::string, int64_t>> seen;
  for (int64_t i = 0; i < events->num_rows(); ++i) {
    const std::string d = detector->GetString(i);
    seen[series->GetString(i)][d] = i;
    if (d == "adwin" || d == "page_hinkley" || d == "ddm") {
      EXPECT_EQ(points->Value(i), 12) << d;
    }
  }
  for (const char* name : {"steady", "shifted"}) {
    for (const char* d : {"adwin", "page_hinkley", "ddm", "coverage80", "coverage95"}) {
      EXPECT_TRUE(seen[name].count(d)) << name << " " << d;
    }
  }
  // Every shifted outcome lies 3 above a level-10 forecast: the 80% band misses them (hit rate
  // well below 0.8, and below the steady series'), and the binomial test says miscalibrated.
  const int64_t row = seen["shifted"]["coverage80"];
  EXPECT_LT(statistic->Value(row), 0.5);
  EXPECT_EQ(decision->GetString(row), "drift");
  EXPECT_LT(statistic->Value(row), statistic->Value(seen["steady"]["coverage80"]));
}

TEST_F(DriftJobTest, ConsecutiveDriftEnqueuesPulseTrain) {
  jobs::InProcessBroker broker;
  DriftOptions options = Options();
  options.trigger_consecutive = 2;
  options.trigger_coverage = false;
  options.trigger_streaming = false;
  Ingest(0, 64, 52, 2.0);
  auto first = DetectDrift(*lake_, options, &broker);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->retrain.empty());  // one run of drift: not yet
  EXPECT_EQ(broker.QueueLength("celery").value(), 0);
  Ingest(64, 65, 52, 2.0);  // a new signals version, still shifted
  auto second = DetectDrift(*lake_, options, &broker);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(second->retrain.size(), 1u);
  EXPECT_EQ(second->retrain[0].series, "shifted");
  EXPECT_EQ(second->retrain[0].reason.rfind("ks: ", 0), 0u) << second->retrain[0].reason;
  ASSERT_EQ(broker.QueueLength("celery").value(), 1);
  auto delivery = broker.Fetch({"celery"}, std::chrono::milliseconds(0)).value();
  ASSERT_TRUE(delivery.has_value());
  auto message = jobs::DecodeMessage(delivery->raw);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->task, "pulse.train");
  EXPECT_EQ(message->id, second->retrain[0].task_id);
  EXPECT_EQ(message->kwargs["series"], nlohmann::json::array({"shifted"}));
  EXPECT_EQ(message->kwargs["reason"], second->retrain[0].reason);
  // Rerunning on the same version enqueues nothing more.
  auto third = DetectDrift(*lake_, options, &broker);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->duplicate);
  EXPECT_EQ(broker.QueueLength("celery").value(), 0);

  PipelineStats stats;
  RecordDriftMetrics(*second, stats);
  metrics::Registry registry;
  ExportPipelineMetrics(stats, registry);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("pulse_drift_retrain_enqueued_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("pulse_drift_detections_total{detector=\"ks\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("pulse_drift_series 2"), std::string::npos) << text;
}

TEST_F(DriftJobTest, BadInputIsAClearErrorAndWritesNothing) {
  auto none = DetectDrift(*lake_, Options());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  Ingest(0, 30, 1000, 0.0);
  DriftOptions zero = Options();
  zero.current_points = 0;
  EXPECT_EQ(DetectDrift(*lake_, zero).status().code(), StatusCode::kInvalidArgument);
  // 30 points < 40 + 12: both series skipped, saying why; no drift_events table.
  auto short_series = DetectDrift(*lake_, Options());
  ASSERT_TRUE(short_series.ok()) << short_series.status().ToString();
  EXPECT_EQ(short_series->series_checked, 0);
  ASSERT_EQ(short_series->skipped.size(), 2u);
  EXPECT_NE(short_series->skipped[0].find("30 points, fewer than"), std::string::npos) << short_series->skipped[0];
  EXPECT_EQ(lake_->OpenTable("drift_events").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace pulse::pipeline
