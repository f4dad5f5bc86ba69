#include "pipeline/table_read.h"

#include <algorithm>

namespace pulse::pipeline {

Result<std::shared_ptr<arrow::RecordBatch>> ReadBatch(lake::DeltaTable& table, const lake::ReadOptions& options) {
  PULSE_ASSIGN_OR_RETURN(auto rows, table.Read(options));
  auto batch = rows->CombineChunksToBatch();
  if (!batch.ok()) return Status::Internal(batch.status().ToString());
  return *batch;
}

Result<UsableSignals> UsableSignals::Prepare(lake::DeltaTable& signals, lake::ReadOptions& options) {
  UsableSignals out;
  PULSE_ASSIGN_OR_RETURN(auto snapshot, signals.LoadSnapshot(options.version));
  out.has_gate_ = snapshot.schema && snapshot.schema->GetFieldByName("gate") != nullptr;
  if (out.has_gate_ && !options.columns.empty() &&
      std::find(options.columns.begin(), options.columns.end(), "gate") == options.columns.end())
    options.columns.push_back("gate");
  return out;
}

Status UsableSignals::Bind(const arrow::RecordBatch& batch) {
  if (!has_gate_) return Status::Ok();
  PULSE_ASSIGN_OR_RETURN(gate_, ColumnAs<arrow::StringArray>(batch, "gate"));
  return Status::Ok();
}

bool UsableSignals::Usable(int64_t row) const {
  return gate_ == nullptr || gate_->IsNull(row) || gate_->GetView(row) != "suppress";
}

}  // namespace pulse::pipeline
