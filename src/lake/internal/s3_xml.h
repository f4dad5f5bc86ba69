// The few pieces of S3's XML this client reads: one tag's text, entity unescaping, a
// ListObjectsV2 page and an error body's Code/Message.
//
// Contract: these parse bytes that come from the network, so any input — truncated, nested,
// hostile — yields a value or a Status, never an exception or a crash, in time linear in its size.
// They are not a general XML parser: S3 answers are flat, and only the tags named here are read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lake/filesystem.h"

namespace pulse::lake::s3xml {

// Resolves &amp; &lt; &gt; &quot; &apos; and numeric references (&#65; &#x41;) to UTF-8. A
// malformed or out-of-range reference (no ';', not a number, above U+10FFFF, a surrogate, NUL) is
// kept as written.
std::string Unescape(std::string_view s);

// Unescaped text of the first <tag>...</tag> at or after `from`; nullopt if absent or unclosed.
std::optional<std::string> Tag(std::string_view xml, std::string_view tag, size_t from = 0);

struct ListPage {
  std::vector<FileInfo> files;  // keys relative to `prefix` (objects outside it are skipped)
  bool truncated = false;
  std::string continuation_token;  // set when truncated
};

// Parses one ListObjectsV2 answer. `prefix` is the filesystem root inside the bucket ("" or
// "lake/signals" without a trailing '/'); keys are returned relative to it. kParseError for a Size
// that is not a non-negative integer; kIoError for a truncated page without a continuation token.
Result<ListPage> ParseListObjectsV2(std::string_view body, std::string_view prefix);

}  // namespace pulse::lake::s3xml
