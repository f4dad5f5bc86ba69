// Seasonality as the M4 benchmarks handle it ("Benchmarks and Evaluation.R"):
//  - IsSeasonal: the 90% autocorrelation test |acf_m| > 1.645 sqrt((1 + 2 sum_{k<m} acf_k^2) / n),
//    false when n < 3m or when R's default acf lag.max = floor(10 log10 n) is below m;
//  - MultiplicativeIndices: R's decompose(type = "multiplicative") seasonal figure (centred
//    moving average trend, mean ratio per cycle position, normalised to mean 1), position 0 being
//    the first observation.
#pragma once

#include <span>
#include <vector>

#include "core/status.h"

namespace pulse::forecast {

// Sample autocorrelations r_1..r_max_lag (R's acf without lag 0).
std::vector<double> Autocorrelations(std::span<const double> y, int max_lag);

bool IsSeasonal(std::span<const double> y, int m);

// The m seasonal indices of `y` (needs at least 2m values and positive data).
Result<std::vector<double>> MultiplicativeIndices(std::span<const double> y, int m);
// R's decompose(type = "additive" or "multiplicative") seasonal figure: additive indices are the
// mean detrended difference per cycle position, normalised to mean 0.
Result<std::vector<double>> SeasonalIndices(std::span<const double> y, int m, bool multiplicative);

// What the M4 benchmarks fit on: y divided by its seasonal index when seasonal (and all values are
// positive; otherwise y unchanged, a documented fallback), and the indices
// to multiply the forecasts by (index for horizon step h: out_indices[h % m] continuing the cycle).
struct Deseasonalized {
  std::vector<double> values;
  std::vector<double> indices;  // empty when not seasonal
  // The index for forecast step h (1-based) of a series of length n.
  double IndexFor(size_t n, size_t h) const { return indices.empty() ? 1.0 : indices[(n + h - 1) % indices.size()]; }
};
Deseasonalized Deseasonalize(std::span<const double> y, int m);

}  // namespace pulse::forecast
