// IngestFile: validates a CSV or JSON-lines file of signals and appends it to the lake.
//
// Contract:
//  - Every accepted row of one file lands in ONE Delta commit of the signals table: a crash or
//    kill at any point leaves all of the file's rows visible or none.
//  - Rejected rows never disappear: each is reported (file, line, reason) and appended, with its
//    raw text, to the signal_rejects table in a second commit after the signals commit.
//  - The input is read ONCE into memory (at most max_file_bytes; more, e.g. /dev/zero, is an
//    error) and both the rows and the content hash come from that one buffer, so a file appended
//    to or truncated during an ingest lands exactly the snapshot that was read and hashed.
//  - Re-ingesting a file with the same content is a no-op: the commit carries a Delta `txn`
//    (app id "pulse-ingest:<sha256 of the content>"), so a retried ingest is applied once.
//  - "-" reads standard input; input without a known extension (stdin, a pipe) has its format
//    guessed from its first character unless IngestOptions::format is set.
//  - Every record of the input is accepted or rejected (with file:line:reason, printable): a
//    malformed CSV record never swallows the lines after it (see record_reader.h).
//  - Every accepted row is scored and gated before the commit (ingest/signal_scoring.h: recency,
//    rolling anomaly z-score per series, STI, tag, accept / escalate / suppress with a reason);
//    gated rows are all kept, the counts are in IngestReport::gate.
//  - Layouts: "long" (one signal per record; columns mapped by IngestOptions::mapping) or "wide"
//    (one record per time point, one signal per remaining numeric column, named after it).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ingest/input_file.h"
#include "ingest/record_reader.h"
#include "lake/lake.h"
#include "signals/scoring.h"

namespace pulse::ingest {

struct IngestOptions {
  std::optional<FileFormat> format;  // from the extension when unset
  // Target field -> source column, for name, source, kind, ts, value, unit, metadata. Unmapped
  // fields use the column of the same name (ts also accepts "timestamp", "time" or "date").
  std::map<std::string, std::string> mapping;
  std::string kind = "signal";  // when the file has no kind column
  std::string source;           // when the file has no source column; default: file name
  std::string unit;             // when the file has no unit column
  bool wide = false;
  // Wide layout: the time columns, either one timestamp column or "year,quarter".
  std::vector<std::string> time_columns;
  int64_t max_field_bytes = 65536;
  int64_t max_file_bytes = kDefaultMaxFileBytes;  // larger input is refused, not read
  // Refuse anything but a regular file (FIFOs, devices, stdin) without blocking: for ingests
  // requested by others (the pulse.ingest task), which must not hang a worker.
  bool regular_files_only = false;
  // Test hook: called with the bytes just read, before they are hashed and parsed.
  std::function<void(std::string_view bytes)> on_read;
  int64_t now_us = 0;  // ingest time; 0 = the current time
  // Append only observations the table lacks: rows whose (kind, name, ts, value) already exist
  // are dropped before the commit (counted in IngestReport::existing), so re-ingesting a grown
  // file appends just its new rows (a changed value - a revision - is appended too). When
  // nothing new remains, nothing is written (duplicate = true). Reads the existing rows of the
  // file's kinds first: meant for single-writer refreshes, not racing ingesters.
  bool only_new = false;
  // Scoring and gating rules (signals/scoring.h); null = the defaults (data/signals/scoring.yaml).
  std::shared_ptr<const signals::ScoringRules> scoring;
  // JSON lines: read flat records through the fast path (flat_json.h). The result is the same
  // either way; false reads every line with the general reader (differential tests).
  bool fast_json = true;
};

// Longest accepted kind (a kind names a partition folder of the signals table).
inline constexpr size_t kMaxKindBytes = 64;

// Raw text kept per reject; a longer record is cut and its full length recorded in the text.
inline constexpr size_t kMaxRejectRawBytes = size_t{1} << 20;

// The raw text kept for a reject: valid UTF-8 (invalid bytes as \xNN), cut at kMaxRejectRawBytes
// with the full length noted.
std::string RawForReject(std::string_view raw);

struct Reject {
  int64_t line = 0;    // first physical line of the record
  std::string reason;  // printable (control characters and invalid UTF-8 escaped)
  std::string raw;     // the record's text as valid UTF-8 (invalid bytes as \xNN), see above
};

struct IngestReport {
  std::string file;
  int64_t accepted = 0;
  int64_t rejected = 0;
  std::vector<Reject> rejects;  // all of them
  int64_t version = -1;         // signals table version holding the rows
  bool duplicate = false;       // this content was ingested before: nothing written
  int64_t existing = 0;         // only_new: accepted rows already in the table
  signals::GateCounts gate;     // gate decisions of the rows written (accept/escalate/suppress)
  std::string sha256;           // hex SHA-256 of exactly the bytes parsed
  int64_t bytes = 0;            // their number
  int64_t lines = 0;            // physical lines in them
  double seconds = 0;
};

// Reads and validates `path` without writing anything: the accepted rows as a signals table.
Result<std::shared_ptr<arrow::Table>> ParseSignalsFile(const std::string& path, const IngestOptions& options,
                                                       IngestReport& report);
// The same over bytes already read; `name` is the file name used in messages and as the default
// source; `sniff` guesses the format when it is not set and the name has no known extension.
Result<std::shared_ptr<arrow::Table>> ParseSignalsBytes(std::string_view bytes, const std::string& name, bool sniff,
                                                        const IngestOptions& options, IngestReport& report);

// Parses `path`, scores its rows and appends them to the lake's signals and signal_rejects tables
// (created if absent; a signals table without the score columns gains them).
Result<IngestReport> IngestFile(lake::Lake& lake, const std::string& path, const IngestOptions& options);

// The same over bytes already read (an object of the lake's store: pulse.ingest's `url`), with the
// same contract: `name` (e.g. "inbox/x.csv") gives the format from its extension unless
// options.format is set (no guessing: an unknown extension is refused as for a file), the default
// source (its file name) and the file of rejects; bytes over options.max_file_bytes are refused.
Result<IngestReport> IngestBytes(lake::Lake& lake, std::string_view bytes, const std::string& name,
                                 const IngestOptions& options);

}  // namespace pulse::ingest
