// Ingest against hostile files and inputs: one read (the idempotency key is the hash of exactly
// the parsed bytes), bounded size, FIFOs and devices, and every line of a bad file accounted for
// as accepted or rejected with its line and a printable reason.
#include <arrow/api.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/hash.h"
#include "core/printable.h"
#include "ingest/file_ingest.h"
#include "ingest/input_file.h"

namespace pulse::ingest {
namespace {

namespace fs = std::filesystem;

class HostileIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_hostile_" + std::to_string(::getpid()) + "_" +
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
  int64_t SignalRows() {
    auto t = lake_->OpenTable("signals");
    if (!t.ok()) return 0;
    return (*(*t)->Read())->num_rows();
  }
  static std::string ReasonAt(const IngestReport& r, int64_t line) {
    for (const auto& rej : r.rejects)
      if (rej.line == line) return rej.reason;
    return "";
  }
  fs::path dir_;
  std::unique_ptr<lake::Lake> lake_;
};

std::string Rows(int from, int count) {
  std::string out;
  for (int i = from; i < from + count; ++i)
    out += "s" + std::to_string(i % 7) + ",2024-01-01T00:00:" + std::to_string(10 + i % 50) + "Z," + std::to_string(i) +
           "\n";
  return out;
}

TEST_F(HostileIngestTest, TheKeyIsTheHashOfExactlyTheParsedBytes) {
  const std::string original = "name,ts,value\n" + Rows(0, 100);
  const std::string path = Write("grow.csv", original);
  // The file grows right after it is read (another process appending): the ingest lands the
  // 100 rows it read, keyed by the hash of those bytes, not of the grown file.
  IngestOptions opts;
  opts.on_read = [&](std::string_view bytes) {
    EXPECT_EQ(bytes, original);
    std::ofstream(path, std::ios::binary | std::ios::app) << Rows(100, 50);
  };
  auto r = IngestFile(*lake_, path, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 100);
  EXPECT_EQ(r->sha256, Sha256Hex(original));
  EXPECT_EQ(r->bytes, static_cast<int64_t>(original.size()));
  EXPECT_EQ(SignalRows(), 100);
  // The grown file is different content: it lands (150 rows) ...
  auto grown = IngestFile(*lake_, path, {});
  ASSERT_TRUE(grown.ok());
  EXPECT_FALSE(grown->duplicate);
  EXPECT_EQ(grown->accepted, 150);
  // ... and the original snapshot, ingested again, is recognised as already applied.
  auto again = IngestFile(*lake_, Write("same.csv", original), {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(SignalRows(), 250);
}

TEST_F(HostileIngestTest, ATruncationDuringTheIngestDoesNotPoisonTheFullFile) {
  const std::string full = "name,ts,value\n" + Rows(0, 100);
  const std::string path = Write("trunc.csv", full);
  IngestOptions opts;
  opts.on_read = [&](std::string_view) { fs::resize_file(path, 20); };  // truncated after the read
  auto r = IngestFile(*lake_, path, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 100);  // what was read, whole
  EXPECT_EQ(r->sha256, Sha256Hex(full));
  // The full content again is the same snapshot: a no-op; nothing was half-ingested.
  auto again = IngestFile(*lake_, Write("full.csv", full), {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(SignalRows(), 100);
}

TEST_F(HostileIngestTest, InputsBiggerThanTheLimitAreRefusedNotReadForever) {
  auto zero = ReadInput("/dev/zero", 1 << 20);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("exceeds the maximum input size of 1048576 bytes"), std::string::npos)
      << zero.status().message();
  IngestOptions opts;
  opts.max_file_bytes = 1 << 16;
  opts.format = FileFormat::kCsv;
  auto via_ingest = IngestFile(*lake_, "/dev/zero", opts);
  ASSERT_FALSE(via_ingest.ok());
  EXPECT_NE(via_ingest.status().message().find("exceeds the maximum input size"), std::string::npos);
  const std::string big = Write("big.csv", "name,ts,value\n" + Rows(0, 10000));
  auto file = IngestFile(*lake_, big, opts);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("ingest.max_file_bytes"), std::string::npos) << file.status().message();
  EXPECT_EQ(SignalRows(), 0);
}

TEST_F(HostileIngestTest, AFifoIsReadWhenAWriterExistsAndRefusedForTasks) {
  const std::string fifo = (dir_ / "in.fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string content = "name,ts,value\n" + Rows(0, 20);
  std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << content; });
  auto r = IngestFile(*lake_, fifo, {});  // no extension: the format is sniffed
  writer.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 20);
  EXPECT_EQ(r->sha256, Sha256Hex(content));
  // The worker's mode: refused at once, without a writer and without blocking.
  IngestOptions task;
  task.regular_files_only = true;
  const auto start = std::chrono::steady_clock::now();
  auto refused = IngestFile(*lake_, fifo, task);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("is a FIFO or pipe; only regular files"), std::string::npos)
      << refused.status().message();
  for (const char* device : {"/dev/zero", "/dev/null"}) {
    auto dev = IngestFile(*lake_, device, task);
    ASSERT_FALSE(dev.ok());
    EXPECT_NE(dev.status().message().find("character device"), std::string::npos) << dev.status().message();
  }
  auto dir = IngestFile(*lake_, dir_.string(), task);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("directory"), std::string::npos);
  auto dir_cli = IngestFile(*lake_, dir_.string(), {.format = FileFormat::kCsv});
  ASSERT_FALSE(dir_cli.ok());
  EXPECT_NE(dir_cli.status().message().find("directory"), std::string::npos);
  // A regular file is fine in the worker's mode.
  auto regular = IngestFile(*lake_, Write("ok.csv", "name,ts,value\n" + Rows(100, 3)), task);
  ASSERT_TRUE(regular.ok()) << regular.status().ToString();
  EXPECT_EQ(regular->accepted, 3);
}

TEST_F(HostileIngestTest, UnterminatedQuoteLosesNoRows) {
  // The issue's file: one bad line, then 1,000 good rows.
  std::string text = "name,ts,value\na,\"2020-01-01,1\n";
  for (int i = 0; i < 1000; ++i) text += "g" + std::to_string(i) + ",2020-01-02," + std::to_string(i) + "\n";
  auto r = IngestFile(*lake_, Write("q.csv", text), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 1000);
  EXPECT_EQ(r->rejected, 1);
  EXPECT_EQ(ReasonAt(*r, 2), "unterminated quote in field 2");
  EXPECT_EQ(r->rejects[0].raw, "a,\"2020-01-01,1");
  EXPECT_EQ(r->lines, 1002);
  EXPECT_EQ(SignalRows(), 1000);
}

TEST_F(HostileIngestTest, EveryLineIsAcceptedOrRejectedWithItsReason) {
  // One file with many kinds of bad rows between good ones; each bad one is rejected at its own
  // line and each good one accepted.
  const std::string good = "ok,2024-01-01,1";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"a,\"2020-01-01,1", "unterminated quote in field 2"},
      {"a\"b,2024-01-01,1", "stray quote in field 1"},
      {"\"a\"x,2024-01-01,1", "text after the closing quote of field 1"},
      {"a,2024-01-01", "expected 3 fields, found 2"},
      {"a,2024-01-01,1,2", "expected 3 fields, found 4"},
      {std::string("a\0b,2024-01-01,1", 16), "field 'name' contains a NUL character: 'a\\0b'"},
      {"\xff\xfe,2024-01-01,1", "field 'name' is not valid UTF-8"},
      {"\xc0\xaf,2024-01-01,1", "field 'name' is not valid UTF-8"},      // overlong '/'
      {"\xed\xa0\x80,2024-01-01,1", "field 'name' is not valid UTF-8"},  // a surrogate
      {"a,2024-01-01,1e999", "value '1e999' is out of range"},
      {"a,2024-01-01,0x10", "unparseable number '0x10'"},
      {std::string("a,2024-01-01,1\0", 15), "field 'value' contains a NUL character: '1\\0'"},
      {"a,2024-01-01,nan", "value is NaN"},
      {"a,2024-13-01,1", "bad timestamp"},
      {"a,99999999999999999999-01-01,1", "bad timestamp"},
      {"a,\x01\x02,1", "bad timestamp"},
      {"a,999999999999,1", "timestamp 33658-"},  // Unix seconds beyond year 9999
      {"a,-999999999999,1", "timestamp -29719-"},
      {",2024-01-01,1", "missing name"},
      {"a,,1", "missing timestamp"},
      {"a,2024-01-01,", "missing value"},
      {"a,2024-01-01,\"" + std::string(70000, '9') + "\"", "field 'value' is 70000 bytes, over the limit of 65536"},
  };
  std::string text = "name,ts,value\n" + good + "\n";
  for (const auto& [row, reason] : bad) text += row + "\n" + good + "\n";
  auto r = IngestFile(*lake_, Write("mixed.csv", text), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, static_cast<int64_t>(bad.size()) + 1);
  EXPECT_EQ(r->rejected, static_cast<int64_t>(bad.size()));
  for (size_t i = 0; i < bad.size(); ++i) {
    const int64_t line = 3 + 2 * static_cast<int64_t>(i);
    const std::string reason = ReasonAt(*r, line);
    EXPECT_TRUE(reason.starts_with(bad[i].second))
        << "line " << line << ": got '" << reason << "', want '" << bad[i].second << "'";
    // Reasons are printable: no control bytes, valid UTF-8.
    EXPECT_EQ(Printable(reason, 100000), reason) << "line " << line;
  }
  // Every reject keeps its raw text, stored as valid UTF-8.
  auto rejects = (*lake_->OpenTable("signal_rejects"))->Read();
  ASSERT_TRUE(rejects.ok()) << rejects.status().ToString();
  EXPECT_EQ((*rejects)->num_rows(), static_cast<int64_t>(bad.size()));
  auto raw = std::static_pointer_cast<arrow::StringArray>(
      (*rejects)->CombineChunksToBatch().ValueOrDie()->GetColumnByName("raw"));
  for (int64_t i = 0; i < raw->length(); ++i) EXPECT_TRUE(ValidUtf8(raw->GetView(i))) << i;
  EXPECT_TRUE(raw->ValidateFull().ok());
}

TEST_F(HostileIngestTest, JsonLinesHostileRows) {
  const std::string good = R"({"name":"ok","ts":"2024-01-01","value":1})";
  std::string deep = R"({"name":"a","ts":"2024-01-01","value":1,"metadata":)";
  for (int i = 0; i < 100000; ++i) deep += "[";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {deep, "nested deeper than 64 levels"},
      {R"({"name":"a","ts":"2024-01-01","value":1,"name":"b"})", "a key appears twice"},
      {R"({"name":"a\u0000b","ts":"2024-01-01","value":1})", "field 'name' contains a NUL character"},
      {"{\"name\":\"\xff\",\"ts\":\"2024-01-01\",\"value\":1}", "not valid JSON"},
      {R"({"name":"a","ts":"2024-01-01","value":1e999})", "not valid JSON: number overflow parsing '1e999'"},
      {R"({"name":"a","ts":"2024-01-01","value":"x"})", "unparseable number 'x'"},
      {R"({"name":"a","ts":"2024-01-01","value":true})", "unparseable number 'true'"},
      {R"({"name":"a","ts":"2024-01-01","value":[1]})", "unparseable number '[1]'"},
      {R"({"name":"a","ts":"2024-01-01","value":1,"metadata":"{\"k\":"})", "metadata is not a JSON object"},
      {R"({"name":"a","ts":true,"value":1})", "bad timestamp"},
      {R"({"name":null,"ts":"2024-01-01","value":1})", "missing name"},
      {R"([{"name":"a"}])", "a JSON line must be an object"},
      {R"({"name":"a",)", "not valid JSON"},
      {"\x01\x02", "not valid JSON"},
  };
  std::string text = "\xEF\xBB\xBF" + good + "\r\n";
  for (const auto& [row, reason] : bad) text += row + "\r\n" + good + "\r\n";
  auto r = IngestFile(*lake_, Write("h.jsonl", text), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, static_cast<int64_t>(bad.size()) + 1);
  EXPECT_EQ(r->rejected, static_cast<int64_t>(bad.size()));
  for (size_t i = 0; i < bad.size(); ++i) {
    const int64_t line = 2 + 2 * static_cast<int64_t>(i);
    const std::string reason = ReasonAt(*r, line);
    EXPECT_TRUE(reason.starts_with(bad[i].second))
        << "line " << line << ": got '" << reason << "', want '" << bad[i].second << "'";
    EXPECT_EQ(Printable(reason, 100000), reason) << "line " << line;
  }
}

TEST_F(HostileIngestTest, KindsAndNamesThatCannotBeStoredAreRejectedPerRow) {
  // A kind names a partition folder: an over-long one would fail the whole commit, so it is a
  // rejected row; a NUL in a JSON key (a wide layout's series name) likewise.
  const std::string long_kind(65, 'k');
  auto r = IngestFile(*lake_,
                      Write("k.csv", "name,ts,value,kind\na,2024-01-01,1," + long_kind + "\nb,2024-01-01,2,ok\n"), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 1);
  EXPECT_EQ(ReasonAt(*r, 2), "kind is 65 bytes, over the limit of 64 (it names a lake partition)");
  auto bad_default = IngestFile(*lake_, Write("d.csv", "name,ts,value\na,2024-01-01,1\n"), {.kind = long_kind});
  ASSERT_FALSE(bad_default.ok());
  EXPECT_NE(bad_default.status().message().find("--kind"), std::string::npos);
  auto wide =
      IngestFile(*lake_, Write("w.jsonl", "{\"ts\":\"2024-01-01\",\"a\\u0000b\":1}\n{\"ts\":\"2024-01-01\",\"c\":2}\n"),
                 {.wide = true, .time_columns = {"ts"}});
  ASSERT_TRUE(wide.ok()) << wide.status().ToString();
  EXPECT_EQ(wide->accepted, 1);
  EXPECT_EQ(ReasonAt(*wide, 1), "field name 'a\\0b' contains a NUL character");
}

TEST_F(HostileIngestTest, DeepMetadataInACsvFieldIsRejected) {
  std::string meta = "\"";
  for (int i = 0; i < 20000; ++i) meta += "[";
  meta += "\"";
  const std::string text = "name,ts,value,metadata\na,2024-01-01,1," + meta + "\nb,2024-01-01,2,\"{\"\"k\"\":[1]}\"\n";
  auto r = IngestFile(*lake_, Write("m.csv", text), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 1);
  EXPECT_EQ(ReasonAt(*r, 2), "metadata is not a JSON object");
}

TEST_F(HostileIngestTest, CrOnlyLineEndingsAndBom) {
  auto r = IngestFile(*lake_, Write("mac.csv", "\xEF\xBB\xBFname,ts,value\ra,2024-01-01,1\rb,2024-01-02,2\r"), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 2);
  EXPECT_EQ(r->rejected, 0);
  EXPECT_EQ(r->lines, 3);
}

TEST_F(HostileIngestTest, WideCsvWithTenToTheFiveColumns) {
  constexpr int kColumns = 100000;
  std::string header = "ts", row1 = "2020-01-01", row2 = "2020-01-02";
  for (int i = 0; i < kColumns; ++i) {
    header += ",c" + std::to_string(i);
    row1 += "," + std::to_string(i);
    row2 += i == 777 ? ",x" : ",";  // one bad cell, the rest empty (no observation)
  }
  const auto start = std::chrono::steady_clock::now();
  auto r = IngestFile(*lake_, Write("wide.csv", header + "\n" + row1 + "\n" + row2 + "\n"), {.wide = true});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, kColumns);
  EXPECT_EQ(r->rejected, 1);
  EXPECT_EQ(ReasonAt(*r, 3), "column 'c777': unparseable number 'x'");
  EXPECT_LT(seconds, 60.0);  // generous; linear work (the quadratic check took minutes)
}

TEST_F(HostileIngestTest, EmptyAndDegenerateInputs) {
  auto expect_error = [&](const std::string& name, const std::string& text, const char* fragment) {
    auto r = IngestFile(*lake_, Write(name, text), {});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
    EXPECT_EQ(Printable(r.status().message(), 100000), r.status().message());
  };
  expect_error("e.csv", "", "empty file");
  expect_error("bom.csv", "\xEF\xBB\xBF", "empty file");
  expect_error("blank.csv", "\n\n\r\n", "empty file");
  expect_error("nul.csv", std::string("\0\0\0", 3), "header column 1 ('\\0\\0\\0') contains a NUL character");
  expect_error("bin.csv", std::string("\xff\xfe\x00\x01", 4), "UTF-16 or UTF-32 (it starts with that byte order mark)");
  expect_error("bin2.csv", std::string("\xfe\x01\x00\x01", 4), "not valid UTF-8");
  // An empty JSON-lines file is valid and empty.
  auto j = IngestFile(*lake_, Write("e.jsonl", ""), {});
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->accepted, 0);
  // A header-only CSV: nothing to add, not an error.
  auto h = IngestFile(*lake_, Write("h.csv", "name,ts,value\n"), {});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->accepted, 0);
}

TEST_F(HostileIngestTest, LongRejectedRecordsKeepTheirLengthInTheRawText) {
  const std::string huge(kMaxRejectRawBytes + 5000, 'z');
  IngestOptions opts;
  opts.max_field_bytes = 16;
  auto r = IngestFile(*lake_, Write("long.csv", "name,ts,value\n" + huge + ",2024-01-01,1\n"), opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rejects.size(), 1u);
  const std::string& raw = r->rejects[0].raw;
  EXPECT_TRUE(raw.starts_with(std::string(1000, 'z')));
  EXPECT_NE(raw.find("[cut: the record has " + std::to_string(huge.size() + 13) + " bytes]"), std::string::npos);
}

}  // namespace
}  // namespace pulse::ingest
