// pulse run's simulation stage: the world state's Monte Carlo from the latest observed signals.
//
// A WorldMapping (YAML, e.g. data/us-macro-world.yaml) names, per signal, the catalog variable it
// sets and a scale (percent -> fraction: 0.01), plus the key variables the report charts. The
// stage reads the signals table (one version, one kind), takes each mapped signal's latest
// observation times its scale as that variable's initial value (every other slot keeps its
// catalog default), runs the Monte Carlo with the default rules, and writes the summary to the
// `simulations` table (pipeline/simulation_summary.h). The simulation id hashes the model version
// (catalog + rules), the initial values and the options, so rerunning on the same data writes
// nothing and new data gives a new simulation.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/lake.h"
#include "pipeline/pulse_tasks.h"
#include "pipeline/retrodiction_history.h"
#include "pipeline/simulation_summary.h"

namespace pulse::pipeline {

struct WorldMapping {
  std::map<std::string, SignalMapping> signals;  // signal name -> catalog variable and scale
  std::vector<std::string> key_variables;        // catalog slots or "tension" / "fragility"

  nlohmann::json ToJson() const;
};

// Validates every name against the catalog; errors name the origin (file) and the entry.
Result<WorldMapping> ParseWorldMapping(std::string_view yaml, const std::string& origin, const sim::Catalog& catalog);
Result<WorldMapping> WorldMappingFromJson(const nlohmann::json& json, const sim::Catalog& catalog);

struct WorldSimulationOptions {
  WorldMapping mapping;
  std::string kind = "macro";    // the signals' kind partition
  int64_t signals_version = -1;  // -1: the latest
  uint64_t runs = 10000;
  uint32_t turns = 12;
  uint64_t seed = 0;
  double noise = 0.01;
  std::vector<double> quantiles = {0.05, 0.25, 0.5, 0.75, 0.95};
};

struct InitialValue {
  std::string signal, variable;
  int64_t ts = 0;                  // the observation's time (us, UTC)
  double observed = 0, value = 0;  // value = observed * scale
};

struct WorldSimulationReport {
  std::string sim_id;
  int64_t signals_version = -1;
  std::vector<InitialValue> initial;
  SimulationWrite write;
  double seconds = 0;
};

// kInvalidArgument when a mapped signal has no observation (naming it) or the options are out of
// range (runs/turns beyond the environment's limits, no quantiles).
Result<WorldSimulationReport> SimulateWorld(lake::Lake& lake, const TaskEnvironment& env,
                                            const WorldSimulationOptions& options);

}  // namespace pulse::pipeline
