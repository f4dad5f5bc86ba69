// The registry on a real MLflow tracking server (scripts/start-mlflow-server, announced by
// PULSE_TEST_MLFLOW_URL; every test fails without it, like the Redis and S3 tests): every call of the Registry
// interface through MLflow's REST API, artifacts through its mlflow-artifacts proxy, and MLflow's errors mapped to
// Status codes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "core/hash.h"
#include "core/ids.h"
#include "registry/registry.h"

namespace pulse::registry {
namespace {

class MlflowRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("PULSE_TEST_MLFLOW_URL");
    if (url == nullptr || *url == 0) {
      FAIL() << "PULSE_TEST_MLFLOW_URL is not set: run the integration tier through scripts/test";
    }
    auto r = OpenRegistry(url);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::move(*r);
    name_ = "pulse.test." + NewUuid().substr(0, 8);  // a fresh model per test: the server is shared
  }

  ForecastModel Model(double mase) {
    ForecastModel m;
    m.kind = "macro";
    m.series = "gdp";
    m.weights = {{"Naive", 0.5}, {"Holt", 0.5}};
    m.period = 4;
    m.horizon = 8;
    m.frequency = "quarterly";
    m.bands = {{0.8, 1.3, true}};
    m.backtest = {mase, 1.0, 0.875, 8};
    m.identity = ContentId({{"mase", mase}});
    return m;
  }

  Result<ModelVersion> Register(const ForecastModel& m) {
    RunRecord run;
    run.experiment = "pulse-integration";
    run.run_name = "train " + name_;
    run.params = {{"method", m.method}, {"period", "4"}};
    run.metrics = {{"backtest_mase", m.backtest.mase}, {"coverage80", 0.875}};
    run.tags = {{"pulse.series", "gdp"}};
    PULSE_ASSIGN_OR_RETURN(RunInfo info, registry_->LogRun(run, ModelArtifacts(m)));
    return registry_->CreateModelVersion(name_, info, {{"pulse.identity", m.identity}});
  }

  std::unique_ptr<Registry> registry_;
  std::string name_;
};

TEST_F(MlflowRegistryTest, VersionsArtifactsAliasesAndTags) {
  EXPECT_EQ(registry_->GetRegisteredModel(name_).status().code(), StatusCode::kNotFound);
  auto created = registry_->CreateRegisteredModel(name_, "integration");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto again = registry_->CreateRegisteredModel(name_, "");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();

  auto v1 = Register(Model(0.9));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto v2 = Register(Model(0.7));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v1->source.rfind("mlflow-artifacts:", 0), 0u) << v1->source;

  // The artifacts came back through the proxy byte for byte (the manifest's hashes check it).
  auto loaded = LoadForecastModel(*registry_, *v2);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_DOUBLE_EQ(loaded->backtest.mase, 0.7);

  ASSERT_TRUE(registry_->SetAlias(name_, "champion", 1).ok());
  ASSERT_TRUE(registry_->SetAlias(name_, "challenger", 2).ok());
  auto champion = registry_->GetVersionByAlias(name_, "champion");
  ASSERT_TRUE(champion.ok()) << champion.status().ToString();
  EXPECT_EQ(champion->version, 1);
  EXPECT_EQ(champion->tags.at("pulse.identity"), Model(0.9).identity);
  ASSERT_TRUE(registry_->SetAlias(name_, "champion", 2).ok());
  EXPECT_EQ(registry_->GetVersionByAlias(name_, "champion")->version, 2);
  ASSERT_TRUE(registry_->DeleteAlias(name_, "challenger").ok());
  auto gone = registry_->GetVersionByAlias(name_, "challenger");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status().ToString();

  ASSERT_TRUE(registry_->SetModelVersionTag(name_, 1, "pulse.promotion", "refused").ok());
  ASSERT_TRUE(registry_->SetRegisteredModelTag(name_, "pulse.last_event", "promoted v2").ok());
  auto versions = registry_->ListModelVersions(name_);
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].tags.at("pulse.promotion"), "refused");
  EXPECT_EQ((*versions)[1].aliases, std::vector<std::string>{"champion"});
  auto model = registry_->GetRegisteredModel(name_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->tags.at("pulse.last_event"), "promoted v2");
  EXPECT_EQ(model->aliases.at("champion"), 2);
  EXPECT_EQ(model->description, "integration");
}

TEST_F(MlflowRegistryTest, ServerErrorsMapToStatusCodes) {
  ASSERT_TRUE(registry_->CreateRegisteredModel(name_, "").ok());
  auto missing = registry_->GetModelVersion(name_, 7);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("RESOURCE_DOES_NOT_EXIST"), std::string::npos);
  EXPECT_EQ(registry_->SetAlias(name_, "champion", 7).code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetVersionByAlias(name_, "champion").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->ListModelVersions(name_ + "-none").status().code(), StatusCode::kNotFound);
  RunInfo bogus{"0123456789abcdef0123456789abcdef", "mlflow-artifacts:/0/none/artifacts"};
  auto bad = registry_->CreateModelVersion(name_ + "-none", bogus, {});
  EXPECT_FALSE(bad.ok());
}

TEST_F(MlflowRegistryTest, ConcurrentWritersGetDistinctVersionNumbers) {
  ASSERT_TRUE(registry_->CreateRegisteredModel(name_, "").ok());
  constexpr int kThreads = 4, kEach = 3;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> got(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto v = Register(Model(t * 10 + i));
        if (!v.ok()) {
          ADD_FAILURE() << v.status().ToString();
          return void(++failures);
        }
        got[static_cast<size_t>(t)].push_back(v->version);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  std::set<int64_t> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace pulse::registry
