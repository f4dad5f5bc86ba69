#include "lake/table_json.h"

#include <arrow/api.h>

#include <cmath>

#include "core/json_text.h"
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

std::optional<int64_t> TimestampMicros(const arrow::Array& column, int64_t row) {
  if (column.type_id() != arrow::Type::TIMESTAMP || column.IsNull(row)) return std::nullopt;
  const auto unit = static_cast<const arrow::TimestampType&>(*column.type()).unit();
  return ToMicros(static_cast<const arrow::TimestampArray&>(column).Value(row), unit);
}

Status AppendCellJson(const arrow::Array& column, int64_t row, std::string& out) {
  if (row < 0 || row >= column.length())
    return Status::OutOfRange("row " + std::to_string(row) + " of a column of " + std::to_string(column.length()));
  if (column.IsNull(row)) {
    out += "null";
    return Status::Ok();
  }
  switch (column.type_id()) {
    case arrow::Type::NA: out += "null"; return Status::Ok();
    case arrow::Type::BOOL:
      out += static_cast<const arrow::BooleanArray&>(column).Value(row) ? "true" : "false";
      return Status::Ok();
    case arrow::Type::INT8:
      AppendJsonNumber(out, int64_t{static_cast<const arrow::Int8Array&>(column).Value(row)});
      return Status::Ok();
    case arrow::Type::INT16:
      AppendJsonNumber(out, int64_t{static_cast<const arrow::Int16Array&>(column).Value(row)});
      return Status::Ok();
    case arrow::Type::INT32:
      AppendJsonNumber(out, int64_t{static_cast<const arrow::Int32Array&>(column).Value(row)});
      return Status::Ok();
    case arrow::Type::DATE32:
      AppendJsonNumber(out, int64_t{static_cast<const arrow::Date32Array&>(column).Value(row)});
      return Status::Ok();
    case arrow::Type::INT64:
      AppendJsonNumber(out, int64_t{static_cast<const arrow::Int64Array&>(column).Value(row)});
      return Status::Ok();
    case arrow::Type::UINT8:
      AppendJsonNumber(out, uint64_t{static_cast<const arrow::UInt8Array&>(column).Value(row)});
      return Status::Ok();
    case arrow::Type::UINT16:
      AppendJsonNumber(out, uint64_t{static_cast<const arrow::UInt16Array&>(column).Value(row)});
      return Status::Ok();
    case arrow::Type::UINT32:
      AppendJsonNumber(out, uint64_t{static_cast<const arrow::UInt32Array&>(column).Value(row)});
      return Status::Ok();
    case arrow::Type::UINT64:
      AppendJsonNumber(out, uint64_t{static_cast<const arrow::UInt64Array&>(column).Value(row)});
      return Status::Ok();
    case arrow::Type::FLOAT:
      // nlohmann keeps every number as a double.
      AppendJsonNumber(out, static_cast<double>(static_cast<const arrow::FloatArray&>(column).Value(row)));
      return Status::Ok();
    case arrow::Type::DOUBLE:
      AppendJsonNumber(out, static_cast<const arrow::DoubleArray&>(column).Value(row));
      return Status::Ok();
    case arrow::Type::TIMESTAMP:  // digits, '-', ':', 'T', '.', 'Z': nothing to escape
      out += '"';
      time::AppendTimestamp(out, *TimestampMicros(column, row));
      out += '"';
      return Status::Ok();
    case arrow::Type::STRING:
      AppendJsonString(out, static_cast<const arrow::StringArray&>(column).GetView(row));
      return Status::Ok();
    case arrow::Type::LARGE_STRING:
      AppendJsonString(out, static_cast<const arrow::LargeStringArray&>(column).GetView(row));
      return Status::Ok();
    case arrow::Type::STRING_VIEW:
      AppendJsonString(out, static_cast<const arrow::StringViewArray&>(column).GetView(row));
      return Status::Ok();
    case arrow::Type::BINARY:
      AppendJsonString(out, static_cast<const arrow::BinaryArray&>(column).GetView(row));
      return Status::Ok();
    default: {
      PULSE_ASSIGN_OR_RETURN(nlohmann::json v, CellToJson(column, row));
      out += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return Status::Ok();
    }
  }
}

Result<RowJsonWriter> RowJsonWriter::Make(const arrow::Table& table) {
  RowJsonWriter w;
  w.num_rows_ = table.num_rows();
  for (int c = 0; c < table.num_columns(); ++c) {
    const auto& chunks = table.column(c)->chunks();
    auto joined = chunks.empty() ? arrow::MakeEmptyArray(table.column(c)->type()) : arrow::Concatenate(chunks);
    if (!joined.ok()) return Status::Internal(joined.status().ToString());
    w.columns_.push_back(*joined);
    w.by_name_[table.schema()->field(c)->name()] = static_cast<size_t>(c);
  }
  for (const auto& [name, index] : w.by_name_) {  // std::map: sorted as nlohmann sorts keys
    std::string key;
    AppendJsonString(key, name);
    key += ':';
    w.keys_.emplace_back(std::move(key), index);
  }
  return w;
}

const arrow::Array* RowJsonWriter::Column(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : columns_[it->second].get();
}

Status RowJsonWriter::AppendRow(int64_t row, std::string& out) const {
  out += '{';
  for (size_t k = 0; k < keys_.size(); ++k) {
    if (k > 0) out += ',';
    out += keys_[k].first;
    PULSE_RETURN_IF_ERROR(AppendCellJson(*columns_[keys_[k].second], row, out));
  }
  out += '}';
  return Status::Ok();
}

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
