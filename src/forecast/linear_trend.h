// Least-squares line through (t, y_t) for t = 1..n: y = intercept + slope * t.
#pragma once

#include <span>

namespace pulse::forecast {

struct LinearTrend {
  double intercept = 0;
  double slope = 0;
  double At(double t) const { return intercept + slope * t; }
};

// Fits the first `count` values (all when count exceeds the size). Needs at least 2 values.
inline LinearTrend FitLinearTrend(std::span<const double> y, size_t count = static_cast<size_t>(-1)) {
  const size_t n = count < y.size() ? count : y.size();
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t t = 0; t < n; ++t) {
    double x = static_cast<double>(t + 1);
    sx += x, sy += y[t], sxx += x * x, sxy += x * y[t];
  }
  const double m = static_cast<double>(n);
  LinearTrend line;
  line.slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  line.intercept = (sy - line.slope * sx) / m;
  return line;
}

}  // namespace pulse::forecast
