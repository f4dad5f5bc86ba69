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

// Signals gated "suppress" at ingest (signals/scoring.h) feed no forecast and no simulation.
// UsableSignals adds the signals table's "gate" column to `options.columns` when the version read
// has it (tables written before scoring do not: all their rows are usable); Usable(i) then tells
// whether row i may be used.
class UsableSignals {
 public:
  static Result<UsableSignals> Prepare(lake::DeltaTable& signals, lake::ReadOptions& options);
  // After the read: the gate column of the rows read (none if the table has no gate column).
  Status Bind(const arrow::RecordBatch& batch);
  bool Usable(int64_t row) const;

 private:
  bool has_gate_ = false;
  std::shared_ptr<arrow::StringArray> gate_;
};

}  // namespace pulse::pipeline
