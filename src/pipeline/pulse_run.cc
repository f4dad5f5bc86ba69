#include "pipeline/pulse_run.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/files.h"
#include "jobs/backends.h"
#include "lake/open_lake.h"
#include "pipeline/bundled_data.h"
#include "pipeline/task_worker.h"

namespace pulse::pipeline {
namespace {

// The output folder must be creatable and writable before any stage runs.
Status CheckWritable(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    return Status::IoError("output folder '" + dir +
                           "' cannot be created: " + (ec ? ec.message() : std::string("a file of that name exists")));
  }
  const auto probe = std::filesystem::path(dir) / ".pulse-write-test";
  std::ofstream f(probe);
  const bool ok = static_cast<bool>(f << "ok");
  f.close();
  std::filesystem::remove(probe, ec);
  if (!ok) return Status::IoError("output folder '" + dir + "' is not writable");
  return Status::Ok();
}

// The broker of the stages and, embedded, this process's worker over it.
struct Jobs {
  std::unique_ptr<jobs::Broker> broker;
  std::unique_ptr<jobs::ResultCache> cache;  // embedded only; outlives the worker
  std::unique_ptr<TaskWorker> worker;
};

Result<Jobs> StartJobs(const std::string& url, const std::string& cache_setting, TaskEnvironment env,
                       const MainJobOptions& options) {
  Jobs jobs;
  PULSE_ASSIGN_OR_RETURN(jobs.broker, jobs::OpenBroker(url));
  if (!jobs::IsLocalBrokerUrl(url)) return jobs;
  PULSE_ASSIGN_OR_RETURN(jobs.cache, jobs::OpenCache(jobs::CacheUrlFor(cache_setting, url)));
  env.lake_url = options.lake_url;
  // The dataset this command's user named is the one file its in-process worker may ingest
  // outside the inbox; nothing else can write to this process's broker.
  env.ingest_files = {options.dataset};
  jobs.worker = std::make_unique<TaskWorker>(*jobs.broker, std::move(env), EmbeddedWorkerOptions(),
                                             std::function<void(jobs::TaskRegistry&)>(), jobs.cache.get());
  jobs.worker->Start();
  return jobs;
}

Result<report::Report> MakeReport(lake::Lake& lake, const PulseRunOutcome& run, const WorldMapping& mapping) {
  report::ReportRequest request;
  request.signals_version = run.job.signals_version;
  request.sim_id = run.job.sim_id;
  request.key_variables = mapping.key_variables;
  request.previous = report::ReadPreviousSummary(run.plan.out);
  request.dataset = run.plan.dataset;
  PULSE_ASSIGN_OR_RETURN(report::Report report, report::GatherReport(lake, request));
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : run.job.stages)
    stages.push_back({{"stage", s.name}, {"task", s.task}, {"seconds", s.seconds}, {"result", s.result}});
  report.summary["stages"] = stages;
  report.summary["broker"] = jobs::IsLocalBrokerUrl(run.plan.broker) ? "inproc" : "redis";
  PULSE_RETURN_IF_ERROR(report::WriteReport(run.plan.out, report));
  return report;
}

}  // namespace

Result<PulseRunOutcome> RunPulse(const Settings& settings, const PulseRunRequest& request, const PulseRunHooks& hooks) {
  PulseRunOutcome run;
  PulseRunPlan& plan = run.plan;
  plan.broker = request.broker.empty() ? settings.jobs.broker : request.broker;
  plan.out = request.out.empty() ? settings.run.out : request.out;
  if (plan.broker != "inproc" && plan.broker != "memory" && plan.broker.rfind("redis://", 0) != 0)
    return Status::InvalidArgument("--broker must be inproc or redis://host:port/db, got '" + plan.broker + "'");
  const std::string& data = request.data.empty() ? settings.run.dataset : request.data;
  const std::string& mapping_file = request.mapping.empty() ? settings.run.mapping : request.mapping;
  PULSE_ASSIGN_OR_RETURN(std::string dataset,
                         FindBundledFile("us-macro-quarterly.csv", data, request.exe_path, "--data"));
  PULSE_ASSIGN_OR_RETURN(std::string mapping_path,
                         FindBundledFile("us-macro-world.yaml", mapping_file, request.exe_path, "--mapping"));
  PULSE_RETURN_IF_ERROR(CheckWritable(plan.out));
  PULSE_ASSIGN_OR_RETURN(TaskEnvironment env, TaskEnvironmentFromSettings(settings, request.exe_path));
  PULSE_ASSIGN_OR_RETURN(std::string mapping_text, ReadTextFile(mapping_path));
  PULSE_ASSIGN_OR_RETURN(WorldMapping mapping, ParseWorldMapping(mapping_text, mapping_path, *env.catalog));
  PULSE_ASSIGN_OR_RETURN(auto lake, lake::OpenLake(settings));

  MainJobOptions options;
  options.dataset = plan.dataset = std::filesystem::absolute(dataset).string();
  options.mapping = mapping;
  options.lake_url = plan.lake_url = lake->url();
  options.timeout = std::chrono::seconds(settings.jobs.timeout_seconds);
  options.sim_runs = settings.run.sim_runs;
  options.sim_turns = settings.run.sim_turns;
  options.seed = settings.run.seed;
  options.noise = settings.run.noise;
  PULSE_ASSIGN_OR_RETURN(Jobs jobs, StartJobs(plan.broker, settings.jobs.cache, std::move(env), options));
  plan.broker_display = jobs::BackendUrlForDisplay(plan.broker);
  if (hooks.started) hooks.started(plan);
  auto job = RunMainJob(*jobs.broker, *jobs.broker, options, hooks.stage);
  if (jobs.worker) jobs.worker->Stop();
  if (!job.ok()) return job.status();
  run.job = std::move(*job);

  if (hooks.stages_done) hooks.stages_done(run.job);
  const auto report_started = std::chrono::steady_clock::now();
  PULSE_ASSIGN_OR_RETURN(run.report, MakeReport(*lake, run, mapping));
  run.report_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - report_started).count();
  return run;
}

}  // namespace pulse::pipeline
