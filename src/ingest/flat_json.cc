#include "ingest/flat_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "core/printable.h"

namespace pulse::ingest {
namespace {

constexpr size_t kMaxIntegerDigits = 18;  // always fits an int64
constexpr size_t kMaxNumberBytes = 40;    // longer decimal texts go to the general reader

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool Object(std::vector<FlatJsonField>& fields) {
    SkipSpace();
    if (!Eat('{')) return false;
    SkipSpace();
    if (Eat('}')) return AtEnd();
    for (;;) {
      if (fields.size() == kMaxFlatJsonFields) return false;
      FlatJsonField& f = fields.emplace_back();
      if (!String(f.key)) return false;
      SkipSpace();
      if (!Eat(':')) return false;
      SkipSpace();
      if (!Value(f)) return false;
      SkipSpace();
      if (Eat(',')) {
        SkipSpace();
        continue;
      }
      if (Eat('}')) return AtEnd();
      return false;
    }
  }

 private:
  void SkipSpace() {
    while (p_ < s_.size() && IsSpace(s_[p_])) ++p_;
  }
  bool Eat(char c) {
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return p_ == s_.size();
  }

  // A string without escapes or control characters, valid UTF-8; `out` views its content.
  bool String(std::string_view& out) {
    if (!Eat('"')) return false;
    const size_t start = p_;
    bool ascii = true;
    for (; p_ < s_.size(); ++p_) {
      const auto c = static_cast<uint8_t>(s_[p_]);
      if (c == '"') break;
      if (c == '\\' || c < 0x20) return false;
      if (c >= 0x80) ascii = false;
    }
    if (p_ == s_.size()) return false;  // unterminated
    out = s_.substr(start, p_ - start);
    ++p_;
    return ascii || ValidUtf8(out);
  }

  bool Value(FlatJsonField& f) {
    if (p_ >= s_.size()) return false;
    const char c = s_[p_];
    if (c == '"') {
      f.type = FlatJsonField::Type::kString;
      return String(f.text);
    }
    if (c == 'n') {
      if (s_.substr(p_, 4) != "null") return false;
      f.type = FlatJsonField::Type::kNull;
      f.text = s_.substr(p_, 4);
      p_ += 4;
      return true;
    }
    if (c == '-' || IsDigit(c)) return Number(f);
    return false;
  }

  // JSON grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool Number(FlatJsonField& f) {
    const size_t start = p_;
    const bool negative = Eat('-');
    const size_t int_start = p_;
    if (p_ >= s_.size() || !IsDigit(s_[p_])) return false;
    if (s_[p_] == '0') {
      ++p_;
    } else {
      while (p_ < s_.size() && IsDigit(s_[p_])) ++p_;
    }
    const size_t int_digits = p_ - int_start;
    bool integer = true;
    if (Eat('.')) {
      integer = false;
      const size_t digits = p_;
      while (p_ < s_.size() && IsDigit(s_[p_])) ++p_;
      if (p_ == digits) return false;
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      integer = false;
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      const size_t digits = p_;
      while (p_ < s_.size() && IsDigit(s_[p_])) ++p_;
      if (p_ == digits) return false;
    }
    // What follows a number must end it (a leading zero followed by digits is not JSON).
    if (p_ < s_.size() && !IsSpace(s_[p_]) && s_[p_] != ',' && s_[p_] != '}') return false;
    f.text = s_.substr(start, p_ - start);
    if (integer) {
      // -0 reads back as 0 through the general reader; long integers may leave int64.
      if (int_digits > kMaxIntegerDigits || (negative && f.text == "-0")) return false;
      f.type = FlatJsonField::Type::kInteger;
      return true;
    }
    if (f.text.size() > kMaxNumberBytes) return false;
    double v = 0;
    auto [end, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), v);
    if (ec != std::errc() || end != f.text.data() + f.text.size() || !std::isfinite(v)) return false;
    f.type = FlatJsonField::Type::kNumber;
    return true;
  }

  std::string_view s_;
  size_t p_ = 0;
};

}  // namespace

bool ScanFlatJson(std::string_view line, std::vector<FlatJsonField>& fields) {
  fields.clear();
  Scanner scanner(line);
  if (!scanner.Object(fields)) return false;
  for (size_t i = 1; i < fields.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (fields[i].key == fields[j].key) return false;
  }
  return true;
}

}  // namespace pulse::ingest
