// SignalSink: the one path by which every ingest source - files (IngestFile) and Kafka streams
// (src/stream) - appends validated signal rows, and the records it rejected, to the lake.
//
// Contract:
//  - Rows come from the shared parser (ParseSignalsBytes in file_ingest.h), so every source
//    applies the same validation; anything else that must hold for every stored row belongs in
//    AppendSignals, so that a file and a stream carrying the same records give the same table.
//    AppendSignals scores and gates the rows (ingest/signal_scoring.h, signals/scoring.h) against
//    their series' history in the table and appends them with the score columns
//    (ScoredSignalSchema); the commit's operation parameters gain "gate" (the decision counts).
//  - The signals table is opened by Open through OpenSignalsTable (created if absent, partitioned
//    by kind; a table from before scoring gains the score columns); the signal_rejects table only
//    when the first reject is appended.
//  - History cache (Open's `cache`), for long-running writers: series read from the table stay
//    in memory with every row committed since, so a series is read from the table once, not per
//    batch. The cache follows the table: it is tied to the table version it reflects, and before
//    each batch the commits made since (by any writer: another process, `pulse ingest`, a job)
//    are read from the Delta log (lake::ChangesSince, lake/table_changes.h) and only the files
//    they added are read for the cached series; a commit it cannot follow that way (one removing
//    files: OPTIMIZE, replace; a metaData or protocol change; a log entry cleaned up) drops the
//    cache, and the series are read from the table again (at the version the cache is tied to,
//    so nothing is counted twice). Two modes:
//      kRecent (the stream consumer): each series trimmed to the rules' HistoryDepth(); exact for
//        rows arriving in time order; a batch holding a row not newer than its series' newest
//        cached observation drops the cache and is scored from the table.
//      kFull (pulse serve): every observation of a cached series, so any row order scores
//        exactly; dropped when it holds more than kMaxFullHistoryObservations.
//    Either way a batch is scored as it would be without the cache. A commit that failed, was
//    skipped or landed after another writer's commit forgets the series it touched.
//    ResetHistory() drops the cache.
//  - Each Append* is one Delta commit (see lake::WriteOptions for txn actions and preconditions);
//    errors come back as Status, nothing throws.
//  - Not thread-safe (one DeltaTable per table): one sink per thread.
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/delta_table.h"
#include "lake/lake.h"
#include "signals/score_batch.h"
#include "signals/scoring.h"

namespace pulse::ingest {

// One row of the signal_rejects table. For files: the file name and the record's first line.
// For Kafka records: file = "kafka:<topic>/<partition>" and line = the record's offset.
struct RejectRow {
  std::string file;
  int64_t line = 0;
  std::string reason;  // printable
  std::string raw;     // valid UTF-8 (see kMaxRejectRawBytes in file_ingest.h)
};

enum class HistoryCache { kNone, kRecent, kFull };

// kFull's bound: above this many cached observations the cache is dropped after the batch.
inline constexpr size_t kMaxFullHistoryObservations = size_t{1} << 23;

class SignalSink {
 public:
  // `rules` null: the default ScoringRules (those of data/signals/scoring.yaml).
  static Result<std::unique_ptr<SignalSink>> Open(lake::Lake& lake,
                                                  std::shared_ptr<const signals::ScoringRules> rules = nullptr,
                                                  HistoryCache cache = HistoryCache::kNone);
  // keep_history: HistoryCache::kRecent.
  static Result<std::unique_ptr<SignalSink>> Open(lake::Lake& lake, std::shared_ptr<const signals::ScoringRules> rules,
                                                  bool keep_history);

  // Scores rows with signals::SignalSchema() (as ParseSignalsBytes returns them) and appends them
  // in one commit; `gate` (optional) receives the decision counts of a commit that was not skipped.
  // An empty table still commits when `write` carries txn actions (a batch of duplicates or rejects
  // only still records how far it read).
  Result<lake::CommitResult> AppendSignals(const arrow::Table& rows, const lake::WriteOptions& write,
                                           signals::GateCounts* gate = nullptr);
  // Group commit: several batches (SignalSchema) in one commit, each scored as if the batches
  // before it had been appended by AppendSignals in this order (against the table's history plus
  // the rows of the earlier batches), so the scores equal those of one commit per batch. `gates`
  // (optional) receives one GateCounts per batch when the commit was not skipped; the commit's
  // "gate" parameter holds their sum and, for more than one batch, "batch_gates" each batch's
  // ("accept A, escalate E, suppress S" joined by "; "). All or nothing: one Delta commit.
  Result<lake::CommitResult> AppendSignalBatches(const std::vector<std::shared_ptr<const arrow::Table>>& batches,
                                                 const lake::WriteOptions& write,
                                                 std::vector<signals::GateCounts>* gates = nullptr);
  // Forgets the history cache (no-op without one).
  void ResetHistory();
  // Appends rejected records, ingest_time = now_us, in one commit of the signal_rejects table.
  Result<lake::CommitResult> AppendRejects(const std::vector<RejectRow>& rejects, int64_t now_us,
                                           const lake::WriteOptions& write);

  lake::DeltaTable& signals() { return *signals_; }
  // The signal_rejects table, opened (and created) on first use.
  Result<lake::DeltaTable*> rejects();

 private:
  SignalSink(lake::Lake& lake, std::unique_ptr<lake::DeltaTable> signals,
             std::shared_ptr<const signals::ScoringRules> rules, HistoryCache cache);
  // Brings the cache up to the table's latest version (see the contract above).
  Status FollowTable();
  // Scores the batches in order into `scored` and `gates`, adding each batch's rows to `h`.
  // False (nothing to use) when `check_order` finds a batch the kRecent cache does not cover.
  Result<bool> ScoreInOrder(const std::vector<std::shared_ptr<const arrow::Table>>& batches, signals::SeriesHistory& h,
                            std::optional<int64_t> version, bool check_order,
                            std::vector<std::shared_ptr<arrow::Table>>& scored,
                            std::vector<signals::GateCounts>& gates);

  lake::Lake& lake_;
  std::unique_ptr<lake::DeltaTable> signals_;
  std::shared_ptr<const signals::ScoringRules> rules_;
  HistoryCache mode_ = HistoryCache::kNone;
  std::unique_ptr<signals::SeriesHistory> history_;  // null with kNone
  int64_t history_version_ = -1;                     // the table version history_ reflects; -1: not yet read
  std::unique_ptr<lake::DeltaTable> rejects_;
};

}  // namespace pulse::ingest
