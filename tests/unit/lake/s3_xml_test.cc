// The S3 answer parser (lake/s3_xml.h): ListObjectsV2 pages as MinIO and AWS send them, entity
// decoding, and hostile bodies (tests/fuzz/regressions/s3_xml/, found by the s3_xml fuzz target):
// every one is a clear Status or kept text, never an exception.
#include "lake/s3_xml.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace pulse::lake::s3xml {
namespace {

TEST(S3Xml, ParsesAListPage) {
  auto page = ParseListPage(
      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>tok/=</NextContinuationToken>"
      "<Contents><Key>lake/t/_delta_log/0.json</Key><LastModified>2026-11-28T10:00:00.000Z</LastModified>"
      "<Size>1234</Size></Contents><Contents><Key>lake/t/a&amp;b&#x41;&#66;&#233;&#x1F600;.parquet</Key>"
      "<Size>0</Size></Contents></ListBucketResult>",
      "lake/t");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "tok/=");
  ASSERT_EQ(page->files.size(), 2u);
  EXPECT_EQ(page->files[0].key, "_delta_log/0.json");
  EXPECT_EQ(page->files[0].size, 1234);
  EXPECT_EQ(page->files[0].mtime_ms, 1795860000000);
  EXPECT_EQ(page->files[1].key, "a&bAB\xC3\xA9\xF0\x9F\x98\x80.parquet");
}

TEST(S3Xml, BadCharacterReferencesAreKeptAsWritten) {
  EXPECT_EQ(XmlUnescape("a&#;b&#x;c&#xZZ;d&#12a;"), "a&#;b&#x;c&#xZZ;d&#12a;");
  EXPECT_EQ(XmlUnescape("&#99999999999999999999999;&#x110000;&#xD800;&#0;"),
            "&#99999999999999999999999;&#x110000;&#xD800;&#0;");
  EXPECT_EQ(XmlUnescape("&unknown; & &amp"), "&unknown; & &amp");
  EXPECT_EQ(XmlUnescape("&lt;&gt;&quot;&apos;&#x7FF;&#65535;"), "<>\"'\xDF\xBF\xEF\xBF\xBF");
}

TEST(S3Xml, BadSizeIsAParseErrorNamingTheKey) {
  for (const char* size : {"big", "12x", "-1", "99999999999999999999", ""}) {
    auto page = ParseListPage(std::string("<Contents><Key>a.json</Key><Size>") + size + "</Size></Contents>", "");
    ASSERT_FALSE(page.ok()) << size;
    EXPECT_EQ(page.status().code(), StatusCode::kParseError);
    EXPECT_NE(page.status().message().find("'a.json'"), std::string::npos) << page.status().message();
    EXPECT_NE(page.status().message().find("Size"), std::string::npos) << page.status().message();
  }
}

TEST(S3Xml, FuzzRegressionsAreErrorsNotCrashes) {
  const auto dir = std::filesystem::path(PULSE_SOURCE_DIR) / "tests/fuzz/regressions/s3_xml";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    (void)ParseListPage(text.str(), "");
    (void)ParseListPage(text.str(), "lake");
    (void)XmlTag(text.str(), "Code");
    ++n;
  }
  EXPECT_GE(n, 4);
}

}  // namespace
}  // namespace pulse::lake::s3xml
