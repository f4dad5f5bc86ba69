// The forecasting model artifact: JSON round trip, the manifest's hashes, and every malformed input
// refused with a message naming the file and field.
#include "registry/model_artifact.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/hash.h"

namespace pulse::registry {
namespace {

ForecastModel Sample() {
  ForecastModel m;
  m.kind = "macro";
  m.series = "gdp";
  m.method = "Ensemble";
  m.weights = {{"Naive", 0.25}, {"Holt", 0.75}};
  m.period = 4;
  m.horizon = 8;
  m.frequency = "quarterly";
  m.bands = {{0.5, 0.71, true}, {0.8, 1.3, true}, {0.95, 1.959964, false}};
  m.signals_version = 7;
  m.data_digest = Sha256Hex("data");
  m.observations = 120;
  m.last_observation_us = 1700000000000000;
  m.trained_at_us = 1700000000000001;
  m.backtest = {0.8125, 1.25, 0.875, 8};
  m.identity = ContentId({{"series", "gdp"}});
  return m;
}

std::map<std::string, std::string> Files(const ForecastModel& m) {
  std::map<std::string, std::string> files;
  for (auto& f : ModelArtifacts(m)) files[f.path] = f.bytes;
  return files;
}

TEST(ModelArtifact, RoundTripsEveryField) {
  const ForecastModel m = Sample();
  auto back = LoadModelArtifacts(Files(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, "macro");
  EXPECT_EQ(back->series, "gdp");
  EXPECT_EQ(back->weights, m.weights);
  EXPECT_EQ(back->period, 4);
  EXPECT_EQ(back->horizon, 8);
  EXPECT_EQ(back->frequency, "quarterly");
  ASSERT_EQ(back->bands.size(), 3u);
  EXPECT_DOUBLE_EQ(back->bands[2].multiplier, 1.959964);
  EXPECT_FALSE(back->bands[2].calibrated);
  EXPECT_EQ(back->signals_version, 7);
  EXPECT_EQ(back->data_digest, m.data_digest);
  EXPECT_EQ(back->observations, 120);
  EXPECT_EQ(back->last_observation_us, m.last_observation_us);
  EXPECT_DOUBLE_EQ(back->backtest.mase, 0.8125);
  EXPECT_DOUBLE_EQ(back->backtest.coverage80, 0.875);
  EXPECT_EQ(back->identity, m.identity);
  // Serialising is deterministic: the same model gives the same bytes.
  EXPECT_EQ(ModelToJson(*back), ModelToJson(m));
}

TEST(ModelArtifact, ANanBacktestIsStoredAsNullAndReadBackAsNan) {
  ForecastModel m = Sample();
  m.backtest.mase = std::nan("");
  const std::string text = ModelToJson(m);
  EXPECT_NE(text.find("\"mase\": null"), std::string::npos) << text;
  auto back = ModelFromJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(std::isnan(back->backtest.mase));
}

TEST(ModelArtifact, ManifestRecordsSizeAndSha256OfModelJson) {
  auto files = Files(Sample());
  ASSERT_EQ(files.count("manifest.json"), 1u);
  EXPECT_NE(files["manifest.json"].find(Sha256Hex(files["model.json"])), std::string::npos);
}

TEST(ModelArtifact, AChangedModelFileFailsTheHashCheck) {
  auto files = Files(Sample());
  auto& model = files["model.json"];
  model[model.find("0.25")] = '9';  // same size, other bytes
  auto back = LoadModelArtifacts(files);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(back.status().message().find("does not match manifest.json"), std::string::npos)
      << back.status().ToString();
}

TEST(ModelArtifact, CorruptOrIncompleteManifestsAreRefused) {
  auto files = Files(Sample());
  files["manifest.json"] = "{\"format\": ";
  auto r = LoadModelArtifacts(files);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kParseError);
  EXPECT_NE(r.status().message().find("manifest.json"), std::string::npos);

  files = Files(Sample());
  files.erase("manifest.json");
  EXPECT_EQ(LoadModelArtifacts(files).status().code(), StatusCode::kInvalidArgument);

  files = Files(Sample());
  files.erase("model.json");
  r = LoadModelArtifacts(files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("lists 'model.json', which is missing"), std::string::npos);

  files = Files(Sample());
  files["manifest.json"] =
      R"({"format": "pulse-forecast-model/1", "identity": "x", "files": [{"path": "model.json"}]})";
  r = LoadModelArtifacts(files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing field 'bytes'"), std::string::npos) << r.status().ToString();

  files = Files(Sample());
  files["manifest.json"] = R"({"format": "other/9", "identity": "x", "files": []})";
  r = LoadModelArtifacts(files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("format 'other/9'"), std::string::npos);
}

TEST(ModelArtifact, ModelJsonWithWrongTypesOrRangesIsRefused) {
  const std::string good = ModelToJson(Sample());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  for (const auto& bad : {replace("\"period\": 4", "\"period\": \"4\""), replace("\"period\": 4", "\"period\": 0"),
                          replace("\"horizon\": 8", "\"horizon\": 8.5"), replace("\"level\": 0.8", "\"level\": 1.5"),
                          replace("\"Holt\": 0.75", "\"Holt\": -1"), replace("\"series\": \"gdp\"", "\"series\": \"\""),
                          replace("\"kind\": \"macro\",", ""), std::string("[]"), std::string("not json")}) {
    auto r = ModelFromJson(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("model.json"), std::string::npos) << r.status().ToString();
    }
  }
}

TEST(ModelArtifact, SafePaths) {
  EXPECT_TRUE(SafeArtifactPath("model.json"));
  EXPECT_TRUE(SafeArtifactPath("a/b.json"));
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "a\\b"})
    EXPECT_FALSE(SafeArtifactPath(bad)) << bad;
  EXPECT_FALSE(SafeArtifactPath(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace pulse::registry
