// RecordReader over hostile text: line endings, unterminated quotes (resynchronised at the next
// line, nothing swallowed), wide headers in linear time, JSON depth, BOMs and odd bytes.
#include "ingest/record_reader.h"

#include <gtest/gtest.h>

#include "core/printable.h"

#include <chrono>
#include <string>
#include <vector>

namespace pulse::ingest {
namespace {

struct Read {
  std::unique_ptr<RecordReader> reader;  // records point into it: kept alive with them
  std::vector<Record> records;
  int64_t lines = 0;
};

Read ReadAll(std::string_view text, FileFormat format = FileFormat::kCsv, ReaderLimits limits = {}) {
  auto reader = RecordReader::Open(text, "t.csv", format, limits);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  Read out;
  if (!reader.ok()) return out;
  Record rec;
  while ((*reader)->Next(rec)) out.records.push_back(rec);
  out.lines = (*reader)->lines();
  out.reader = std::move(*reader);
  return out;
}

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(CsvReader, AllThreeLineEndings) {
  for (const char* eol : {"\n", "\r\n", "\r"}) {
    const std::string text = std::string("name,ts,value") + eol + "a,2020-01-01,1" + eol + "b,2020-01-02,2" + eol;
    auto reader = RecordReader::Open(text, "t.csv", FileFormat::kCsv);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ((*reader)->header(), (std::vector<std::string>{"name", "ts", "value"}));
    const Read r = ReadAll(text);
    ASSERT_EQ(r.records.size(), 2u);
    EXPECT_EQ(r.records[1].line, 3);
    EXPECT_EQ(r.records[1].Get("value"), "2");
    EXPECT_EQ(r.records[1].raw, "b,2020-01-02,2");
    EXPECT_TRUE(r.records[1].error.empty());
    EXPECT_EQ(r.lines, 3);
  }
  // Mixed, with no final line break and blank lines in between.
  const Read mixed = ReadAll("a,b\r1,2\r\n\r\n3,4\n\n5,6");
  ASSERT_EQ(mixed.records.size(), 3u);
  EXPECT_EQ(mixed.records[0].line, 2);
  EXPECT_EQ(mixed.records[1].line, 4);
  EXPECT_EQ(mixed.records[2].line, 6);
  EXPECT_EQ(mixed.records[2].Get("b"), "6");
}

TEST(CsvReader, QuotedLineBreaksBecomeNewlinesAndKeepLineNumbers) {
  const Read r = ReadAll("a,b\n\"x\r\ny\",1\n\"p\rq\",2\n3,4\n");
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].values[0], "x\ny");
  EXPECT_EQ(r.records[0].line, 2);
  EXPECT_EQ(r.records[0].last_line, 3);
  EXPECT_EQ(r.records[1].values[0], "p\nq");
  EXPECT_EQ(r.records[1].line, 4);
  EXPECT_EQ(r.records[2].line, 6);
}

TEST(CsvReader, UnterminatedQuoteRejectsOneLineAndResynchronises) {
  // The case: the quote never closes; the 1,000 good rows after it are still read.
  std::string text = "name,ts,value\na,\"2020-01-01,1\n";
  for (int i = 0; i < 1000; ++i) text += "s" + std::to_string(i) + ",2020-01-02," + std::to_string(i) + "\n";
  const Read r = ReadAll(text);
  ASSERT_EQ(r.records.size(), 1001u);
  EXPECT_EQ(r.records[0].line, 2);
  EXPECT_EQ(r.records[0].error, "unterminated quote in field 2");
  EXPECT_EQ(r.records[0].raw, "a,\"2020-01-01,1");
  for (size_t i = 1; i < r.records.size(); ++i) {
    EXPECT_TRUE(r.records[i].error.empty()) << i << ": " << r.records[i].error;
    EXPECT_EQ(r.records[i].line, static_cast<int64_t>(i) + 2);
  }
  EXPECT_EQ(r.lines, 1002);
}

TEST(CsvReader, AQuoteClosedByALaterRowDoesNotSwallowTheRowsBetween) {
  // The stray quote on line 2 "closes" at line 4's quote, giving a malformed record: only line 2
  // is rejected, lines 3 and 4 are read as themselves.
  const Read r = ReadAll("name,ts,value\na,\"2020-01-01,1\nb,2020-01-02,2\n\"c\",2020-01-03,3\n");
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].line, 2);
  EXPECT_TRUE(r.records[0].error.starts_with("unterminated quote in field 2")) << r.records[0].error;
  EXPECT_TRUE(r.records[1].error.empty());
  EXPECT_EQ(r.records[1].Get("name"), "b");
  EXPECT_TRUE(r.records[2].error.empty()) << r.records[2].error;
  EXPECT_EQ(r.records[2].Get("name"), "c");
  EXPECT_EQ(r.records[2].line, 4);
}

TEST(CsvReader, MultiLineFieldsLongerThanTheLimitAreUnterminated) {
  ReaderLimits limits;
  limits.max_field_bytes = 10;
  const Read r = ReadAll("a,b\n\"x\nyyyyyyyyyyyyyyyyy\",1\n2,3\n\"ok\nok\",4\n", FileFormat::kCsv, limits);
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_TRUE(r.records[0].error.starts_with("unterminated quote in field 1 (no closing quote within 10 bytes)"))
      << r.records[0].error;
  EXPECT_EQ(r.records[1].line, 3);  // 'yyyy",1': a stray quote, its own line
  EXPECT_FALSE(r.records[1].error.empty());
  EXPECT_TRUE(r.records[2].error.empty());
  EXPECT_TRUE(r.records[3].error.empty()) << r.records[3].error;
  EXPECT_EQ(r.records[3].values[0], "ok\nok");
  // A long field on ONE line is not cut by the reader (the ingest rejects it by size).
  limits.max_field_bytes = 4;
  const Read one = ReadAll("a\n\"0123456789\"\n", FileFormat::kCsv, limits);
  ASSERT_EQ(one.records.size(), 1u);
  EXPECT_TRUE(one.records[0].error.empty());
}

TEST(CsvReader, MalformedRecordsAreOneLineEach) {
  const Read r = ReadAll("a,b\nx\"y,1\n\"p\"q,2\n1,2,3\n\"\"\"\",5\n");
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_TRUE(r.records[0].error.starts_with("stray quote in field 1")) << r.records[0].error;
  EXPECT_EQ(r.records[1].error, "text after the closing quote of field 1");
  EXPECT_EQ(r.records[2].error, "expected 2 fields, found 3");
  EXPECT_TRUE(r.records[3].error.empty());
  EXPECT_EQ(r.records[3].values[0], "\"");
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(r.records[i].line, static_cast<int64_t>(i) + 2);
}

TEST(CsvReader, ManyUnterminatedQuotesStayLinear) {
  // Each line opens a quote that the next line's quote "closes" into a malformed record: every
  // line is rejected on its own, each after a short look ahead.
  std::string text = "a,b\n";
  for (int i = 0; i < 200000; ++i) text += "x,\"y\n";
  // Then one quote with nothing to close it, and 200,000 good rows after it.
  text += "x,\"open\n";
  for (int i = 0; i < 200000; ++i) text += "1,2\n";
  const auto start = std::chrono::steady_clock::now();
  const Read r = ReadAll(text);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.records.size(), 400001u);
  for (size_t i = 0; i <= 200000; ++i)
    ASSERT_TRUE(r.records[i].error.starts_with("unterminated quote in field 2")) << i;
  for (size_t i = 200001; i < r.records.size(); ++i) ASSERT_TRUE(r.records[i].error.empty()) << i;
  EXPECT_EQ(r.lines, 400002);
  EXPECT_LT(seconds, 20.0);  // generous: quadratic would take hours
}

TEST(CsvReader, WideHeaderOfTenToTheFiveColumnsIsLinear) {
  constexpr int kColumns = 100000;
  std::string header = "ts", row = "2020-01-01", dup = "ts";
  for (int i = 0; i < kColumns; ++i) {
    header += ",c" + std::to_string(i);
    row += "," + std::to_string(i);
    dup += ",c" + std::to_string(i);
  }
  dup += ",c5";
  const auto start = std::chrono::steady_clock::now();
  const Read r = ReadAll(header + "\n" + row + "\n" + row + "\n");
  ASSERT_EQ(r.records.size(), 2u);
  ASSERT_EQ(r.records[0].values.size(), static_cast<size_t>(kColumns + 1));
  EXPECT_EQ(r.records[1].Get("c99999"), "99999");
  auto bad = RecordReader::Open(dup + "\n", "t.csv", FileFormat::kCsv);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "t.csv:1: header names column 'c5' twice");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 20.0);  // linear: well under a second; the quadratic check took minutes
}

TEST(CsvReader, HeaderProblemsAreErrorsNamingLineOne) {
  auto error = [](std::string_view text) {
    auto r = RecordReader::Open(text, "h.csv", FileFormat::kCsv);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(error(""), "h.csv: empty file (a CSV file needs a header line)");
  EXPECT_EQ(error("\xEF\xBB\xBF"), "h.csv: empty file (a CSV file needs a header line)");
  EXPECT_EQ(error("\n\r\n\r"), "h.csv: empty file (a CSV file needs a header line)");
  EXPECT_EQ(error("a,,b\n"), "h.csv:1: header column 2 has no name");
  EXPECT_EQ(error("a,\"b\n"), "h.csv:1: bad header: unterminated quote in field 2");
  EXPECT_EQ(error("a,\xff\xfe\n"), "h.csv:1: header column 2 ('\\xff\\xfe') is not valid UTF-8");
  EXPECT_EQ(error(std::string("a,b\0c\n", 6)), "h.csv:1: header column 2 ('b\\0c') contains a NUL character");
  EXPECT_EQ(error("a,b\x01,b\x01\n"), "h.csv:1: header names column 'b\\x01' twice");
  // A BOM before the header is not part of the first column's name.
  auto bom = RecordReader::Open("\xEF\xBB\xBFname,ts\n", "h.csv", FileFormat::kCsv);
  ASSERT_TRUE(bom.ok());
  EXPECT_EQ((*bom)->header()[0], "name");
}

TEST(JsonReader, DeepNestingIsRejectedBeforeParsing) {
  const std::string deep = "{\"name\":\"a\",\"x\":" + Repeat("[", 100000) + Repeat("]", 100000) + "}";
  const std::string ok = "{\"name\":\"b\",\"x\":" + Repeat("[", 63) + Repeat("]", 63) + "}";
  const std::string unclosed = Repeat("{\"a\":", 100000);
  const Read r = ReadAll(deep + "\n" + ok + "\n" + unclosed + "\n", FileFormat::kJsonLines);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].error, "nested deeper than 64 levels");
  EXPECT_TRUE(r.records[1].error.empty()) << r.records[1].error;
  EXPECT_EQ(r.records[1].Get("x")->size(), 126u);
  EXPECT_EQ(r.records[2].error, "nested deeper than 64 levels");
  // Brackets inside strings are not nesting.
  const Read s = ReadAll("{\"name\":\"" + Repeat("[", 1000) + "\"}\n", FileFormat::kJsonLines);
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_TRUE(s.records[0].error.empty());
  EXPECT_EQ(s.records[0].Get("name")->size(), 1000u);
}

TEST(JsonReader, LineEndingsBomAndBadLines) {
  const Read r = ReadAll(
      "\xEF\xBB\xBF{\"a\":1}\r{\"a\":2}\r\n \t \n{\"a\":1,\"a\":2}\n{\"a\":\"\xff\"}\n{\"a\":1e999}\n"
      "{\"a\":\"x\\u0000y\"}\n5\n{\"a\":1}garbage\n",
      FileFormat::kJsonLines);
  ASSERT_EQ(r.records.size(), 8u);
  EXPECT_TRUE(r.records[0].error.empty()) << r.records[0].error;  // the BOM is skipped
  EXPECT_EQ(r.records[0].Get("a"), "1");
  EXPECT_EQ(r.records[1].line, 2);
  EXPECT_EQ(r.records[1].Get("a"), "2");
  EXPECT_EQ(r.records[2].line, 4);
  EXPECT_EQ(r.records[2].error, "a key appears twice in the object");
  EXPECT_TRUE(r.records[3].error.starts_with("not valid JSON: ")) << r.records[3].error;
  EXPECT_EQ(r.records[3].error.find('\xff'), std::string::npos);  // printable
  EXPECT_EQ(r.records[4].error, "not valid JSON: number overflow parsing '1e999'");
  EXPECT_EQ(r.records[5].Get("a"), std::string("x\0y", 3));  // the ingest rejects NULs, not the reader
  EXPECT_EQ(r.records[6].error, "a JSON line must be an object");
  EXPECT_TRUE(r.records[7].error.starts_with("not valid JSON: ")) << r.records[7].error;
}

// A raw NUL byte after (or inside) an object: nlohmann stops reading at it, so without a check the
// line '{..}\0{..}' was accepted as its first object and the second vanished.
// A spreadsheet's "Unicode text" export: refused as a whole with what to do, in either format
// (a CSV header used to be "header column 1 ('\xff\xfet\0s\0') is not valid UTF-8").
TEST(Reader, Utf16FilesAreRefusedWithWhatToDo) {
  const std::string le("\xFF\xFEt\0s\0\n\0", 8), be("\xFE\xFF\0{\0}", 6);
  for (const std::string& text : {le, be}) {
    for (FileFormat format : {FileFormat::kCsv, FileFormat::kJsonLines}) {
      auto reader = RecordReader::Open(text, "u.csv", format, {});
      ASSERT_FALSE(reader.ok());
      EXPECT_EQ(reader.status().message(),
                "u.csv: the file is UTF-16 or UTF-32 (it starts with that byte order mark); save it as UTF-8");
    }
  }
}

TEST(JsonReader, ARawNulByteRejectsTheLine) {
  const std::string text = std::string("{\"a\":1}\0{\"a\":2}\n{\"a\":3}\0\n{\"a\":4}\n", 33);
  const Read r = ReadAll(text, FileFormat::kJsonLines);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].error, "not valid JSON: a NUL byte at column 8");
  EXPECT_EQ(r.records[1].error, "not valid JSON: a NUL byte at column 8");
  EXPECT_TRUE(r.records[2].error.empty());
  EXPECT_EQ(r.records[2].Get("a"), "4");
}

// Physical lines of `text` the way the reader counts them ("\r\n", "\r" and "\n" end a line).
std::vector<std::string_view> PhysicalLines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    out.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

TEST(CsvReader, RandomTextNeverLosesALine) {
  // A small in-test fuzzer: random text over the bytes that matter to a CSV reader. Whatever
  // the input, records never overlap, come in order, and every physical line is covered by the
  // header, exactly one record, or is blank.
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::string alphabet("ab,,,\"\"\n\n\r \0\xff", 13);
  ReaderLimits limits;
  limits.max_field_bytes = 8;
  int checked = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string text = "h1,h2\n";
    const size_t length = next() % 60;
    for (size_t i = 0; i < length; ++i) text += alphabet[next() % alphabet.size()];
    auto reader = RecordReader::Open(text, "r.csv", FileFormat::kCsv, limits);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    const auto lines = PhysicalLines(text);
    std::vector<int> covered(lines.size() + 1, 0);
    covered[1] = 1;  // the header
    int64_t previous_last = 1;
    Record rec;
    while ((*reader)->Next(rec)) {
      ASSERT_GT(rec.line, previous_last) << Printable(text);
      ASSERT_GE(rec.last_line, rec.line);
      ASSERT_LE(rec.last_line, static_cast<int64_t>(lines.size()));
      if (!rec.error.empty()) {
        ASSERT_EQ(rec.last_line, rec.line) << "a bad record is one line: " << Printable(text);
      } else {
        ASSERT_EQ(rec.values.size(), 2u);
      }
      for (int64_t l = rec.line; l <= rec.last_line; ++l) ++covered[static_cast<size_t>(l)];
      previous_last = rec.last_line;
    }
    ASSERT_EQ((*reader)->lines(), static_cast<int64_t>(lines.size())) << Printable(text);
    for (size_t l = 1; l <= lines.size(); ++l) {
      if (covered[l] == 0) {
        ASSERT_TRUE(lines[l - 1].empty()) << "line " << l << " lost in " << Printable(text);
      }
      ASSERT_LE(covered[l], 1);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 20000);
}

TEST(Sniff, GuessesFromTheFirstCharacter) {
  EXPECT_EQ(SniffFormat("\xEF\xBB\xBF \n{\"a\":1}"), FileFormat::kJsonLines);
  EXPECT_EQ(SniffFormat("name,ts,value\n"), FileFormat::kCsv);
  EXPECT_EQ(SniffFormat(""), FileFormat::kCsv);
}

}  // namespace
}  // namespace pulse::ingest
