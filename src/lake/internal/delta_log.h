// The Delta transaction log: file names, parsing and replaying actions, and Parquet checkpoints.
//
// A LogState is the table state after replaying versions 0..version. Commits are JSON lines of
// actions (protocol, metaData, add, remove, txn, commitInfo); checkpoints hold the same actions
// as Parquet rows. Both paths go through ApplyAction, so a state built from a checkpoint equals
// the state built by replaying the JSON commits.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "lake/delta_table.h"
#include "lake/filesystem.h"

namespace pulse::lake::delta {

using json = nlohmann::json;

inline constexpr const char* kLogDir = "_delta_log/";

std::string CommitKey(int64_t version);      // "_delta_log/00000000000000000007.json"
std::string CheckpointKey(int64_t version);  // "_delta_log/00000000000000000010.checkpoint.parquet"
inline constexpr const char* kLastCheckpointKey = "_delta_log/_last_checkpoint";

// Percent-encoding of a relative path for add/remove actions, and its inverse.
std::string EncodePath(std::string_view path);
std::string DecodePath(std::string_view path);
// Hive-style escaping of a partition value used in a folder name.
std::string EscapePartitionValue(std::string_view value);

struct LogState {
  Snapshot snapshot;                       // public view (schema, files, app versions)
  json protocol;                           // latest protocol action
  json metadata;                           // latest metaData action
  std::map<std::string, json> adds;        // raw add actions by log path
  std::map<std::string, json> tombstones;  // raw remove actions by log path
};

// What one commit did, for conflict checks and history.
struct CommitSummary {
  int64_t version = -1;
  json commit_info;                                                    // {} if the writer wrote none
  std::vector<std::map<std::string, std::string>> touched_partitions;  // of adds and removes
  int64_t files_added = 0;
  int64_t files_removed = 0;
  int64_t rows_added = 0;                  // -1 if some add lacks numRecords
  std::vector<std::string> removed_paths;  // as written in the log (URL-encoded)
  std::vector<AddFile> added_files;        // the add actions, as Snapshot::files holds them
  bool metadata_changed = false;           // a metaData or protocol action
  bool data_change = false;                // some add/remove changed data, or metaData/protocol changed
  std::vector<std::pair<std::string, int64_t>> txns;
};

// Applies one action object ({"add": {...}} etc.) to `state`. Every field the reader uses is
// type-checked first: a wrong-typed field is a kParseError naming it ("add.size must be an
// integer, got string"), never an exception.
Status ApplyAction(LogState& state, const json& action);
// Parses a JSON-lines commit, applies it to `state` (whose version becomes `version`) and
// summarises it. Errors name the commit file and line. A commit without any action (a 0-byte or
// blank file) is a kParseError: it can only come from damage, and reading it as "no change"
// would hide that.
Result<CommitSummary> ApplyCommit(LogState& state, int64_t version, std::string_view text);
// Parses a commit without applying it (History).
Result<CommitSummary> SummarizeCommit(int64_t version, std::string_view text);

// Rejects protocols this reader cannot honour (column mapping, deletion vectors, ...).
Status CheckReadable(const LogState& state);
Status CheckWritable(const LogState& state);

// Builds the state at `version` (latest if unset) from the newest usable checkpoint and the JSON
// commits after it. kNotFound if the table has no log or the version does not exist.
Result<LogState> LoadState(FileSystem& fs, std::optional<int64_t> version);
// Applies commits after state.version until the next one is absent; returns their summaries.
Result<std::vector<CommitSummary>> CatchUp(FileSystem& fs, LogState& state);

// Writes the checkpoint for `state` (at state.snapshot.version) and updates _last_checkpoint.
Status WriteCheckpoint(FileSystem& fs, const LogState& state);

}  // namespace pulse::lake::delta
