#include "pipeline/simulate_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>

#include <arrow/api.h>
#include <yaml-cpp/yaml.h>

#include "core/config.h"
#include "core/files.h"
#include "core/hash.h"
#include "ingest/file_ingest.h"
#include "jobs/backends.h"
#include "jobs/celery_protocol.h"
#include "jobs/task_client.h"
#include "lake/open_lake.h"
#include "pipeline/bundled_data.h"
#include "pipeline/retrodiction_history.h"

namespace pulse::pipeline {
namespace {

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
      if (!kv.second.IsScalar()) {
        return Status::ParseError(path + ":" + std::to_string(kv.first.Mark().line + 1) + ": '" + kv.first.Scalar() +
                                  "' needs a number");
      }
      pairs.emplace_back(kv.first.Scalar(), kv.second.Scalar());
    }
  } catch (const YAML::ParserException& e) {
    return Status::ParseError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return ParseAssignments(pairs, catalog, path);
}

// One variable's {initial_sd: X, turn_sd: Y} (either key optional, 0 by default).
Result<sim::Noise> ParseNoiseEntry(const YAML::Node& fields, const std::string& where) {
  if (!fields.IsMap()) return Status::ParseError(where + ": expected {initial_sd: X, turn_sd: Y}");
  sim::Noise noise;
  for (const auto& field : fields) {
    const std::string key = field.first.Scalar();
    double v = 0;
    try {
      v = field.second.as<double>();
    } catch (const YAML::Exception&) {
      return Status::ParseError(where + ": " + key + " needs a number");
    }
    if (!(v >= 0) || !std::isfinite(v)) return Status::InvalidArgument(where + ": " + key + " must be >= 0");
    if (key == "initial_sd") {
      noise.initial_sd = v;
    } else if (key == "turn_sd") {
      noise.turn_sd = v;
    } else {
      return Status::InvalidArgument(where + ": unknown key '" + key + "' (initial_sd, turn_sd)");
    }
  }
  return noise;
}

// Per-variable noise: a YAML map  name: {initial_sd: X, turn_sd: Y}, replacing the default noise
// of those variables.
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
      PULSE_ASSIGN_OR_RETURN(sim::Noise noise, ParseNoiseEntry(kv.second, where));
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

Result<sim::Injection> ParseForks(const std::vector<std::string>& forks, const sim::Catalog& catalog) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& f : forks) {
    const auto eq = f.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument("--fork expects name=value, got '" + f + "'");
    pairs.emplace_back(f.substr(0, eq), f.substr(eq + 1));
  }
  return ParseAssignments(pairs, catalog, "--fork");
}

// --event NAME@TURN into options.events; returns the events' part of the simulation identity.
Result<std::string> AddEvents(const std::vector<std::string>& events, const sim::RuleSet& rules, uint32_t turns,
                              sim::MonteCarloOptions& options) {
  std::string identity;
  for (const auto& e : events) {
    const auto at = e.rfind('@');
    const auto event = at == std::string::npos ? std::nullopt : rules.FindEvent(e.substr(0, at));
    const uint64_t turn_at = at == std::string::npos ? 0 : ParseUint64(std::string_view(e).substr(at + 1)).value_or(0);
    if (!event || turn_at < 1 || turn_at > turns) {
      std::string known;
      for (const auto& ev : rules.events) known += (known.empty() ? "" : ", ") + ev.id;
      return Status::InvalidArgument("--event expects NAME@TURN with a turn in 1.." + std::to_string(turns) +
                                     " and one of: " + known + "; got '" + e + "'");
    }
    options.events.emplace_back(static_cast<uint32_t>(turn_at), *event);
    identity += e + ";";
  }
  return identity;
}

// --noise-file into options.noise_overrides; returns the noise part of the simulation identity.
Result<std::string> AddNoiseFile(const std::string& path, const sim::Catalog& catalog,
                                 sim::MonteCarloOptions& options) {
  std::string identity;
  if (path.empty()) return identity;
  PULSE_ASSIGN_OR_RETURN(auto noise, LoadNoise(path, catalog));
  options.noise_overrides = noise;
  for (const auto& [slot, n] : noise)
    identity += std::to_string(slot) + ":" + std::to_string(n.initial_sd) + "," + std::to_string(n.turn_sd) + ";";
  return identity;
}

// The batch as `chunks` pulse.simulate tasks (runs split by first_run) on the workers behind
// `broker`; their exact summaries merge into what one process computes. rule_fired stays empty.
Result<sim::MonteCarloResult> RunChunked(const SimulateRequest& request, const sim::MonteCarloOptions& options,
                                         bool symbolic) {
  const auto started = std::chrono::steady_clock::now();
  PULSE_ASSIGN_OR_RETURN(auto broker, jobs::OpenBroker(request.broker, {.shared_only = true}));
  const uint64_t chunks = std::min<uint64_t>(static_cast<uint64_t>(std::max(1, request.chunks)), request.runs);
  std::vector<std::string> ids;
  for (uint64_t k = 0; k < chunks; ++k) {
    const uint64_t first = request.runs * k / chunks, last = request.runs * (k + 1) / chunks;
    jobs::TaskMessage m;
    m.task = "pulse.simulate";
    m.kwargs = {{"runs", last - first},           {"first_run", first},       {"turns", options.turns},
                {"seed", options.seed},           {"symbolic", symbolic},     {"noise", options.noise_scale},
                {"quantiles", options.quantiles}, {"variables", {"tension"}}, {"summary", true}};
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

std::function<void(uint64_t, uint64_t)> ProgressFor(const SimulateRequest& request, const char* label) {
  if (!request.progress) return {};
  return [progress = request.progress, label](uint64_t done, uint64_t total) { progress(label, done, total); };
}

Status CheckLimits(const SimSettings& sim, const SimulateRequest& request) {
  if (request.runs == 0 || request.runs > sim.max_runs) {
    return Status::InvalidArgument("--runs must be 1.." + std::to_string(sim.max_runs) +
                                   " (config sim.max_runs), got " + std::to_string(request.runs));
  }
  if (request.turns == 0 || request.turns > sim.max_turns) {
    return Status::InvalidArgument("--turns must be 1.." + std::to_string(sim.max_turns) +
                                   " (config sim.max_turns), got " + std::to_string(request.turns));
  }
  return Status::Ok();
}

Status CheckBrokerAlone(const SimulateRequest& r) {
  if (r.broker.empty()) return Status::Ok();
  if (!r.world.rules.empty() || !r.world.catalog.empty() || !r.world.state.empty() || !r.noise_file.empty() ||
      !r.events.empty() || !r.forks.empty() || r.sample_paths > 0) {
    return Status::InvalidArgument(
        "--broker runs the workers' bundled rules and catalog: it cannot be combined "
        "with --rules, --catalog, --state, --noise-file, --event, --fork or --sample-paths");
  }
  return Status::Ok();
}

// The summary (and sampled paths) into the lake that settings name.
Status WriteToLake(const Settings& settings, const SimulateRequest& request, SimulateOutcome& out) {
  PULSE_ASSIGN_OR_RETURN(auto lake, lake::OpenLake(settings));
  const std::string rules_sha = Sha256Hex(out.world.rules_text);
  SimulationRecord record{out.sim_id,    &out.base.summary, out.quantiles,     request.runs,
                          request.turns, request.seed,      out.turn.symbolic, rules_sha};
  PULSE_ASSIGN_OR_RETURN(out.written, WriteSimulationSummary(*lake, record));
  if (request.sample_paths > 0) {
    std::vector<std::string> names;
    for (const auto& slot : out.world.catalog->slots()) names.push_back(slot.name);
    PULSE_ASSIGN_OR_RETURN(out.paths_written, WriteSimulationPaths(*lake, out.sim_id, names, request.sample_paths,
                                                                   request.turns + 1, out.base.paths));
  }
  return Status::Ok();
}

sim::TurnOptions TurnOptionsFor(const SimSettings& sim, std::optional<bool> symbolic) {
  sim::TurnOptions turn;
  turn.decay_rate = sim.decay_rate;
  turn.symbolic = symbolic.value_or(sim.symbolic);
  return turn;
}

}  // namespace

Result<LoadedWorld> LoadWorld(const WorldFiles& files) {
  LoadedWorld w;
  PULSE_ASSIGN_OR_RETURN(std::string catalog_path,
                         FindBundledFile("sim/catalog.yaml", files.catalog, files.exe_path, "--catalog"));
  PULSE_ASSIGN_OR_RETURN(std::string rules_path,
                         FindBundledFile("sim/rules.yaml", files.rules, files.exe_path, "--rules"));
  PULSE_ASSIGN_OR_RETURN(w.catalog_text, ReadTextFile(catalog_path));
  PULSE_ASSIGN_OR_RETURN(auto catalog, sim::Catalog::Parse(w.catalog_text, catalog_path));
  w.catalog = std::make_unique<sim::Catalog>(std::move(catalog));
  PULSE_ASSIGN_OR_RETURN(w.rules_text, ReadTextFile(rules_path));
  PULSE_ASSIGN_OR_RETURN(auto rules, sim::ParseRules(w.rules_text, rules_path, *w.catalog));
  w.rules = std::make_unique<sim::RuleSet>(std::move(rules));
  w.initial = w.catalog->Initial();
  if (!files.state.empty()) {
    PULSE_ASSIGN_OR_RETURN(auto state, LoadState(files.state, *w.catalog));
    for (const auto& [slot, v] : state)
      w.initial[slot] = v, w.state_text += std::to_string(slot) + "=" + std::to_string(v) + ";";
  }
  return w;
}

Result<SimulateOutcome> RunSimulateJob(const Settings& settings, const SimulateRequest& request) {
  PULSE_RETURN_IF_ERROR(CheckLimits(settings.sim, request));
  SimulateOutcome out;
  PULSE_ASSIGN_OR_RETURN(out.world, LoadWorld(request.world));
  const sim::Catalog& catalog = *out.world.catalog;
  PULSE_ASSIGN_OR_RETURN(sim::Injection fork, ParseForks(request.forks, catalog));
  PULSE_ASSIGN_OR_RETURN(out.quantiles, ParsePercentages(request.quantiles));
  out.turn = TurnOptionsFor(settings.sim, request.symbolic);
  sim::TurnEngine engine(catalog, *out.world.rules, out.turn);
  sim::MonteCarloOptions options;
  options.runs = request.runs, options.turns = request.turns, options.seed = request.seed;
  options.threads = settings.threads;
  options.quantiles = out.quantiles;
  options.noise_scale = request.noise;
  options.sample_paths = request.sample_paths;
  PULSE_ASSIGN_OR_RETURN(std::string events_text, AddEvents(request.events, *out.world.rules, request.turns, options));
  PULSE_ASSIGN_OR_RETURN(std::string noise_text, AddNoiseFile(request.noise_file, catalog, options));
  PULSE_RETURN_IF_ERROR(CheckBrokerAlone(request));
  if (request.broker.empty()) {
    PULSE_ASSIGN_OR_RETURN(out.base,
                           sim::RunMonteCarlo(engine, out.world.initial, options, ProgressFor(request, "simulate")));
  } else {
    PULSE_ASSIGN_OR_RETURN(out.base, RunChunked(request, options, out.turn.symbolic));
  }
  if (!fork.empty()) {
    auto fork_options = options;
    fork_options.overrides = fork;
    PULSE_ASSIGN_OR_RETURN(
        out.forked, sim::RunMonteCarlo(engine, out.world.initial, fork_options, ProgressFor(request, "fork    ")));
  }
  out.sim_id = SimulationId({{"catalog", Sha256Hex(out.world.catalog_text)},
                             {"rules", Sha256Hex(out.world.rules_text)},
                             {"state", out.world.state_text},
                             {"runs", request.runs},
                             {"turns", request.turns},
                             {"seed", request.seed},
                             {"decay", out.turn.decay_rate},
                             {"symbolic", out.turn.symbolic},
                             {"noise", request.noise},
                             {"noise_spec", noise_text},
                             {"events", events_text}});
  if (request.write_lake) PULSE_RETURN_IF_ERROR(WriteToLake(settings, request, out));
  return out;
}

nlohmann::json SimulationJson(const SimulateRequest& request, const SimulateOutcome& outcome) {
  const sim::Summary& summary = outcome.base.summary;
  const size_t last = summary.steps() - 1;
  nlohmann::json vars = nlohmann::json::object();
  for (size_t c = 0; c < summary.columns().size(); ++c) {
    nlohmann::json mean = nlohmann::json::array(), sd = nlohmann::json::array(), qs = nlohmann::json::array();
    for (size_t step = 0; step < summary.steps(); ++step) {
      auto s = summary.Get(step, c, outcome.quantiles);
      mean.push_back(s.mean), sd.push_back(s.sd), qs.push_back(s.quantiles);
    }
    vars[summary.columns()[c]] = {{"mean", mean}, {"sd", sd}, {"quantiles", qs}};
  }
  nlohmann::json fired = nlohmann::json::object();
  for (size_t i = 0; i < outcome.base.rule_fired.size(); ++i)
    fired[outcome.world.rules->rules[i].id] = outcome.base.rule_fired[i];
  const double run_turns = static_cast<double>(request.runs) * request.turns;
  nlohmann::json out = {{"sim_id", outcome.sim_id},
                        {"runs", request.runs},
                        {"turns", request.turns},
                        {"seed", request.seed},
                        {"symbolic", outcome.turn.symbolic},
                        {"decay_rate", outcome.turn.decay_rate},
                        {"noise", request.noise},
                        {"quantile_levels", outcome.quantiles},
                        {"seconds", outcome.base.seconds},
                        {"run_turns_per_second", run_turns / std::max(outcome.base.seconds, 1e-9)},
                        {"rule_run_turns_fired", fired},
                        {"variables", vars}};
  if (outcome.forked) {
    nlohmann::json divergence = nlohmann::json::object();
    for (size_t c = 0; c < summary.columns().size(); ++c) {
      const double d = outcome.forked->summary.Get(last, c, {}).mean - summary.Get(last, c, {}).mean;
      if (d != 0) divergence[summary.columns()[c]] = std::round(d * 1000) / 1000;
    }
    out["fork"] = {{"overrides", request.forks}, {"divergence_at_last_turn", divergence}};
  }
  if (const auto& w = outcome.written)
    out["lake"] = {{"table", "simulations"}, {"version", w->version}, {"rows", w->rows}, {"duplicate", w->duplicate}};
  if (const auto& p = outcome.paths_written) {
    out["lake_paths"] = {
        {"table", "simulation_paths"}, {"version", p->version}, {"rows", p->rows}, {"duplicate", p->duplicate}};
  }
  return out;
}

std::vector<size_t> ShownColumns(const SimulateOutcome& outcome, const std::vector<std::string>& show) {
  const sim::Summary& summary = outcome.base.summary;
  const sim::Catalog& catalog = *outcome.world.catalog;
  const size_t last = summary.steps() - 1;
  std::vector<size_t> shown;
  for (size_t c = 0; c < summary.columns().size(); ++c) {
    const std::string& name = summary.columns()[c];
    bool pick = show.empty()
                    ? (c >= catalog.size() || catalog[static_cast<uint32_t>(c)].kind != sim::SlotKind::kVariable ||
                       catalog[static_cast<uint32_t>(c)].type == "driver")
                    : std::find(show.begin(), show.end(), name) != show.end();
    // Tag and arc shares: only the labels some run carries at the last turn.
    if (pick && c >= catalog.size() && (name.starts_with("tag.") || name.starts_with("arc.")) && show.empty())
      pick = summary.Get(last, c, {}).mean > 0;
    if (pick) shown.push_back(c);
  }
  return shown;
}

namespace {

// --map signal=variable, optionally scaled: signal=variable/100 or signal=variable*0.01.
Result<std::map<std::string, SignalMapping>> ParseSignalMaps(const std::vector<std::string>& maps) {
  std::map<std::string, SignalMapping> mapping;
  for (const auto& m : maps) {
    const auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
      return Status::InvalidArgument("--map expects signal=variable[/divisor|*factor], got '" + m + "'");
    std::string target = m.substr(eq + 1);
    double scale = 1;
    if (const auto op = target.find_first_of("/*"); op != std::string::npos) {
      char* end = nullptr;
      const std::string number = target.substr(op + 1);
      const double v = std::strtod(number.c_str(), &end);
      if (number.empty() || *end != 0 || !std::isfinite(v) || v == 0)
        return Status::InvalidArgument("--map: bad scale in '" + m + "'");
      scale = target[op] == '/' ? 1 / v : v;
      target.resize(op);
    }
    mapping[m.substr(0, eq)] = {target, scale};
  }
  return mapping;
}

// The observed signals: the --csv file (every row valid) or the lake's signals table.
Result<std::shared_ptr<arrow::Table>> ReadSignals(const Settings& settings, const RetrodictRequest& request) {
  if (!request.csv.empty()) {
    ingest::IngestOptions options;
    ingest::IngestReport parse_report;
    PULSE_ASSIGN_OR_RETURN(auto table, ingest::ParseSignalsFile(request.csv, options, parse_report));
    if (request.on_csv_reject)
      for (const auto& r : parse_report.rejects) request.on_csv_reject(r.line, r.reason);
    if (parse_report.rejected > 0) {
      return Status::InvalidArgument(request.csv + ": " + std::to_string(parse_report.rejected) +
                                     " bad rows (listed above)");
    }
    return table;
  }
  PULSE_ASSIGN_OR_RETURN(auto lake, lake::OpenLake(settings));
  PULSE_ASSIGN_OR_RETURN(auto table, lake->OpenTable("signals"));
  lake::ReadOptions read{.columns = {"kind", "name", "ts", "value"}};
  if (!request.kinds.empty()) read.partition_filters.push_back({"kind", SplitCommas(request.kinds)});
  return table->Read(read);
}

}  // namespace

Result<RetrodictOutcome> RunRetrodictJob(const Settings& settings, const RetrodictRequest& request) {
  if (request.grid != "daily" && request.grid != "weekly")
    return Status::InvalidArgument("--grid is daily or weekly, got '" + request.grid + "'");
  if (request.mode != "strict" && request.mode != "free")
    return Status::InvalidArgument("--mode is strict or free, got '" + request.mode + "'");
  PULSE_ASSIGN_OR_RETURN(auto mapping, ParseSignalMaps(request.maps));
  RetrodictOutcome out;
  PULSE_ASSIGN_OR_RETURN(out.world, LoadWorld(request.world));
  for (const auto& [signal, target] : mapping) {
    if (!out.world.catalog->Find(target.variable))
      return Status::InvalidArgument("--map: unknown variable '" + target.variable + "'");
  }
  PULSE_ASSIGN_OR_RETURN(auto signals, ReadSignals(settings, request));
  const TurnGrid grid = request.grid == "daily" ? TurnGrid::kDaily : TurnGrid::kWeekly;
  PULSE_ASSIGN_OR_RETURN(out.history, BuildHistory(*signals, *out.world.catalog, grid, mapping, &out.unmapped));
  sim::TurnEngine engine(*out.world.catalog, *out.world.rules, TurnOptionsFor(settings.sim, request.symbolic));
  PULSE_ASSIGN_OR_RETURN(
      out.report, sim::Retrodict(engine, out.world.initial, out.history,
                                 request.mode == "strict" ? sim::RetroMode::kStrict : sim::RetroMode::kSeedThenFree));
  return out;
}

}  // namespace pulse::pipeline
