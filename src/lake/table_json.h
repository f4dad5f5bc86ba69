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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pulse::lake {

// The JSON value of row `row` of `column` (see the mapping above).
Result<nlohmann::json> CellToJson(const arrow::Array& column, int64_t row);

// The first `limit` rows of `table` (all when limit <= 0), in order, each a JSON object
// {column: value} (an nlohmann::json object: its keys print sorted by name).
Result<std::vector<nlohmann::json>> RowsToJson(const arrow::Table& table, int64_t limit = 0);

// Appends CellToJson(column, row) as JSON text to `out`: the same bytes as its
// dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) (core/json_text.h), written
// without building the value for the flat types (struct, list and map cells are built and dumped).
Status AppendCellJson(const arrow::Array& column, int64_t row, std::string& out);

// The instant of row `row` of a timestamp column in microseconds (nanoseconds truncated), the
// instant CellToJson prints; nullopt for a null cell or a column of another type.
std::optional<int64_t> TimestampMicros(const arrow::Array& column, int64_t row);

// A table's rows written as JSON text, without building nlohmann::json values: AppendRow gives
// the same bytes as RowsToJson(table)[row].dump(-1, ' ', false, error_handler_t::replace)
// (keys sorted by name; of two columns with one name, the later one's value).
class RowJsonWriter {
 public:
  // Joins each column's chunks into one array (as RowsToJson does).
  static Result<RowJsonWriter> Make(const arrow::Table& table);

  int64_t num_rows() const { return num_rows_; }
  // The column named `name` (the later of two with one name), or nullptr.
  const arrow::Array* Column(std::string_view name) const;
  // Appends row `row` (0 <= row < num_rows()) as a JSON object.
  Status AppendRow(int64_t row, std::string& out) const;

 private:
  int64_t num_rows_ = 0;
  std::vector<std::shared_ptr<arrow::Array>> columns_;
  std::map<std::string, size_t, std::less<>> by_name_;  // name -> index in columns_
  std::vector<std::pair<std::string, size_t>> keys_;    // `"name":` text and column, sorted by name
};

}  // namespace pulse::lake
