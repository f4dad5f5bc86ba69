#include "lake/s3_xml.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "core/time.h"

namespace pulse::lake::s3xml {

namespace {

// The code point of a numeric character reference's body ("#65", "#x41"), or nullopt when it is
// not a well-formed reference to a character XML allows (digits only, no overflow, not 0, not a
// surrogate, at most U+10FFFF).
std::optional<uint32_t> CharRef(std::string_view ent) {
  const bool hex = ent.size() > 1 && ent[1] == 'x';
  std::string_view digits = ent.substr(hex ? 2 : 1);
  uint32_t cp = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return cp;
}

void AppendUtf8(uint32_t cp, std::string& out) {
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

}  // namespace

std::string XmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    std::string_view ent = semi == std::string_view::npos ? "" : s.substr(i + 1, semi - i - 1);
    std::optional<uint32_t> cp;
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (ent.size() > 1 && ent[0] == '#' && (cp = CharRef(ent))) AppendUtf8(*cp, out);
    else {
      out += '&';
      continue;
    }
    i = semi;
  }
  return out;
}

std::optional<std::string> XmlTag(std::string_view xml, std::string_view tag, size_t from) {
  std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  size_t a = xml.find(open, from);
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = xml.find(close, a);
  if (b == std::string_view::npos) return std::nullopt;
  return XmlUnescape(xml.substr(a + open.size(), b - a - open.size()));
}

Result<ListPage> ParseListPage(std::string_view body, std::string_view prefix) {
  ListPage page;
  for (size_t pos = body.find("<Contents>"); pos != std::string_view::npos; pos = body.find("<Contents>", pos + 1)) {
    size_t end = body.find("</Contents>", pos);
    std::string_view item = body.substr(pos, (end == std::string_view::npos ? body.size() : end) - pos);
    auto key = XmlTag(item, "Key");
    if (!key) continue;
    FileInfo info;
    info.key = prefix.empty() ? *key : key->substr(std::min(key->size(), prefix.size() + 1));
    const std::string size = XmlTag(item, "Size").value_or("0");
    auto [size_end, size_ec] = std::from_chars(size.data(), size.data() + size.size(), info.size);
    if (size.empty() || size_ec != std::errc() || size_end != size.data() + size.size() || info.size < 0)
      return Status::ParseError("bad <Size> '" + size + "' for key '" + *key + "' in the listing");
    auto ts = time::ParseTimestamp(XmlTag(item, "LastModified").value_or(""));
    info.mtime_ms = ts.ok() ? *ts / 1000 : 0;
    page.files.push_back(std::move(info));
  }
  page.truncated = XmlTag(body, "IsTruncated").value_or("false") == "true";
  page.next_token = XmlTag(body, "NextContinuationToken").value_or("");
  return page;
}

}  // namespace pulse::lake::s3xml
