// Public API of the lake module (see lake/lake.h for the list of public headers).
//
// Reading a whole (small) Delta table snapshot as one record batch, and typed column access by
// name with a clear error when a column is missing or has another type. For tables that fit in
// memory (forecasts, simulations, trust scores, one signals version); stream DeltaTable::Read's
// chunks for anything larger.
#pragma once

#include <arrow/api.h>

#include <memory>
#include <string>

#include "core/status.h"
#include "lake/delta_table.h"

namespace pulse::lake {

// The rows DeltaTable::Read(options) returns, combined into one batch.
Result<std::shared_ptr<arrow::RecordBatch>> ReadBatch(DeltaTable& table, const ReadOptions& options);

class Lake;
// The table `name` of `lake`, or nullptr when the lake has no such table (any other error is returned).
Result<std::unique_ptr<DeltaTable>> OpenTableIfPresent(Lake& lake, const std::string& name);

// Column `name` of `batch` as ArrayType; kInvalidArgument naming the column when it is missing or
// has another type.
template <class ArrayType>
Result<std::shared_ptr<ArrayType>> ColumnAs(const arrow::RecordBatch& batch, const std::string& name) {
  auto column = batch.GetColumnByName(name);
  if (!column) return Status::InvalidArgument("table has no column '" + name + "'");
  auto typed = std::dynamic_pointer_cast<ArrayType>(column);
  if (!typed) return Status::InvalidArgument("column '" + name + "' has type " + column->type()->ToString());
  return typed;
}

}  // namespace pulse::lake
