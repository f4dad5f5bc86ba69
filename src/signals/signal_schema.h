// The signal: one observation of one real-world series, and its Arrow schema in the lake.
//
// Columns of the signals table (partitioned by kind and date):
//   name        utf8, not null     series name, e.g. "realgdp"
//   source      utf8, not null     where it came from, e.g. "us-macro-quarterly.csv"
//   kind        utf8, not null     signal family, e.g. "macro", "price", "sentiment" (partition)
//   ts          timestamp[us, UTC] when the observation applies
//   value       float64, finite
//   unit        utf8               may be empty
//   metadata    utf8               JSON object text ("{}" when none)
//   ingest_time timestamp[us, UTC] when Pulse accepted it
//   date        utf8 "YYYY-MM-DD"  UTC date of ts (partition column)
#pragma once

#include <arrow/type_fwd.h>

#include <memory>
#include <string>
#include <vector>

namespace pulse::signals {

inline constexpr const char* kSignalsTable = "signals";
inline constexpr const char* kRejectsTable = "signal_rejects";

// Schema of the signals table, including the partition column "date".
std::shared_ptr<arrow::Schema> SignalSchema();
// Partition columns of the signals table: {"kind", "date"}.
std::vector<std::string> SignalPartitionColumns();

// Schema of the rejects table: file, line, reason, raw (the offending record), ingest_time.
std::shared_ptr<arrow::Schema> RejectSchema();

}  // namespace pulse::signals
