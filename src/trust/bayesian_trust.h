// The original Pulse's Bayesian trust tracker (analytics/bayesian_trust_tracker.py;
// ../shared/reference/pulse-original.md §4.3): one Beta(1, 1) per key; a success adds its weight
// to alpha, a failure to beta.
//   trust    = alpha / (alpha + beta)
//   interval = trust -+ 1.96 * sqrt(trust * (1 - trust) / (alpha + beta)), clipped to [0, 1]
//   strength = 1 / (1 + exp(-0.1 * (n - 10))), n = alpha + beta - 2 (the evidence seen)
//   decay    = when alpha + beta > 5: x <- max(1, 0.99 * x) for both (old evidence fades)
// Pulse feeds it real outcomes: whether each newly observed value fell inside the 80% band the
// previous run forecast for it (pipeline/trust_scores.h). Pure value type.
#pragma once

#include <utility>

namespace pulse::trust {

struct BetaTrust {
  double alpha = 1, beta = 1;

  void Update(bool success, double weight = 1.0);
  void Decay(double factor = 0.99);
  double Mean() const;
  std::pair<double, double> Interval() const;
  double Strength() const;
};

}  // namespace pulse::trust
