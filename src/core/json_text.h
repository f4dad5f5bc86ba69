// JSON text without nlohmann::json values: scanning it (where string literals are, how deep
// brackets nest) and writing it straight into a string (for replies too large to build as values
// first).
//
// Contract:
//  - JsonStringTracker follows one JSON text a character at a time. Feed(c) returns true when `c`
//    stands outside every string literal (a bracket, comma, space, digit...), false when it is part
//    of one, its quotes included. A backslash inside a string escapes the character after it. It
//    does not validate the text; a text cut inside a string leaves in_string() true.
//  - JsonNestingDepth(): the deepest [ / { nesting of `text` (brackets inside strings do not count,
//    a closing bracket with nothing open is ignored), scanning no further than the first point
//    where it exceeds `limit`: then it returns limit + 1. Linear, no recursion: a guard before
//    handing the text to a recursive parser.
//  - The Append* writers append exactly the bytes nlohmann::json's
//    dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) prints for the same value, so a
//    writer using these and one dumping a json value give the same text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pulse {

class JsonStringTracker {
 public:
  bool Feed(char c) {
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      return false;
    }
    if (c == '"') {
      in_string_ = true;
      return false;
    }
    return true;
  }
  bool in_string() const { return in_string_; }

 private:
  bool in_string_ = false;
  bool escaped_ = false;
};

size_t JsonNestingDepth(std::string_view text, size_t limit);

// `s` as a JSON string, quoted: `"` and `\` escaped, \b \f \n \r \t, other control characters
// as \u00xx; UTF-8 kept as is and an invalid UTF-8 byte sequence replaced by U+FFFD.
void AppendJsonString(std::string& out, std::string_view s);

// A double in nlohmann's shortest round-trip form ("1.5", "2.0", "1e+20"); a non-finite
// value (NaN, inf) as null.
void AppendJsonNumber(std::string& out, double v);

// An integer in decimal.
void AppendJsonNumber(std::string& out, int64_t v);
void AppendJsonNumber(std::string& out, uint64_t v);

}  // namespace pulse
