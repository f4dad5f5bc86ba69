// Public API of the lake module (see lake/lake.h for the list of public headers).
//
// Rows of a table as JSON, for printing (`pulse lake show --json`) and for scripts. Values map as
//   null -> null; bool -> true/false; integers, float, double -> numbers (a non-finite double ->
//   null, as JSON has no NaN); string and binary -> strings; date32 -> days since the epoch;
//   timestamp (any unit) -> ISO-8601 UTC text, core/time.h FormatTimestamp ("2024-01-02T03:04:05Z",
//   "2024-01-02T03:04:05.250000Z"; nanoseconds are truncated to microseconds);
//   struct -> object; list -> array; map -> object with string keys.
// Timestamps nested inside struct, list or map values stay integer ticks of their unit.
// An unsupported type (e.g. decimal, dictionary) is kInvalidArgument naming the type.
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pulse::lake {

// The JSON value of row `row` of `column` (see the mapping above).
Result<nlohmann::json> CellToJson(const arrow::Array& column, int64_t row);

// The first `limit` rows of `table` (all when limit <= 0), in order, each a JSON object
// {column: value} (an nlohmann::json object: its keys print sorted by name).
Result<std::vector<nlohmann::json>> RowsToJson(const arrow::Table& table, int64_t limit = 0);

}  // namespace pulse::lake
