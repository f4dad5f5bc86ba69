#include "ingest/signal_sink.h"

#include <arrow/api.h>

#include "ingest/signal_scoring.h"
#include "lake/table_changes.h"
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
                       std::shared_ptr<const signals::ScoringRules> rules, HistoryCache cache)
    : lake_(lake), signals_(std::move(signals)), rules_(std::move(rules)), mode_(cache) {
  if (!rules_) rules_ = std::make_shared<const signals::ScoringRules>();
  if (mode_ != HistoryCache::kNone) history_ = std::make_unique<signals::SeriesHistory>();
}

Result<std::unique_ptr<SignalSink>> SignalSink::Open(lake::Lake& lake,
                                                     std::shared_ptr<const signals::ScoringRules> rules,
                                                     HistoryCache cache) {
  PULSE_ASSIGN_OR_RETURN(auto table, OpenSignalsTable(lake));
  return std::unique_ptr<SignalSink>(new SignalSink(lake, std::move(table), std::move(rules), cache));
}

Result<std::unique_ptr<SignalSink>> SignalSink::Open(lake::Lake& lake,
                                                     std::shared_ptr<const signals::ScoringRules> rules,
                                                     bool keep_history) {
  return Open(lake, std::move(rules), keep_history ? HistoryCache::kRecent : HistoryCache::kNone);
}

void SignalSink::ResetHistory() {
  if (history_) history_ = std::make_unique<signals::SeriesHistory>();
}

Status SignalSink::FollowTable() {
  if (!history_) return Status::Ok();
  if (history_version_ < 0) {  // nothing cached yet: tie the (empty) cache to the latest version
    ResetHistory();
    PULSE_ASSIGN_OR_RETURN(history_version_, signals_->LatestVersion());
    return Status::Ok();
  }
  PULSE_ASSIGN_OR_RETURN(auto changes, lake::ChangesSince(*signals_, history_version_));
  if (changes.version == history_version_) return Status::Ok();
  if (!changes.appends_only) {
    ResetHistory();
    history_version_ = changes.version;
    return Status::Ok();
  }
  if (history_->series() > 0 && !changes.added.empty()) {
    PULSE_ASSIGN_OR_RETURN(auto added,
                           lake::ReadAddedFiles(*signals_, changes.added, {"source", "name", "ts", "value"}));
    PULSE_RETURN_IF_ERROR(history_->AddStoredRows(*added));
    if (mode_ == HistoryCache::kRecent) history_->Trim(rules_->HistoryDepth());
  }
  history_version_ = changes.version;
  return Status::Ok();
}

Result<bool> SignalSink::ScoreInOrder(const std::vector<std::shared_ptr<const arrow::Table>>& batches,
                                      signals::SeriesHistory& h, std::optional<int64_t> version, bool check_order,
                                      std::vector<std::shared_ptr<arrow::Table>>& scored,
                                      std::vector<signals::GateCounts>& gates) {
  scored.clear();
  gates.clear();
  for (size_t i = 0; i < batches.size(); ++i) {
    const arrow::Table& rows = *batches[i];
    if (check_order && rows.num_rows() > 0) {
      PULSE_ASSIGN_OR_RETURN(bool covers, signals::NewerThanHistory(rows, h));
      if (!covers) return false;
    }
    PULSE_ASSIGN_OR_RETURN(auto s, ScoreSignals(*signals_, rows, *rules_, &h, version));
    scored.push_back(std::move(s.rows));
    gates.push_back(s.gate);
    // The next batch is scored as if this one had been committed.
    if (rows.num_rows() > 0) PULSE_RETURN_IF_ERROR(h.AddRows(rows));
  }
  return true;
}

Result<lake::CommitResult> SignalSink::AppendSignals(const arrow::Table& rows, const lake::WriteOptions& write,
                                                     signals::GateCounts* gate) {
  // A view of the caller's rows (the group path takes shared tables; nothing is copied).
  const std::vector<std::shared_ptr<const arrow::Table>> batches = {
      std::shared_ptr<const arrow::Table>(std::shared_ptr<const arrow::Table>{}, &rows)};
  std::vector<signals::GateCounts> gates;
  PULSE_ASSIGN_OR_RETURN(auto commit, AppendSignalBatches(batches, write, &gates));
  if (!commit.skipped && gate != nullptr && !gates.empty()) *gate = gates[0];
  return commit;
}

Result<lake::CommitResult> SignalSink::AppendSignalBatches(
    const std::vector<std::shared_ptr<const arrow::Table>>& batches, const lake::WriteOptions& write,
    std::vector<signals::GateCounts>* gates) {
  PULSE_RETURN_IF_ERROR(FollowTable());
  // Without a cache: a history for this call only, read at one version for every batch.
  signals::SeriesHistory local;
  std::optional<int64_t> version = history_version_;
  if (!history_) {
    PULSE_ASSIGN_OR_RETURN(int64_t latest, signals_->LatestVersion());
    version = latest;
  }
  signals::SeriesHistory& h = history_ ? *history_ : local;
  std::vector<std::shared_ptr<arrow::Table>> scored;
  std::vector<signals::GateCounts> batch_gates;
  PULSE_ASSIGN_OR_RETURN(bool scored_ok,
                         ScoreInOrder(batches, h, version, mode_ == HistoryCache::kRecent, scored, batch_gates));
  if (!scored_ok) {  // kRecent: a row older than the cache: score from the table's full history
    ResetHistory();
    PULSE_ASSIGN_OR_RETURN(scored_ok, ScoreInOrder(batches, *history_, version, false, scored, batch_gates));
  }
  // The cache now holds the batches' rows: forget their series unless the commit lands right
  // after the version the cache reflects.
  auto forget_batches = [&]() {
    if (!history_) return;
    for (const auto& b : batches) {
      auto series = signals::SeriesOf(*b);
      if (!series.ok()) {
        ResetHistory();
        return;
      }
      for (const auto& [source, name] : *series) history_->Erase(source, name);
    }
  };
  signals::GateCounts total;
  for (const auto& g : batch_gates) {
    total.accept += g.accept;
    total.escalate += g.escalate;
    total.suppress += g.suppress;
  }
  std::shared_ptr<arrow::Table> all;
  if (scored.size() == 1) {
    all = scored[0];
  } else {
    auto concatenated = arrow::ConcatenateTables(scored);
    if (!concatenated.ok()) {
      forget_batches();
      return Status::Internal("concatenating scored signals: " + concatenated.status().ToString());
    }
    all = *concatenated;
  }
  lake::WriteOptions scored_write = write;
  scored_write.operation_parameters["gate"] = "accept " + std::to_string(total.accept) + ", escalate " +
                                              std::to_string(total.escalate) + ", suppress " +
                                              std::to_string(total.suppress);
  if (batch_gates.size() > 1) {
    std::string text;
    for (const auto& g : batch_gates) {
      if (!text.empty()) text += "; ";
      text += "accept " + std::to_string(g.accept) + ", escalate " + std::to_string(g.escalate) + ", suppress " +
              std::to_string(g.suppress);
    }
    scored_write.operation_parameters["batch_gates"] = text;
  }
  auto commit = signals_->Append(*all, scored_write);
  if (!commit.ok()) {
    forget_batches();  // nothing landed (or, if it did, FollowTable reads it)
    return commit.status();
  }
  if (commit->skipped || commit->version != history_version_ + 1 || !history_) {
    forget_batches();
  } else {
    history_version_ = commit->version;
    if (mode_ == HistoryCache::kRecent) history_->Trim(rules_->HistoryDepth());
    if (mode_ == HistoryCache::kFull && history_->observations() > kMaxFullHistoryObservations) ResetHistory();
  }
  if (!commit->skipped && gates != nullptr) *gates = std::move(batch_gates);
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
