// Writing JSON text straight into a string, for replies too large to build as nlohmann::json
// values first. Every function appends exactly the bytes nlohmann::json's
// dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) prints for the same value, so a
// writer using these and one dumping a json value give the same text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pulse {

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
