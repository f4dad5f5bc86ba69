// Signals gated "suppress" at ingest (signals/scoring.h) feed no forecast and no simulation.
// UsableSignals adds the signals table's "gate" column to `options.columns` when the version read
// has it (tables written before scoring do not: all their rows are usable); Usable(i) then tells
// whether row i may be used.
#pragma once

#include <arrow/api.h>

#include <memory>

#include "core/status.h"
#include "lake/delta_table.h"

namespace pulse::pipeline {

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
