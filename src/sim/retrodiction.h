// Retrodiction: replay observed history through the turn engine and measure how far the
// simulated state drifts from what happened (the original's analytics/retrodiction, §2.5 and
// §4.4 of the reference, without its defects: rule trust is not updated on exact float
// equality, and nothing is written to logs).
//
// History is a grid of turns (daily or weekly, built by the caller) with the observed value of
// some slots at each turn (NaN where unobserved). Modes:
//   kStrict        before every turn, inject the observations of the previous grid point, then
//                  compare the state after the turn with the next grid point: one-step-ahead
//                  errors (the original's strict_injection);
//   kSeedThenFree  inject the first grid point only, then run free and compare every turn (the
//                  original's default, seed_then_free).
// Reported per observed slot: count, MSE and MAE; per kind the mean squared error (the original's
// baseline overlay_mse, variable_mse, capital_mse and total_mse = sum of squares / observations);
// and per turn the original's retrodict_error_score sqrt(sum over hope, despair, rage, fatigue of
// (sim - obs)^2 + sum over capital of ((sim - obs) / 1000)^2), "symbolic misalignment" above 1.5.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "sim/turn.h"

namespace pulse::sim {

struct History {
  std::vector<uint32_t> slots;  // observed slots (columns)
  std::vector<int64_t> times;   // grid points, ascending (microseconds since the epoch)
  std::vector<double> values;   // times.size() x slots.size(), row-major; NaN = unobserved
  double At(size_t turn, size_t column) const { return values[turn * slots.size() + column]; }
};

enum class RetroMode { kStrict, kSeedThenFree };

struct SlotError {
  uint32_t slot = 0;
  uint64_t count = 0;
  double mse = 0, mae = 0;
};

struct RetroReport {
  size_t turns = 0;               // grid points compared (all but the first)
  std::vector<SlotError> errors;  // one per observed slot, History order
  double overlay_mse = 0, variable_mse = 0, capital_mse = 0, total_mse = 0;
  std::vector<double> error_score;  // per compared turn (NaN when it observed no overlay or capital)
  uint64_t misaligned_turns = 0;    // error score above 1.5
};

// kInvalidArgument for fewer than 2 grid points, times not ascending, a values table of the wrong
// size, a slot outside the catalog or an initial state of the wrong size.
Result<RetroReport> Retrodict(const TurnEngine& engine, const std::vector<double>& initial, const History& history,
                              RetroMode mode);

}  // namespace pulse::sim
