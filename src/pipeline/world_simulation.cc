#include "pipeline/world_simulation.h"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>

#include "core/hash.h"
#include "lake/table_read.h"
#include "pipeline/usable_signals.h"
#include "sim/monte_carlo.h"

namespace pulse::pipeline {

using lake::ColumnAs;
using lake::ReadBatch;

namespace {

Status CheckKeyVariable(const std::string& name, const sim::Catalog& catalog, const std::string& origin) {
  if (name == "tension" || name == "fragility" || catalog.Find(name)) return Status::Ok();
  return Status::InvalidArgument(origin + ": key variable '" + name + "' is not in the catalog");
}

Status CheckSignal(const std::string& signal, const SignalMapping& m, const sim::Catalog& catalog,
                   const std::string& origin) {
  if (!catalog.Find(m.variable)) {
    return Status::InvalidArgument(origin + ": signal '" + signal + "' maps to '" + m.variable +
                                   "', which is not in the catalog");
  }
  if (!std::isfinite(m.scale) || m.scale == 0)
    return Status::InvalidArgument(origin + ": signal '" + signal + "' needs a finite, non-zero scale");
  return Status::Ok();
}

}  // namespace

nlohmann::json WorldMapping::ToJson() const {
  nlohmann::json s = nlohmann::json::object();
  for (const auto& [name, m] : signals) s[name] = {{"variable", m.variable}, {"scale", m.scale}};
  return {{"signals", s}, {"key_variables", key_variables}};
}

Result<WorldMapping> ParseWorldMapping(std::string_view yaml, const std::string& origin, const sim::Catalog& catalog) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::ParseError(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap() || !root["signals"] || !root["signals"].IsMap() || root["signals"].size() == 0)
    return Status::ParseError(origin + ": a mapping file needs a non-empty 'signals' map (signal: {variable, scale})");
  WorldMapping out;
  try {
    for (const auto& entry : root["signals"]) {
      const std::string signal = entry.first.as<std::string>();
      const YAML::Node& v = entry.second;
      if (!v.IsMap() || !v["variable"]) {
        return Status::ParseError(origin + ":" + std::to_string(v.Mark().line + 1) + ": signal '" + signal +
                                  "' needs {variable: NAME, scale: NUMBER}");
      }
      SignalMapping m{v["variable"].as<std::string>(), v["scale"] ? v["scale"].as<double>() : 1.0};
      PULSE_RETURN_IF_ERROR(CheckSignal(signal, m, catalog, origin));
      out.signals[signal] = m;
    }
    if (root["key_variables"]) {
      if (!root["key_variables"].IsSequence()) return Status::ParseError(origin + ": key_variables must be a list");
      for (const auto& v : root["key_variables"]) out.key_variables.push_back(v.as<std::string>());
    }
  } catch (const YAML::Exception& e) {
    return Status::ParseError(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  for (const auto& name : out.key_variables) PULSE_RETURN_IF_ERROR(CheckKeyVariable(name, catalog, origin));
  return out;
}

Result<WorldMapping> WorldMappingFromJson(const nlohmann::json& json, const sim::Catalog& catalog) {
  const std::string origin = "mapping";
  if (!json.is_object() || !json.contains("signals") || !json["signals"].is_object() || json["signals"].empty())
    return Status::InvalidArgument("mapping needs a non-empty 'signals' object");
  WorldMapping out;
  try {
    for (const auto& [signal, v] : json["signals"].items()) {
      SignalMapping m{v.at("variable").get<std::string>(), v.value("scale", 1.0)};
      PULSE_RETURN_IF_ERROR(CheckSignal(signal, m, catalog, origin));
      out.signals[signal] = m;
    }
    out.key_variables = json.value("key_variables", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("mapping: ") + e.what());
  }
  for (const auto& name : out.key_variables) PULSE_RETURN_IF_ERROR(CheckKeyVariable(name, catalog, origin));
  return out;
}

Result<WorldSimulationReport> SimulateWorld(lake::Lake& lake, const TaskEnvironment& env,
                                            const WorldSimulationOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (options.runs == 0 || options.runs > env.max_runs)
    return Status::InvalidArgument("runs must be 1.." + std::to_string(env.max_runs));
  if (options.turns == 0 || options.turns > env.max_turns)
    return Status::InvalidArgument("turns must be 1.." + std::to_string(env.max_turns));
  if (options.quantiles.empty()) return Status::InvalidArgument("at least one quantile level is needed");
  if (options.mapping.signals.empty()) return Status::InvalidArgument("the mapping names no signal");
  WorldSimulationReport report;
  PULSE_ASSIGN_OR_RETURN(auto signals, lake.OpenTable("signals"));
  if (options.signals_version >= 0) {
    report.signals_version = options.signals_version;
  } else {
    PULSE_ASSIGN_OR_RETURN(report.signals_version, signals->LatestVersion());
  }
  lake::ReadOptions read{.version = report.signals_version,
                         .columns = {"name", "ts", "value"},
                         .partition_filters = {{"kind", {options.kind}}}};
  PULSE_ASSIGN_OR_RETURN(auto usable, UsableSignals::Prepare(*signals, read));  // suppressed rows set no state
  PULSE_ASSIGN_OR_RETURN(auto batch, ReadBatch(*signals, read));
  PULSE_RETURN_IF_ERROR(usable.Bind(*batch));
  PULSE_ASSIGN_OR_RETURN(auto names, ColumnAs<arrow::StringArray>(*batch, "name"));
  PULSE_ASSIGN_OR_RETURN(auto ts, ColumnAs<arrow::TimestampArray>(*batch, "ts"));
  PULSE_ASSIGN_OR_RETURN(auto values, ColumnAs<arrow::DoubleArray>(*batch, "value"));
  std::map<std::string, std::pair<int64_t, double>> latest;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    auto name = names->GetString(i);
    if (!options.mapping.signals.count(name) || !std::isfinite(values->Value(i)) || !usable.Usable(i)) continue;
    auto [it, inserted] = latest.try_emplace(name, ts->Value(i), values->Value(i));
    if (!inserted && ts->Value(i) >= it->second.first) it->second = {ts->Value(i), values->Value(i)};
  }
  sim::MonteCarloOptions mc;
  for (const auto& [signal, m] : options.mapping.signals) {
    auto it = latest.find(signal);
    if (it == latest.end()) {
      return Status::InvalidArgument("signal '" + signal + "' (mapped to '" + m.variable +
                                     "') has no observation of kind '" + options.kind + "' in signals version " +
                                     std::to_string(report.signals_version));
    }
    InitialValue v{signal, m.variable, it->second.first, it->second.second, it->second.second * m.scale};
    mc.overrides.emplace_back(*env.catalog->Find(m.variable), v.value);
    report.initial.push_back(std::move(v));
  }
  nlohmann::json identity = {{"model", env.version},           {"decay", env.decay_rate},
                             {"runs", options.runs},           {"turns", options.turns},
                             {"seed", options.seed},           {"noise", options.noise},
                             {"quantiles", options.quantiles}, {"initial", nlohmann::json::array()}};
  for (const auto& v : report.initial) identity["initial"].push_back({v.variable, v.value});
  report.sim_id = SimulationId(identity);
  // Deterministic: a simulation already in the lake need not run again.
  PULSE_ASSIGN_OR_RETURN(auto written, SimulationWrittenAt(lake, report.sim_id));
  if (written) {
    report.write = {*written, 0, true};
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
  }

  mc.runs = options.runs, mc.turns = options.turns, mc.seed = options.seed;
  mc.noise_scale = options.noise, mc.quantiles = options.quantiles;
  sim::TurnEngine engine(*env.catalog, *env.rules, {.decay_rate = env.decay_rate, .symbolic = false});
  PULSE_ASSIGN_OR_RETURN(auto result, sim::RunMonteCarlo(engine, env.catalog->Initial(), mc));
  SimulationRecord record{report.sim_id, &result.summary, options.quantiles, options.runs, options.turns,
                          options.seed,  false,           env.version};
  PULSE_ASSIGN_OR_RETURN(report.write, WriteSimulationSummary(lake, record));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace pulse::pipeline
