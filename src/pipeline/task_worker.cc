#include "pipeline/task_worker.h"

#include "lake/open_lake.h"
#include "pipeline/bundled_data.h"

namespace pulse::pipeline {

Result<TaskEnvironment> TaskEnvironmentFromSettings(const Settings& settings, const std::string& exe_path) {
  PULSE_ASSIGN_OR_RETURN(std::string catalog, FindBundledFile("sim/catalog.yaml", "", exe_path, "--catalog"));
  PULSE_ASSIGN_OR_RETURN(std::string rules, FindBundledFile("sim/rules.yaml", "", exe_path, "--rules"));
  PULSE_ASSIGN_OR_RETURN(TaskEnvironment env, LoadTaskEnvironment(catalog, rules));
  env.decay_rate = settings.sim.decay_rate;  // part of the cache key
  env.max_runs = settings.sim.max_runs;
  env.max_turns = settings.sim.max_turns;
  env.lake_url = settings.lake.url;  // every task's default lake
  env.lake_roots = settings.jobs.lake_roots;
  env.ingest_inbox = settings.ingest.inbox;
  env.ingest_max_bytes = settings.ingest.max_file_bytes;
  env.registry = settings.registry;
  env.s3 = lake::S3OptionsFrom(settings.s3);
  PULSE_ASSIGN_OR_RETURN(env.scoring, LoadScoringRules(settings.ingest.scoring_rules, exe_path));
  return env;
}

jobs::WorkerOptions EmbeddedWorkerOptions() {
  jobs::WorkerOptions options;
  options.concurrency = 1;                       // stages run one at a time; each uses every core inside
  options.poll = std::chrono::milliseconds(20);  // bounds the wait for Stop()
  return options;
}

TaskWorker::TaskWorker(jobs::Broker& broker, const TaskEnvironment& environment, jobs::WorkerOptions options,
                       const std::function<void(jobs::TaskRegistry&)>& extra, jobs::ResultCache* cache)
    : options_(std::move(options)) {
  TaskEnvironment with_stats = environment;
  if (!with_stats.stats) with_stats.stats = std::make_shared<PipelineStats>();
  stats_ = with_stats.stats;
  RegisterPulseTasks(registry_, with_stats);
  if (extra) extra(registry_);
  worker_ = std::make_unique<jobs::Worker>(broker, registry_, options_, cache);
}

TaskWorker::~TaskWorker() { Stop(); }

void TaskWorker::ExportMetrics(metrics::Registry& registry) {
  worker_->ExportMetrics(registry);
  ExportPipelineMetrics(*stats_, registry);
}

void TaskWorker::Start() {
  if (running_) return;
  worker_->Start();
  running_ = true;
}

void TaskWorker::Stop() {
  if (!running_) return;
  worker_->Stop();
  running_ = false;
}

}  // namespace pulse::pipeline
