#include "lake/commit_metrics.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace pulse::lake {
namespace {

std::mutex g_mu;
std::shared_ptr<const CommitHook> g_hook;  // guarded by g_mu
uint64_t g_generation = 0;                 // guarded by g_mu: bumped by every install
std::atomic<bool> g_has_hook{false};

std::shared_ptr<const CommitHook> CurrentHook() {
  if (!g_has_hook.load(std::memory_order_relaxed)) return nullptr;
  std::lock_guard lock(g_mu);
  return g_hook;
}

// Installs `hook` and returns its generation.
uint64_t Install(CommitHook hook) {
  std::lock_guard lock(g_mu);
  g_hook = hook ? std::make_shared<const CommitHook>(std::move(hook)) : nullptr;
  g_has_hook.store(g_hook != nullptr, std::memory_order_relaxed);
  return ++g_generation;
}

}  // namespace

void SetCommitHook(CommitHook hook) { Install(std::move(hook)); }

ScopedCommitHook::ScopedCommitHook(CommitHook hook) : generation_(Install(std::move(hook))) {}

ScopedCommitHook::~ScopedCommitHook() {
  std::lock_guard lock(g_mu);
  if (g_generation != generation_) return;  // replaced since
  g_hook = nullptr;
  g_has_hook.store(false, std::memory_order_relaxed);
}

std::unique_ptr<ScopedCommitHook> ExportCommitMetrics(metrics::Registry& registry) {
  auto& seconds =
      registry.AddHistogram("pulse_lake_commit_seconds",
                            "Time of each committed Delta write (data files and log entry), by table.", {"table"});
  auto& conflicts = registry.AddCounter(
      "pulse_lake_commit_conflicts_total",
      "Commit attempts that lost the race for their version to a concurrent writer (retried or given up), by table.",
      {"table"});
  auto& failures =
      registry.AddCounter("pulse_lake_commit_failures_total",
                          "Delta writes that reached the commit step and committed nothing, by table.", {"table"});
  return std::make_unique<ScopedCommitHook>([&seconds, &conflicts, &failures](const CommitEvent& e) {
    // Every family gets the table's series, so rates and ratios have both sides from the start.
    auto& lost = conflicts.With({e.table});
    auto& failed = failures.With({e.table});
    lost.Inc(e.lost_races);
    if (e.committed) {
      seconds.With({e.table}).Observe(e.seconds);
    } else {
      failed.Inc();
    }
  });
}

namespace detail {

std::string TableNameOf(std::string_view root_url) {
  while (!root_url.empty() && root_url.back() == '/') root_url.remove_suffix(1);
  const size_t slash = root_url.rfind('/');
  return std::string(slash == std::string_view::npos ? root_url : root_url.substr(slash + 1));
}

CommitProbe::CommitProbe(const std::string& root_url) : active_(g_has_hook.load(std::memory_order_relaxed)) {
  if (!active_) return;
  table_ = TableNameOf(root_url);
  start_ = std::chrono::steady_clock::now();
}

CommitProbe::~CommitProbe() {
  if (!active_ || !armed_) return;
  auto hook = CurrentHook();
  if (!hook) return;
  CommitEvent event{.table = std::move(table_),
                    .seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
                    .lost_races = lost_races_,
                    .committed = committed_};
  try {
    (*hook)(event);
  } catch (...) {  // a hook must not throw; a metric is never worth a failed write
  }
}

}  // namespace detail
}  // namespace pulse::lake
