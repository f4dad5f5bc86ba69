// The model lifecycle facts trust scoring gathers (pipeline/model_health_facts.h) and the trust
// rows they lead to (pipeline/trust_scores.h), on a temporary local lake with a folder registry:
// a series trained and served by its champion, then shifted (drift) and checked against outcomes.
#include "pipeline/model_health_facts.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/time.h"
#include "ingest/file_ingest.h"
#include "pipeline/drift_job.h"
#include "pipeline/forecast_signals.h"
#include "pipeline/train_models.h"
#include "pipeline/trust_scores.h"
#include "registry/registry.h"

namespace pulse::pipeline {
namespace {

namespace fs = std::filesystem;

int64_t Month(int i) { return time::AddMonths(*time::FromCivil(2000, 1, 1), i); }
double Noise(int i) { return std::sin(i * 1.7) * 0.6 + std::sin(i * 0.37) * 0.4; }

TEST(RollingCoverage80, CountsTheNewestOutcomesOfEarlierVersions) {
  report::ForecastsByVersion f;
  auto add = [&](int64_t version, int step, int64_t origin, int64_t target, double lo, double hi) {
    auto& s = f[version]["x"];
    s.steps[step].origin = origin, s.steps[step].target = target;
    s.steps[step].bands[0.8] = {lo, hi};
  };
  add(1, 1, 0, 10, 0, 1);   // observed 0.5: inside
  add(1, 2, 0, 20, 0, 1);   // observed 5: outside
  add(1, 3, 0, 30, 0, 1);   // not observed yet
  add(2, 1, 20, 30, 0, 1);  // version 2: observed? no (30 missing)
  add(3, 1, 25, 40, 0, 1);  // version 3 is the current one: not counted
  const std::map<int64_t, double> points = {{10, 0.5}, {20, 5.0}, {40, 0.5}};
  auto all = RollingCoverage80(f, 3, "x", points, 20);
  EXPECT_EQ(all.outcomes, 2);
  EXPECT_EQ(all.hits, 1);
  EXPECT_DOUBLE_EQ(all.Share(), 0.5);
  auto newest = RollingCoverage80(f, 3, "x", points, 1);  // only target 20
  EXPECT_EQ(newest.outcomes, 1);
  EXPECT_EQ(newest.hits, 0);
  auto none = RollingCoverage80(f, 3, "other", points, 20);
  EXPECT_EQ(none.outcomes, 0);
  EXPECT_TRUE(std::isnan(none.Share()));
}

class ModelHealthFactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_health_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    lake_ = lake::Lake::Open((dir_ / "lake").string()).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

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
  }

  // A minimal simulations table: one simulation with a tension path (what trust scoring reads).
  void WriteSimulation(const std::string& sim_id) {
    auto schema =
        arrow::schema({arrow::field("sim_id", arrow::utf8(), false), arrow::field("step", arrow::int32(), false),
                       arrow::field("variable", arrow::utf8(), false), arrow::field("mean", arrow::float64(), false)});
    arrow::StringBuilder id, variable;
    arrow::Int32Builder step;
    arrow::DoubleBuilder mean;
    for (int s = 0; s < 2; ++s) {
      ASSERT_TRUE(id.Append(sim_id).ok() && step.Append(s).ok() && variable.Append("tension").ok() &&
                  mean.Append(0.5).ok());
    }
    std::vector<std::shared_ptr<arrow::Array>> cols(4);
    ASSERT_TRUE(id.Finish(&cols[0]).ok() && step.Finish(&cols[1]).ok() && variable.Finish(&cols[2]).ok() &&
                mean.Finish(&cols[3]).ok());
    auto table = lake_->OpenOrCreateTable("simulations", schema, {}).value();
    ASSERT_TRUE(table->Append(*arrow::Table::Make(schema, cols)).ok());
  }

  fs::path dir_;
  std::unique_ptr<lake::Lake> lake_;
};

TEST_F(ModelHealthFactsTest, AFreshLakeHasNoFacts) {
  Ingest(0, 20, 1000, 0);
  auto drift = ReadDriftStatus(*lake_, -1);
  ASSERT_TRUE(drift.ok()) << drift.status().ToString();
  EXPECT_TRUE(drift->empty());
  auto trained = ReadTrainingTimes(*lake_);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  EXPECT_TRUE(trained->empty());
}

TEST_F(ModelHealthFactsTest, DriftChampionAndOutcomesReachTheTrustRows) {
  Ingest(0, 52, 1000, 0);
  auto models = registry::OpenRegistry((dir_ / "registry").string()).value();
  TrainOptions train;
  auto trained = TrainModels(*lake_, *models, train);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  ForecastOptions forecast;
  forecast.registry = models.get();
  ASSERT_TRUE(ForecastSignals(*lake_, forecast).ok());  // v1 champions, before the shift

  Ingest(52, 64, 52, 3.0);  // the outcomes of those forecasts; "shifted" moves by +3
  DriftOptions drift_options;
  drift_options.current_points = 12;
  drift_options.min_coverage_outcomes = 100;  // no coverage test: the steady series stays "ok"
  auto drift_report = DetectDrift(*lake_, drift_options);
  ASSERT_TRUE(drift_report.ok()) << drift_report.status().ToString();
  auto forecast2 = ForecastSignals(*lake_, forecast);
  ASSERT_TRUE(forecast2.ok()) << forecast2.status().ToString();

  auto status = ReadDriftStatus(*lake_, forecast2->signals_version).value();
  ASSERT_TRUE(status.count("shifted") && status.count("steady"));
  EXPECT_TRUE(status["shifted"].drifted);
  EXPECT_NE(status["shifted"].status.find("ks"), std::string::npos) << status["shifted"].status;
  EXPECT_FALSE(status["steady"].drifted) << status["steady"].status;
  EXPECT_EQ(status["steady"].status, "ok");
  // A version before any drift check: unchecked.
  EXPECT_TRUE(ReadDriftStatus(*lake_, 0).value().empty());
  auto times = ReadTrainingTimes(*lake_).value();
  EXPECT_EQ(times.size(), 2u);
  EXPECT_TRUE(times.count({"pulse.macro.shifted", 1}));

  WriteSimulation("sim-1");
  // A trust_scores table from before the lifecycle columns: scoring adds them (schema evolution).
  const auto full = TrustSchema();
  ASSERT_EQ(full->field(29)->name(), "created");
  auto old_schema =
      arrow::schema(std::vector<std::shared_ptr<arrow::Field>>(full->fields().begin(), full->fields().begin() + 30));
  ASSERT_TRUE(lake_->OpenOrCreateTable("trust_scores", old_schema, {}).ok());
  TrustOptions trust_options;
  trust_options.sim_id = "sim-1";
  auto scored = ScoreForecastTrust(*lake_, trust_options);
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  ASSERT_EQ(scored->rows, 2);
  auto rows = lake_->OpenTable("trust_scores").value()->Read().value()->CombineChunksToBatch().ValueOrDie();
  auto col = [&](const char* name) { return rows->GetColumnByName(name); };
  auto series = std::static_pointer_cast<arrow::StringArray>(col("series"));
  auto model_name = std::static_pointer_cast<arrow::StringArray>(col("model_name"));
  auto model_version = std::static_pointer_cast<arrow::Int64Array>(col("model_version"));
  auto days = std::static_pointer_cast<arrow::DoubleArray>(col("days_since_training"));
  auto drift_status = std::static_pointer_cast<arrow::StringArray>(col("drift_status"));
  auto coverage = std::static_pointer_cast<arrow::DoubleArray>(col("rolling_coverage80"));
  auto outcomes = std::static_pointer_cast<arrow::Int64Array>(col("rolling_outcomes"));
  auto health = std::static_pointer_cast<arrow::StringArray>(col("model_health"));
  auto penalty = std::static_pointer_cast<arrow::DoubleArray>(col("drift_penalty"));
  ASSERT_TRUE(series && model_name && model_version && days && drift_status && coverage && outcomes && health &&
              penalty);
  for (int64_t i = 0; i < rows->num_rows(); ++i) {
    const std::string name = series->GetString(i);
    SCOPED_TRACE(name);
    EXPECT_EQ(model_name->GetString(i), "pulse.macro." + name);
    EXPECT_EQ(model_version->Value(i), 1);
    EXPECT_GE(days->Value(i), 0.0);
    EXPECT_LT(days->Value(i), 0.01);    // trained moments ago
    EXPECT_EQ(outcomes->Value(i), 12);  // months 52..63 of the first forecasts
    if (name == "shifted") {
      EXPECT_EQ(health->GetString(i), "drifted");
      EXPECT_DOUBLE_EQ(penalty->Value(i), 0.2);
      EXPECT_LT(coverage->Value(i), 0.65);
      EXPECT_NE(drift_status->GetString(i).find("ks"), std::string::npos);
    } else {
      EXPECT_EQ(drift_status->GetString(i), "ok");
      EXPECT_NE(health->GetString(i), "drifted");
    }
  }
}

}  // namespace
}  // namespace pulse::pipeline
