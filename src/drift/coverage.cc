#include "drift/coverage.h"

#include <algorithm>
#include <string>

#include "drift/special_functions.h"

namespace pulse::drift {

Result<CoverageTest> BinomialCoverageTest(int64_t hits, int64_t trials, double nominal, double threshold) {
  if (trials <= 0) return Status::InvalidArgument("coverage test: no trials (no outcomes to compare yet)");
  if (hits < 0 || hits > trials) {
    return Status::InvalidArgument("coverage test: hits " + std::to_string(hits) + " outside 0.." +
                                   std::to_string(trials));
  }
  if (!(nominal > 0.0 && nominal < 1.0)) {
    return Status::InvalidArgument("coverage test: nominal rate must be in (0, 1), got " + std::to_string(nominal));
  }
  if (!(threshold > 0.0 && threshold < 1.0)) {
    return Status::InvalidArgument("coverage test: threshold must be in (0, 1), got " + std::to_string(threshold));
  }
  CoverageTest out;
  out.hits = hits;
  out.trials = trials;
  out.nominal = nominal;
  out.hit_rate = static_cast<double>(hits) / static_cast<double>(trials);
  if (static_cast<double>(hits) == nominal * static_cast<double>(trials)) {
    out.p_value = 1.0;
  } else {
    const double bound = BinomialPmf(hits, trials, nominal) * (1.0 + 1e-7);
    double p = 0.0;
    for (int64_t i = 0; i <= trials; ++i) {
      const double pmf = BinomialPmf(i, trials, nominal);
      if (pmf <= bound) p += pmf;
    }
    out.p_value = std::min(1.0, p);
  }
  out.miscalibrated = out.p_value < threshold;
  return out;
}

}  // namespace pulse::drift
