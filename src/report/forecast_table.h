// Public API of the report module (see report.h).
//
// The "forecasts" Delta table (written by pipeline/forecast_signals.h, one row per series, step
// and interval level) read back and grouped: signals version -> series -> step -> mean and bands.
// The report draws fan charts and "what changed" from it; trust scoring checks outcomes against
// earlier runs' bands with it. kNotFound when the lake has no forecasts table; kInvalidArgument
// naming the column when a column is missing or has another type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "lake/lake.h"

namespace pulse::report {

struct ForecastStep {
  int64_t origin = 0, target = 0;  // microseconds since the epoch, UTC
  double mean = 0;
  std::map<double, std::pair<double, double>> bands;  // level -> (lower, upper)
};

struct SeriesForecasts {
  std::string kind, model, frequency;
  nlohmann::json params;              // model_params (ensemble weights, backtest evidence)
  std::map<int, ForecastStep> steps;  // step -> forecast
  int64_t created = 0;                // when this forecast was made (the newest per version counts)
  // The band of `level` at `step`, if the table has it.
  std::optional<std::pair<double, double>> Band(int step, double level) const;
};

using ForecastsByVersion = std::map<int64_t, std::map<std::string, SeriesForecasts>>;

Result<ForecastsByVersion> ReadForecasts(lake::Lake& lake);

}  // namespace pulse::report
