#include "forecast/calibration.h"

#include <algorithm>
#include <cmath>

namespace pulse::forecast {

Result<double> ConformalCalibrator::Multiplier(double level) const {
  if (!(level > 0 && level < 1)) return Status::InvalidArgument("interval level must be in (0, 1)");
  const size_t n = scores_.size();
  const double rank = std::ceil(static_cast<double>(n + 1) * level);
  if (n == 0 || rank > static_cast<double>(n)) {
    return Status::InvalidArgument("too few backtest scores (" + std::to_string(n) + ") to calibrate level " +
                                   std::to_string(level));
  }
  if (!sorted_) {
    std::sort(scores_.begin(), scores_.end());
    sorted_ = true;
  }
  return scores_[static_cast<size_t>(rank) - 1];
}

double GaussianMultiplier(double level) {
  // Inverse normal CDF at (1 + level) / 2 by bisection on erfc (plenty fast for a handful of levels).
  const double p = (1 + level) / 2;
  double lo = 0, hi = 10;
  for (int i = 0; i < 100; ++i) {
    double mid = (lo + hi) / 2;
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return (lo + hi) / 2;
}

}  // namespace pulse::forecast
