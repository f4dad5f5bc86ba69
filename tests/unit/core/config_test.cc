#include "core/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace pulse {
namespace {

TEST(Config, DefaultsAreDeclaredAndTyped) {
  Config c = Config::Defaults();
  EXPECT_EQ(c.GetString("lake.url"), "pulse-lake");
  EXPECT_EQ(c.GetInt("lake.checkpoint_interval"), 10);
  EXPECT_TRUE(c.GetBool("s3.path_style"));
  EXPECT_EQ(c.Origin("lake.url"), "default");
  EXPECT_FALSE(c.Keys().empty());
}

TEST(Config, PrecedenceDefaultFileEnvFlag) {
  Config c = Config::Defaults();
  ASSERT_TRUE(c.LoadYamlText("lake:\n  url: /from/file\n  checkpoint_interval: 5\nlog:\n  level: debug\n", "pulse.yaml").ok());
  EXPECT_EQ(c.GetString("lake.url"), "/from/file");
  EXPECT_EQ(c.Origin("lake.url"), "pulse.yaml:2");
  std::string env1 = "PULSE_LAKE_URL=/from/env", env2 = "HOME=/root", env3 = "PULSE_TEST_S3_ENDPOINT=x";
  char* envp[] = {env1.data(), env2.data(), env3.data(), nullptr};
  ASSERT_TRUE(c.LoadEnvironment(envp).ok());
  EXPECT_EQ(c.GetString("lake.url"), "/from/env");
  EXPECT_EQ(c.Origin("lake.url"), "env PULSE_LAKE_URL");
  ASSERT_TRUE(c.Set("lake.url", "/from/flag").ok());
  EXPECT_EQ(c.GetString("lake.url"), "/from/flag");
  EXPECT_EQ(c.GetInt("lake.checkpoint_interval"), 5);  // untouched by later layers
  EXPECT_EQ(c.GetString("log.level"), "debug");
}

TEST(Config, ErrorsNameTheKeyTheOriginAndWhy) {
  Config c = Config::Defaults();
  Status unknown = c.LoadYamlText("lake:\n  ulr: x\n", "pulse.yaml");
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("pulse.yaml:2"), std::string::npos) << unknown.message();
  EXPECT_NE(unknown.message().find("'lake.ulr'"), std::string::npos);
  EXPECT_NE(unknown.message().find("did you mean 'lake.url'"), std::string::npos);

  Status type = c.LoadYamlText("lake:\n  checkpoint_interval: often\n", "f.yaml");
  EXPECT_NE(type.message().find("must be an integer"), std::string::npos) << type.message();
  Status range = c.Set("lake.checkpoint_interval", "-1");
  EXPECT_NE(range.message().find("must be >= 0"), std::string::npos);
  Status choice = c.Set("log.level", "loud");
  EXPECT_NE(choice.message().find("one of"), std::string::npos);
  EXPECT_FALSE(c.Set("s3.path_style", "maybe").ok());
  EXPECT_TRUE(c.Set("s3.path_style", "no").ok());
  EXPECT_FALSE(c.GetBool("s3.path_style"));

  Status syntax = c.LoadYamlText("lake: [unclosed\n", "bad.yaml");
  EXPECT_EQ(syntax.code(), StatusCode::kParseError);
  EXPECT_NE(syntax.message().find("bad.yaml:"), std::string::npos);
  EXPECT_FALSE(c.LoadYamlText("- a\n- b\n", "list.yaml").ok());
  EXPECT_FALSE(c.LoadYamlText("lake:\n  url: [a, b]\n", "seq.yaml").ok());
  EXPECT_TRUE(c.LoadYamlText("", "empty.yaml").ok());

  std::string bad_env = "PULSE_LAKE_ULR=x";
  char* envp[] = {bad_env.data(), nullptr};
  Status env = c.LoadEnvironment(envp);
  EXPECT_NE(env.message().find("PULSE_LAKE_ULR"), std::string::npos);

  EXPECT_EQ(c.LoadYamlFile("/no/such/pulse.yaml").code(), StatusCode::kNotFound);
  EXPECT_EQ(c.Declare({"lake.url"}).code(), StatusCode::kAlreadyExists);
}

TEST(Config, LoadsAFile) {
  auto path = std::filesystem::temp_directory_path() / ("pulse_cfg_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "threads: 3\ns3:\n  endpoint: http://127.0.0.1:9000\n";
  Config c = Config::Defaults();
  ASSERT_TRUE(c.LoadYamlFile(path.string()).ok());
  EXPECT_EQ(c.GetInt("threads"), 3);
  EXPECT_EQ(c.GetString("s3.endpoint"), "http://127.0.0.1:9000");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pulse
