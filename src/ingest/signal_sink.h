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
//  - History cache (Open's keep_history, for long-running ingesters such as the stream consumer):
//    series read from the table stay in memory, updated with every committed row and trimmed to
//    the rules' HistoryDepth(), so a series is read from the table once, not per batch. The cache
//    is exact for rows arriving in time order; a batch holding a row not newer than its series'
//    newest cached observation, a commit that failed, and ResetHistory() (called by the stream
//    consumer when its partitions change) drop the cache, and the next batch reads from the table
//    again. Rows another writer commits to a cached series meanwhile are not seen until then (as
//    with two writers racing on one series: ingest/signal_scoring.h).
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

class SignalSink {
 public:
  // `rules` null: the default ScoringRules (those of data/signals/scoring.yaml).
  static Result<std::unique_ptr<SignalSink>> Open(lake::Lake& lake,
                                                  std::shared_ptr<const signals::ScoringRules> rules = nullptr,
                                                  bool keep_history = false);

  // Scores rows with signals::SignalSchema() (as ParseSignalsBytes returns them) and appends them
  // in one commit; `gate` (optional) receives the decision counts of a commit that was not skipped.
  // An empty table still commits when `write` carries txn actions (a batch of duplicates or rejects
  // only still records how far it read).
  Result<lake::CommitResult> AppendSignals(const arrow::Table& rows, const lake::WriteOptions& write,
                                           signals::GateCounts* gate = nullptr);
  // Forgets the history cache (no-op without keep_history).
  void ResetHistory();
  // Appends rejected records, ingest_time = now_us, in one commit of the signal_rejects table.
  Result<lake::CommitResult> AppendRejects(const std::vector<RejectRow>& rejects, int64_t now_us,
                                           const lake::WriteOptions& write);

  lake::DeltaTable& signals() { return *signals_; }
  // The signal_rejects table, opened (and created) on first use.
  Result<lake::DeltaTable*> rejects();

 private:
  SignalSink(lake::Lake& lake, std::unique_ptr<lake::DeltaTable> signals,
             std::shared_ptr<const signals::ScoringRules> rules, bool keep_history);
  // False when a row of `rows` is not newer than its series' newest cached observation.
  Result<bool> CacheCovers(const arrow::Table& rows) const;

  lake::Lake& lake_;
  std::unique_ptr<lake::DeltaTable> signals_;
  std::shared_ptr<const signals::ScoringRules> rules_;
  std::unique_ptr<signals::SeriesHistory> history_;  // null without keep_history
  std::unique_ptr<lake::DeltaTable> rejects_;
};

}  // namespace pulse::ingest
