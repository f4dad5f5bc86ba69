// pulse simulate --runs K --turns N --seed S [--rules FILE] [--catalog FILE] [--state FILE]
//                [--fork NAME=VALUE ...] [--symbolic] [--noise X] [--quantiles 5,50,95]
//                [--json FILE|-] [--no-lake]
// Monte Carlo of the world state (src/sim): a summary table of the key variables at the last
// turn on stdout (or the whole summary as JSON), the full summary in the lake's `simulations`
// table, a progress bar on a terminal. With --fork, the same runs are repeated with the given
// initial values and the divergence from the base is reported.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <chrono>
#include <fstream>
#include <thread>
#include <map>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "cli.h"
#include "cli_options.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/time.h"
#include "ingest/file_ingest.h"
#include "pipeline/retrodiction_history.h"
#include "pipeline/simulation_summary.h"
#include "core/ids.h"
#include "jobs/celery_protocol.h"
#include "jobs/backends.h"
#include "jobs/task_client.h"
#include "sim/monte_carlo.h"
#include "sim/retrodiction.h"

namespace pulse::cli {
namespace {

struct SimulateArgs {
  uint64_t runs = 1000;
  uint32_t turns = 52;
  uint64_t seed = 0;
  std::string rules, catalog, state, noise_file, json, quantiles = "5,50,95", show;
  std::vector<std::string> forks, events;
  std::optional<bool> symbolic;
  double noise = 0.01;
  uint64_t sample_paths = 0;
  bool no_lake = false;
  std::string broker;  // run the batch as chunk tasks on Celery-compatible workers
  int chunks = 4;
};

// The batch as `chunks` pulse.simulate tasks (runs split by first_run) on the workers behind
// `broker`; their exact summaries merge into what one process computes. rule_fired stays empty.
Result<sim::MonteCarloResult> RunChunked(const SimulateArgs& args, const sim::MonteCarloOptions& options,
                                         bool symbolic) {
  const auto started = std::chrono::steady_clock::now();
  PULSE_ASSIGN_OR_RETURN(auto broker, jobs::OpenBroker(args.broker, {.shared_only = true}));
  const uint64_t chunks = std::min<uint64_t>(static_cast<uint64_t>(std::max(1, args.chunks)), args.runs);
  std::vector<std::string> ids;
  for (uint64_t k = 0; k < chunks; ++k) {
    const uint64_t first = args.runs * k / chunks, last = args.runs * (k + 1) / chunks;
    jobs::TaskMessage m;
    m.task = "pulse.simulate";
    m.kwargs = {{"runs", last - first}, {"first_run", first}, {"turns", options.turns}, {"seed", options.seed},
                {"symbolic", symbolic}, {"noise", options.noise_scale}, {"quantiles", options.quantiles},
                {"variables", {"tension"}}, {"summary", true}};
    PULSE_ASSIGN_OR_RETURN(auto id, jobs::SubmitTask(*broker, std::move(m)));
    ids.push_back(id);
  }
  sim::MonteCarloResult result;
  for (const auto& id : ids) {
    PULSE_ASSIGN_OR_RETURN(auto done, jobs::AwaitResult(*broker, id, std::chrono::hours(24)));
    PULSE_ASSIGN_OR_RETURN(auto part, sim::Summary::Deserialize(done.value("summary", "")));
    result.summary.Merge(part);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

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

// name=value pairs against the catalog (for --fork and --state files).
Result<sim::Injection> ParseAssignments(const std::vector<std::pair<std::string, std::string>>& pairs,
                                        const sim::Catalog& catalog, const std::string& origin) {
  sim::Injection out;
  for (const auto& [name, text] : pairs) {
    const auto slot = catalog.Find(name);
    if (!slot) return Status::InvalidArgument(origin + ": unknown variable '" + name + "'");
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != 0 || !std::isfinite(v))
      return Status::InvalidArgument(origin + ": '" + name + "' needs a number, got '" + text + "'");
    out.emplace_back(*slot, v);
  }
  return out;
}

Result<sim::Injection> LoadState(const std::string& path, const sim::Catalog& catalog) {
  PULSE_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  std::vector<std::pair<std::string, std::string>> pairs;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return Status::ParseError(path + ": a state file is a map of name: value");
    for (const auto& kv : root) {
      if (!kv.second.IsScalar())
        return Status::ParseError(path + ":" + std::to_string(kv.first.Mark().line + 1) + ": '" +
                                  kv.first.Scalar() + "' needs a number");
      pairs.emplace_back(kv.first.Scalar(), kv.second.Scalar());
    }
  } catch (const YAML::ParserException& e) {
    return Status::ParseError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return ParseAssignments(pairs, catalog, path);
}

// Per-variable noise: a YAML map  name: {initial_sd: X, turn_sd: Y}  (either key optional, 0 by
// default), replacing the default noise of those variables.
Result<std::vector<std::pair<uint32_t, sim::Noise>>> LoadNoise(const std::string& path, const sim::Catalog& catalog) {
  PULSE_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  std::vector<std::pair<uint32_t, sim::Noise>> out;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return Status::ParseError(path + ": a noise file is a map of name: {initial_sd, turn_sd}");
    for (const auto& kv : root) {
      const std::string where = path + ":" + std::to_string(kv.first.Mark().line + 1);
      const auto slot = catalog.Find(kv.first.Scalar());
      if (!slot) return Status::InvalidArgument(where + ": unknown variable '" + kv.first.Scalar() + "'");
      if (!kv.second.IsMap()) return Status::ParseError(where + ": expected {initial_sd: X, turn_sd: Y}");
      sim::Noise noise;
      for (const auto& field : kv.second) {
        const std::string key = field.first.Scalar();
        double v = 0;
        try {
          v = field.second.as<double>();
        } catch (const YAML::Exception&) {
          return Status::ParseError(where + ": " + key + " needs a number");
        }
        if (!(v >= 0) || !std::isfinite(v)) return Status::InvalidArgument(where + ": " + key + " must be >= 0");
        if (key == "initial_sd") noise.initial_sd = v;
        else if (key == "turn_sd") noise.turn_sd = v;
        else return Status::InvalidArgument(where + ": unknown key '" + key + "' (initial_sd, turn_sd)");
      }
      out.emplace_back(*slot, noise);
    }
  } catch (const YAML::ParserException& e) {
    return Status::ParseError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return out;
}

Result<std::vector<double>> ParsePercentages(const std::string& text) {
  std::vector<double> out;
  for (const auto& item : SplitCommas(text)) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != 0 || !(v > 0 && v < 100))
      return Status::InvalidArgument("--quantiles expects percentages in (0, 100), got '" + item + "'");
    out.push_back(v / 100);
  }
  return out;
}

// The catalog, rules and initial state a simulation starts from.
struct World {
  std::string catalog_text, rules_text, state_text;
  std::unique_ptr<sim::Catalog> catalog;
  std::unique_ptr<sim::RuleSet> rules;
  std::vector<double> initial;
};

Result<World> LoadWorld(const SimulateArgs& args, const Context& ctx) {
  World w;
  PULSE_ASSIGN_OR_RETURN(std::string catalog_path, FindBundledFile("sim/catalog.yaml", args.catalog, ctx.exe_path, "--catalog"));
  PULSE_ASSIGN_OR_RETURN(std::string rules_path, FindBundledFile("sim/rules.yaml", args.rules, ctx.exe_path, "--rules"));
  PULSE_ASSIGN_OR_RETURN(w.catalog_text, ReadTextFile(catalog_path));
  PULSE_ASSIGN_OR_RETURN(auto catalog, sim::Catalog::Parse(w.catalog_text, catalog_path));
  w.catalog = std::make_unique<sim::Catalog>(std::move(catalog));
  PULSE_ASSIGN_OR_RETURN(w.rules_text, ReadTextFile(rules_path));
  PULSE_ASSIGN_OR_RETURN(auto rules, sim::ParseRules(w.rules_text, rules_path, *w.catalog));
  w.rules = std::make_unique<sim::RuleSet>(std::move(rules));
  w.initial = w.catalog->Initial();
  if (!args.state.empty()) {
    PULSE_ASSIGN_OR_RETURN(auto state, LoadState(args.state, *w.catalog));
    for (const auto& [slot, v] : state) w.initial[slot] = v, w.state_text += std::to_string(slot) + "=" + std::to_string(v) + ";";
  }
  return w;
}

sim::TurnOptions TurnOptionsFor(const SimulateArgs& args, const Context& ctx) {
  sim::TurnOptions turn;
  turn.decay_rate = ctx.config.GetDouble("sim.decay_rate");
  turn.symbolic = args.symbolic.value_or(ctx.config.GetBool("sim.symbolic"));
  return turn;
}

int Simulate(const SimulateArgs& args, const Context& ctx) {
  if (args.runs == 0 || args.runs > static_cast<uint64_t>(ctx.config.GetInt("sim.max_runs")))
    return Fail(Status::InvalidArgument("--runs must be 1.." + std::to_string(ctx.config.GetInt("sim.max_runs")) +
                                        " (config sim.max_runs), got " + std::to_string(args.runs)));
  if (args.turns == 0 || args.turns > static_cast<uint64_t>(ctx.config.GetInt("sim.max_turns")))
    return Fail(Status::InvalidArgument("--turns must be 1.." + std::to_string(ctx.config.GetInt("sim.max_turns")) +
                                        " (config sim.max_turns), got " + std::to_string(args.turns)));
  auto world = LoadWorld(args, ctx);
  if (!world.ok()) return Fail(world.status());
  const sim::Catalog* catalog = world->catalog.get();
  const sim::RuleSet* rules = world->rules.get();
  const std::vector<double>& initial = world->initial;
  const std::string& state_text = world->state_text;
  const std::string* catalog_text = &world->catalog_text;
  const std::string* rules_text = &world->rules_text;
  std::vector<std::pair<std::string, std::string>> fork_pairs;
  for (const auto& f : args.forks) {
    const auto eq = f.find('=');
    if (eq == std::string::npos) return Fail(Status::InvalidArgument("--fork expects name=value, got '" + f + "'"));
    fork_pairs.emplace_back(f.substr(0, eq), f.substr(eq + 1));
  }
  auto fork = ParseAssignments(fork_pairs, *catalog, "--fork");
  if (!fork.ok()) return Fail(fork.status());
  auto quantiles = ParsePercentages(args.quantiles);
  if (!quantiles.ok()) return Fail(quantiles.status());

  const sim::TurnOptions turn = TurnOptionsFor(args, ctx);
  sim::TurnEngine engine(*catalog, *rules, turn);
  sim::MonteCarloOptions options;
  options.runs = args.runs, options.turns = args.turns, options.seed = args.seed;
  options.threads = static_cast<int>(ctx.config.GetInt("threads"));
  options.quantiles = *quantiles;
  options.noise_scale = args.noise;
  options.sample_paths = args.sample_paths;
  std::string events_text;
  for (const auto& e : args.events) {
    const auto at = e.rfind('@');
    const auto event = at == std::string::npos ? std::nullopt : rules->FindEvent(e.substr(0, at));
    const uint64_t turn_at = at == std::string::npos ? 0 : ParseUint64(std::string_view(e).substr(at + 1)).value_or(0);
    if (!event || turn_at < 1 || turn_at > args.turns) {
      std::string known;
      for (const auto& ev : rules->events) known += (known.empty() ? "" : ", ") + ev.id;
      return Fail(Status::InvalidArgument("--event expects NAME@TURN with a turn in 1.." + std::to_string(args.turns) +
                                          " and one of: " + known + "; got '" + e + "'"));
    }
    options.events.emplace_back(static_cast<uint32_t>(turn_at), *event);
    events_text += e + ";";
  }
  std::string noise_text;
  if (!args.noise_file.empty()) {
    auto noise = LoadNoise(args.noise_file, *catalog);
    if (!noise.ok()) return Fail(noise.status());
    options.noise_overrides = *noise;
    for (const auto& [slot, n] : *noise)
      noise_text += std::to_string(slot) + ":" + std::to_string(n.initial_sd) + "," + std::to_string(n.turn_sd) + ";";
  }
  const bool bar = isatty(STDERR_FILENO) != 0;
  auto progress = [&](const char* label) {
    return [bar, label](uint64_t done, uint64_t total) {
      if (!bar) return;
      const int width = 40, filled = static_cast<int>(static_cast<double>(width) * static_cast<double>(done) / static_cast<double>(total));
      std::fprintf(stderr, "\r%s [%.*s%*s] %3d%%", label, filled, "########################################",
                   width - filled, "", static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)));
      if (done == total) std::fputc('\n', stderr);
    };
  };
  if (!args.broker.empty() && (!args.rules.empty() || !args.catalog.empty() || !args.state.empty() ||
                               !args.noise_file.empty() || !args.events.empty() || !args.forks.empty() ||
                               args.sample_paths > 0))
    return Fail(Status::InvalidArgument("--broker runs the workers' bundled rules and catalog: it cannot be combined "
                                        "with --rules, --catalog, --state, --noise-file, --event, --fork or --sample-paths"));
  auto base = args.broker.empty() ? sim::RunMonteCarlo(engine, initial, options, progress("simulate"))
                                  : RunChunked(args, options, turn.symbolic);
  if (!base.ok()) return Fail(base.status());
  std::optional<sim::MonteCarloResult> forked;
  if (!fork->empty()) {
    auto fork_options = options;
    fork_options.overrides = *fork;
    auto f = sim::RunMonteCarlo(engine, initial, fork_options, progress("fork    "));
    if (!f.ok()) return Fail(f.status());
    forked = std::move(*f);
  }

  const std::string rules_sha = Sha256Hex(*rules_text);
  const std::string sim_id = pipeline::SimulationId(
      {{"catalog", Sha256Hex(*catalog_text)}, {"rules", rules_sha}, {"state", state_text}, {"runs", args.runs},
       {"turns", args.turns}, {"seed", args.seed}, {"decay", turn.decay_rate}, {"symbolic", turn.symbolic},
       {"noise", args.noise}, {"noise_spec", noise_text}, {"events", events_text}});
  std::optional<pipeline::SimulationWrite> written, paths_written;
  if (!args.no_lake) {
    auto lake = OpenLake(ctx);
    if (!lake.ok()) return Fail(lake.status());
    pipeline::SimulationRecord record{sim_id, &base->summary, *quantiles, args.runs, args.turns, args.seed,
                                      turn.symbolic, rules_sha};
    auto w = pipeline::WriteSimulationSummary(**lake, record);
    if (!w.ok()) return Fail(w.status());
    written = *w;
    if (args.sample_paths > 0) {
      std::vector<std::string> names;
      for (const auto& slot : catalog->slots()) names.push_back(slot.name);
      auto p = pipeline::WriteSimulationPaths(**lake, sim_id, names, args.sample_paths, args.turns + 1, base->paths);
      if (!p.ok()) return Fail(p.status());
      paths_written = *p;
    }
  }

  const auto& summary = base->summary;
  const size_t last = summary.steps() - 1;
  const double run_turns = static_cast<double>(args.runs) * args.turns;
  if (!args.json.empty()) {
    nlohmann::json vars = nlohmann::json::object();
    for (size_t c = 0; c < summary.columns().size(); ++c) {
      nlohmann::json mean = nlohmann::json::array(), sd = nlohmann::json::array(), qs = nlohmann::json::array();
      for (size_t step = 0; step < summary.steps(); ++step) {
        auto s = summary.Get(step, c, *quantiles);
        mean.push_back(s.mean), sd.push_back(s.sd), qs.push_back(s.quantiles);
      }
      vars[summary.columns()[c]] = {{"mean", mean}, {"sd", sd}, {"quantiles", qs}};
    }
    nlohmann::json fired = nlohmann::json::object();
    for (size_t i = 0; i < base->rule_fired.size(); ++i) fired[rules->rules[i].id] = base->rule_fired[i];
    nlohmann::json out = {{"sim_id", sim_id}, {"runs", args.runs}, {"turns", args.turns}, {"seed", args.seed},
                          {"symbolic", turn.symbolic}, {"decay_rate", turn.decay_rate}, {"noise", args.noise},
                          {"quantile_levels", *quantiles}, {"seconds", base->seconds},
                          {"run_turns_per_second", run_turns / std::max(base->seconds, 1e-9)},
                          {"rule_run_turns_fired", fired}, {"variables", vars}};
    if (forked) {
      nlohmann::json divergence = nlohmann::json::object();
      for (size_t c = 0; c < summary.columns().size(); ++c) {
        const double d = forked->summary.Get(last, c, {}).mean - summary.Get(last, c, {}).mean;
        if (d != 0) divergence[summary.columns()[c]] = std::round(d * 1000) / 1000;
      }
      out["fork"] = {{"overrides", args.forks}, {"divergence_at_last_turn", divergence}};
    }
    if (written) out["lake"] = {{"table", "simulations"}, {"version", written->version}, {"rows", written->rows},
                                {"duplicate", written->duplicate}};
    if (paths_written)
      out["lake_paths"] = {{"table", "simulation_paths"}, {"version", paths_written->version},
                           {"rows", paths_written->rows}, {"duplicate", paths_written->duplicate}};
    if (Status st = WriteJson(out, args.json); !st.ok()) return Fail(st);
    if (args.json == "-") return kExitOk;
  }
  // Table of the overlays, drivers and metrics (or --show names) at the last turn.
  std::vector<size_t> shown;
  const auto show = SplitCommas(args.show);
  for (size_t c = 0; c < summary.columns().size(); ++c) {
    const std::string& name = summary.columns()[c];
    bool pick = show.empty() ? (c >= catalog->size() || (*catalog)[static_cast<uint32_t>(c)].kind != sim::SlotKind::kVariable ||
                                      (*catalog)[static_cast<uint32_t>(c)].type == "driver")
                                   : std::find(show.begin(), show.end(), name) != show.end();
    // Tag and arc shares: only the labels some run carries at the last turn.
    if (pick && c >= catalog->size() && (name.starts_with("tag.") || name.starts_with("arc.")) && show.empty())
      pick = summary.Get(last, c, {}).mean > 0;
    if (pick) shown.push_back(c);
  }
  std::printf("%llu runs x %u turns, seed %llu, symbolic %s: %.3f s (%.0f run-turns/s)\n",
              static_cast<unsigned long long>(args.runs), args.turns, static_cast<unsigned long long>(args.seed),
              turn.symbolic ? "on" : "off", base->seconds, run_turns / std::max(base->seconds, 1e-9));
  std::printf("%-26s %12s %12s", "variable (last turn)", "mean", "sd");
  for (double q : *quantiles) std::printf(" %11s%g", "p", q * 100);
  if (forked) std::printf(" %12s", "fork - base");
  std::printf("\n");
  for (size_t c : shown) {
    auto s = summary.Get(last, c, *quantiles);
    std::printf("%-26s %12.6g %12.6g", summary.columns()[c].c_str(), s.mean, s.sd);
    for (double v : s.quantiles) std::printf(" %12.6g", v);
    if (forked) std::printf(" %12.3f", forked->summary.Get(last, c, {}).mean - s.mean);
    std::printf("\n");
  }
  if (written)
    std::printf("summary: %lld rows in table 'simulations' (sim_id %s%s)\n", static_cast<long long>(written->rows),
                sim_id.c_str(), written->duplicate ? ", already there" : "");
  if (paths_written)
    std::printf("paths: %lld rows of %llu sampled runs in table 'simulation_paths'%s\n",
                static_cast<long long>(paths_written->rows), static_cast<unsigned long long>(args.sample_paths),
                paths_written->duplicate ? " (already there)" : "");
  return kExitOk;
}

struct RetroArgs {
  std::string csv, grid = "weekly", mode = "strict", kinds, json;
  std::vector<std::string> maps;
};

int Retrodict(const SimulateArgs& args, const RetroArgs& retro, const Context& ctx) {
  if (retro.grid != "daily" && retro.grid != "weekly")
    return Fail(Status::InvalidArgument("--grid is daily or weekly, got '" + retro.grid + "'"));
  if (retro.mode != "strict" && retro.mode != "free")
    return Fail(Status::InvalidArgument("--mode is strict or free, got '" + retro.mode + "'"));
  std::map<std::string, pipeline::SignalMapping> mapping;
  for (const auto& m : retro.maps) {
    // signal=variable, optionally scaled: signal=variable/100 or signal=variable*0.01
    const auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
      return Fail(Status::InvalidArgument("--map expects signal=variable[/divisor|*factor], got '" + m + "'"));
    std::string target = m.substr(eq + 1);
    double scale = 1;
    if (const auto op = target.find_first_of("/*"); op != std::string::npos) {
      char* end = nullptr;
      const std::string number = target.substr(op + 1);
      const double v = std::strtod(number.c_str(), &end);
      if (number.empty() || *end != 0 || !std::isfinite(v) || v == 0)
        return Fail(Status::InvalidArgument("--map: bad scale in '" + m + "'"));
      scale = target[op] == '/' ? 1 / v : v;
      target.resize(op);
    }
    mapping[m.substr(0, eq)] = {target, scale};
  }
  auto world = LoadWorld(args, ctx);
  if (!world.ok()) return Fail(world.status());
  for (const auto& [signal, target] : mapping)
    if (!world->catalog->Find(target.variable))
      return Fail(Status::InvalidArgument("--map: unknown variable '" + target.variable + "'"));
  std::shared_ptr<arrow::Table> signals;
  if (!retro.csv.empty()) {
    ingest::IngestOptions options;
    ingest::IngestReport parse_report;
    auto table = ingest::ParseSignalsFile(retro.csv, options, parse_report);
    if (!table.ok()) return Fail(table.status());
    for (const auto& r : parse_report.rejects) std::fprintf(stderr, "%s:%lld: %s\n", retro.csv.c_str(), static_cast<long long>(r.line), r.reason.c_str());
    if (parse_report.rejected > 0) return Fail(Status::InvalidArgument(retro.csv + ": " + std::to_string(parse_report.rejected) + " bad rows (listed above)"));
    signals = *table;
  } else {
    auto lake = OpenLake(ctx);
    if (!lake.ok()) return Fail(lake.status());
    auto table = (*lake)->OpenTable("signals");
    if (!table.ok()) return Fail(table.status());
    lake::ReadOptions read{.columns = {"kind", "name", "ts", "value"}};
    if (!retro.kinds.empty()) read.partition_filters.push_back({"kind", SplitCommas(retro.kinds)});
    auto rows = (*table)->Read(read);
    if (!rows.ok()) return Fail(rows.status());
    signals = *rows;
  }
  std::vector<std::string> unmapped;
  auto history = pipeline::BuildHistory(*signals, *world->catalog,
                                        retro.grid == "daily" ? pipeline::TurnGrid::kDaily : pipeline::TurnGrid::kWeekly,
                                        mapping, &unmapped);
  if (!history.ok()) return Fail(history.status());
  sim::TurnEngine engine(*world->catalog, *world->rules, TurnOptionsFor(args, ctx));
  auto report = sim::Retrodict(engine, world->initial, *history,
                               retro.mode == "strict" ? sim::RetroMode::kStrict : sim::RetroMode::kSeedThenFree);
  if (!report.ok()) return Fail(report.status());
  const sim::Catalog& catalog = *world->catalog;
  if (!retro.json.empty()) {
    const nlohmann::json out = pipeline::RetroReportJson(*report, catalog, *history, retro.grid, retro.mode, unmapped);
    if (Status st = WriteJson(out, retro.json); !st.ok()) return Fail(st);
    if (retro.json == "-") return kExitOk;
  }
  std::printf("retrodiction, %s grid, %s mode: %zu turns from %s to %s\n", retro.grid.c_str(), retro.mode.c_str(),
              report->turns, time::FormatTimestamp(history->times.front()).c_str(),
              time::FormatTimestamp(history->times.back()).c_str());
  std::printf("%-26s %8s %14s %14s\n", "variable", "count", "MSE", "MAE");
  for (const auto& e : report->errors)
    std::printf("%-26s %8llu %14.6g %14.6g\n", catalog[e.slot].name.c_str(), static_cast<unsigned long long>(e.count),
                e.mse, e.mae);
  std::printf("overlay MSE %.6g, variable MSE %.6g, capital MSE %.6g, total MSE %.6g; error score above 1.5 on %llu turns\n",
              report->overlay_mse, report->variable_mse, report->capital_mse, report->total_mse,
              static_cast<unsigned long long>(report->misaligned_turns));
  if (!unmapped.empty()) {
    std::string list;
    for (size_t i = 0; i < unmapped.size() && i < 10; ++i) list += (i ? ", " : "") + unmapped[i];
    std::printf("%zu signals match no variable (ignored; --map signal=variable): %s%s\n", unmapped.size(), list.c_str(),
                unmapped.size() > 10 ? ", ..." : "");
  }
  return kExitOk;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, Context& ctx, int& exit_code) {
  auto args = std::make_shared<SimulateArgs>();
  auto* cmd = app.add_subcommand("simulate", "Monte Carlo simulation of the world state (rules as data)");
  AddNumberOption(cmd, "--runs", args->runs, "Runs (K; at most config sim.max_runs)");
  AddNumberOption(cmd, "--turns", args->turns, "Turns per run (N; at most config sim.max_turns)", 0u,
                  std::numeric_limits<uint32_t>::max() - 1);
  AddNumberOption(cmd, "--seed", args->seed, "Random seed (results are bit-identical for a seed)");
  cmd->add_option("--rules", args->rules, "Rules YAML (default: the bundled data/sim/rules.yaml)");
  cmd->add_option("--catalog", args->catalog, "Catalog YAML (default: the bundled data/sim/catalog.yaml)");
  cmd->add_option("--state", args->state, "YAML map of initial values (name: value) replacing catalog defaults");
  cmd->add_option("--fork", args->forks, "Counterfactual: rerun with name=value initially and report divergence");
  cmd->add_flag("--symbolic,!--no-symbolic", args->symbolic, "Apply rule effects on overlays (config sim.symbolic)");
  AddNumberOption(cmd, "--noise", args->noise, "Noise sd as a fraction of each ranged slot's width; 0 = deterministic",
                  0.0, 1.0);
  cmd->add_option("--noise-file", args->noise_file,
                  "YAML map name: {initial_sd: X, turn_sd: Y} overriding the default noise per variable");
  cmd->add_option("--quantiles", args->quantiles, "Quantiles to report, in percent")->capture_default_str();
  cmd->add_option("--show", args->show, "Comma-separated variables for the table (default: overlays, capital, drivers)");
  cmd->add_option("--json", args->json, "Write the whole summary as JSON to FILE ('-' for stdout)");
  cmd->add_option("--event", args->events, "Apply a narrative event (data/sim/rules.yaml) before a turn: NAME@TURN");
  AddNumberOption(cmd, "--sample-paths", args->sample_paths,
                  "Also write the full paths of the first S runs (S <= runs) to the lake's simulation_paths table");
  cmd->add_flag("--no-lake", args->no_lake, "Do not write the summary to the lake");
  cmd->add_option("--broker", args->broker,
                  "Run the batch as chunk tasks on pulse workers behind this Redis (redis://host:port/db); "
                  "the merged result equals the in-process one");
  AddNumberOption(cmd, "--chunks", args->chunks, "Chunk tasks for --broker", 1, 100000);
  auto retro = std::make_shared<RetroArgs>();
  auto* sub = cmd->add_subcommand("retrodict", "Replay observed history (lake signals or a file) and report errors");
  sub->add_option("--csv", retro->csv, "A signals file (CSV or JSON lines: name, ts, value) instead of the lake");
  sub->add_option("--kinds", retro->kinds, "Only these signal kinds from the lake (comma-separated)");
  sub->add_option("--grid", retro->grid, "Turn grid: daily or weekly")->capture_default_str();
  sub->add_option("--mode", retro->mode, "strict (inject each point, one-step-ahead) or free (seed, then run)")
      ->capture_default_str();
  sub->add_option("--map", retro->maps,
                  "signal=variable[/divisor|*factor]: read a signal as a catalog variable (repeatable)");
  sub->add_option("--json", retro->json, "Write the report as JSON to FILE ('-' for stdout)");
  sub->callback([args, retro, &ctx, &exit_code] { exit_code = Retrodict(*args, *retro, ctx); });
  cmd->require_subcommand(0, 1);
  cmd->callback([args, sub, &ctx, &exit_code] {
    if (!sub->parsed()) exit_code = Simulate(*args, ctx);
  });
}

}  // namespace pulse::cli
