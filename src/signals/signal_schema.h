// The signal: one observation of one real-world series, and its Arrow schema in the lake.
//
// Columns of the signals table (partitioned by kind; rows of each file sorted by name, ts):
//   name        utf8, not null     series name, e.g. "realgdp"
//   source      utf8, not null     where it came from, e.g. "us-macro-quarterly.csv"
//   kind        utf8, not null     signal family, e.g. "macro", "price", "sentiment" (partition)
//   ts          timestamp[us, UTC] when the observation applies
//   value       float64, finite
//   unit        utf8               may be empty
//   metadata    utf8               JSON object text ("{}" when none)
//   ingest_time timestamp[us, UTC] when Pulse accepted it
//   date        utf8 "YYYY-MM-DD"  UTC date of ts
// and the scores every ingest path adds (signals/scoring.h, docs/signals.md), all nullable: rows
// written before scoring existed read them as null.
//   recency     float64            clip(1 - age / window, 0, 1)
//   anomaly_z   float64            rolling z-score in its series; null when undefined
//   anomaly     bool               |z| > threshold (or a change after a flat window)
//   sti         float64            symbolic tension index
//   tag         utf8               hope, despair, rage, fatigue or neutral
//   gate        utf8               accept, escalate or suppress (suppressed rows feed no forecast)
//   gate_reason utf8               why a row was escalated or suppressed; null when accepted
//
// Layout. Tables created before this layout are partitioned by kind and date: one folder, hence
// at least one file, per day and kind in every commit (1,799 files for 2,042 rows over a few
// years). New tables are partitioned by kind only and every file Pulse writes is sorted by
// (name, ts): a history load is one file per kind (up to TableOptions::max_rows_per_file rows),
// a stream of small appends is compacted by `pulse lake optimize`, and each file's min/max
// statistics on name, ts and date let readers skip files by series and time. Existing tables keep
// their layout (it is in their Delta metadata): Pulse reads and appends to them as before, and
// `pulse lake optimize` compacts them within each (kind, date) partition.
#pragma once

#include <arrow/type_fwd.h>

#include <memory>
#include <string>
#include <vector>

namespace pulse::signals {

inline constexpr const char* kSignalsTable = "signals";
inline constexpr const char* kRejectsTable = "signal_rejects";

// Schema of validated, unscored signals: the first nine columns above (what parsers produce).
std::shared_ptr<arrow::Schema> SignalSchema();
// The score columns (recency .. gate_reason), in table order.
std::vector<std::shared_ptr<arrow::Field>> ScoreFields();
// Schema of the signals table: SignalSchema() then ScoreFields() (the same for both layouts).
// Tables created before the score columns existed gain them on the next ingest (a Delta metaData
// commit adding nullable columns; ingest/signal_scoring.h OpenSignalsTable).
std::shared_ptr<arrow::Schema> ScoredSignalSchema();
// Partition columns of a new signals table: {"kind"} (tables created earlier: {"kind", "date"}).
std::vector<std::string> SignalPartitionColumns();
// Sort columns of a new signals table: {"name", "ts"}.
std::vector<std::string> SignalSortColumns();

// Schema of the rejects table: file, line, reason, raw (the offending record), ingest_time.
std::shared_ptr<arrow::Schema> RejectSchema();

}  // namespace pulse::signals
