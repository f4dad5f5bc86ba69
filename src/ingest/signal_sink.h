// SignalSink: the one path by which every ingest source - files (IngestFile) and Kafka streams
// (src/stream) - appends validated signal rows, and the records it rejected, to the lake.
//
// Contract:
//  - Rows come from the shared parser (ParseSignalsBytes in file_ingest.h), so every source
//    applies the same validation; anything else that must hold for every stored row (per-signal
//    scoring and gating, derived columns) belongs in AppendSignals, so that a file and a stream
//    carrying the same records give the same table.
//  - The signals table is opened (created if absent, partitioned by kind) by Open; the
//    signal_rejects table only when the first reject is appended.
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
  static Result<std::unique_ptr<SignalSink>> Open(lake::Lake& lake);

  // Appends rows with signals::SignalSchema() (as ParseSignalsBytes returns them) in one commit.
  // An empty table still commits when `write` carries txn actions (a batch of duplicates or rejects
  // only still records how far it read).
  Result<lake::CommitResult> AppendSignals(const arrow::Table& rows, const lake::WriteOptions& write);
  // Appends rejected records, ingest_time = now_us, in one commit of the signal_rejects table.
  Result<lake::CommitResult> AppendRejects(const std::vector<RejectRow>& rejects, int64_t now_us,
                                           const lake::WriteOptions& write);

  lake::DeltaTable& signals() { return *signals_; }
  // The signal_rejects table, opened (and created) on first use.
  Result<lake::DeltaTable*> rejects();

 private:
  SignalSink(lake::Lake& lake, std::unique_ptr<lake::DeltaTable> signals) : lake_(lake), signals_(std::move(signals)) {}
  lake::Lake& lake_;
  std::unique_ptr<lake::DeltaTable> signals_;
  std::unique_ptr<lake::DeltaTable> rejects_;
};

}  // namespace pulse::ingest
