// The embedded (file://) registry: models, versions with artifacts, aliases, tags and runs; bad
// names, unknown aliases, corrupt files, and concurrent writers claiming version numbers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/hash.h"
#include "registry/registry.h"

namespace pulse::registry {
namespace {

namespace fs = std::filesystem;

class FileRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("pulse_registry_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    auto r = OpenRegistry("file://" + root_.string());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::move(*r);
  }
  void TearDown() override { fs::remove_all(root_); }

  ForecastModel Model(double mase) {
    ForecastModel m;
    m.kind = "macro";
    m.series = "gdp";
    m.weights = {{"Naive", 1.0}};
    m.period = 4;
    m.horizon = 8;
    m.frequency = "quarterly";
    m.bands = {{0.8, 1.3, true}};
    m.backtest = {mase, 1.0, 0.875, 8};
    m.identity = ContentId({{"mase", mase}});
    return m;
  }

  Result<ModelVersion> Register(const std::string& name, const ForecastModel& m) {
    RunRecord run;
    run.run_name = "train " + name;
    run.params = {{"method", m.method}, {"period", std::to_string(m.period)}};
    run.metrics = {{"backtest_mase", m.backtest.mase}, {"not_finite", std::nan("")}};
    run.tags = {{"pulse.series", m.series}};
    PULSE_ASSIGN_OR_RETURN(RunInfo info, registry_->LogRun(run, ModelArtifacts(m)));
    return registry_->CreateModelVersion(name, info, {{"pulse.identity", m.identity}});
  }

  fs::path root_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(FileRegistryTest, VersionsAliasesAndTagsRoundTrip) {
  ASSERT_TRUE(registry_->CreateRegisteredModel("pulse.macro.gdp", "GDP forecasts").ok());
  EXPECT_EQ(registry_->CreateRegisteredModel("pulse.macro.gdp", "").status().code(), StatusCode::kAlreadyExists);

  auto v1 = Register("pulse.macro.gdp", Model(0.9));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto v2 = Register("pulse.macro.gdp", Model(0.7));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->source.rfind("file://", 0), 0u);

  ASSERT_TRUE(registry_->SetAlias("pulse.macro.gdp", "champion", 1).ok());
  ASSERT_TRUE(registry_->SetAlias("pulse.macro.gdp", "challenger", 2).ok());
  ASSERT_TRUE(registry_->SetModelVersionTag("pulse.macro.gdp", 2, "pulse.promotion", "refused").ok());
  ASSERT_TRUE(registry_->SetRegisteredModelTag("pulse.macro.gdp", "pulse.last_event", "refused v2").ok());

  auto champion = registry_->GetVersionByAlias("pulse.macro.gdp", "champion");
  ASSERT_TRUE(champion.ok()) << champion.status().ToString();
  EXPECT_EQ(champion->version, 1);
  EXPECT_EQ(champion->aliases, std::vector<std::string>{"champion"});
  auto loaded = LoadForecastModel(*registry_, *champion);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_DOUBLE_EQ(loaded->backtest.mase, 0.9);

  // Moving an alias: champion now names version 2.
  ASSERT_TRUE(registry_->SetAlias("pulse.macro.gdp", "champion", 2).ok());
  EXPECT_EQ(registry_->GetVersionByAlias("pulse.macro.gdp", "champion")->version, 2);

  auto versions = registry_->ListModelVersions("pulse.macro.gdp");
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[1].tags.at("pulse.promotion"), "refused");
  EXPECT_EQ((*versions)[1].tags.at("pulse.identity"), Model(0.7).identity);
  EXPECT_EQ((*versions)[1].aliases.size(), 2u);

  auto model = registry_->GetRegisteredModel("pulse.macro.gdp");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->description, "GDP forecasts");
  EXPECT_EQ(model->tags.at("pulse.last_event"), "refused v2");
  EXPECT_EQ(model->aliases.at("champion"), 2);
  EXPECT_EQ(model->aliases.at("challenger"), 2);

  ASSERT_TRUE(registry_->DeleteAlias("pulse.macro.gdp", "challenger").ok());
  EXPECT_EQ(registry_->GetVersionByAlias("pulse.macro.gdp", "challenger").status().code(), StatusCode::kNotFound);

  // The run's params and metrics are files like MLflow's (a non-finite metric is left out).
  const fs::path run_dir = fs::path(v1->source.substr(7)).parent_path();
  EXPECT_TRUE(fs::exists(run_dir / "params" / "method"));
  EXPECT_TRUE(fs::exists(run_dir / "metrics" / "backtest_mase"));
  EXPECT_FALSE(fs::exists(run_dir / "metrics" / "not_finite"));
  EXPECT_TRUE(fs::exists(run_dir / "meta.json"));
}

TEST_F(FileRegistryTest, UnknownModelsVersionsAndAliasesAreNotFound) {
  EXPECT_EQ(registry_->GetRegisteredModel("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->ListModelVersions("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(registry_->CreateRegisteredModel("m", "").ok());
  EXPECT_EQ(registry_->GetModelVersion("m", 1).status().code(), StatusCode::kNotFound);
  auto alias = registry_->GetVersionByAlias("m", "champion");
  ASSERT_FALSE(alias.ok());
  EXPECT_EQ(alias.status().code(), StatusCode::kNotFound);
  EXPECT_NE(alias.status().message().find("has no alias 'champion'"), std::string::npos);
  EXPECT_EQ(registry_->SetAlias("m", "champion", 3).code(), StatusCode::kNotFound);
  auto v = Register("nope", Model(1));
  EXPECT_EQ(v.status().code(), StatusCode::kNotFound);
}

TEST_F(FileRegistryTest, BadNamesAliasesKeysAndPathsAreRefused) {
  for (const char* bad : {"", "a/b", "..", "a b", "x\ny"})
    EXPECT_EQ(registry_->CreateRegisteredModel(bad, "").status().code(), StatusCode::kInvalidArgument) << bad;
  ASSERT_TRUE(registry_->CreateRegisteredModel("m", "").ok());
  ASSERT_TRUE(Register("m", Model(1)).ok());
  for (const char* bad : {"latest", "v1", "V22", "a/b", ""})
    EXPECT_EQ(registry_->SetAlias("m", bad, 1).code(), StatusCode::kInvalidArgument) << bad;
  EXPECT_EQ(registry_->SetModelVersionTag("m", 1, "../escape", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(root_ / "mlruns" / "models" / "escape"));
  RunRecord run;
  EXPECT_EQ(registry_->LogRun(run, {{"../x", "y"}}).status().code(), StatusCode::kInvalidArgument);
  run.params = {{"a/b", "1"}};
  EXPECT_EQ(registry_->LogRun(run, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FileRegistryTest, CorruptFilesAreErrorsNamingTheFile) {
  ASSERT_TRUE(registry_->CreateRegisteredModel("m", "").ok());
  auto v = Register("m", Model(1));
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(registry_->SetAlias("m", "champion", 1).ok());
  const fs::path dir = root_ / "mlruns" / "models" / "m";

  // A corrupt version meta.json.
  std::ofstream(dir / "version-1" / "meta.json") << "{\"name\": ";
  auto got = registry_->GetModelVersion("m", 1);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kParseError);
  EXPECT_NE(got.status().message().find("version-1/meta.json"), std::string::npos) << got.status().ToString();
  EXPECT_EQ(registry_->ListModelVersions("m").status().code(), StatusCode::kParseError);

  // A corrupt alias file.
  std::ofstream(dir / "aliases" / "champion") << "one";
  EXPECT_EQ(registry_->GetRegisteredModel("m").status().code(), StatusCode::kParseError);
}

TEST_F(FileRegistryTest, TamperedArtifactsFailTheManifestCheck) {
  ASSERT_TRUE(registry_->CreateRegisteredModel("m", "").ok());
  auto v = Register("m", Model(1));
  ASSERT_TRUE(v.ok());
  const fs::path model_file = fs::path(v->source.substr(7)) / "model.json";
  std::ofstream(model_file, std::ios::app) << " ";
  auto loaded = LoadForecastModel(*registry_, *v);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("does not match manifest.json"), std::string::npos)
      << loaded.status().ToString();
  fs::remove(model_file);
  loaded = LoadForecastModel(*registry_, *v);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_NE(loaded.status().message().find("model m version 1"), std::string::npos);
}

TEST_F(FileRegistryTest, AVersionFolderWithoutMetaIsSkippedAndItsNumberNeverReused) {
  ASSERT_TRUE(registry_->CreateRegisteredModel("m", "").ok());
  ASSERT_TRUE(Register("m", Model(1)).ok());
  fs::create_directories(root_ / "mlruns" / "models" / "m" / "version-2");  // a writer died here
  auto v3 = Register("m", Model(2));
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->version, 3);
  auto versions = registry_->ListModelVersions("m");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 1);
  EXPECT_EQ((*versions)[1].version, 3);
}

TEST_F(FileRegistryTest, ConcurrentWritersGetDistinctVersionNumbers) {
  ASSERT_TRUE(registry_->CreateRegisteredModel("m", "").ok());
  constexpr int kThreads = 8, kEach = 5;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> got(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each writer opens its own registry on the folder, as separate processes would.
      auto reg = OpenRegistry(root_.string());
      if (!reg.ok()) return void(++failures);
      for (int i = 0; i < kEach; ++i) {
        RunRecord run;
        auto info = (*reg)->LogRun(run, ModelArtifacts(Model(t * 100 + i)));
        auto v = info.ok() ? (*reg)->CreateModelVersion("m", *info, {}) : Result<ModelVersion>(info.status());
        if (!v.ok()) return void(++failures);
        got[static_cast<size_t>(t)].push_back(v->version);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  std::set<int64_t> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kEach);
  auto versions = registry_->ListModelVersions("m");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), static_cast<size_t>(kThreads * kEach));
  for (const auto& v : *versions) EXPECT_TRUE(LoadForecastModel(*registry_, v).ok()) << v.version;
}

TEST(OpenRegistry, UrlsChooseTheBackend) {
  EXPECT_EQ(OpenRegistry("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenRegistry("s3://bucket/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenRegistry("file://").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenRegistry("http://").status().code(), StatusCode::kInvalidArgument);
  auto http = OpenRegistry("http://127.0.0.1:5000/");
  ASSERT_TRUE(http.ok());
  EXPECT_EQ((*http)->url(), "http://127.0.0.1:5000");
}

TEST(OpenRegistry, AnMlflowServerThatIsNotThereIsUnavailable) {
  // A port nothing listens on (bound, never listened): connection refused, not a hang.
  auto reg = OpenRegistry("http://127.0.0.1:1");
  ASSERT_TRUE(reg.ok());
  auto r = (*reg)->GetRegisteredModel("m");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("127.0.0.1:1"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace pulse::registry
