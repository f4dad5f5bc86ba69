// The task side of a Pulse process, set up one way for `pulse worker` (tasks from a remote broker)
// and `pulse run` (embedded: its stages on a worker thread of this process): the environment
// Pulse's tasks run in, read from the settings, and a jobs::Worker over those tasks that owns its
// task registry.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config_sections.h"
#include "core/status.h"
#include "jobs/broker.h"
#include "jobs/worker.h"
#include "pipeline/pulse_tasks.h"

namespace pulse::pipeline {

// The bundled sim/catalog.yaml and sim/rules.yaml (pipeline/bundled_data.h, found from exe_path)
// and, from the settings: sim.decay_rate (part of pulse.simulate's cache key), sim.max_runs and
// sim.max_turns, lake.url (every task's default lake), jobs.lake_roots, ingest.inbox and s3.*.
Result<TaskEnvironment> TaskEnvironmentFromSettings(const Settings& settings, const std::string& exe_path);

// pulse run's in-process worker: one task at a time (each stage uses every core inside), polling
// every 20 ms so that Stop() returns promptly.
jobs::WorkerOptions EmbeddedWorkerOptions();

// A jobs::Worker over Pulse's tasks (pipeline/pulse_tasks.h) and any `extra` ones, owning the
// registry the worker reads. Created stopped; the broker and the result cache (optional: null runs
// deterministic tasks without caching) must outlive it. Destruction stops it.
class TaskWorker {
 public:
  TaskWorker(jobs::Broker& broker, const TaskEnvironment& environment, jobs::WorkerOptions options,
             const std::function<void(jobs::TaskRegistry&)>& extra = {}, jobs::ResultCache* cache = nullptr);
  ~TaskWorker();
  TaskWorker(const TaskWorker&) = delete;
  TaskWorker& operator=(const TaskWorker&) = delete;

  void Start();
  // Finishes in-flight tasks (up to the shutdown grace) and stops; idempotent.
  void Stop();
  const jobs::WorkerStats& stats() const { return worker_->stats(); }
  // The worker's counters and task latency histogram (jobs::Worker::ExportMetrics) and what its
  // tasks did (pipeline/pipeline_metrics.h) in `registry`, which must not outlive this worker.
  void ExportMetrics(metrics::Registry& registry);
  const jobs::WorkerOptions& options() const { return options_; }
  std::vector<std::string> task_names() const { return registry_.Names(); }

 private:
  jobs::TaskRegistry registry_;
  std::shared_ptr<const PipelineStats> stats_;  // the tasks' (TaskEnvironment::stats)
  jobs::WorkerOptions options_;
  std::unique_ptr<jobs::Worker> worker_;
  bool running_ = false;
};

}  // namespace pulse::pipeline
