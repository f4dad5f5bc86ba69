// DeltaTable::Optimize (bin-packing compaction) and DeltaTable::Vacuum (deleting unreferenced
// files). Contracts in delta_table.h.
#include <arrow/api.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/log.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "lake/commit_metrics.h"
#include "lake/delta_table.h"
#include "lake/internal/delta_files.h"
#include "lake/internal/delta_log.h"

namespace pulse::lake {

using delta::json;

namespace {

int64_t NowMillis() { return time::NowMicros() / 1000; }

// One output of the bin packing: live files (log paths) of one partition, rewritten together.
struct Bin {
  std::vector<std::string> paths;
  int64_t bytes = 0;
};

// Greedy bin packing per partition: small files in order of modification time (so a bin holds
// appends that were made close together in time), each bin filled up to `target` bytes. Bins
// of a single file are dropped: rewriting one file alone gains nothing.
std::vector<Bin> PlanBins(const Snapshot& snap, int64_t target, int64_t min_bytes, int64_t* partitions) {
  std::map<std::map<std::string, std::string>, std::vector<const std::pair<const std::string, AddFile>*>> by_partition;
  for (const auto& entry : snap.files)
    if (entry.second.size < min_bytes) by_partition[entry.second.partition_values].push_back(&entry);
  std::vector<Bin> bins;
  *partitions = 0;
  for (auto& [partition, files] : by_partition) {
    std::sort(files.begin(), files.end(), [](const auto* a, const auto* b) {
      return std::tie(a->second.modification_time, a->first) < std::tie(b->second.modification_time, b->first);
    });
    std::vector<Bin> mine;
    Bin current;
    for (const auto* f : files) {
      if (!current.paths.empty() && current.bytes + f->second.size > target) {
        mine.push_back(std::move(current));
        current = Bin{};
      }
      current.paths.push_back(f->first);
      current.bytes += f->second.size;
    }
    if (!current.paths.empty()) mine.push_back(std::move(current));
    bool any = false;
    for (auto& b : mine) {
      if (b.paths.size() >= 2) {
        bins.push_back(std::move(b));
        any = true;
      }
    }
    if (any) ++*partitions;
  }
  return bins;
}

bool SameSchema(const arrow::Schema& a, const arrow::Schema& b) {
  if (a.num_fields() != b.num_fields()) return false;
  for (int i = 0; i < a.num_fields(); ++i)
    if (a.field(i)->name() != b.field(i)->name() || !a.field(i)->type()->Equals(*b.field(i)->type())) return false;
  return true;
}

// True for keys Delta readers and writers treat as hidden ("_delta_log/...", "_tmp/...", ".x"):
// a path component starting with '_' or '.' that is not a partition folder ("k=v").
bool IsHidden(std::string_view key) {
  size_t start = 0;
  while (start < key.size()) {
    size_t slash = key.find('/', start);
    std::string_view part = key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!part.empty() && (part[0] == '_' || part[0] == '.') && part.find('=') == std::string_view::npos) return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

// Rewrites every bin: reads its files (in parallel) and writes them back as one sorted run,
// appending the new files' add actions to `adds` (also on failure: the caller deletes them) and
// counting rows, files and bytes in `result`.
Status RewriteBins(FileSystem& fs, const Snapshot& snap, const std::vector<Bin>& bins, const TableOptions& table,
                   std::vector<json>& adds, OptimizeResult& result) {
  std::vector<std::string> columns;
  for (const auto& f : snap.schema->fields()) columns.push_back(f->name());
  const std::vector<std::string> sort = snap.sort_columns();
  for (const auto& bin : bins) {
    std::vector<std::shared_ptr<arrow::Table>> parts(bin.paths.size());
    std::vector<Status> errors(bin.paths.size());
    DefaultThreadPool().ParallelFor(bin.paths.size(), [&](size_t i) {
      auto t = detail::ReadDataFile(fs, snap.files.at(bin.paths[i]), *snap.schema, snap.partition_columns, columns);
      if (t.ok()) {
        parts[i] = *t;
      } else {
        errors[i] = t.status();
      }
    });
    for (const auto& st : errors) {
      if (!st.ok()) return st.WithContext("optimize " + fs.RootUrl());
    }
    auto rows = arrow::ConcatenateTables(parts);
    if (!rows.ok()) return Status::Internal("optimize: " + rows.status().ToString());
    result.rows += (*rows)->num_rows();
    result.bytes_removed += bin.bytes;
    result.files_removed += static_cast<int64_t>(bin.paths.size());
    PULSE_ASSIGN_OR_RETURN(auto written,
                           detail::WriteDataFiles(fs, **rows, snap.partition_columns, sort, table.max_rows_per_file,
                                                  table.write_threads, /*data_change=*/false));
    for (auto& add : written) {
      result.bytes_added += add["size"].get<int64_t>();
      adds.push_back(std::move(add));
    }
  }
  result.files_added = static_cast<int64_t>(adds.size());
  return Status::Ok();
}

// After losing a commit race: the plan made from `snap` still applies to the table `log` now
// holds when the schema and partitioning are the same and every input file is still live.
// Appends only add files: compatible. A commit that removed one of the inputs (a partition
// replacement, another optimize) is not: committing would resurrect or duplicate rows (kConflict).
Status CheckPlanStillApplies(const delta::LogState& log, const Snapshot& snap, const std::vector<Bin>& bins) {
  if (!SameSchema(*log.snapshot.schema, *snap.schema) || log.snapshot.partition_columns != snap.partition_columns) {
    return Status::Conflict("optimize: the table's schema or partitioning changed since version " +
                            std::to_string(snap.version) + "; nothing was committed, run it again");
  }
  for (const auto& bin : bins) {
    for (const auto& path : bin.paths) {
      if (!log.snapshot.files.count(path)) {
        return Status::Conflict("optimize: " + delta::DecodePath(path) +
                                " was removed by a concurrent commit after version " + std::to_string(snap.version) +
                                "; nothing was committed, run it again");
      }
    }
  }
  return Status::Ok();
}

// The commit file of an optimize planned from `snap`: commitInfo, a remove (dataChange false)
// for every input file, an add for every rewritten one.
std::string OptimizeCommitText(const delta::LogState& log, const Snapshot& snap, const std::vector<Bin>& bins,
                               const std::vector<json>& adds, const OptimizeResult& result, int64_t target_file_bytes) {
  const int64_t now = NowMillis();
  json info = {{"timestamp", now},
               {"operation", "OPTIMIZE"},
               {"operationParameters", {{"targetSize", std::to_string(target_file_bytes)}, {"predicate", "[]"}}},
               {"readVersion", snap.version},
               {"isBlindAppend", false},
               {"engineInfo", "pulse/0.1"},
               {"clientVersion", "pulse-0.1.0"},
               {"operationMetrics",
                {{"numRemovedFiles", std::to_string(result.files_removed)},
                 {"numAddedFiles", std::to_string(result.files_added)},
                 {"numRemovedBytes", std::to_string(result.bytes_removed)},
                 {"numAddedBytes", std::to_string(result.bytes_added)}}}};
  std::string text = json{{"commitInfo", info}}.dump() + "\n";
  for (const auto& bin : bins) {
    for (const auto& path : bin.paths) {
      const json& add = log.adds.at(path);
      json remove = {{"path", path},
                     {"deletionTimestamp", now},
                     {"dataChange", false},
                     {"extendedFileMetadata", true},
                     {"partitionValues", add.contains("partitionValues") ? add["partitionValues"] : json::object()},
                     {"size", snap.files.at(path).size}};
      text += json{{"remove", remove}}.dump() + "\n";
    }
  }
  for (const auto& add : adds) text += json{{"add", add}}.dump() + "\n";
  return text;
}

}  // namespace

Result<OptimizeResult> DeltaTable::Optimize(const OptimizeOptions& options) {
  if (options.target_file_bytes <= 0) return Status::InvalidArgument("optimize: target file size must be > 0 bytes");
  const int64_t min_bytes = options.min_file_bytes >= 0 ? options.min_file_bytes : options.target_file_bytes / 4 * 3;
  PULSE_ASSIGN_OR_RETURN(auto applied, delta::CatchUp(*fs_, state_->log));
  (void)applied;
  PULSE_RETURN_IF_ERROR(delta::CheckWritable(state_->log));
  const Snapshot snap = state_->log.snapshot;  // the version the plan is made from
  detail::CommitProbe probe(fs_->RootUrl());
  OptimizeResult result;
  std::vector<Bin> bins = PlanBins(snap, options.target_file_bytes, min_bytes, &result.partitions);
  if (bins.empty()) {
    result.noop = true;
    result.version = snap.version;
    return result;
  }
  std::vector<json> adds;
  auto abandon = [&](Status st) {
    detail::DeleteDataFiles(*fs_, adds);
    return st;
  };
  if (Status st = RewriteBins(*fs_, snap, bins, options_, adds, result); !st.ok()) return abandon(st);
  if (options.before_commit) options.before_commit();

  probe.Arm();
  for (int attempt = 1; attempt <= options_.max_commit_attempts; ++attempt) {
    result.attempts = attempt;
    if (attempt > 1) {
      auto winners = delta::CatchUp(*fs_, state_->log);
      if (!winners.ok()) return abandon(winners.status());
      Status writable = delta::CheckWritable(state_->log);
      if (!writable.ok()) return abandon(writable);
      if (Status st = CheckPlanStillApplies(state_->log, snap, bins); !st.ok()) return abandon(st);
    }
    const int64_t version = state_->log.snapshot.version + 1;
    const std::string text = OptimizeCommitText(state_->log, snap, bins, adds, result, options.target_file_bytes);
    Status put = fs_->PutIfAbsent(delta::CommitKey(version), text);
    if (put.code() == StatusCode::kAlreadyExists) {  // lost the race: re-check and retry
      probe.LostRace();
      continue;
    }
    if (!put.ok()) return abandon(put.WithContext("committing optimize as version " + std::to_string(version)));
    probe.Committed();
    PULSE_ASSIGN_OR_RETURN(auto summary, delta::ApplyCommit(state_->log, version, text));
    (void)summary;
    result.version = version;
    log::Info("lake", "optimized",
              {{"table", fs_->RootUrl()},
               {"version", version},
               {"attempts", attempt},
               {"files_removed", result.files_removed},
               {"files_added", result.files_added}});
    if (options_.checkpoint_interval > 0 && version % options_.checkpoint_interval == 0) {
      Status cp = delta::WriteCheckpoint(*fs_, state_->log);
      if (!cp.ok()) {
        log::Warn("lake", "checkpoint failed",
                  {{"table", fs_->RootUrl()}, {"version", version}, {"error", cp.message()}});
      }
    }
    return result;
  }
  return abandon(Status::Conflict("optimize: gave up after " + std::to_string(options_.max_commit_attempts) +
                                  " commit attempts on " + fs_->RootUrl()));
}

Result<VacuumResult> DeltaTable::Vacuum(const VacuumOptions& options) {
  if (!std::isfinite(options.retain_hours) || options.retain_hours < 0)
    return Status::InvalidArgument("vacuum: the retention must be a number of hours >= 0");
  if (options.retain_hours < kMinVacuumRetainHours && !options.force) {
    return Status::InvalidArgument(
        "vacuum: a retention of " + std::to_string(static_cast<int64_t>(options.retain_hours)) +
        " hours is below the safe minimum of " + std::to_string(static_cast<int64_t>(kMinVacuumRetainHours)) +
        " hours: it can delete files that a writer is about to commit or that a reader of a recent "
        "version still needs (pass force / --force to do it anyway)");
  }
  PULSE_ASSIGN_OR_RETURN(auto applied, delta::CatchUp(*fs_, state_->log));
  (void)applied;
  PULSE_RETURN_IF_ERROR(delta::CheckWritable(state_->log));
  const int64_t now = options.now_ms > 0 ? options.now_ms : NowMillis();
  const int64_t cutoff = now - static_cast<int64_t>(options.retain_hours * 3600.0 * 1000.0);

  std::set<std::string> keep;  // keys (decoded paths) some version within the window references
  for (const auto& [path, file] : state_->log.snapshot.files) keep.insert(file.path);
  for (const auto& [path, remove] : state_->log.tombstones) {
    auto ts = remove.find("deletionTimestamp");
    const bool recent = ts == remove.end() || !ts->is_number_integer() || ts->get<int64_t>() >= cutoff;
    if (recent) keep.insert(delta::DecodePath(path));
  }
  PULSE_ASSIGN_OR_RETURN(auto files, fs_->List(""));
  VacuumResult result;
  result.dry_run = options.dry_run;
  for (auto& f : files) {
    if (IsHidden(f.key) || keep.count(f.key)) continue;
    if (f.mtime_ms >= cutoff) continue;  // young: may belong to a write not yet committed
    result.bytes += f.size;
    result.files.push_back(std::move(f));
  }
  if (options.dry_run) return result;
  int64_t failed = 0;
  Status first_error;
  for (const auto& f : result.files) {
    Status st = fs_->Delete(f.key);
    if (!st.ok() && failed++ == 0) first_error = st;
  }
  if (failed > 0) {
    return first_error.WithContext("vacuum " + fs_->RootUrl() + ": " + std::to_string(failed) + " of " +
                                   std::to_string(result.files.size()) + " deletions failed");
  }
  log::Info("lake", "vacuumed", {{"table", fs_->RootUrl()}, {"files", result.files.size()}, {"bytes", result.bytes}});
  return result;
}

}  // namespace pulse::lake
