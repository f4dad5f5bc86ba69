// A damaged or hostile Delta log is a clear Status naming the file (and line, and field), never an
// exception, a crash or a silently different table: empty commits, version gaps, wrong-typed
// fields, odd file names, bad schemas.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "lake/internal/delta_log.h"
#include "lake/lake.h"

namespace pulse::lake {
namespace {

namespace fs = std::filesystem;

class LogErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_logerr_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::shared_ptr<arrow::Schema> Schema() {
    return arrow::schema({arrow::field("name", arrow::utf8(), false), arrow::field("kind", arrow::utf8(), false)});
  }
  static std::shared_ptr<arrow::Table> Rows(int n) {
    arrow::StringBuilder names, kinds;
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(names.Append("n" + std::to_string(i)).ok());
      EXPECT_TRUE(kinds.Append(i % 2 ? "a" : "b").ok());
    }
    return arrow::Table::Make(Schema(), {names.Finish().ValueOrDie(), kinds.Finish().ValueOrDie()});
  }
  // A table at version `commits` (create + appends) in `sub`.
  void MakeTable(const std::string& sub, int commits, TableOptions options = {}) {
    auto t = DeltaTable::Create(NewLocalFileSystem((dir_ / sub).string()), Schema(), {"kind"}, sub, options);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    for (int i = 0; i < commits; ++i) ASSERT_TRUE((*t)->Append(*Rows(4)).ok());
  }
  Status OpenStatus(const std::string& sub) {
    return DeltaTable::Open(NewLocalFileSystem((dir_ / sub).string())).status();
  }
  fs::path dir_;
};

TEST_F(LogErrorsTest, EmptyCommitFileIsAnErrorNamingTheFile) {
  MakeTable("t", 1);
  // 0 bytes at version 2 (a crashed copy, a full disk): not "no change".
  std::ofstream(dir_ / "t" / delta::CommitKey(2)).close();
  Status st = OpenStatus("t");
  EXPECT_EQ(st.code(), StatusCode::kParseError) << st.ToString();
  EXPECT_NE(st.message().find("00000000000000000002.json is empty (0 bytes)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find((dir_ / "t").string()), std::string::npos) << st.message();
  // A blank file too; and a table object that already read version 1 fails on catching up.
  fs::remove(dir_ / "t" / delta::CommitKey(2));
  auto table = DeltaTable::Open(NewLocalFileSystem((dir_ / "t").string()));
  ASSERT_TRUE(table.ok());
  ASSERT_TRUE(NewLocalFileSystem((dir_ / "t").string())->PutIfAbsent(delta::CommitKey(2), "\n  \n").ok());
  auto latest = (*table)->LatestVersion();
  EXPECT_EQ(latest.status().code(), StatusCode::kParseError);
  EXPECT_NE(latest.status().message().find("is blank"), std::string::npos) << latest.status().message();
  // A 0-byte first commit: not an empty table either.
  fs::create_directories(dir_ / "u" / "_delta_log");
  std::ofstream(dir_ / "u" / delta::CommitKey(0)).close();
  EXPECT_EQ(OpenStatus("u").code(), StatusCode::kParseError);
}

TEST_F(LogErrorsTest, VersionGapIsAnErrorNotNoTable) {
  MakeTable("t", 4);
  fs::remove(dir_ / "t" / delta::CommitKey(2));
  Status st = OpenStatus("t");
  EXPECT_EQ(st.code(), StatusCode::kParseError) << st.ToString();
  EXPECT_NE(st.message().find("version 2 missing"), std::string::npos) << st.message();
  // Through the lake, too: not "no table 't'".
  auto lake = Lake::Open(dir_.string());
  ASSERT_TRUE(lake.ok());
  auto opened = (*lake)->OpenTable("t");
  EXPECT_EQ(opened.status().code(), StatusCode::kParseError);
  EXPECT_EQ(opened.status().message().find("no table"), std::string::npos) << opened.status().message();
  // Time travel to a version before the gap still works.
  auto table_fs = NewLocalFileSystem((dir_ / "t").string());
  auto state = delta::LoadState(*table_fs, 1);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->snapshot.files.size(), 2u);
}

TEST_F(LogErrorsTest, VersionGapAfterACheckpointIsAnError) {
  MakeTable("t", 5, {.checkpoint_interval = 2});
  ASSERT_TRUE(fs::exists(dir_ / "t" / delta::CheckpointKey(4)));
  fs::remove(dir_ / "t" / delta::CommitKey(0));  // cleaned up: fine, the checkpoint covers it
  fs::remove(dir_ / "t" / delta::CommitKey(1));
  EXPECT_TRUE(OpenStatus("t").ok()) << OpenStatus("t").ToString();
  fs::remove(dir_ / "t" / delta::CommitKey(5));
  fs::copy_file(dir_ / "t" / delta::CommitKey(4), dir_ / "t" / delta::CommitKey(6));
  Status st = OpenStatus("t");
  EXPECT_EQ(st.code(), StatusCode::kParseError) << st.ToString();
  EXPECT_NE(st.message().find("version 5 missing"), std::string::npos) << st.message();
  // A version older than every remaining commit and checkpoint: not available, said so.
  auto old = delta::LoadState(*NewLocalFileSystem((dir_ / "t").string()), 1);
  EXPECT_EQ(old.status().code(), StatusCode::kNotFound);
  EXPECT_NE(old.status().message().find("no longer available"), std::string::npos) << old.status().message();
}

TEST_F(LogErrorsTest, WrongTypedFieldsAreParseErrorsNamingFileLineAndField) {
  struct Case {
    const char* line;
    const char* expect;  // substring of the message
  };
  const Case cases[] = {
      {R"({"add":{"path":5,"size":1}})", "add.path must be a string, got number"},
      {R"({"add":{"path":"x.parquet","size":"9"}})", "add.size must be an integer, got string"},
      {R"({"add":{"path":"x.parquet","partitionValues":{"kind":5}}})", "add.partitionValues must be a string map"},
      {R"({"add":{"path":"x.parquet","partitionValues":[1]}})", "add.partitionValues must be a string map"},
      {R"({"add":{"path":"x.parquet","stats":{"numRecords":1}}})", "add.stats must be a string, got object"},
      {R"({"add":{"path":"x.parquet","dataChange":"yes"}})", "add.dataChange must be a boolean"},
      {R"({"add":{"size":1}})", "add action without 'path'"},
      {R"({"add":"x.parquet"})", "add action must be an object"},
      {R"({"remove":{"path":"x","deletionTimestamp":"now"}})", "remove.deletionTimestamp must be an integer"},
      {R"({"txn":{"appId":1,"version":1}})", "txn.appId must be a string"},
      {R"({"txn":{"appId":"a","version":"1"}})", "txn.version must be an integer"},
      {R"({"metaData":{"schemaString":5}})", "metaData.schemaString must be a string"},
      {R"({"metaData":{"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[1]}})",
       "metaData.partitionColumns must be a string array"},
      {R"({"metaData":{"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":5,\"type\":\"string\"}]}"}})",
       "malformed field"},
      {R"({"metaData":{"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"d\",\"type\":\"decimal(99,2)\"}]}"}})",
       "invalid Delta type 'decimal(99,2)'"},
      {R"({"metaData":{"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"array\"}}]}"}})",
       "type without 'elementType'"},
      {R"({"metaData":{"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"string\",\"nullable\":\"no\"}]}"}})",
       "'nullable' must be a boolean"},
      {R"({"metaData":{"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"k\",\"type\":\"string\"}]}","partitionColumns":["zz"]}})",
       "'zz', which is not in the schema"},
      {R"({"protocol":{"minReaderVersion":"1","minWriterVersion":2}})", "protocol.minReaderVersion must be an integer"},
      {R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":[1]}})",
       "protocol.readerFeatures must be a string array"},
      {R"({"commitInfo":5})", "commitInfo must be an object"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string sub = "t" + std::to_string(i++);
    MakeTable(sub, 0);
    auto fsys = NewLocalFileSystem((dir_ / sub).string());
    ASSERT_TRUE(
        fsys->PutIfAbsent(delta::CommitKey(1), std::string(R"({"commitInfo":{}})") + "\n" + c.line + "\n").ok());
    Status st = OpenStatus(sub);
    EXPECT_EQ(st.code(), StatusCode::kParseError) << c.line << " -> " << st.ToString();
    EXPECT_NE(st.message().find("00000000000000000001.json line 2"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << c.line << " -> " << st.message();
    // History reads the same commits without applying them: an error too, never a throw.
    auto table = DeltaTable::Open(NewLocalFileSystem((dir_ / sub).string()));
    EXPECT_FALSE(table.ok());
  }
}

TEST_F(LogErrorsTest, ForeignCommitInfoDoesNotBreakHistory) {
  MakeTable("t", 1);
  auto fsys = NewLocalFileSystem((dir_ / "t").string());
  ASSERT_TRUE(
      fsys->PutIfAbsent(delta::CommitKey(2),
                        R"({"commitInfo":{"timestamp":"yesterday","operation":7,"operationParameters":{"a":[1]}}})"
                        "\n")
          .ok());
  auto table = DeltaTable::Open(NewLocalFileSystem((dir_ / "t").string()));
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto history = (*table)->History();
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  EXPECT_EQ(history->front().version, 2);
  EXPECT_EQ(history->front().timestamp_ms, 0);
  EXPECT_EQ(history->front().operation, "");
  EXPECT_EQ(history->front().operation_parameters.at("a"), "[1]");
}

TEST_F(LogErrorsTest, OddLogFileNamesAreIgnored) {
  MakeTable("t", 1);
  // 20 digits beyond int64, a 19-digit name, a name with a sign.
  for (const char* name : {"99999999999999999999.json", "0000000000000000001.json", "-0000000000000000001.json",
                           "00000000000000000001.checkpoint.99999999999.2.parquet"})
    std::ofstream(dir_ / "t" / "_delta_log" / name) << "{}";
  auto table = DeltaTable::Open(NewLocalFileSystem((dir_ / "t").string()));
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(*(*table)->LatestVersion(), 1);
}

TEST_F(LogErrorsTest, DeeplyNestedSchemaIsRefused) {
  std::string type = "\"string\"";
  for (int i = 0; i < 5000; ++i) type = R"({"type":"array","containsNull":true,"elementType":)" + type + "}";
  std::string schema = R"({"type":"struct","fields":[{"name":"a","type":)" + type + "}]}";
  MakeTable("t", 0);
  nlohmann::json meta = {{"metaData", {{"schemaString", schema}}}};
  ASSERT_TRUE(NewLocalFileSystem((dir_ / "t").string())->PutIfAbsent(delta::CommitKey(1), meta.dump() + "\n").ok());
  Status st = OpenStatus("t");
  EXPECT_EQ(st.code(), StatusCode::kParseError);
  EXPECT_NE(st.message().find("nested more than"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace pulse::lake
