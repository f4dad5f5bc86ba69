// Pulse's main job (`pulse run`): the pipeline's stages as tasks on a jobs::TaskQueue, awaited in a
// jobs::ResultBackend (one broker in both roles), so the
// same code runs on in-process worker threads (embedded) and on remote `pulse worker`s (Redis):
//   1. pulse.ingest    the dataset (wide CSV, year/quarter) into the signals table (kind "macro")
//   2. pulse.forecast  every series of the lake (as `pulse forecast` does: the same options, so
//                      either one's run makes the other's a no-op), calibrated 50/80/95% intervals
//   3. pulse.world     the world state's Monte Carlo from the latest observations, into `simulations`
//   4. pulse.trust     trust scores of every forecast, into `trust_scores`
// Each stage waits for the previous one (its result names the signals version and simulation the
// next stage uses). Every task is idempotent, so rerunning on the same data writes nothing new.
// The dataset path must be readable by the workers (a shared file system in cluster mode).
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "jobs/result_backend.h"
#include "jobs/task_queue.h"
#include "pipeline/world_simulation.h"

namespace pulse::pipeline {

struct MainJobOptions {
  std::string dataset;  // absolute path
  std::string source = "us-macro-quarterly";
  WorldMapping mapping;
  std::string lake_url;  // passed to every task
  std::string queue = "celery";
  std::chrono::seconds timeout{600};  // per stage
  uint64_t sim_runs = 10000;
  uint32_t sim_turns = 12;
  uint64_t seed = 0;
  double noise = 0.01;
};

struct StageResult {
  std::string name;       // "ingest", "forecast", "simulate", "trust"
  std::string task;       // "pulse.ingest", ...
  nlohmann::json result;  // the task's result
  double seconds = 0;     // submit to result
};

struct MainJobResult {
  std::vector<StageResult> stages;
  int64_t signals_version = -1;
  std::string sim_id;
  int64_t rejected = 0;  // input rows the ingest stage rejected
};

inline constexpr int kMainJobStages = 4;

// Called before each stage starts (result == nullptr) and after it ends.
using StageCallback = std::function<void(int index, const std::string& name, const StageResult* result)>;

// Stops at the first failing stage with its error (the task's exception type and message); a
// dataset without one valid row is an error of the ingest stage (naming the first reject).
Result<MainJobResult> RunMainJob(jobs::TaskQueue& queue, jobs::ResultBackend& results, const MainJobOptions& options,
                                 const StageCallback& on_stage);

}  // namespace pulse::pipeline
