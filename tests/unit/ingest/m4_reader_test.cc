// The M4 reader: the competition's quoted layout parses; every malformed file is an error naming
// file:line and the problem, printable, never a crash.
#include "ingest/m4_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/printable.h"

namespace pulse::ingest {
namespace {

namespace fs = std::filesystem;

class M4ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_m4_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(M4ReaderTest, ReadsTheCompetitionLayoutWithAnyLineEnding) {
  for (const char* eol : {"\n", "\r\n", "\r"}) {
    const std::string text = std::string("\"V1\",\"V2\",\"V3\",\"V4\"") + eol + "\"H1\",\"1\",\"2\",\"3\"" + eol +
                             "\"H2\",\"4.5\",\"\",\"\"" + eol;
    auto s = ReadM4File(Write("t.csv", text));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_EQ(s->size(), 2u);
    EXPECT_EQ((*s)[0].values, (std::vector<double>{1, 2, 3}));
    EXPECT_EQ((*s)[1].id, "H2");
    EXPECT_EQ((*s)[1].values, (std::vector<double>{4.5}));
  }
}

TEST_F(M4ReaderTest, MalformedFilesAreErrorsWithFileAndLine) {
  auto error = [&](const std::string& text, const std::string& fragment) {
    const std::string path = Write("bad.csv", text);
    auto s = ReadM4File(path);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.status().message().find(fragment), std::string::npos) << s.status().message();
    EXPECT_EQ(Printable(s.status().message(), 100000), s.status().message());
  };
  error("", "empty file");
  error("\"V1\",\"V2\"\n\"H1\",\"x\"\n", "bad.csv:2: bad number 'x' in column 2 of series H1");
  error("\"V1\",\"V2\"\n\"H1\",\"nan\"\n", "bad number 'nan'");
  error("\"V1\",\"V2\"\n\"H1\",\"1e999\"\n", "bad number '1e999'");
  error(std::string("\"V1\",\"V2\"\n\"H1\",\"1\0\"\n", 20), "bad number '1\\0'");
  error("\"V1\",\"V2\",\"V3\"\n\"H1\",\"\",\"2\"\n", "bad.csv:2: a gap in series H1 at column 2");
  error("\"V1\",\"V2\"\n\"H1\",\"1\"\n\"H1\",\"2\"\n", "bad.csv:3: series H1 appears twice (first on line 2)");
  error("\"V1\",\"V2\"\n\"H1\",\"1\n\"H2\",\"2\"\n", "bad.csv:2: unterminated quote in field 2");
  error("\"V1\",\"V2\"\n,\"1\"\n", "bad.csv:2: a row must start with the series id");
  error("\"V1\",\"V2\"\n\"\xff\",\"1\"\n", "bad.csv:2: series id '\\xff' is not valid UTF-8");
  error("\"V1\",\"V2\"\n\"H1\"\n", "bad.csv:2: expected 2 fields, found 1");
  auto missing = ReadM4File((dir_ / "absent.csv").string());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(M4ReaderTest, TrainAndTestMustPairUp) {
  const std::string train = Write("train.csv", "\"V1\",\"V2\",\"V3\"\n\"H1\",\"1\",\"2\"\n\"H2\",\"3\",\"4\"\n");
  const std::string test = Write("test.csv", "\"V1\",\"V2\"\n\"H2\",\"5\"\n\"H1\",\"6\"\n");
  auto pairs = ReadM4TrainTest(train, test);
  ASSERT_TRUE(pairs.ok()) << pairs.status().ToString();
  ASSERT_EQ(pairs->size(), 2u);
  const std::string other = Write("other.csv", "\"V1\",\"V2\"\n\"H2\",\"5\"\n\"H3\",\"6\"\n");
  auto unpaired = ReadM4TrainTest(train, other);
  ASSERT_FALSE(unpaired.ok());
  EXPECT_NE(unpaired.status().message().find("series H1 is not in"), std::string::npos);
}

}  // namespace
}  // namespace pulse::ingest
