// An optional, process-wide hook on the lake's commit path, so that a long-running role can count
// commit time and conflicts without the lake knowing about roles or registries above core.
//
// Contract:
// - Every DeltaTable write that reaches its commit loop (Append, ReplacePartition, Optimize,
//   AddColumns; not writes skipped as already applied, nor ones refused before writing) reports
//   one CommitEvent when it ends, committed or not, on the writing thread, to the hook installed
//   last. No hook (the default): nothing is reported and a commit costs one relaxed atomic load.
// - A "lost race" is a commit attempt whose log entry a concurrent writer created first (Delta's
//   optimistic concurrency); the write then re-reads the winners and retries, or gives up with
//   kConflict.
// - SetCommitHook may be called at any time from any thread; a hook must be thread-safe (writes on
//   many threads report at once) and must not throw.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/metrics.h"

namespace pulse::lake {

struct CommitEvent {
  std::string table;   // the table's folder: the last component of its root URL ("signals")
  double seconds = 0;  // the write, from its start (data files included) to its end
  int lost_races = 0;  // attempts that lost the race for their version
  bool committed = false;
};

using CommitHook = std::function<void(const CommitEvent&)>;

// Installs `hook` (empty: none), replacing the previous one.
void SetCommitHook(CommitHook hook);

// Installs a hook while it lives; its destruction removes the hook unless another replaced it.
class ScopedCommitHook {
 public:
  explicit ScopedCommitHook(CommitHook hook);
  ~ScopedCommitHook();
  ScopedCommitHook(const ScopedCommitHook&) = delete;
  ScopedCommitHook& operator=(const ScopedCommitHook&) = delete;

 private:
  uint64_t generation_;
};

// A hook recording, on `registry`, every commit of this process until the returned object is
// destroyed (destroy it before `registry`, once the process's writers have stopped):
//   pulse_lake_commit_seconds{table}          histogram of committed writes' time
//   pulse_lake_commit_conflicts_total{table}  lost races (each one a retry or, at the end, a kConflict)
//   pulse_lake_commit_failures_total{table}   writes that reached the commit loop and committed nothing
[[nodiscard]] std::unique_ptr<ScopedCommitHook> ExportCommitMetrics(metrics::Registry& registry);

namespace detail {

// Times one write from its construction and, once Armed (the write reached its commit loop),
// reports it to the hook when destroyed. A no-op without a hook.
class CommitProbe {
 public:
  // `root_url` is read only when a hook is installed.
  explicit CommitProbe(const std::string& root_url);
  ~CommitProbe();
  CommitProbe(const CommitProbe&) = delete;
  CommitProbe& operator=(const CommitProbe&) = delete;
  void Arm() { armed_ = true; }
  void LostRace() { ++lost_races_; }
  void Committed() { committed_ = true; }

 private:
  std::string table_;
  std::chrono::steady_clock::time_point start_;
  int lost_races_ = 0;
  bool committed_ = false;
  bool armed_ = false;
  bool active_ = false;
};

// "signals" for "file:///x/lake/signals" or "s3://b/p/signals/".
std::string TableNameOf(std::string_view root_url);

}  // namespace detail
}  // namespace pulse::lake
