#include "lake/internal/s3_xml.h"

#include <charconv>

#include "core/time.h"

namespace pulse::lake::s3xml {
namespace {

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The code point of a numeric reference body ("#65", "#x41"); nullopt if malformed or invalid.
std::optional<uint32_t> NumericReference(std::string_view ent) {
  if (ent.size() < 2 || ent[0] != '#') return std::nullopt;
  int base = 10;
  std::string_view digits = ent.substr(1);
  if (digits[0] == 'x' || digits[0] == 'X') {
    base = 16;
    digits = digits.substr(1);
  }
  if (digits.empty() || digits.size() > 8) return std::nullopt;
  uint32_t cp = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, base);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return cp;
}

}  // namespace

std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    // Entities are short: look for ';' only in the next few bytes (keeps this linear).
    size_t semi = s.substr(i, 16).find(';');
    if (semi == std::string_view::npos) {
      out += '&';
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - 1);
    if (ent == "amp") {
      out += '&';
    } else if (ent == "lt") {
      out += '<';
    } else if (ent == "gt") {
      out += '>';
    } else if (ent == "quot") {
      out += '"';
    } else if (ent == "apos") {
      out += '\'';
    } else if (auto cp = NumericReference(ent)) {
      AppendUtf8(out, *cp);
    } else {
      out += '&';
      continue;
    }
    i += semi;
  }
  return out;
}

std::optional<std::string> Tag(std::string_view xml, std::string_view tag, size_t from) {
  if (from > xml.size()) return std::nullopt;
  std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  size_t a = xml.find(open, from);
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = xml.find(close, a + open.size());
  if (b == std::string_view::npos) return std::nullopt;
  return Unescape(xml.substr(a + open.size(), b - a - open.size()));
}

Result<ListPage> ParseListObjectsV2(std::string_view body, std::string_view prefix) {
  ListPage page;
  const std::string root = prefix.empty() ? std::string() : std::string(prefix) + "/";
  constexpr std::string_view kOpen = "<Contents>", kClose = "</Contents>";
  size_t pos = body.find(kOpen);
  // The next </Contents> at or after the current item, found once and reused until passed, so that
  // a body of open tags without closes is scanned once, not once per tag.
  size_t close = 0;
  bool close_known = false;
  while (pos != std::string_view::npos) {
    // An item ends at its </Contents>, or (damaged input) at the next <Contents>.
    const size_t start = pos + kOpen.size();
    const size_t next = body.find(kOpen, start);
    if (!close_known || (close != std::string_view::npos && close < start)) {
      close = body.find(kClose, start);
      close_known = true;
    }
    size_t end = close;
    if (end == std::string_view::npos || (next != std::string_view::npos && next < end)) end = next;
    std::string_view item = body.substr(start, (end == std::string_view::npos ? body.size() : end) - start);
    pos = next;
    auto key = Tag(item, "Key");
    if (!key || key->size() <= root.size() || key->compare(0, root.size(), root) != 0) continue;
    FileInfo info;
    info.key = key->substr(root.size());
    std::string size = Tag(item, "Size").value_or("0");
    auto [size_end, ec] = std::from_chars(size.data(), size.data() + size.size(), info.size);
    if (ec != std::errc() || size_end != size.data() + size.size() || info.size < 0) {
      return Status::ParseError("S3 listing: object '" + *key + "' has Size '" + size.substr(0, 40) +
                                "', not a byte count");
    }
    auto ts = time::ParseTimestamp(Tag(item, "LastModified").value_or(""));
    info.mtime_ms = ts.ok() ? *ts / 1000 : 0;
    page.files.push_back(std::move(info));
  }
  page.truncated = Tag(body, "IsTruncated").value_or("false") == "true";
  if (page.truncated) {
    page.continuation_token = Tag(body, "NextContinuationToken").value_or("");
    if (page.continuation_token.empty())
      return Status::IoError("S3 listing: truncated page without a continuation token");
  }
  return page;
}

}  // namespace pulse::lake::s3xml
