// The few pieces of S3's XML answers Pulse reads: the ListObjectsV2 page (keys, sizes,
// modification times, truncation and continuation token) and the <Code>/<Message> of an error
// body. Internal to the lake module (s3_filesystem.cc); a separate, pure header so the parser can
// be unit-tested and fuzzed (tests/fuzz/s3_xml_fuzz.cc) without a server.
//
// This is not a general XML parser: it finds the first <Tag>...</Tag> pair by text search, which
// is all S3's fixed-shape answers need, and decodes the five named entities and numeric
// character references.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lake/filesystem.h"

namespace pulse::lake::s3xml {

// Decodes &amp; &lt; &gt; &quot; &apos; and &#N; / &#xH; (as UTF-8). Anything else after '&',
// including a malformed or out-of-range character reference, is kept as written.
std::string XmlUnescape(std::string_view s);

// Text of the first <tag>...</tag> in `xml` at or after `from`, unescaped; nullopt if absent.
std::optional<std::string> XmlTag(std::string_view xml, std::string_view tag, size_t from = 0);

// One ListObjectsV2 answer page.
struct ListPage {
  std::vector<FileInfo> files;  // in the page's order; keys with `prefix` + '/' removed
  bool truncated = false;       // <IsTruncated>true</IsTruncated>
  std::string next_token;       // <NextContinuationToken>, empty if absent
};

// Parses one page. `prefix` is the filesystem's key prefix inside the bucket ("" for none); it
// and the '/' after it are cut from every key. kParseError naming the key when a <Size> is not a
// non-negative integer (an absent <Size> reads as 0).
Result<ListPage> ParseListPage(std::string_view body, std::string_view prefix);

}  // namespace pulse::lake::s3xml
