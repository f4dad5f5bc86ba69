// Non-throwing, depth-bounded JSON for bytes that come from outside the process (broker messages,
// stored results, unacked records). Contract: nothing here throws and nothing recurses deeper than
// kMaxJsonDepth levels, so a hostile document can neither abort a worker (nlohmann's type and
// UTF-8 errors) nor overflow its stack (nlohmann's serializer and comparisons recurse).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pulse::jobs {

// Deepest nesting of arrays/objects accepted in a message (Python's json, which Celery clients
// use, stops near 1,000 levels; no Celery message of Pulse's tasks nests more than a few).
inline constexpr size_t kMaxJsonDepth = 256;

// Parses `text`; kInvalidArgument "<what> is not JSON" (also for a NUL byte anywhere, where
// nlohmann would stop reading and accept what came before) or "<what> nests deeper than N levels".
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what, size_t max_depth = kMaxJsonDepth);

// The nesting depth of a JSON value (a scalar: 0), found without recursion, counting no further
// than limit + 1. For values built in the process (command-line arguments, YAML) before they are
// serialized (the serializer recurses) or sent to workers (which refuse deeper messages).
size_t JsonValueDepth(const nlohmann::json& j, size_t limit);

// j.dump() that never throws: strings that are not UTF-8 are written with U+FFFD for bad bytes.
std::string DumpJson(const nlohmann::json& j);

// "string", "number", "boolean", "null", "array", "object": for error messages.
std::string JsonTypeName(const nlohmann::json& j);

}  // namespace pulse::jobs
