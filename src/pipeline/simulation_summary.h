// Writes a Monte Carlo summary to the lake's `simulations` Delta table: one row per (step,
// variable) with the mean, standard deviation, min, max and quantiles across runs, tagged with
// the simulation's identity. The simulation is deterministic, so its id is a hash of everything
// that determines it (catalog, rules, initial state, options); writing the same simulation again
// is a no-op (Delta txn keyed by that id).
#pragma once

#include <arrow/type_fwd.h>

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "lake/lake.h"
#include "sim/monte_carlo.h"

namespace pulse::pipeline {

struct SimulationRecord {
  std::string sim_id;  // SimulationId(...)
  const sim::Summary* summary = nullptr;
  std::vector<double> quantiles;
  uint64_t runs = 0;
  uint32_t turns = 0;
  uint64_t seed = 0;
  bool symbolic = false;
  std::string rules_sha256;
};

std::shared_ptr<arrow::Schema> SimulationSchema();

// A stable id: the SHA-256 (hex, first 16 characters) of the given description.
std::string SimulationId(const nlohmann::json& identity);  // ContentId(identity), first 16 hex digits

struct SimulationWrite {
  int64_t version = 0;
  int64_t rows = 0;
  bool duplicate = false;  // the same simulation was already in the table
};
Result<SimulationWrite> WriteSimulationSummary(lake::Lake& lake, const SimulationRecord& record);

// The simulations table's version when it already holds simulation `sim_id` (its txn is
// recorded), else nullopt (also when the table does not exist yet).
Result<std::optional<int64_t>> SimulationWrittenAt(lake::Lake& lake, const std::string& sim_id);

// Sampled paths (sim::MonteCarloResult::paths) to the `simulation_paths` table: one row per
// (run, step, variable) with its value, tagged with the simulation id; idempotent like the summary.
std::shared_ptr<arrow::Schema> SimulationPathsSchema();
Result<SimulationWrite> WriteSimulationPaths(lake::Lake& lake, const std::string& sim_id,
                                             const std::vector<std::string>& variables, uint64_t runs, size_t steps,
                                             const std::vector<double>& paths);

}  // namespace pulse::pipeline
