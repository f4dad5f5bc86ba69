#include "pipeline/usable_signals.h"

#include <algorithm>

#include "lake/table_read.h"

namespace pulse::pipeline {

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
  PULSE_ASSIGN_OR_RETURN(gate_, lake::ColumnAs<arrow::StringArray>(batch, "gate"));
  return Status::Ok();
}

bool UsableSignals::Usable(int64_t row) const {
  return gate_ == nullptr || gate_->IsNull(row) || gate_->GetView(row) != "suppress";
}

}  // namespace pulse::pipeline
