// pulse run : Pulse's main job (pipeline/pulse_run.h, pipeline/main_job.h) on embedded defaults: ingest the bundled US
// macro dataset, forecast every series, simulate the world from the latest observations, score
// trust, then write report.html and summary.json (report/report_data.h). Stages run as tasks
// through the broker named by --broker / jobs.broker: "inproc" (worker threads in this process)
// or redis://… (remote `pulse worker`s that share the lake).
#include <cmath>
#include <filesystem>
#include <map>

#include "cli.h"
#include "core/time.h"
#include "pipeline/pulse_run.h"

namespace pulse::cli {
namespace {

// run.sim_runs and run.sim_turns within the simulation limits, naming where each came from.
Status CheckRunLimits(const Config& config) {
  const Settings& s = config.settings();
  if (s.run.sim_runs > s.sim.max_runs) {
    return Status::InvalidArgument("run.sim_runs (" + std::to_string(s.run.sim_runs) + ", from " +
                                   config.Origin("run.sim_runs") + ") exceeds sim.max_runs (" +
                                   std::to_string(s.sim.max_runs) + ")");
  }
  if (s.run.sim_turns > s.sim.max_turns) {
    return Status::InvalidArgument("run.sim_turns (" + std::to_string(s.run.sim_turns) + ", from " +
                                   config.Origin("run.sim_turns") + ") exceeds sim.max_turns (" +
                                   std::to_string(s.sim.max_turns) + ")");
  }
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
                  r.value("sim_id", std::string()).c_str(),
                  r.value("duplicate", false) ? " (already in the lake)" : "");
  } else {
    if (r.value("duplicate", false)) return "already scored";
    std::snprintf(buf, sizeof buf, "%lld series scored -> trust_scores version %lld",
                  static_cast<long long>(r.value("rows", 0)), static_cast<long long>(r.value("version", -1)));
  }
  return buf;
}

// The next step of every forecast, with its trust, and what changed since the last run.
void PrintForecasts(const report::ReportData& data) {
  std::map<std::string, const report::TrustRow*> trust;
  for (const auto& t : data.trust) trust[t.series] = &t;
  std::printf("%-10s %-11s %12s   %-24s  %s\n", "series", "next", "forecast", "80% band (calibrated)",
              "trust (heuristic)");
  for (const auto& c : data.series) {
    if (c.mean.empty()) continue;
    double lo = NAN, hi = NAN;
    for (const auto& b : c.bands)
      if (std::abs(b.level - 0.8) < 1e-9 && !b.lower.empty()) lo = b.lower[0], hi = b.upper[0];
    auto t = trust.find(c.name);
    std::printf("%-10s %-11s %12.5g   [%10.5g, %10.5g]  %-9s %s\n", c.name.c_str(),
                time::FormatDate(c.target_ts[0]).c_str(), c.mean[0], lo, hi,
                t != trust.end() ? t->second->trust_label.c_str() : "-",
                t != trust.end() ? ("confidence " + std::to_string(t->second->confidence).substr(0, 5)).c_str() : "");
  }
  std::printf("\nWhat changed since the last run:\n");
  for (const auto& c : data.changes) std::printf("  - %s\n", c.c_str());
}

// Progress lines on stdout: "[i/5] stage ... result (s)"; an open line ends in " failed" on error.
struct RunProgress {
  static constexpr int kTotal = pipeline::kMainJobStages + 1;
  bool open = false;
  std::string dataset;  // where rejected rows are

  pipeline::PulseRunHooks Hooks() {
    pipeline::PulseRunHooks hooks;
    hooks.started = [this](const pipeline::PulseRunPlan& plan) {
      dataset = plan.dataset;
      std::printf("Pulse run: %s -> lake %s (jobs: %s)\n", plan.dataset.c_str(), plan.lake_url.c_str(),
                  plan.broker_display.c_str());
    };
    hooks.stage = [this](int index, const std::string& name, const pipeline::StageResult* result) {
      if (!result) {
        Begin(index, name);
      } else {
        End(Describe(*result), result->seconds);
      }
    };
    hooks.stages_done = [this](const pipeline::MainJobResult& job) {
      const auto& ingest = job.stages.front().result;
      for (const auto& r : ingest.value("rejects", nlohmann::json::array())) {
        std::fprintf(stderr, "%s:%lld: %s\n", dataset.c_str(), static_cast<long long>(r.value("line", 0)),
                     r.value("reason", std::string()).c_str());
      }
      Begin(kTotal - 1, "report");
    };
    return hooks;
  }
  void Begin(int index, const std::string& name) {
    std::printf("[%d/%d] %-9s ...", index + 1, kTotal, name.c_str());
    std::fflush(stdout);
    open = true;
  }
  void End(const std::string& what, double seconds) {
    std::printf(" %s (%.2f s)\n", what.c_str(), seconds);
    open = false;
  }
};

int Run(const Context& ctx, const pipeline::PulseRunRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  if (Status st = CheckRunLimits(ctx.config); !st.ok()) return Fail(st);
  RunProgress progress;
  auto run = pipeline::RunPulse(ctx.settings(), request, progress.Hooks());
  if (!run.ok()) {
    if (progress.open) std::printf(" failed\n");
    return Fail(run.status());
  }
  const report::ReportData& data = run->report.data;
  char what[160];
  std::snprintf(what, sizeof what, "%zu fan charts, %zu simulation charts, %zu trust rows", data.series.size(),
                data.simulation.size(), data.trust.size());
  progress.End(what, run->report_seconds);
  std::printf("\n");
  PrintForecasts(data);
  const auto out_dir = std::filesystem::absolute(run->plan.out);
  std::printf("\nDone in %.1f s. Report: %s\nSummary: %s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
              (out_dir / "report.html").c_str(), (out_dir / "summary.json").c_str());
  std::printf("Tables: forecasts, simulations, trust_scores in %s (pulse lake list)\n", run->plan.lake_url.c_str());
  return run->job.rejected > 0 ? kExitRejects : kExitOk;
}

}  // namespace

void AddRunCommand(CLI::App& app, Context& ctx, int& exit_code) {
  auto args = std::make_shared<pipeline::PulseRunRequest>();
  auto* cmd = app.add_subcommand("run", "Run Pulse's main job: ingest, forecast, simulate, score trust, report");
  cmd->add_option("--data", args->data,
                  "The US macro CSV (default: run.dataset, else the bundled data/us-macro-quarterly.csv)");
  cmd->add_option("--mapping", args->mapping, "Signal -> world-state mapping YAML (default: data/us-macro-world.yaml)");
  cmd->add_option("--out", args->out, "Folder for report.html and summary.json (default: run.out = pulse-report)");
  cmd->add_option("--broker", args->broker, "inproc (default, jobs.broker) or redis://host:port/db with pulse workers");
  cmd->callback([args, &ctx, &exit_code] {
    args->exe_path = ctx.exe_path;
    exit_code = Run(ctx, *args);
  });
}

}  // namespace pulse::cli
