#include "trust/model_health.h"

#include <algorithm>
#include <cmath>

namespace pulse::trust {

ModelHealthAssessment AssessModelHealth(const ModelHealth& h, const ModelHealthPolicy& p) {
  ModelHealthAssessment a;
  a.drifted = h.drifted;
  double staleness = 0, shortfall = 0;
  if (h.days_since_training && std::isfinite(*h.days_since_training) && *h.days_since_training >= 0 &&
      p.stale_after_days > 0) {
    staleness = std::min(1.0, 0.7 * *h.days_since_training / p.stale_after_days);
    a.stale = *h.days_since_training > p.stale_after_days;
  }
  const double span = 0.8 - p.min_rolling_coverage80;
  if (h.rolling_coverage80 && std::isfinite(*h.rolling_coverage80) && h.coverage_outcomes >= p.min_coverage_outcomes &&
      h.coverage_outcomes > 0 && span > 0) {
    shortfall = std::clamp(0.7 * (0.8 - *h.rolling_coverage80) / span, 0.0, 1.0);
    a.under_covered = *h.rolling_coverage80 < p.min_rolling_coverage80;
  }
  a.instability = std::max(staleness, shortfall);
  Evidence e;
  ApplyModelHealth(a, &e);
  a.penalty = e.fragmented ? 0.2 : (e.arc_volatility > 0.7 ? 0.1 : 0.0);
  a.status = a.drifted ? "drifted" : a.stale ? "stale" : a.under_covered ? "under-covered" : "ok";
  return a;
}

void ApplyModelHealth(const ModelHealthAssessment& a, Evidence* evidence) {
  evidence->fragmented = a.drifted;
  evidence->arc_volatility = a.instability;
}

}  // namespace pulse::trust
