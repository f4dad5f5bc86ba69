// Split-conformal calibration of forecast intervals.
//
// Each method gives a point forecast and a model standard deviation per horizon step. On
// rolling-origin backtests (windows that end before the data being forecast) we collect the
// normalised scores |y - mean| / sd. For a nominal level L the calibrated half-width multiplier
// is the ceil((N + 1) L)-th smallest of the N scores, so that, for exchangeable errors, the band
// mean +- q_L sd covers the outcome with probability at least L (Vovk et al. 2005; Lei et al.
// 2018). That probability is what Pulse reports as a forecast's calibrated confidence.
#pragma once

#include <vector>

#include "core/status.h"

namespace pulse::forecast {

class ConformalCalibrator {
 public:
  void Add(double score) { scores_.push_back(score); }
  void Merge(const ConformalCalibrator& other) {
    scores_.insert(scores_.end(), other.scores_.begin(), other.scores_.end());
  }
  size_t size() const { return scores_.size(); }
  // The multiplier for level in (0, 1). kInvalidArgument with fewer than ceil(1/(1-L)) - 1 scores
  // (too few to calibrate that level).
  Result<double> Multiplier(double level) const;

 private:
  mutable std::vector<double> scores_;
  mutable bool sorted_ = false;
};

// The Gaussian multiplier for a central interval at `level` (e.g. 1.959964 for 0.95).
double GaussianMultiplier(double level);

// Half-width of the band mean +- multiplier * sd. A model certain of its forecast (sd 0) keeps a
// zero-width band even when calibration found its certainty misplaced (an infinite multiplier):
// never inf * 0 = NaN.
inline double BandHalfWidth(double multiplier, double sd) { return sd > 0 ? multiplier * sd : 0.0; }

}  // namespace pulse::forecast
