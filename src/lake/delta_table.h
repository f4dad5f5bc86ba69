// Public API of the lake module (with lake.h, filesystem.h, table_read.h, table_json.h): other
// modules may include this header; src/lake/internal/ is the lake's own.
//
// DeltaTable: a Delta Lake table (protocol reader 1 / writer 2) of Parquet files written through
// Arrow, on any FileSystem (local directory or S3).
//
// Layout: data files under Hive-style partition folders ("kind=macro/part-<uuid>.parquet"), the
// transaction log under "_delta_log/" as NNNNNNNNNNNNNNNNNNNN.json commits, a Parquet checkpoint
// every `checkpoint_interval` commits and "_delta_log/_last_checkpoint". A table may have sort
// columns (metaData configuration "pulse.sortColumns", set at creation): every file Pulse writes
// holds its rows sorted by them, so the min/max statistics in each add action's `stats` are tight
// and readers (delta-rs, DuckDB, Spark) skip files by them.
// Tables are standard: delta-rs (the `deltalake` package), Spark and DuckDB read them, and Pulse
// reads tables those write (reader features beyond protocol 1/2 are refused with a clear error).
//
// Guarantees:
//  - Atomic commits: data files are written first under fresh names; a commit becomes visible only
//    when its log entry is created with FileSystem::PutIfAbsent. A crash at any point leaves either
//    the whole commit or nothing visible (unreferenced data files are ignored by every reader).
//  - Optimistic concurrency: two writers racing for version N both end up committed; the loser
//    re-reads the winner's commit, checks for a logical conflict and retries at N+1. Appends never
//    conflict with each other. ReplacePartition fails with kConflict if a concurrent commit added
//    or removed files in the partition it replaces (a compaction, which changes no data, does not
//    count: the replacement then removes the compacted files instead).
//  - Idempotent retries: with WriteOptions::app_id/app_version set, the commit carries a Delta
//    `txn` action; a write whose app_version is <= the table's recorded version for that app id is
//    skipped (CommitResult::skipped == true) and changes nothing. WriteOptions::transactions and
//    ::precondition extend this to several app ids per commit (exactly-once stream batches).
//  - Not thread-safe per object: use one DeltaTable per thread; any number of DeltaTable objects,
//    threads or processes may write the same table.
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/filesystem.h"

namespace pulse::lake {

struct TableOptions {
  int checkpoint_interval = 10;  // write a checkpoint after every N-th commit (0 = never)
  int64_t max_rows_per_file = 1 << 20;
  int max_commit_attempts = 50;  // optimistic-concurrency retries before kConflict
  int read_threads = 0;          // files read in parallel; 0 = hardware concurrency
  int write_threads = 0;         // files encoded and written in parallel; 0 = hardware concurrency
};

struct WriteOptions {
  std::string app_id;                                       // application transaction id; empty = no txn action
  int64_t app_version = -1;                                 // required (>= 0) when app_id is set
  std::string operation = "WRITE";                          // recorded in commitInfo
  std::map<std::string, std::string> operation_parameters;  // recorded in commitInfo
  // Further txn actions of the same commit (appId, version >= 0), e.g. one per Kafka partition a
  // stream batch read. Written as given: unlike app_id they are not checked for "already applied"
  // (use `precondition`). Each appId at most once, and not equal to app_id.
  std::vector<std::pair<std::string, int64_t>> transactions;
  // Checked against the txn versions (appId -> version) of the table version each commit attempt
  // goes on top of: the first attempt and every retry after a concurrent commit won the race. A
  // non-OK status aborts the write (its data files are deleted, nothing is committed) and is
  // returned as is, so the caller can re-read the versions, drop what is already there and retry.
  std::function<Status(const std::map<std::string, int64_t>& app_versions)> precondition;
};

struct CommitResult {
  int64_t version = -1;  // the committed version; the table's current version if skipped
  bool skipped = false;  // true when an app transaction had already been applied
  int attempts = 0;      // commit attempts, 1 without contention
  int64_t files_added = 0;
  int64_t files_removed = 0;
  int64_t rows_added = 0;
};

// Keep rows whose partition column `column` has one of `values` (partition values as text, as
// Delta stores them). Several filters are ANDed.
struct PartitionFilter {
  std::string column;
  std::vector<std::string> values;
};

struct ReadOptions {
  std::optional<int64_t> version;    // time travel ("as of version N"); latest if unset
  std::vector<std::string> columns;  // projection, in this order; all if empty
  std::vector<PartitionFilter> partition_filters;
};

struct AddFile {
  std::string path;  // relative to the table root, URL-decoded
  std::map<std::string, std::string> partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;  // ms since epoch
  int64_t num_records = -1;       // from stats; -1 if unknown
};

// Bin-packing compaction (DeltaTable::Optimize).
struct OptimizeOptions {
  int64_t target_file_bytes = 128 << 20;  // a bin is filled up to this many bytes of input files
  // Files at least this large are left alone; default (-1) = 3/4 of target_file_bytes.
  int64_t min_file_bytes = -1;
  // Test hook: called after the compacted files are written, before the first commit attempt.
  std::function<void()> before_commit;
};

struct OptimizeResult {
  int64_t version = -1;    // the OPTIMIZE commit; the table's version if nothing was compacted
  bool noop = false;       // no partition had two or more small files
  int attempts = 0;        // commit attempts (> 1 when concurrent commits won the race)
  int64_t partitions = 0;  // partitions compacted
  int64_t files_removed = 0;
  int64_t files_added = 0;
  int64_t bytes_removed = 0;
  int64_t bytes_added = 0;
  int64_t rows = 0;  // rows rewritten
};

// Deleting unreferenced files (DeltaTable::Vacuum).
struct VacuumOptions {
  double retain_hours = 168;  // keep files removed less than this long ago (Delta's default: 7 days)
  bool dry_run = false;       // list what would be deleted, delete nothing
  bool force = false;         // allow retain_hours below kMinVacuumRetainHours
  int64_t now_ms = 0;         // the clock; 0 = now (tests)
};
inline constexpr double kMinVacuumRetainHours = 168;

struct VacuumResult {
  std::vector<FileInfo> files;  // deleted (or, on a dry run, to be deleted), sorted by key
  int64_t bytes = 0;
  bool dry_run = false;
};

// One entry of the table's history (newest first in History()).
struct VersionInfo {
  int64_t version = 0;
  int64_t timestamp_ms = 0;
  std::string operation;
  std::map<std::string, std::string> operation_parameters;
  int64_t files_added = 0;
  int64_t files_removed = 0;
  int64_t rows_added = 0;  // -1 when the writer recorded no row counts
};

// The table state at one version: schema, partition columns, live files and app transactions.
struct Snapshot {
  int64_t version = -1;
  std::string table_id;
  std::string name;
  std::shared_ptr<arrow::Schema> schema;  // full schema, partition columns included
  std::vector<std::string> partition_columns;
  std::map<std::string, std::string> configuration;
  std::map<std::string, AddFile> files;           // live files by path
  std::map<std::string, int64_t> app_versions;    // txn appId -> version
  int64_t num_rows() const;                       // -1 if some file lacks stats
  std::vector<std::string> sort_columns() const;  // from configuration "pulse.sortColumns"
};

// metaData configuration key holding a table's sort columns ("name,ts").
inline constexpr const char* kSortColumnsKey = "pulse.sortColumns";

class DeltaTable {
 public:
  ~DeltaTable();
  DeltaTable(const DeltaTable&) = delete;
  DeltaTable& operator=(const DeltaTable&) = delete;

  // Creates a table at version 0. kAlreadyExists if the location already holds a Delta log.
  // Partition columns must be top-level string, integer, date or timestamp columns of `schema`;
  // sort columns (optional) must be data columns that are not partition columns.
  static Result<std::unique_ptr<DeltaTable>> Create(std::unique_ptr<FileSystem> fs,
                                                    const std::shared_ptr<arrow::Schema>& schema,
                                                    const std::vector<std::string>& partition_columns,
                                                    const std::string& name = {}, TableOptions options = {},
                                                    const std::vector<std::string>& sort_columns = {});
  // Opens an existing table. kNotFound if there is no Delta log.
  static Result<std::unique_ptr<DeltaTable>> Open(std::unique_ptr<FileSystem> fs, TableOptions options = {});
  // Opens the table, creating it if absent (safe when several processes race to create it).
  // kInvalidArgument if it exists with a different schema. `partition_columns` and
  // `sort_columns` only shape a table created here: an existing table keeps the layout in its
  // metadata (writers follow it), so tables created with an older layout keep working.
  static Result<std::unique_ptr<DeltaTable>> OpenOrCreate(std::unique_ptr<FileSystem> fs,
                                                          const std::shared_ptr<arrow::Schema>& schema,
                                                          const std::vector<std::string>& partition_columns,
                                                          const std::string& name = {}, TableOptions options = {},
                                                          const std::vector<std::string>& sort_columns = {});

  // Appends rows (their schema must equal the table's; nullability may be looser in `rows`).
  Result<CommitResult> Append(const arrow::Table& rows, const WriteOptions& options = {});
  // Atomically replaces every row of the partition identified by `partition` (a value for every
  // partition column) with `rows`, all of which must belong to that partition. Empty `rows`
  // deletes the partition.
  Result<CommitResult> ReplacePartition(const std::map<std::string, std::string>& partition, const arrow::Table& rows,
                                        const WriteOptions& options = {});

  // Schema evolution: appends `fields` (nullable, not yet in the table) to the table's schema in
  // one commit of a metaData action (same id, partitioning and configuration), so that later
  // appends carry them; files written earlier read them as null. Fields already present with the
  // same type are skipped (CommitResult::skipped when all are); one present with another type, a
  // non-nullable one or an unsupported type is kInvalidArgument. Concurrency: create-if-absent
  // like any commit; after losing a race it re-reads the winners and retries (another writer
  // adding the same columns makes it a no-op). Later appends with the old schema are refused
  // (kInvalidArgument; kConflict when the evolution lands while they commit) and write nothing.
  Result<CommitResult> AddColumns(const std::vector<std::shared_ptr<arrow::Field>>& fields);

  // Compacts each partition's small files (< min_file_bytes) into files of about
  // target_file_bytes: one commit of `remove` + `add` actions, all with dataChange=false, so the
  // rows, their values and the table's row count are unchanged. Concurrency: the commit is
  // create-if-absent like any other; on losing the race it re-reads the winners and retries as
  // long as every file it removes is still live (concurrent appends never conflict; a concurrent
  // commit that removed one of its input files makes it fail with kConflict, leaving the table as
  // the winner left it). Rows of each new file are sorted by the table's sort columns.
  Result<OptimizeResult> Optimize(const OptimizeOptions& options = {});
  // Deletes data files that no version within the retention window references: files neither
  // live at the latest version nor removed less than retain_hours ago, and (for files no commit
  // names, e.g. left by a failed write) older than retain_hours. The log is untouched; time
  // travel to versions older than the window may then fail. kInvalidArgument for retain_hours
  // below kMinVacuumRetainHours unless force is set (a shorter window can delete files that a
  // concurrent writer is about to commit or that a reader of a recent version still needs).
  Result<VacuumResult> Vacuum(const VacuumOptions& options = {});

  // Reads rows (see ReadOptions). Rows come file by file; order within a file is preserved.
  Result<std::shared_ptr<arrow::Table>> Read(const ReadOptions& options = {});

  // The state at `version` (latest if unset), using the newest checkpoint at or before it.
  Result<Snapshot> LoadSnapshot(std::optional<int64_t> version = std::nullopt);
  Result<int64_t> LatestVersion();
  // The commit file of version `version` (kNotFound when absent): a long-lived handle compares it
  // with the one it applied to notice the table deleted or re-created under it.
  Result<FileInfo> CommitFile(int64_t version);
  // All versions, newest first.
  Result<std::vector<VersionInfo>> History();

  std::shared_ptr<arrow::Schema> schema() const;
  const std::vector<std::string>& partition_columns() const;
  std::vector<std::string> sort_columns() const;
  FileSystem& filesystem() { return *fs_; }

 private:
  DeltaTable(std::unique_ptr<FileSystem> fs, TableOptions options);
  // Writes `rows` and commits them, replacing partition `*replace` when given.
  Result<CommitResult> Commit(const arrow::Table& rows, const std::map<std::string, std::string>* replace,
                              const WriteOptions& options);
  // Commit's work, under the lake.commit span Commit opens (core/trace.h).
  Result<CommitResult> CommitTraced(const arrow::Table& rows, const std::map<std::string, std::string>* replace,
                                    const WriteOptions& options);
  // After a commit: the debug log line, and a checkpoint every checkpoint_interval versions.
  void AfterCommit(const CommitResult& result, int attempt);
  struct State;
  std::unique_ptr<FileSystem> fs_;
  TableOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace pulse::lake
