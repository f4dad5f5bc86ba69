#include "lake/table_json.h"

#include <arrow/api.h>

#include <cmath>

#include "core/time.h"
#include "lake/internal/arrow_json.h"

namespace pulse::lake {
namespace {

int64_t ToMicros(int64_t ticks, arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND: return ticks * 1000000;
    case arrow::TimeUnit::MILLI: return ticks * 1000;
    case arrow::TimeUnit::MICRO: return ticks;
    case arrow::TimeUnit::NANO: return ticks / 1000;
  }
  return ticks;
}

}  // namespace

Result<nlohmann::json> CellToJson(const arrow::Array& column, int64_t row) {
  if (row < 0 || row >= column.length())
    return Status::OutOfRange("row " + std::to_string(row) + " of a column of " + std::to_string(column.length()));
  if (column.IsNull(row)) return nlohmann::json();
  switch (column.type_id()) {
    case arrow::Type::TIMESTAMP: {
      const auto& ts = static_cast<const arrow::TimestampArray&>(column);
      const auto unit = static_cast<const arrow::TimestampType&>(*column.type()).unit();
      return nlohmann::json(time::FormatTimestamp(ToMicros(ts.Value(row), unit)));
    }
    case arrow::Type::DOUBLE: {
      const double v = static_cast<const arrow::DoubleArray&>(column).Value(row);
      return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
    }
    case arrow::Type::FLOAT: {
      const float v = static_cast<const arrow::FloatArray&>(column).Value(row);
      return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
    }
    default: return ArrayElementToJson(column, row);
  }
}

Result<std::vector<nlohmann::json>> RowsToJson(const arrow::Table& table, int64_t limit) {
  const int64_t rows = limit > 0 ? std::min(limit, table.num_rows()) : table.num_rows();
  // Tables read from the lake arrive in chunks: one array per column.
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (const auto& chunked : table.columns()) {
    auto joined = arrow::Concatenate(chunked->chunks());
    if (!joined.ok()) return Status::Internal(joined.status().ToString());
    columns.push_back(*joined);
  }
  std::vector<nlohmann::json> out;
  out.reserve(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    nlohmann::json row = nlohmann::json::object();
    for (int c = 0; c < table.num_columns(); ++c) {
      PULSE_ASSIGN_OR_RETURN(row[table.schema()->field(c)->name()], CellToJson(*columns[static_cast<size_t>(c)], r));
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace pulse::lake
