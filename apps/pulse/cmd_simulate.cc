// pulse simulate --runs K --turns N --seed S [--rules FILE] [--catalog FILE] [--state FILE]
//                [--fork NAME=VALUE ...] [--symbolic] [--noise X] [--quantiles 5,50,95]
//                [--json FILE|-] [--no-lake]
// Monte Carlo of the world state (src/sim) through pipeline/simulate_job.h: a summary table of the
// key variables at the last turn on stdout (or the whole summary as JSON), the full summary in the
// lake's `simulations` table, a progress bar on a terminal. With --fork, the same runs are
// repeated with the given initial values and the divergence from the base is reported.
// pulse simulate retrodict: the rules replayed against observed history (the lake or a file).
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "cli_options.h"
#include "core/time.h"
#include "pipeline/retrodiction_history.h"
#include "pipeline/simulate_job.h"

namespace pulse::cli {
namespace {

struct SimulateArgs {
  pipeline::SimulateRequest request;
  std::string json, show;
  bool no_lake = false;
};

// --json: the document to stdout ("-") or to a file.
Status WriteJson(const nlohmann::json& doc, const std::string& target) {
  if (target == "-") {
    std::puts(doc.dump(1).c_str());
    return Status::Ok();
  }
  std::ofstream f(target);
  f << doc.dump(1) << "\n";
  return f ? Status::Ok() : Status::IoError("cannot write '" + target + "'");
}

// A progress bar on stderr when it is a terminal.
void ProgressBar(const char* label, uint64_t done, uint64_t total) {
  const int width = 40, filled = static_cast<int>(static_cast<double>(width) * static_cast<double>(done) /
                                                  static_cast<double>(total));
  std::fprintf(stderr, "\r%s [%.*s%*s] %3d%%", label, filled, "########################################",
               width - filled, "", static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)));
  if (done == total) std::fputc('\n', stderr);
}

// The table of the overlays, drivers and metrics (or --show names) at the last turn.
void PrintSimulation(const pipeline::SimulateRequest& request, const pipeline::SimulateOutcome& outcome,
                     const std::string& show) {
  const auto& summary = outcome.base.summary;
  const size_t last = summary.steps() - 1;
  const double run_turns = static_cast<double>(request.runs) * request.turns;
  const auto& forked = outcome.forked;
  std::printf("%llu runs x %u turns, seed %llu, symbolic %s: %.3f s (%.0f run-turns/s)\n",
              static_cast<unsigned long long>(request.runs), request.turns,
              static_cast<unsigned long long>(request.seed), outcome.turn.symbolic ? "on" : "off", outcome.base.seconds,
              run_turns / std::max(outcome.base.seconds, 1e-9));
  std::printf("%-26s %12s %12s", "variable (last turn)", "mean", "sd");
  for (double q : outcome.quantiles) std::printf(" %11s%g", "p", q * 100);
  if (forked) std::printf(" %12s", "fork - base");
  std::printf("\n");
  for (size_t c : pipeline::ShownColumns(outcome, SplitCommas(show))) {
    auto s = summary.Get(last, c, outcome.quantiles);
    std::printf("%-26s %12.6g %12.6g", summary.columns()[c].c_str(), s.mean, s.sd);
    for (double v : s.quantiles) std::printf(" %12.6g", v);
    if (forked) std::printf(" %12.3f", forked->summary.Get(last, c, {}).mean - s.mean);
    std::printf("\n");
  }
  if (const auto& w = outcome.written) {
    std::printf("summary: %lld rows in table 'simulations' (sim_id %s%s)\n", static_cast<long long>(w->rows),
                outcome.sim_id.c_str(), w->duplicate ? ", already there" : "");
  }
  if (const auto& p = outcome.paths_written) {
    std::printf("paths: %lld rows of %llu sampled runs in table 'simulation_paths'%s\n",
                static_cast<long long>(p->rows), static_cast<unsigned long long>(request.sample_paths),
                p->duplicate ? " (already there)" : "");
  }
}

int Simulate(SimulateArgs args, const Context& ctx) {
  args.request.world.exe_path = ctx.exe_path;
  args.request.write_lake = !args.no_lake;
  if (isatty(STDERR_FILENO) != 0) args.request.progress = ProgressBar;
  auto outcome = pipeline::RunSimulateJob(ctx.settings(), args.request);
  if (!outcome.ok()) return Fail(outcome.status());
  if (!args.json.empty()) {
    if (Status st = WriteJson(pipeline::SimulationJson(args.request, *outcome), args.json); !st.ok()) return Fail(st);
    if (args.json == "-") return kExitOk;
  }
  PrintSimulation(args.request, *outcome, args.show);
  return kExitOk;
}

struct RetroArgs {
  pipeline::RetrodictRequest request;
  std::string json;
};

void PrintRetrodiction(const pipeline::RetrodictRequest& request, const pipeline::RetrodictOutcome& outcome) {
  const sim::Catalog& catalog = *outcome.world.catalog;
  const auto& report = outcome.report;
  std::printf("retrodiction, %s grid, %s mode: %zu turns from %s to %s\n", request.grid.c_str(), request.mode.c_str(),
              report.turns, time::FormatTimestamp(outcome.history.times.front()).c_str(),
              time::FormatTimestamp(outcome.history.times.back()).c_str());
  std::printf("%-26s %8s %14s %14s\n", "variable", "count", "MSE", "MAE");
  for (const auto& e : report.errors) {
    std::printf("%-26s %8llu %14.6g %14.6g\n", catalog[e.slot].name.c_str(), static_cast<unsigned long long>(e.count),
                e.mse, e.mae);
  }
  std::printf(
      "overlay MSE %.6g, variable MSE %.6g, capital MSE %.6g, total MSE %.6g; error score above 1.5 on %llu turns\n",
      report.overlay_mse, report.variable_mse, report.capital_mse, report.total_mse,
      static_cast<unsigned long long>(report.misaligned_turns));
  const auto& unmapped = outcome.unmapped;
  if (!unmapped.empty()) {
    std::string list;
    for (size_t i = 0; i < unmapped.size() && i < 10; ++i) list += (i ? ", " : "") + unmapped[i];
    std::printf("%zu signals match no variable (ignored; --map signal=variable): %s%s\n", unmapped.size(), list.c_str(),
                unmapped.size() > 10 ? ", ..." : "");
  }
}

int Retrodict(const SimulateArgs& args, RetroArgs retro, const Context& ctx) {
  retro.request.world = args.request.world;
  retro.request.world.exe_path = ctx.exe_path;
  retro.request.symbolic = args.request.symbolic;
  const std::string csv = retro.request.csv;
  retro.request.on_csv_reject = [&csv](int64_t line, const std::string& reason) {
    std::fprintf(stderr, "%s:%lld: %s\n", csv.c_str(), static_cast<long long>(line), reason.c_str());
  };
  auto outcome = pipeline::RunRetrodictJob(ctx.settings(), retro.request);
  if (!outcome.ok()) return Fail(outcome.status());
  if (!retro.json.empty()) {
    const nlohmann::json out = pipeline::RetroReportJson(outcome->report, *outcome->world.catalog, outcome->history,
                                                         retro.request.grid, retro.request.mode, outcome->unmapped);
    if (Status st = WriteJson(out, retro.json); !st.ok()) return Fail(st);
    if (retro.json == "-") return kExitOk;
  }
  PrintRetrodiction(retro.request, *outcome);
  return kExitOk;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, Context& ctx, int& exit_code) {
  auto args = std::make_shared<SimulateArgs>();
  auto* cmd = app.add_subcommand("simulate", "Monte Carlo simulation of the world state (rules as data)");
  AddNumberOption(cmd, "--runs", args->request.runs, "Runs (K; at most config sim.max_runs)");
  AddNumberOption(cmd, "--turns", args->request.turns, "Turns per run (N; at most config sim.max_turns)", 0u,
                  std::numeric_limits<uint32_t>::max() - 1);
  AddNumberOption(cmd, "--seed", args->request.seed, "Random seed (results are bit-identical for a seed)");
  cmd->add_option("--rules", args->request.world.rules, "Rules YAML (default: the bundled data/sim/rules.yaml)");
  cmd->add_option("--catalog", args->request.world.catalog,
                  "Catalog YAML (default: the bundled data/sim/catalog.yaml)");
  cmd->add_option("--state", args->request.world.state,
                  "YAML map of initial values (name: value) replacing catalog defaults");
  cmd->add_option("--fork", args->request.forks,
                  "Counterfactual: rerun with name=value initially and report divergence");
  cmd->add_flag("--symbolic,!--no-symbolic", args->request.symbolic,
                "Apply rule effects on overlays (config sim.symbolic)");
  AddNumberOption(cmd, "--noise", args->request.noise,
                  "Noise sd as a fraction of each ranged slot's width; 0 = deterministic", 0.0, 1.0);
  cmd->add_option("--noise-file", args->request.noise_file,
                  "YAML map name: {initial_sd: X, turn_sd: Y} overriding the default noise per variable");
  cmd->add_option("--quantiles", args->request.quantiles, "Quantiles to report, in percent")->capture_default_str();
  cmd->add_option("--show", args->show,
                  "Comma-separated variables for the table (default: overlays, capital, drivers)");
  cmd->add_option("--json", args->json, "Write the whole summary as JSON to FILE ('-' for stdout)");
  cmd->add_option("--event", args->request.events,
                  "Apply a narrative event (data/sim/rules.yaml) before a turn: NAME@TURN");
  AddNumberOption(cmd, "--sample-paths", args->request.sample_paths,
                  "Also write the full paths of the first S runs (S <= runs) to the lake's simulation_paths table");
  cmd->add_flag("--no-lake", args->no_lake, "Do not write the summary to the lake");
  cmd->add_option("--broker", args->request.broker,
                  "Run the batch as chunk tasks on pulse workers behind this Redis (redis://host:port/db); "
                  "the merged result equals the in-process one");
  AddNumberOption(cmd, "--chunks", args->request.chunks, "Chunk tasks for --broker", 1, 100000);
  auto retro = std::make_shared<RetroArgs>();
  auto* sub = cmd->add_subcommand("retrodict", "Replay observed history (lake signals or a file) and report errors");
  sub->add_option("--csv", retro->request.csv,
                  "A signals file (CSV or JSON lines: name, ts, value) instead of the lake");
  sub->add_option("--kinds", retro->request.kinds, "Only these signal kinds from the lake (comma-separated)");
  sub->add_option("--grid", retro->request.grid, "Turn grid: daily or weekly")->capture_default_str();
  sub->add_option("--mode", retro->request.mode, "strict (inject each point, one-step-ahead) or free (seed, then run)")
      ->capture_default_str();
  sub->add_option("--map", retro->request.maps,
                  "signal=variable[/divisor|*factor]: read a signal as a catalog variable (repeatable)");
  sub->add_option("--json", retro->json, "Write the report as JSON to FILE ('-' for stdout)");
  sub->callback([args, retro, &ctx, &exit_code] { exit_code = Retrodict(*args, *retro, ctx); });
  cmd->require_subcommand(0, 1);
  cmd->callback([args, sub, &ctx, &exit_code] {
    if (!sub->parsed()) exit_code = Simulate(*args, ctx);
  });
}

}  // namespace pulse::cli
