#include "ingest/signal_sink.h"

#include <arrow/api.h>

#include "signals/signal_schema.h"

namespace pulse::ingest {
namespace {

Result<std::shared_ptr<arrow::Table>> RejectsTable(const std::vector<RejectRow>& rejects, int64_t now_us) {
  arrow::StringBuilder file, reason, raw;
  arrow::Int64Builder line;
  arrow::TimestampBuilder ingest(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
  for (const auto& r : rejects) {
    if (!file.Append(r.file).ok() || !line.Append(r.line).ok() || !reason.Append(r.reason).ok() ||
        !raw.Append(r.raw).ok() || !ingest.Append(now_us).ok())
      return Status::Internal("building the rejects table");
  }
  std::vector<std::shared_ptr<arrow::Array>> cols(5);
  if (!file.Finish(&cols[0]).ok() || !line.Finish(&cols[1]).ok() || !reason.Finish(&cols[2]).ok() ||
      !raw.Finish(&cols[3]).ok() || !ingest.Finish(&cols[4]).ok())
    return Status::Internal("building the rejects table");
  return arrow::Table::Make(signals::RejectSchema(), cols);
}

}  // namespace

Result<std::unique_ptr<SignalSink>> SignalSink::Open(lake::Lake& lake) {
  PULSE_ASSIGN_OR_RETURN(auto table, lake.OpenOrCreateTable(signals::kSignalsTable, signals::SignalSchema(),
                                                            signals::SignalPartitionColumns(), std::nullopt,
                                                            signals::SignalSortColumns()));
  return std::unique_ptr<SignalSink>(new SignalSink(lake, std::move(table)));
}

Result<lake::CommitResult> SignalSink::AppendSignals(const arrow::Table& rows, const lake::WriteOptions& write) {
  return signals_->Append(rows, write);
}

Result<lake::DeltaTable*> SignalSink::rejects() {
  if (!rejects_) {
    PULSE_ASSIGN_OR_RETURN(rejects_, lake_.OpenOrCreateTable(signals::kRejectsTable, signals::RejectSchema(), {}));
  }
  return rejects_.get();
}

Result<lake::CommitResult> SignalSink::AppendRejects(const std::vector<RejectRow>& rejects, int64_t now_us,
                                                     const lake::WriteOptions& write) {
  PULSE_ASSIGN_OR_RETURN(lake::DeltaTable * table, this->rejects());
  PULSE_ASSIGN_OR_RETURN(auto rows, RejectsTable(rejects, now_us));
  return table->Append(*rows, write);
}

}  // namespace pulse::ingest
