// Ingest: every bad-input path is reported with its line and reason, good rows land in one
// commit, rejects are kept in their table, and re-ingesting the same content is a no-op.
#include "ingest/file_ingest.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/time.h"

namespace pulse::ingest {
namespace {

namespace fs = std::filesystem;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_ingest_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    lake_ = lake::Lake::Open((dir_ / "lake").string()).value();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  // The reject reported for `line`, or "" if none.
  static std::string ReasonAt(const IngestReport& r, int64_t line) {
    for (const auto& rej : r.rejects)
      if (rej.line == line) return rej.reason;
    return "";
  }
  int64_t SignalRows() {
    auto t = lake_->OpenTable("signals");
    if (!t.ok()) return 0;
    return (*(*t)->Read())->num_rows();
  }
  fs::path dir_;
  std::unique_ptr<lake::Lake> lake_;
};

TEST_F(IngestTest, EveryBadRowIsReportedWithLineAndReason) {
  std::string big(100, 'x');
  std::string path = Write("s.csv",
                           "name,ts,value,kind,metadata\n"          // 1
                           "gdp,2024-01-01T00:00:00Z,1.5,macro,\n"  // 2 ok
                           "gdp,2024-01-02T00:00:00Z,abc,macro,\n"  // 3 unparseable
                           "gdp,2024-01-03T00:00:00Z,NaN,macro,\n"  // 4 NaN
                           "gdp,2024-01-04T00:00:00Z,inf,macro,\n"  // 5 Inf
                           "gdp,2023-02-29T00:00:00Z,1,macro,\n"    // 6 bad date
                           "gdp,,1,macro,\n"                        // 7 missing ts
                           ",2024-01-05T00:00:00Z,1,macro,\n"       // 8 missing name
                           "gdp,2024-01-06T00:00:00Z,1\n"           // 9 wrong count
                           "gdp,2024-01-07T00:00:00Z,1,macro," +
                               big +
                               "\n"                                           // 10 oversized
                               "gdp,2024-01-08T00:00:00Z,1,macro,[1]\n"       // 11 metadata not object
                               "gdp,2024-01-09T00:00:00Z,1,macro,\xff\xfe\n"  // 12 invalid UTF-8
                               "\"cpi, all\",2024-01-10T00:00:00Z,\"2.5\",macro,\"{\"\"a\"\":1}\"\n"  // 13 ok, quoted
                               "gdp,2024-01-11T00:00:00Z,,macro,\n");  // 14 missing value
  IngestOptions opts;
  opts.max_field_bytes = 64;
  auto r = IngestFile(*lake_, path, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 2);
  EXPECT_EQ(r->rejected, 11);
  EXPECT_NE(ReasonAt(*r, 3).find("unparseable number 'abc'"), std::string::npos);
  EXPECT_EQ(ReasonAt(*r, 4), "value is NaN");
  EXPECT_EQ(ReasonAt(*r, 5), "value is infinite");
  EXPECT_NE(ReasonAt(*r, 6).find("bad timestamp"), std::string::npos);
  EXPECT_EQ(ReasonAt(*r, 7), "missing timestamp");
  EXPECT_EQ(ReasonAt(*r, 8), "missing name");
  EXPECT_EQ(ReasonAt(*r, 9), "expected 5 fields, found 3");
  EXPECT_NE(ReasonAt(*r, 10).find("over the limit of 64"), std::string::npos);
  EXPECT_EQ(ReasonAt(*r, 11), "metadata is not a JSON object");
  EXPECT_NE(ReasonAt(*r, 12).find("not valid UTF-8"), std::string::npos);
  EXPECT_EQ(ReasonAt(*r, 14), "missing value");
  EXPECT_EQ(ReasonAt(*r, 13), "");

  auto signals = (*lake_->OpenTable("signals"))->Read({.columns = {"name", "value", "metadata", "source", "date"}});
  ASSERT_TRUE(signals.ok());
  EXPECT_EQ((*signals)->num_rows(), 2);
  auto rejects = lake_->OpenTable("signal_rejects");
  ASSERT_TRUE(rejects.ok());
  auto rows = (*(*rejects)->Read())->CombineChunksToBatch().ValueOrDie();
  EXPECT_EQ(rows->num_rows(), 11);
  EXPECT_EQ(std::static_pointer_cast<arrow::Int64Array>(rows->GetColumnByName("line"))->Value(0), 3);
  EXPECT_NE(std::static_pointer_cast<arrow::StringArray>(rows->GetColumnByName("raw"))->GetString(0).find("abc"),
            std::string::npos);
}

TEST_F(IngestTest, QuotedFieldsAndJsonLines) {
  std::string csv =
      Write("q.csv", "name,ts,value\r\n\"a \"\"quoted\"\" name\",2024-01-01,1\r\n\"multi\nline\",2024-01-02,2\r\n");
  auto r = IngestFile(*lake_, csv, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 2);
  EXPECT_EQ(r->rejected, 0);
  auto names = (*(*lake_->OpenTable("signals"))->Read({.columns = {"name"}}))->CombineChunksToBatch().ValueOrDie();
  std::set<std::string> got;
  for (int64_t i = 0; i < names->num_rows(); ++i)
    got.insert(std::static_pointer_cast<arrow::StringArray>(names->column(0))->GetString(i));
  EXPECT_EQ(got, (std::set<std::string>{"a \"quoted\" name", "multi\nline"}));

  std::string jsonl = Write("s.jsonl",
                            "{\"name\":\"x\",\"ts\":\"2024-01-01T00:00:00Z\",\"value\":3.5,\"metadata\":{\"k\":1}}\n"
                            "\n"
                            "not json\n"
                            "[1,2]\n"
                            "{\"name\":\"x\",\"ts\":\"2024-01-02\",\"value\":null}\n");
  auto j = IngestFile(*lake_, jsonl, {.kind = "sentiment"});
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->accepted, 1);
  EXPECT_TRUE(ReasonAt(*j, 3).starts_with("not valid JSON: column 2: syntax error")) << ReasonAt(*j, 3);
  EXPECT_EQ(ReasonAt(*j, 4), "a JSON line must be an object");
  EXPECT_EQ(ReasonAt(*j, 5), "missing value");
}

TEST_F(IngestTest, WideLayoutOnTheBundledMacroData) {
  std::string path = std::string(PULSE_SOURCE_DIR) + "/data/us-macro-quarterly.csv";
  IngestOptions opts;
  opts.wide = true;
  opts.time_columns = {"year", "quarter"};
  opts.kind = "macro";
  auto r = IngestFile(*lake_, path, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 203 * 12);
  EXPECT_EQ(r->rejected, 0);
  auto t = (*lake_->OpenTable("signals"))->Read({.columns = {"name", "ts", "value"}});
  auto batch = (*t)->CombineChunksToBatch().ValueOrDie();
  auto names = std::static_pointer_cast<arrow::StringArray>(batch->column(0));
  auto ts = std::static_pointer_cast<arrow::TimestampArray>(batch->column(1));
  auto values = std::static_pointer_cast<arrow::DoubleArray>(batch->column(2));
  bool found = false;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    if (names->GetString(i) == "realgdp" && ts->Value(i) == *time::QuarterStart(1959, 2)) {
      EXPECT_DOUBLE_EQ(values->Value(i), 2778.801);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  // The same content again: skipped, nothing duplicated.
  auto again = IngestFile(*lake_, path, opts);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(SignalRows(), 203 * 12);
}

TEST_F(IngestTest, WideLayoutRejectsBadCellsAndTimes) {
  std::string path = Write("w.csv", "year,quarter,a,b\n2000,1,1.0,2.0\n2000,5,1,2\n2000,2,x,3\n2000,3,,4\n");
  auto r = IngestFile(*lake_, path, {.wide = true, .time_columns = {"year", "quarter"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 4);  // 2 + b@q2 + b@q3 (an empty cell is no observation)
  EXPECT_NE(ReasonAt(*r, 3).find("quarter 5"), std::string::npos) << ReasonAt(*r, 3);
  EXPECT_NE(ReasonAt(*r, 4).find("column 'a': unparseable number 'x'"), std::string::npos);
}

TEST_F(IngestTest, MappingAndHardErrors) {
  std::string path = Write("m.csv", "ticker,date,close\nAAPL,2024-01-02,185.6\n");
  auto r = IngestFile(*lake_, path, {.mapping = {{"name", "ticker"}, {"value", "close"}}, .kind = "price"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 1);  // ts found through the "date" fallback

  auto missing = IngestFile(*lake_, (dir_ / "absent.csv").string(), {});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto no_column = IngestFile(*lake_, path, {});
  EXPECT_EQ(no_column.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_column.status().message().find("--map name=COLUMN"), std::string::npos);
  auto bad_map = IngestFile(*lake_, path, {.mapping = {{"nmae", "ticker"}}});
  EXPECT_NE(bad_map.status().message().find("unknown target field 'nmae'"), std::string::npos);
  auto bad_map_col = IngestFile(*lake_, path, {.mapping = {{"name", "nope"}}});
  EXPECT_NE(bad_map_col.status().message().find("no column 'nope'"), std::string::npos);
  auto unknown_ext = IngestFile(*lake_, Write("x.txt", "a"), {});
  EXPECT_NE(unknown_ext.status().message().find("--format"), std::string::npos);
  auto empty = IngestFile(*lake_, Write("e.csv", ""), {});
  EXPECT_NE(empty.status().message().find("empty file"), std::string::npos);
  auto dup_header = IngestFile(*lake_, Write("d.csv", "name,name\n"), {});
  EXPECT_NE(dup_header.status().message().find("twice"), std::string::npos);
  // Nothing from the failed calls reached the lake.
  EXPECT_EQ(SignalRows(), 1);
}

TEST_F(IngestTest, BytesIngestLikeTheFileTheyCameFrom) {
  const std::string csv = "name,ts,value\ngdp,2024-01-01,1.5\ngdp,not-a-date,2\n";
  auto r = IngestBytes(*lake_, csv, "s3://bucket/lake/inbox/q1.csv", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 1);
  EXPECT_EQ(r->rejected, 1);
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->file, "s3://bucket/lake/inbox/q1.csv");  // the rejects' file
  auto table = (*(*lake_->OpenTable("signals"))->Read());
  EXPECT_EQ(std::static_pointer_cast<arrow::StringArray>(table->GetColumnByName("source")->chunk(0))->GetString(0),
            "q1.csv");  // the default source: the object's file name
  // The same bytes as a file: the same content key, so a duplicate (and the other way round).
  auto file = IngestFile(*lake_, Write("q1.csv", csv), {});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->duplicate);
  EXPECT_EQ(file->sha256, r->sha256);
  // The format comes from the name's extension, never guessed; an explicit one wins.
  const std::string jsonl = "{\"name\": \"cpi\", \"ts\": \"2024-01-01\", \"value\": 3}\n";
  auto unknown = IngestBytes(*lake_, jsonl, "s3://bucket/lake/inbox/q1", {});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("cannot tell the format"), std::string::npos)
      << unknown.status().ToString();
  auto explicit_format = IngestBytes(*lake_, jsonl, "s3://bucket/lake/inbox/q1", {.format = FileFormat::kJsonLines});
  ASSERT_TRUE(explicit_format.ok()) << explicit_format.status().ToString();
  EXPECT_EQ(explicit_format->accepted, 1);
  // More bytes than max_file_bytes: refused before parsing, nothing written.
  const int64_t rows = SignalRows();
  IngestOptions small;
  small.max_file_bytes = 10;
  auto big = IngestBytes(*lake_, "name,ts,value\nx,2024-01-01,1\n", "big.csv", small);
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("exceeds the maximum input size of 10 bytes"), std::string::npos)
      << big.status().ToString();
  EXPECT_EQ(SignalRows(), rows);
}

}  // namespace
}  // namespace pulse::ingest
