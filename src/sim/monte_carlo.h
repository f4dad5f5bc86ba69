// Reproducible parallel Monte Carlo over the turn engine, with streaming aggregation.
//
// K runs x N turns. Each run starts from the initial state (plus counterfactual overrides) with
// seeded Gaussian jitter and takes seeded Gaussian shocks every turn (a random walk clipped to
// the slot's range). Draws come from a counter-based RNG keyed by (seed, run, turn), in slot
// order, so a run's path does not depend on which thread or chunk computes it.
//
// Aggregation keeps no paths: per (step, slot) a Summary (summary.h) holds exact fixed-point sums
// for the mean and standard deviation, the exact min and max, and a fixed-grid log histogram
// (128 buckets per octave, exact counts) for quantiles within a stated error bound. All of it is
// integer arithmetic (and min/max), so summaries of any split of the runs merge to bit-identical
// results in any order - on 1 thread, many, or across workers - and their size does not grow
// with the number of runs.
// Derived columns join the slots: the original's tension h*d + r*t + 0.5*f*h and fragility
// min(0.6 tension + 0.4 min(sum |overlay change| / 5, 1), 0.7); and indicators of its state tag
// ("tag.Hope Rising", ... "tag.Neutral") and arc ("arc.Hope Surge", ... "arc.Unknown"), whose
// means are the shares of runs carrying each label at each turn; and each overlay's change over
// the turn ("delta.hope", ...): with tension, fragility, tag and arc, the original's turn record.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/summary.h"
#include "sim/turn.h"

namespace pulse::sim {

struct Noise {
  double initial_sd = 0;  // jitter of the initial value
  double turn_sd = 0;     // shock per turn
};

struct MonteCarloOptions {
  uint64_t first_run = 0;  // a chunk of a larger batch: runs first_run .. first_run + runs - 1
  uint64_t runs = 1000;
  uint32_t turns = 52;
  uint64_t seed = 0;
  int threads = 0;  // 0: the shared pool's size
  std::vector<double> quantiles = {0.05, 0.5, 0.95};
  // Default noise: sd = noise_scale x (range width) for the initial jitter and for every turn, on
  // every slot with a range (overlays and catalog variables); none on capital. 0 turns it off.
  double noise_scale = 0.01;
  std::vector<std::pair<uint32_t, Noise>> noise_overrides;  // per slot, replacing the default
  Injection overrides;                                      // initial values that replace the state's
  std::vector<Injection> injections;                        // per turn (index = turn - 1), optional
  uint64_t sample_paths = 0;  // keep the full paths of runs 0 .. sample_paths - 1 (<= runs)
  // Narrative events (RuleSet::events indices) applied to every run just before the given turn.
  std::vector<std::pair<uint32_t, size_t>> events;
  // Run the turns on a CUDA device when the build has one compiled in (-DPULSE_CUDA=ON) and a
  // device is present; otherwise (and with injections) the CPU. MonteCarloResult::device says which.
  bool use_gpu = false;
};

struct MonteCarloResult {
  Summary summary;  // steps 0..turns (0 = the initial state after jitter); catalog slots, then the derived columns
  std::vector<uint64_t> rule_fired;  // per rule: run-turns in which its condition held
  // Sampled paths: sample_paths x (turns + 1) x catalog slots, row-major (run, step, slot). A
  // run's path does not depend on threads or chunking, so these are reproducible too.
  std::vector<double> paths;
  double seconds = 0;
  std::string device = "cpu";  // "cuda" when the turns ran on the GPU
  std::string gpu_unused;      // why use_gpu fell back to the CPU
};

// kInvalidArgument for runs or turns of 0, a quantile outside (0, 1), an initial state of the
// wrong size. `progress(done_runs, total_runs)` is called from worker threads, serialised.
Result<MonteCarloResult> RunMonteCarlo(const TurnEngine& engine, const std::vector<double>& initial,
                                       const MonteCarloOptions& options,
                                       const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace pulse::sim
