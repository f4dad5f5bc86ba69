// The S3 XML readers on well-formed and hostile answers: values or Status errors, never a throw,
// a crash or quadratic time.
#include "lake/internal/s3_xml.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pulse::lake::s3xml {
namespace {

TEST(S3Xml, ParsesAListing) {
  const std::string body =
      "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name><Prefix>lake/t/</Prefix>"
      "<Contents><Key>lake/t/_delta_log/00000000000000000000.json</Key><Size>812</Size>"
      "<LastModified>2024-05-01T10:00:00.000Z</LastModified></Contents>"
      "<Contents><Key>lake/t/kind=a &amp; b/part-1.parquet</Key><Size>0</Size></Contents>"
      "<Contents><Key>lake/other/x</Key><Size>1</Size></Contents>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok&lt;1&gt;</NextContinuationToken>"
      "</ListBucketResult>";
  auto page = ParseListObjectsV2(body, "lake/t");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->files.size(), 2u);  // lake/other/x is outside the root
  EXPECT_EQ(page->files[0].key, "_delta_log/00000000000000000000.json");
  EXPECT_EQ(page->files[0].size, 812);
  EXPECT_EQ(page->files[0].mtime_ms, 1714557600000);
  EXPECT_EQ(page->files[1].key, "kind=a & b/part-1.parquet");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->continuation_token, "tok<1>");
}

TEST(S3Xml, HostileSizesAreErrors) {
  for (const char* size : {"abc", "-5", "99999999999999999999999", "", "1e3", " 12"}) {
    std::string body = std::string("<Contents><Key>k</Key><Size>") + size + "</Size></Contents>";
    auto page = ParseListObjectsV2(body, "");
    if (std::string(size).empty()) {
      EXPECT_FALSE(page.ok());
      continue;
    }
    ASSERT_FALSE(page.ok()) << size;
    EXPECT_EQ(page.status().code(), StatusCode::kParseError);
    EXPECT_NE(page.status().message().find("'k'"), std::string::npos);
  }
  auto truncated = ParseListObjectsV2("<IsTruncated>true</IsTruncated>", "");
  EXPECT_EQ(truncated.status().code(), StatusCode::kIoError);
}

TEST(S3Xml, EntitiesNeverThrow) {
  EXPECT_EQ(Unescape("a&amp;b&lt;&gt;&quot;&apos;"), "a&b<>\"'");
  EXPECT_EQ(Unescape("&#65;&#x42;&#x1F600;"), "AB\xF0\x9F\x98\x80");
  // Out of range, malformed, overlong, unterminated: kept as written.
  for (const char* s : {"&#99999999999999999999;", "&#x110000;", "&#xD800;", "&#0;", "&#;", "&#x;", "&#-1;", "&#12a;",
                        "&bogus;", "&", "&#", "&#x", "&amp", "&&&&;"})
    EXPECT_EQ(Unescape(s), s) << s;
}

TEST(S3Xml, TagsAndDamagedInput) {
  EXPECT_EQ(Tag("<a>x</a>", "a").value_or("?"), "x");
  EXPECT_FALSE(Tag("<a>x", "a").has_value());
  EXPECT_FALSE(Tag("</a><a>", "a").has_value());
  EXPECT_FALSE(Tag("<a>x</a>", "a", 100).has_value());
  // Unclosed <Contents>, keys without </Key>, nested junk: parsed as far as it goes.
  auto page = ParseListObjectsV2("<Contents><Key>a</Key><Contents><Key>b<Contents></Key><Size>1</Size>", "");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->files.size(), 1u);
}

TEST(S3Xml, ManyOpenTagsStayLinear) {
  std::string body;
  for (int i = 0; i < 200000; ++i) body += "<Contents><Key>";
  auto start = std::chrono::steady_clock::now();
  auto page = ParseListObjectsV2(body, "");
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->files.empty());
  EXPECT_LT(seconds, 2.0);
  std::string amps(1 << 20, '&');
  EXPECT_EQ(Unescape(amps).size(), amps.size());
}

TEST(S3Xml, FuzzRegressionsAreErrorsNotCrashes) {
  // Inputs the s3_xml fuzz target found (std::stoll / stoul threw on a bad <Size> or reference).
  const auto dir = std::filesystem::path(PULSE_SOURCE_DIR) / "tests/fuzz/regressions/s3_xml";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    (void)ParseListObjectsV2(text.str(), "");
    (void)ParseListObjectsV2(text.str(), "lake");
    (void)Tag(text.str(), "Code");
    ++n;
  }
  EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace pulse::lake::s3xml
