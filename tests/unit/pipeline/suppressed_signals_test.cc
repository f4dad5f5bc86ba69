// Signals gated "suppress" at ingest are kept in the table but feed no forecast
// (pipeline/usable_signals.h); tables without the gate column forecast every row.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/time.h"
#include "ingest/file_ingest.h"
#include "pipeline/forecast_signals.h"
#include "pipeline/pulse_tasks.h"
#include "pipeline/world_simulation.h"
#include "signals/signal_builder.h"
#include "signals/signal_schema.h"

namespace pulse::pipeline {
namespace {

namespace fs = std::filesystem;

class SuppressedSignalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_suppressed_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    lake_ = lake::Lake::Open((dir_ / "lake").string()).value();
  }
  void TearDown() override { fs::remove_all(dir_); }
  // The origin (last observation used) of each forecast series.
  std::map<std::string, int64_t> Origins() {
    auto rows = lake_->OpenTable("forecasts").value()->Read({.columns = {"series", "origin"}}).value();
    auto b = rows->CombineChunksToBatch().ValueOrDie();
    auto series = std::static_pointer_cast<arrow::StringArray>(b->column(0));
    auto origin = std::static_pointer_cast<arrow::TimestampArray>(b->column(1));
    std::map<std::string, int64_t> out;
    for (int64_t i = 0; i < b->num_rows(); ++i) out[series->GetString(i)] = origin->Value(i);
    return out;
  }
  fs::path dir_;
  std::unique_ptr<lake::Lake> lake_;
};

int64_t Month(int i) { return time::AddMonths(*time::FromCivil(2000, 1, 1), i); }

TEST_F(SuppressedSignalsTest, SuppressedRowsFeedNoForecast) {
  // Anomalous rows (sti 0.4) fall below escalate_min_sti 0.5: suppressed. The last gdp value is a
  // spike; the forecast must start from the value before it.
  auto rules = std::make_shared<signals::ScoringRules>();
  rules->escalate_min_sti = 0.5;
  std::string csv = "name,ts,value\n";
  for (int i = 0; i < 30; ++i)
    csv += "gdp," + time::FormatTimestamp(Month(i)) + "," + std::to_string(100 + i % 3) + "\n";
  csv += "gdp," + time::FormatTimestamp(Month(30)) + ",1000\n";
  for (int i = 0; i < 31; ++i) csv += "cpi," + time::FormatTimestamp(Month(i)) + "," + std::to_string(2 + i % 2) + "\n";
  const auto path = dir_ / "s.csv";
  std::ofstream(path) << csv;
  auto ingested = ingest::IngestFile(*lake_, path.string(), {.kind = "macro", .scoring = rules});
  ASSERT_TRUE(ingested.ok()) << ingested.status().message();
  ASSERT_EQ(ingested->gate.suppress, 1);
  auto report = ForecastSignals(*lake_, {});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->series, 2u);
  auto origins = Origins();
  EXPECT_EQ(origins["gdp"], Month(29));  // the suppressed spike at month 30 is not used
  EXPECT_EQ(origins["cpi"], Month(30));
  EXPECT_EQ(lake_->OpenTable("signals").value()->Read().value()->num_rows(), 62);  // but it is kept
}

TEST_F(SuppressedSignalsTest, SuppressedRowsSetNoWorldState) {
  // unemp's last observation is a suppressed spike: the simulation starts from the one before.
  auto rules = std::make_shared<signals::ScoringRules>();
  rules->escalate_min_sti = 0.5;
  std::string csv = "name,ts,value\n";
  for (int i = 0; i < 20; ++i)
    csv += "unemp," + time::FormatTimestamp(Month(i)) + "," + std::to_string(5 + i % 2) + "\n";
  csv += "unemp," + time::FormatTimestamp(Month(20)) + ",90\n";
  const auto path = dir_ / "u.csv";
  std::ofstream(path) << csv;
  auto ingested = ingest::IngestFile(*lake_, path.string(), {.kind = "macro", .scoring = rules});
  ASSERT_TRUE(ingested.ok()) << ingested.status().message();
  ASSERT_EQ(ingested->gate.suppress, 1);
  const std::string data = std::string(PULSE_SOURCE_DIR) + "/data/sim/";
  auto env = LoadTaskEnvironment(data + "catalog.yaml", data + "rules.yaml");
  ASSERT_TRUE(env.ok()) << env.status().message();
  WorldSimulationOptions options;
  options.mapping.signals["unemp"] = {"unemployment_rate", 0.01};
  options.runs = 4;
  options.turns = 1;
  auto report = SimulateWorld(*lake_, *env, options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->initial.size(), 1u);
  EXPECT_EQ(report->initial[0].ts, Month(19));
  EXPECT_EQ(report->initial[0].observed, 6.0);
}

TEST_F(SuppressedSignalsTest, TablesWithoutScoresForecastEveryRow) {
  // A table written before scoring (nine columns): no gate column, every row is usable.
  auto table = lake_
                   ->OpenOrCreateTable("signals", signals::SignalSchema(), signals::SignalPartitionColumns(),
                                       std::nullopt, signals::SignalSortColumns())
                   .value();
  signals::SignalBatchBuilder b;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.Append("gdp", "s", "macro", Month(i), 100 + i, "", "", 0).ok());
  ASSERT_TRUE(table->Append(*b.Finish().value()).ok());
  auto report = ForecastSignals(*lake_, {});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(Origins()["gdp"], Month(19));
}

}  // namespace
}  // namespace pulse::pipeline
