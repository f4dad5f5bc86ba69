// Reading a whole (small) Delta table snapshot as one record batch, and typed column access by
// name with a clear error when a column is missing or has another type.
#pragma once

#include <arrow/api.h>

#include <memory>
#include <string>

#include "core/status.h"
#include "lake/delta_table.h"

namespace pulse::pipeline {

Result<std::shared_ptr<arrow::RecordBatch>> ReadBatch(lake::DeltaTable& table, const lake::ReadOptions& options);

template <class ArrayType>
Result<std::shared_ptr<ArrayType>> ColumnAs(const arrow::RecordBatch& batch, const std::string& name) {
  auto column = batch.GetColumnByName(name);
  if (!column) return Status::InvalidArgument("table has no column '" + name + "'");
  auto typed = std::dynamic_pointer_cast<ArrayType>(column);
  if (!typed) return Status::InvalidArgument("column '" + name + "' has type " + column->type()->ToString());
  return typed;
}

}  // namespace pulse::pipeline
