// Lake::Open: one factory for every lake URL (file://, a bare path, s3:// - the S3 case against a
// real server is tests/integration/lake/delta_s3_test.cc), and read-only opens that create nothing.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lake/lake.h"

namespace pulse::lake {
namespace {

namespace fs = std::filesystem;

class LakeOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pulse-lake-open-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::shared_ptr<arrow::Schema> Schema() {
    return arrow::schema({arrow::field("name", arrow::utf8(), false), arrow::field("value", arrow::float64())});
  }
  fs::path dir_;
};

TEST_F(LakeOpenTest, FileUrlAndBarePathOpenTheSameLake) {
  const fs::path root = dir_ / "lake";
  auto by_url = Lake::Open("file://" + root.string());
  ASSERT_TRUE(by_url.ok()) << by_url.status().ToString();
  EXPECT_TRUE(fs::is_directory(root));  // a writer's open creates the folder
  EXPECT_EQ((*by_url)->url(), "file://" + root.string());
  ASSERT_TRUE((*by_url)->OpenOrCreateTable("signals", Schema(), {}).ok());

  auto by_path = Lake::Open(root.string(), {}, {}, OpenMode::kMustExist);
  ASSERT_TRUE(by_path.ok()) << by_path.status().ToString();
  EXPECT_EQ((*by_path)->url(), (*by_url)->url());
  auto names = (*by_path)->ListTables();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"signals"});
}

TEST_F(LakeOpenTest, RelativePathOpensUnderTheWorkingDirectory) {
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_);
  auto lake = Lake::Open("rel/lake");
  fs::current_path(cwd);
  ASSERT_TRUE(lake.ok()) << lake.status().ToString();
  EXPECT_TRUE(fs::is_directory(dir_ / "rel" / "lake"));
}

TEST_F(LakeOpenTest, UnknownSchemesAndBadUrlsAreRefused) {
  for (const std::string url : {"http://example.com/lake", "redis://localhost/0", "gs://bucket/lake", "hdfs:///x"}) {
    auto lake = Lake::Open(url);
    ASSERT_FALSE(lake.ok()) << url;
    EXPECT_EQ(lake.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_NE(lake.status().message().find("unsupported lake URL scheme"), std::string::npos)
        << lake.status().message();
    EXPECT_NE(lake.status().message().find(url), std::string::npos) << lake.status().message();
  }
  EXPECT_EQ(Lake::Open("").status().code(), StatusCode::kInvalidArgument);
  // file://HOST/path names another machine.
  auto host = Lake::Open("file://server/data/lake");
  EXPECT_EQ(host.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(host.status().message().find("names a host"), std::string::npos) << host.status().message();
  // s3:// needs a bucket.
  EXPECT_EQ(Lake::Open("s3:///lake").status().code(), StatusCode::kInvalidArgument);
  // Nothing was created for any of them.
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(LakeOpenTest, S3UrlOpensWithoutARequest) {
  // Opening names the bucket and prefix only; nothing is contacted until the first access.
  S3Options s3;
  s3.endpoint = "http://127.0.0.1:1";  // nothing listens there
  s3.access_key = "k";
  s3.secret_key = "s";
  auto lake = Lake::Open("s3://bucket/some/prefix/", s3, {}, OpenMode::kMustExist);
  ASSERT_TRUE(lake.ok()) << lake.status().ToString();
  EXPECT_EQ((*lake)->url(), "s3://bucket/some/prefix");
}

TEST_F(LakeOpenTest, ReadOnlyOpenOfAMissingLakeCreatesNothing) {
  const fs::path missing = dir_ / "no" / "lake";
  for (const std::string& url : {missing.string(), "file://" + missing.string()}) {
    auto lake = Lake::Open(url, {}, {}, OpenMode::kMustExist);
    ASSERT_FALSE(lake.ok()) << url;
    EXPECT_EQ(lake.status().code(), StatusCode::kNotFound);
    EXPECT_NE(lake.status().message().find("no lake at " + url), std::string::npos) << lake.status().message();
    EXPECT_FALSE(fs::exists(dir_ / "no")) << "a read-only open created " << (dir_ / "no");
  }
}

TEST_F(LakeOpenTest, AFileWhereTheLakeFolderShouldBeIsRefused) {
  const fs::path file = dir_ / "not-a-folder";
  std::ofstream(file) << "x";
  for (OpenMode mode : {OpenMode::kCreateIfMissing, OpenMode::kMustExist}) {
    auto lake = Lake::Open(file.string(), {}, {}, mode);
    ASSERT_FALSE(lake.ok());
    EXPECT_EQ(lake.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(lake.status().message().find("not a directory"), std::string::npos) << lake.status().message();
  }
}

TEST_F(LakeOpenTest, AnEmptyExistingFolderIsALakeWithNoTables) {
  auto lake = Lake::Open(dir_.string(), {}, {}, OpenMode::kMustExist);
  ASSERT_TRUE(lake.ok()) << lake.status().ToString();
  auto names = (*lake)->ListTables();
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
  EXPECT_EQ((*lake)->OpenTable("signals").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::is_empty(dir_));
}

}  // namespace
}  // namespace pulse::lake
