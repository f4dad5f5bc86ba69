#include "core/printable.h"

#include <cstdint>

namespace pulse {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the byte there does not start one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) {
      lo = 0xA0;  // no overlongs
    } else if (c == 0xED) {
      hi = 0x9F;  // no surrogates
    }
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) {
      lo = 0x90;  // no overlongs
    } else if (c == 0xF4) {
      hi = 0x8F;  // <= U+10FFFF
    }
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

void AppendHex(std::string& out, uint8_t c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

}  // namespace

bool ValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    // Fast path over ASCII.
    if (static_cast<uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string Printable(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(text.size() < max_bytes ? text.size() : max_bytes);
  for (size_t i = 0; i < text.size();) {
    std::string piece;
    const auto c = static_cast<uint8_t>(text[i]);
    size_t n = 1;
    if (c == '\n') {
      piece = "\\n";
    } else if (c == '\r') {
      piece = "\\r";
    } else if (c == '\t') {
      piece = "\\t";
    } else if (c == 0) {
      piece = "\\0";
    } else if (c < 0x20 || c == 0x7F) {
      AppendHex(piece, c);
    } else if (c < 0x80) {
      piece.assign(1, static_cast<char>(c));
    } else if ((n = Utf8SequenceLength(text, i)) == 0) {
      n = 1;
      AppendHex(piece, c);
    } else {
      piece.assign(text.substr(i, n));
    }
    if (out.size() + piece.size() > max_bytes) {
      out += "... (" + std::to_string(text.size()) + " bytes)";
      return out;
    }
    out += piece;
    i += n;
  }
  return out;
}

std::string LossyUtf8(std::string_view text) {
  if (ValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      AppendHex(out, static_cast<uint8_t>(text[i]));
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace pulse
