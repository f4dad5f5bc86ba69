// pulse run : Pulse's main job (pipeline/main_job.h) on embedded defaults: ingest the bundled US
// macro dataset, forecast every series, simulate the world from the latest observations, score
// trust, then write report.html and summary.json (pipeline/report_data.h). Stages run as tasks
// through the broker named by --broker / jobs.broker: "inproc" (worker threads in this process)
// or redis://… (remote `pulse worker`s that share the lake).
#include <cmath>
#include <filesystem>
#include <map>
#include <fstream>

#include "cli.h"
#include "core/files.h"
#include "core/time.h"
#include "jobs/backends.h"
#include "jobs/worker.h"
#include "pipeline/main_job.h"
#include "pipeline/report_data.h"

namespace pulse::cli {
namespace {

struct RunArgs {
  std::string data, mapping, out, broker;
};

// The output folder must be creatable and writable before any stage runs.
Status CheckWritable(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    return Status::IoError("output folder '" + dir + "' cannot be created: " +
                           (ec ? ec.message() : std::string("a file of that name exists")));
  const auto probe = std::filesystem::path(dir) / ".pulse-write-test";
  std::ofstream f(probe);
  const bool ok = static_cast<bool>(f << "ok");
  f.close();
  std::filesystem::remove(probe, ec);
  if (!ok) return Status::IoError("output folder '" + dir + "' is not writable");
  return Status::Ok();
}

std::string Describe(const pipeline::StageResult& s) {
  const auto& r = s.result;
  char buf[256];
  if (s.name == "ingest") {
    if (r.value("duplicate", false))
      return "no new observations (signals version " + std::to_string(r.value("version", -1)) + ")";
    std::snprintf(buf, sizeof buf, "%lld new signals (%lld already in the lake), %lld rejected -> signals version %lld",
                  static_cast<long long>(r.value("accepted", 0) - r.value("existing", 0)),
                  static_cast<long long>(r.value("existing", 0)), static_cast<long long>(r.value("rejected", 0)),
                  static_cast<long long>(r.value("version", -1)));
  } else if (s.name == "forecast") {
    if (r.value("duplicate", false))
      return "signals version " + std::to_string(r.value("signals_version", -1)) + " already forecast";
    std::snprintf(buf, sizeof buf, "%lld series, %lld rows -> forecasts version %lld",
                  static_cast<long long>(r.value("series", 0)), static_cast<long long>(r.value("rows", 0)),
                  static_cast<long long>(r.value("forecasts_version", -1)));
  } else if (s.name == "simulate") {
    std::snprintf(buf, sizeof buf, "%lld runs x %lld turns, simulation %s%s",
                  static_cast<long long>(r.value("runs", 0)), static_cast<long long>(r.value("turns", 0)),
                  r.value("sim_id", std::string()).c_str(), r.value("duplicate", false) ? " (already in the lake)" : "");
  } else {
    if (r.value("duplicate", false)) return "already scored";
    std::snprintf(buf, sizeof buf, "%lld series scored -> trust_scores version %lld",
                  static_cast<long long>(r.value("rows", 0)), static_cast<long long>(r.value("version", -1)));
  }
  return buf;
}

int Run(const Context& ctx, RunArgs args) {
  const auto started = std::chrono::steady_clock::now();
  if (args.data.empty()) args.data = ctx.config.GetString("run.dataset");
  if (args.mapping.empty()) args.mapping = ctx.config.GetString("run.mapping");
  if (args.out.empty()) args.out = ctx.config.GetString("run.out");
  if (args.broker.empty()) args.broker = ctx.config.GetString("jobs.broker");
  if (ctx.config.GetInt("run.sim_runs") > ctx.config.GetInt("sim.max_runs"))
    return Fail(Status::InvalidArgument("run.sim_runs (" + ctx.config.GetString("run.sim_runs") +
                                        ", from " + ctx.config.Origin("run.sim_runs") + ") exceeds sim.max_runs (" +
                                        ctx.config.GetString("sim.max_runs") + ")"));
  if (ctx.config.GetInt("run.sim_turns") > ctx.config.GetInt("sim.max_turns"))
    return Fail(Status::InvalidArgument("run.sim_turns (" + ctx.config.GetString("run.sim_turns") +
                                        ", from " + ctx.config.Origin("run.sim_turns") + ") exceeds sim.max_turns (" +
                                        ctx.config.GetString("sim.max_turns") + ")"));
  auto opened = jobs::OpenBroker(args.broker);
  if (!opened.ok()) return Fail(opened.status());
  std::unique_ptr<jobs::Broker> broker = std::move(*opened);
  auto dataset = FindBundledFile("us-macro-quarterly.csv", args.data, ctx.exe_path, "--data");
  if (!dataset.ok()) return Fail(dataset.status());
  auto mapping_path = FindBundledFile("us-macro-world.yaml", args.mapping, ctx.exe_path, "--mapping");
  if (!mapping_path.ok()) return Fail(mapping_path.status());
  auto catalog = FindBundledFile("sim/catalog.yaml", "", ctx.exe_path, "--catalog");
  if (!catalog.ok()) return Fail(catalog.status());
  auto rules = FindBundledFile("sim/rules.yaml", "", ctx.exe_path, "--rules");
  if (!rules.ok()) return Fail(rules.status());
  if (Status st = CheckWritable(args.out); !st.ok()) return Fail(st);
  auto env = pipeline::LoadTaskEnvironment(*catalog, *rules);
  if (!env.ok()) return Fail(env.status());
  auto mapping_text = ReadTextFile(*mapping_path);
  if (!mapping_text.ok()) return Fail(mapping_text.status());
  auto mapping = pipeline::ParseWorldMapping(*mapping_text, *mapping_path, *env->catalog);
  if (!mapping.ok()) return Fail(mapping.status());
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());

  pipeline::MainJobOptions options;
  options.dataset = std::filesystem::absolute(*dataset).string();
  options.mapping = *mapping;
  options.lake_url = (*lake)->url();
  options.timeout = std::chrono::seconds(ctx.config.GetInt("jobs.timeout_seconds"));
  options.sim_runs = static_cast<uint64_t>(ctx.config.GetInt("run.sim_runs"));
  options.sim_turns = static_cast<uint32_t>(ctx.config.GetInt("run.sim_turns"));
  options.seed = static_cast<uint64_t>(ctx.config.GetInt("run.seed"));
  options.noise = ctx.config.GetDouble("run.noise");

  // Embedded, this process's workers.
  const bool embedded = jobs::IsLocalBrokerUrl(args.broker);
  std::unique_ptr<jobs::ResultCache> cache;
  jobs::TaskRegistry registry;
  std::unique_ptr<jobs::Worker> worker;
  if (embedded) {
    auto opened_cache = jobs::OpenCache(jobs::CacheUrlFor(ctx.config.GetString("jobs.cache"), args.broker));
    if (!opened_cache.ok()) return Fail(opened_cache.status());
    cache = std::move(*opened_cache);
    env->decay_rate = ctx.config.GetDouble("sim.decay_rate");
    env->max_runs = static_cast<uint64_t>(ctx.config.GetInt("sim.max_runs"));
    env->max_turns = static_cast<uint64_t>(ctx.config.GetInt("sim.max_turns"));
    env->lake_url = options.lake_url;
    // The dataset this command's user named is the one file its in-process worker may ingest
    // outside the inbox; nothing else can write to this process's broker.
    env->ingest_files = {options.dataset};
    env->ingest_inbox = ctx.config.GetString("ingest.inbox");
    env->lake_roots = SplitCommas(ctx.config.GetString("jobs.lake_roots"));
    env->s3 = S3OptionsFrom(ctx);
    pipeline::RegisterPulseTasks(registry, *env);
    jobs::WorkerOptions worker_options;
    worker_options.concurrency = 1;  // stages run one at a time; each uses every core inside
    worker_options.poll = std::chrono::milliseconds(20);  // bounds the wait for Stop()
    worker = std::make_unique<jobs::Worker>(*broker, registry, worker_options, cache.get());
    worker->Start();
  }
  std::printf("Pulse run: %s -> lake %s (jobs: %s)\n", options.dataset.c_str(), options.lake_url.c_str(),
              jobs::BackendUrlForDisplay(args.broker).c_str());
  const int total = pipeline::kMainJobStages + 1;
  auto progress = [&](int index, const std::string& name, const pipeline::StageResult* result) {
    if (!result) {
      std::printf("[%d/%d] %-9s ...", index + 1, total, name.c_str());
      std::fflush(stdout);
    } else {
      std::printf(" %s (%.2f s)\n", Describe(*result).c_str(), result->seconds);
    }
  };
  auto job = pipeline::RunMainJob(*broker, *broker, options, progress);
  if (worker) worker->Stop();
  if (!job.ok()) {
    std::printf(" failed\n");
    return Fail(job.status());
  }
  const auto& ingest = job->stages.front().result;
  for (const auto& r : ingest.value("rejects", nlohmann::json::array()))
    std::fprintf(stderr, "%s:%lld: %s\n", options.dataset.c_str(), static_cast<long long>(r.value("line", 0)),
                 r.value("reason", std::string()).c_str());

  std::printf("[%d/%d] report    ...", total, total);
  std::fflush(stdout);
  const auto report_started = std::chrono::steady_clock::now();
  pipeline::ReportRequest request;
  request.signals_version = job->signals_version;
  request.sim_id = job->sim_id;
  request.key_variables = mapping->key_variables;
  request.previous = pipeline::ReadPreviousSummary(args.out);
  request.dataset = options.dataset;
  auto report = pipeline::GatherReport(**lake, request);
  if (!report.ok()) {
    std::printf(" failed\n");
    return Fail(report.status());
  }
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : job->stages)
    stages.push_back({{"stage", s.name}, {"task", s.task}, {"seconds", s.seconds}, {"result", s.result}});
  report->summary["stages"] = stages;
  report->summary["broker"] = embedded ? "inproc" : "redis";
  if (Status st = pipeline::WriteReport(args.out, *report); !st.ok()) {
    std::printf(" failed\n");
    return Fail(st);
  }
  std::printf(" %zu fan charts, %zu simulation charts, %zu trust rows (%.2f s)\n\n", report->data.series.size(),
              report->data.simulation.size(), report->data.trust.size(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - report_started).count());
  // The next step of every forecast, with its trust, for the terminal.
  std::map<std::string, const pipeline::TrustRow*> trust;
  for (const auto& t : report->data.trust) trust[t.series] = &t;
  std::printf("%-10s %-11s %12s   %-24s  %s\n", "series", "next", "forecast", "80% band (calibrated)",
              "trust (heuristic)");
  for (const auto& c : report->data.series) {
    if (c.mean.empty()) continue;
    double lo = NAN, hi = NAN;
    for (const auto& b : c.bands)
      if (std::abs(b.level - 0.8) < 1e-9 && !b.lower.empty()) lo = b.lower[0], hi = b.upper[0];
    auto t = trust.find(c.name);
    std::printf("%-10s %-11s %12.5g   [%10.5g, %10.5g]  %-9s %s\n", c.name.c_str(), time::FormatDate(c.target_ts[0]).c_str(),
                c.mean[0], lo, hi, t != trust.end() ? t->second->trust_label.c_str() : "-",
                t != trust.end() ? ("confidence " + std::to_string(t->second->confidence).substr(0, 5)).c_str() : "");
  }
  std::printf("\nWhat changed since the last run:\n");
  for (const auto& c : report->data.changes) std::printf("  - %s\n", c.c_str());
  const auto out_dir = std::filesystem::absolute(args.out);
  std::printf("\nDone in %.1f s. Report: %s\nSummary: %s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
              (out_dir / "report.html").c_str(), (out_dir / "summary.json").c_str());
  std::printf("Tables: forecasts, simulations, trust_scores in %s (pulse lake list)\n", options.lake_url.c_str());
  return job->rejected > 0 ? kExitRejects : kExitOk;
}

}  // namespace

void AddRunCommand(CLI::App& app, Context& ctx, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Run Pulse's main job: ingest, forecast, simulate, score trust, report");
  cmd->add_option("--data", args->data, "The US macro CSV (default: run.dataset, else the bundled data/us-macro-quarterly.csv)");
  cmd->add_option("--mapping", args->mapping, "Signal -> world-state mapping YAML (default: data/us-macro-world.yaml)");
  cmd->add_option("--out", args->out, "Folder for report.html and summary.json (default: run.out = pulse-report)");
  cmd->add_option("--broker", args->broker, "inproc (default, jobs.broker) or redis://host:port/db with pulse workers");
  cmd->callback([args, &ctx, &exit_code] { exit_code = Run(ctx, *args); });
}

}  // namespace pulse::cli
