// The fast JSON-lines path (flat_json.h): what it accepts and each shape it hands to the general
// reader, and a differential test - the same bytes parsed with and without the fast path give
// the same rows, the same rejects (line, reason, raw text) and the same counts, over hand-picked
// hostile lines, the fuzz corpus and random records.
#include "ingest/flat_json.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "ingest/file_ingest.h"

namespace pulse::ingest {
namespace {

using Type = FlatJsonField::Type;

TEST(FlatJson, ReadsAFlatRecordAsViews) {
  const std::string line =
      R"( {"name":"gdp", "ts" :"2024-01-01T00:00:00Z","value":-1.5e3,"n":42,"unit":null,"k":"é"} )";
  std::vector<FlatJsonField> f;
  ASSERT_TRUE(ScanFlatJson(line, f));
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].key, "name");
  EXPECT_EQ(f[0].text, "gdp");
  EXPECT_EQ(f[0].type, Type::kString);
  EXPECT_EQ(f[1].text, "2024-01-01T00:00:00Z");
  EXPECT_EQ(f[2].text, "-1.5e3");
  EXPECT_EQ(f[2].type, Type::kNumber);
  EXPECT_EQ(f[3].text, "42");
  EXPECT_EQ(f[3].type, Type::kInteger);
  EXPECT_EQ(f[4].type, Type::kNull);
  EXPECT_EQ(f[5].text, "é");
  EXPECT_TRUE(ScanFlatJson("{}", f));
  EXPECT_TRUE(f.empty());
}

TEST(FlatJson, HandsEveryOtherShapeToTheGeneralReader) {
  const std::vector<std::string> others = {
      "",
      "   ",
      "[1]",
      R"({"a":"x\"y"})",           // escape in a value
      R"({"a\n":"x"})",            // escape in a key
      "{\"a\":\"x\ty\"}",          // raw control character
      "{\"a\":\"\xff\"}",          // invalid UTF-8
      "{\"a\":\"\xed\xa0\x80\"}",  // a UTF-16 surrogate in UTF-8
      "{\"a\":\"\xc0\xaf\"}",      // overlong
      R"({"a":{"b":1}})",
      R"({"a":[1]})",
      R"({"a":true})",
      R"({"a":false})",
      R"({"a":nul})",
      R"({"a":-0})",
      R"({"a":01})",
      R"({"a":1.})",
      R"({"a":.5})",
      R"({"a":1e})",
      R"({"a":+1})",
      R"({"a":1e999})",
      R"({"a":1e-400})",
      R"({"a":1234567890123456789})",  // 19 digits
      R"({"a":1x})",
      R"({"a":1,})",
      R"({"a" 1})",
      R"({"a":1} x)",
      R"({"a":1}{"b":2})",
      R"({"a":1,"a":2})",
      R"({"a":"x)",
      std::string("{\"a\":\"x\0\"}", 10),
      R"({a:1})",
  };
  std::vector<FlatJsonField> f;
  for (const auto& line : others) EXPECT_FALSE(ScanFlatJson(line, f)) << line;
  std::string wide = "{";
  for (size_t i = 0; i <= kMaxFlatJsonFields; ++i) wide += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  EXPECT_FALSE(ScanFlatJson(wide + "}", f));
}

// Parses `text` as JSON lines with and without the fast path and expects identical results.
void ExpectSameBothWays(const std::string& text, IngestOptions options = {}) {
  options.format = FileFormat::kJsonLines;
  options.now_us = 1'700'000'000'000'000;
  IngestReport fast_report, slow_report;
  options.fast_json = true;
  auto fast = ParseSignalsBytes(text, "t.jsonl", false, options, fast_report);
  options.fast_json = false;
  auto slow = ParseSignalsBytes(text, "t.jsonl", false, options, slow_report);
  ASSERT_EQ(fast.ok(), slow.ok());
  if (!fast.ok()) {
    EXPECT_EQ(fast.status().message(), slow.status().message());
    return;
  }
  EXPECT_TRUE((*fast)->Equals(**slow)) << "fast:\n" << (*fast)->ToString() << "\ngeneral:\n" << (*slow)->ToString();
  EXPECT_EQ(fast_report.accepted, slow_report.accepted);
  EXPECT_EQ(fast_report.rejected, slow_report.rejected);
  EXPECT_EQ(fast_report.lines, slow_report.lines);
  ASSERT_EQ(fast_report.rejects.size(), slow_report.rejects.size());
  for (size_t i = 0; i < fast_report.rejects.size(); ++i) {
    EXPECT_EQ(fast_report.rejects[i].line, slow_report.rejects[i].line) << i;
    EXPECT_EQ(fast_report.rejects[i].reason, slow_report.rejects[i].reason) << i;
    EXPECT_EQ(fast_report.rejects[i].raw, slow_report.rejects[i].raw) << i;
  }
}

TEST(FlatJsonDifferential, HostileLines) {
  const std::string text =
      "\xEF\xBB\xBF"
      R"({"name":"gdp","ts":"2024-01-01","value":1})"
      "\r\n"
      R"({"name":"a","ts":"2024-01-01","value":1,"name":"b"})"
      "\n"
      R"({"name":"a\u0000b","ts":"2024-01-01","value":1})"
      "\n"
      "{\"name\":\"\xff\",\"ts\":\"2024-01-01\",\"value\":1}\n"
      R"({"name":"a","ts":"2024-01-01","value":1e999})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":"x"})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":true})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":-0})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":-0.0})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":"-0"})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":1e-400})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":5e-324})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":0.1000000000000000055511151231257827})"
      "\n"
      R"({"name":"a","ts":1600000000,"value":1})"
      "\n"
      R"({"name":"a","ts":1.6e9,"value":1})"
      "\n"
      R"({"name":1.50,"ts":"2024-01-01","value":1})"
      "\n"
      R"({"name":150,"ts":"2024-01-01","value":1,"extra":2.50})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":1,"metadata":"{\"k\":"})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":1,"metadata":"{}"})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":1,"metadata":{"k":[1]}})"
      "\n"
      R"({"name":null,"ts":"2024-01-01","value":1})"
      "\n"
      R"({"name":"  ","ts":"2024-01-01","value":1})"
      "\n"
      R"({"name":" a ","ts":"2023-02-29","value":1})"
      "\n"
      R"({"name":"a","ts":"10000-01-01","value":1})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":1,"kind":"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"})"
      "\n"
      R"({"name":"a","ts":"2024-01-01","value":1,"kind":"","source":"","unit":" u "})"
      "\n"
      R"([{"name":"a"}])"
      "\n"
      R"({"name":"a",)"
      "\n"
      "\x01\x02\n"
      "   \n"
      R"({})"
      "\n";
  ExpectSameBothWays(text);
  ExpectSameBothWays(text, {.mapping = {{"value", "extra"}, {"name", "kind"}}, .kind = "k", .source = "s"});
  ExpectSameBothWays(text, {.max_field_bytes = 64});
  ExpectSameBothWays(text, {.max_field_bytes = 3});
}

TEST(FlatJsonDifferential, FuzzCorpus) {
  const std::filesystem::path dirs[] = {std::filesystem::path(PULSE_SOURCE_DIR) / "tests/fuzz/corpus/jsonl",
                                        std::filesystem::path(PULSE_SOURCE_DIR) / "tests/fuzz/regressions/jsonl"};
  int files = 0;
  for (const auto& dir : dirs) {
    if (!std::filesystem::exists(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      SCOPED_TRACE(entry.path().string());
      ExpectSameBothWays(bytes.str());
      ++files;
    }
  }
  EXPECT_GT(files, 0);
}

// Random records from pieces that are good, borderline and bad, sometimes mutated byte-wise.
std::string RandomLines(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  auto pick = [&rng](const std::vector<std::string>& v) -> const std::string& {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  const std::vector<std::string> keys = {"name",     "ts", "value", "kind",       "source", "unit",
                                         "metadata", "x",  "",      "na\\u006de", "va lue", "\xc3\xa9"};
  const std::vector<std::string> values = {"\"gdp\"",
                                           "\"  spaced  \"",
                                           "\"\"",
                                           "\"2024-01-01\"",
                                           "\"2024-01-01T00:00:00Z\"",
                                           "\"2023-02-29\"",
                                           "\"2024-01-01 12:00\"",
                                           "\"1.5\"",
                                           "\"abc\"",
                                           "\"NaN\"",
                                           "\"inf\"",
                                           "\"\xc3\xa9t\xc3\xa9\"",
                                           "\"\xff\"",
                                           "\"\xed\xa0\x80\"",
                                           "\"\xc0\xaf\"",
                                           "\"a\\nb\"",
                                           "\"a\\u0000b\"",
                                           "\"{\\\"k\\\":1}\"",
                                           "\"{}\"",
                                           "\"\t\"",
                                           "\"" + std::string(70, 'k') + "\"",
                                           "\"x\x01\"",
                                           "1",
                                           "-1",
                                           "0",
                                           "-0",
                                           "1.5",
                                           "-0.0",
                                           "1e5",
                                           "1E+2",
                                           "2.5e-3",
                                           "01",
                                           "1.",
                                           ".5",
                                           "1e",
                                           "1e999",
                                           "1e-400",
                                           "5e-324",
                                           "123456789012345678",
                                           "1234567890123456789",
                                           "-9223372036854775808",
                                           "18446744073709551616",
                                           "0.1",
                                           "1600000000",
                                           "1600000000.5",
                                           "3.141592653589793238462643383279",
                                           "1.7976931348623157e308",
                                           "+1",
                                           "null",
                                           "true",
                                           "false",
                                           "[1]",
                                           "{\"k\":1}",
                                           "nul",
                                           "tru"};
  const std::vector<std::string> spaces = {"", "", "", " ", "\t", "  "};
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string line = pick(spaces) + "{";
    const int fields = std::uniform_int_distribution<int>(0, 7)(rng);
    for (int k = 0; k < fields; ++k) {
      if (k > 0) line += pick(spaces) + ",";
      line += pick(spaces) + "\"" + pick(keys) + "\"" + pick(spaces) + ":" + pick(spaces) + pick(values);
    }
    line += pick(spaces) + "}" + pick(spaces);
    switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
      case 0:  // flip a byte
        if (!line.empty()) {
          line[std::uniform_int_distribution<size_t>(0, line.size() - 1)(rng)] =
              static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
        }
        break;
      case 1:  // cut
        line.resize(std::uniform_int_distribution<size_t>(0, line.size())(rng));
        break;
      case 2: line += ","; break;
      default: break;
    }
    out += line + "\n";
  }
  return out;
}

TEST(FlatJsonDifferential, RandomRecords) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string text = RandomLines(seed, 1000);
    ExpectSameBothWays(text);
    ExpectSameBothWays(text, {.mapping = {{"value", "x"}}, .kind = "k"});
  }
}

TEST(FlatJsonDifferential, PlainRecordsAreAcceptedAndTakeTheFastPath) {
  // Shaped as `pulse publish` writes records: every line is flat, so the fast path reads them all.
  std::string text;
  std::vector<FlatJsonField> f;
  for (int i = 0; i < 2000; ++i) {
    const std::string line = R"({"name":"s)" + std::to_string(i % 7) + R"(","source":"bench","kind":"bench","ts":")" +
                             "2024-01-01T00:00:" + (i % 60 < 10 ? "0" : "") + std::to_string(i % 60) +
                             R"(Z","value":)" + std::to_string(i * 0.25) + "}";
    ASSERT_TRUE(ScanFlatJson(line, f)) << line;
    text += line + "\n";
  }
  ExpectSameBothWays(text);
  IngestReport report;
  auto rows = ParseSignalsBytes(text, "p.jsonl", false, {}, report);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)->num_rows(), 2000);
  EXPECT_EQ(report.rejected, 0);
}

}  // namespace
}  // namespace pulse::ingest
