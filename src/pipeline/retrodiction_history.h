// Observed history for retrodiction (sim/retrodiction.h) from signal rows (the lake's signals
// table or a parsed signals file: columns name, ts, value): each signal whose name - after
// `mapping` (signal name -> slot name and a scale factor, e.g. percent -> fraction: 0.01) - is a
// catalog slot becomes a column; the turn grid runs
// daily or weekly (Mondays, UTC) from the first to the last observation; within a grid cell the
// latest observation wins; cells without one are NaN (no forward fill: nothing is invented).
#pragma once

#include <arrow/type_fwd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/retrodiction.h"
#include "sim/world.h"

namespace pulse::pipeline {

enum class TurnGrid { kDaily, kWeekly };

struct SignalMapping {
  std::string variable;
  double scale = 1;
};

// kInvalidArgument when the table lacks name/ts/value or no signal maps to a slot; names that do
// not map are listed in `unmapped` (sorted, unique).
Result<sim::History> BuildHistory(const arrow::Table& signals, const sim::Catalog& catalog, TurnGrid grid,
                                  const std::map<std::string, SignalMapping>& mapping,
                                  std::vector<std::string>* unmapped);

// A retrodiction report as JSON (what `pulse simulate retrodict --json` prints and the
// pulse.retrodict task returns): grid, mode, turns, first/last time, per-variable {count, mse,
// mae}, the overlay/variable/capital/total MSEs, per-turn error scores (null when undefined), the
// misaligned-turn count and the unmapped signals.
nlohmann::json RetroReportJson(const sim::RetroReport& report, const sim::Catalog& catalog, const sim::History& history,
                               const std::string& grid, const std::string& mode,
                               const std::vector<std::string>& unmapped);

}  // namespace pulse::pipeline
