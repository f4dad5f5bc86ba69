// `pulse simulate` and `pulse simulate retrodict` as library calls: load the world (catalog, rules,
// initial state, noise, events), run the Monte Carlo batch - in this process, or split into chunk
// tasks over a broker whose exact summaries merge into the same result - and its counterfactual
// fork, then write the summary (and sampled paths) to the lake under the simulation's identity.
// The CLI parses flags into a request, calls one function, and prints the outcome.
//
// Simulation identity: a simulation is deterministic, so its id is the ContentId (core/hash.h) of
// everything that determines it - the catalog and rules texts (SHA-256), the initial-state
// overrides, runs, turns, seed, decay rate, symbolic, noise scale, per-variable noise and events -
// first 16 hex digits (pipeline::SimulationId); writing the same simulation again is a no-op.
//
// Errors (kInvalidArgument, kNotFound, kParseError, ...) name the flag, file and line at fault, as
// the CLI prints them; nothing is written to the lake when anything before the write fails.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config_sections.h"
#include "core/status.h"
#include "pipeline/simulation_summary.h"
#include "sim/monte_carlo.h"
#include "sim/retrodiction.h"
#include "sim/world.h"

namespace pulse::pipeline {

// Where a simulation starts: files default to the bundled data/sim/ ones (pipeline/bundled_data.h,
// found from exe_path); `state` is a YAML map name: value replacing catalog initial values.
struct WorldFiles {
  std::string catalog, rules, state;
  std::string exe_path;
};

// The catalog, rules and initial state a simulation starts from, with the texts its id hashes.
struct LoadedWorld {
  std::string catalog_text, rules_text, state_text;
  std::unique_ptr<sim::Catalog> catalog;
  std::unique_ptr<sim::RuleSet> rules;
  std::vector<double> initial;
};

// Errors name the flag (--catalog, --rules) or file:line at fault.
Result<LoadedWorld> LoadWorld(const WorldFiles& files);

// Called from worker threads, serialised: `label` is "simulate" or "fork    ".
using SimulationProgress = std::function<void(const char* label, uint64_t done_runs, uint64_t total_runs)>;

struct SimulateRequest {
  WorldFiles world;
  uint64_t runs = 1000;  // 1..sim.max_runs
  uint32_t turns = 52;   // 1..sim.max_turns
  uint64_t seed = 0;
  std::vector<std::string> forks;     // name=value: rerun with these initial values, report divergence
  std::vector<std::string> events;    // NAME@TURN (narrative events of the rules file)
  std::optional<bool> symbolic;       // absent: sim.symbolic
  double noise = 0.01;                // sd as a fraction of each ranged slot's width
  std::string noise_file;             // YAML name: {initial_sd, turn_sd} per variable
  std::string quantiles = "5,50,95";  // percentages in (0, 100)
  uint64_t sample_paths = 0;          // also write the first S runs' paths
  bool write_lake = true;
  // Non-empty: the batch as `chunks` pulse.simulate tasks on the workers behind this broker URL
  // (redis://host:port/db), running their bundled rules and catalog: it cannot be combined with
  // world files, noise files, events, forks or sampled paths. rule_run_turns_fired stays empty.
  std::string broker;
  int chunks = 4;
  SimulationProgress progress;  // optional
};

struct SimulateOutcome {
  LoadedWorld world;
  std::string sim_id;
  sim::TurnOptions turn;          // decay rate and symbolic as run
  std::vector<double> quantiles;  // fractions
  sim::MonteCarloResult base;
  std::optional<sim::MonteCarloResult> forked;
  std::optional<SimulationWrite> written;        // the simulations table (unless !write_lake)
  std::optional<SimulationWrite> paths_written;  // simulation_paths (sample_paths > 0)
};

// Checks runs and turns against settings.sim, runs the batch (and the fork), writes to the lake
// that settings name.
Result<SimulateOutcome> RunSimulateJob(const Settings& settings, const SimulateRequest& request);

// What `pulse simulate --json` prints: sim_id, runs, turns, seed, symbolic, decay_rate, noise,
// quantile_levels, seconds, run_turns_per_second, rule_run_turns_fired, variables {name: {mean,
// sd, quantiles per step}}, and fork {overrides, divergence_at_last_turn}, lake, lake_paths when
// they apply.
nlohmann::json SimulationJson(const SimulateRequest& request, const SimulateOutcome& outcome);

// The summary columns a person sees at the last turn: `show` (names) when non-empty, else the
// overlays, capital, drivers and derived metrics, and the tag/arc shares some run carries.
std::vector<size_t> ShownColumns(const SimulateOutcome& outcome, const std::vector<std::string>& show);

struct RetrodictRequest {
  WorldFiles world;
  std::optional<bool> symbolic;   // absent: sim.symbolic
  std::string csv;                // a signals file (CSV or JSON lines) instead of the lake
  std::string kinds;              // comma-separated signal kinds of the lake's signals
  std::string grid = "weekly";    // daily | weekly
  std::string mode = "strict";    // strict | free
  std::vector<std::string> maps;  // signal=variable[/divisor|*factor]
  // Each bad row of `csv` (any fails the request, naming the count).
  std::function<void(int64_t line, const std::string& reason)> on_csv_reject;
};

struct RetrodictOutcome {
  LoadedWorld world;
  sim::History history;
  sim::RetroReport report;
  std::vector<std::string> unmapped;  // signals that match no variable (sorted)
};

Result<RetrodictOutcome> RunRetrodictJob(const Settings& settings, const RetrodictRequest& request);

}  // namespace pulse::pipeline
