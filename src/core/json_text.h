// Scanning JSON text without parsing it: where string literals are, and how deep brackets nest.
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
#pragma once

#include <cstddef>
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

}  // namespace pulse
