#include "ingest/signal_sink.h"

#include <arrow/api.h>

#include "ingest/signal_scoring.h"
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

SignalSink::SignalSink(lake::Lake& lake, std::unique_ptr<lake::DeltaTable> signals,
                       std::shared_ptr<const signals::ScoringRules> rules, bool keep_history)
    : lake_(lake), signals_(std::move(signals)), rules_(std::move(rules)) {
  if (!rules_) rules_ = std::make_shared<const signals::ScoringRules>();
  if (keep_history) history_ = std::make_unique<signals::SeriesHistory>();
}

Result<std::unique_ptr<SignalSink>> SignalSink::Open(lake::Lake& lake,
                                                     std::shared_ptr<const signals::ScoringRules> rules,
                                                     bool keep_history) {
  PULSE_ASSIGN_OR_RETURN(auto table, OpenSignalsTable(lake));
  return std::unique_ptr<SignalSink>(new SignalSink(lake, std::move(table), std::move(rules), keep_history));
}

void SignalSink::ResetHistory() {
  if (history_) history_ = std::make_unique<signals::SeriesHistory>();
}

Result<bool> SignalSink::CacheCovers(const arrow::Table& rows) const {
  return signals::NewerThanHistory(rows, *history_);
}

Result<lake::CommitResult> SignalSink::AppendSignals(const arrow::Table& rows, const lake::WriteOptions& write,
                                                     signals::GateCounts* gate) {
  if (history_ && rows.num_rows() > 0) {
    PULSE_ASSIGN_OR_RETURN(bool covers, CacheCovers(rows));
    if (!covers) ResetHistory();
  }
  PULSE_ASSIGN_OR_RETURN(auto scored, ScoreSignals(*signals_, rows, *rules_, history_.get()));
  lake::WriteOptions scored_write = write;
  scored_write.operation_parameters["gate"] = "accept " + std::to_string(scored.gate.accept) + ", escalate " +
                                              std::to_string(scored.gate.escalate) + ", suppress " +
                                              std::to_string(scored.gate.suppress);
  auto commit = signals_->Append(*scored.rows, scored_write);
  if (!commit.ok()) {
    ResetHistory();  // another writer may have committed to these series
    return commit.status();
  }
  if (!commit->skipped) {
    if (gate != nullptr) *gate = scored.gate;
    if (history_) {
      if (Status st = history_->AddRows(rows); !st.ok()) {
        ResetHistory();
      } else {
        history_->Trim(rules_->HistoryDepth());
      }
    }
  }
  return commit;
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
