#include "trust/bayesian_trust.h"

#include <algorithm>
#include <cmath>

namespace pulse::trust {

void BetaTrust::Update(bool success, double weight) { (success ? alpha : beta) += weight; }

void BetaTrust::Decay(double factor) {
  if (alpha + beta <= 5) return;
  alpha = std::max(1.0, factor * alpha);
  beta = std::max(1.0, factor * beta);
}

double BetaTrust::Mean() const { return alpha / (alpha + beta); }

std::pair<double, double> BetaTrust::Interval() const {
  const double p = Mean(), half = 1.96 * std::sqrt(p * (1 - p) / (alpha + beta));
  return {std::clamp(p - half, 0.0, 1.0), std::clamp(p + half, 0.0, 1.0)};
}

double BetaTrust::Strength() const { return 1.0 / (1.0 + std::exp(-0.1 * (alpha + beta - 2 - 10))); }

}  // namespace pulse::trust
