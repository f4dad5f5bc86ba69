// Pulse's own tasks for the job system (jobs/worker.h), callable from Python Celery by name:
//   pulse.noop        returns its args (throughput and latency benchmarks)
//   pulse.simulate    kwargs: runs, turns, seed, first_run, symbolic, noise, quantiles (fractions),
//                     variables (names to return; default: overlays, capital, drivers, tension,
//                     fragility), summary (true: also return the exact serialised summary, which
//                     chunk results merge with - sim::Summary::Deserialize / Merge)
//                     -> {runs, turns, seed, first_run, quantile_levels, variables: {name: {mean: [...],
//                        sd: [...], quantiles: [[...], ...]}}, summary?}
// Tasks are deterministic: the same kwargs give the same result, so redelivery is harmless, and
// pulse.simulate results are cached under SHA-256(task, canonical kwargs, catalog + rules version,
// decay rate): a new rules or catalog file misses the cache.
// Bad kwargs fail the task with a clear message (kInvalidArgument: not retried).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "jobs/worker.h"
#include "sim/world.h"

namespace pulse::pipeline {

struct TaskEnvironment {
  std::shared_ptr<const sim::Catalog> catalog;
  std::shared_ptr<const sim::RuleSet> rules;
  std::string version;  // SHA-256 of the catalog and rules text: the model version of cache keys
  double decay_rate = 0.01;
  uint64_t max_runs = 10000000, max_turns = 100000;
};

// Reads and parses the catalog and rules files once.
Result<TaskEnvironment> LoadTaskEnvironment(const std::string& catalog_path, const std::string& rules_path);

void RegisterPulseTasks(jobs::TaskRegistry& registry, TaskEnvironment environment);

}  // namespace pulse::pipeline
