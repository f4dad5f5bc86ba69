// Text from outside (file rows, field values, expressions) made safe to print and to store.
//
// Contract:
//  - Printable(): the text as one line of valid UTF-8 for messages and terminals. Control
//    characters become escapes (\n, \r, \t, \0 and \xNN for the rest, DEL included); bytes that
//    are not valid UTF-8 become \xNN; valid UTF-8 is kept. Output longer than `max_bytes` is cut
//    at a character boundary and ends with "... (N bytes)", N being the input's length.
//  - ValidUtf8(): true when `text` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
//  - LossyUtf8(): `text` with every byte that is not part of valid UTF-8 written as \xNN and
//    everything else (control characters included) kept: for storing raw rows in utf8 columns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pulse {

std::string Printable(std::string_view text, size_t max_bytes = 256);
bool ValidUtf8(std::string_view text);
std::string LossyUtf8(std::string_view text);

}  // namespace pulse
