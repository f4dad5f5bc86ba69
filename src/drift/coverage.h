// Interval coverage: does a forecast band hit as often as it says? An exact two-sided binomial
// test of `hits` out of `trials` against the nominal rate (0.8 for the 80% band, 0.95 for the 95%
// band), equal to scipy.stats.binomtest(hits, trials, nominal).pvalue: the probability, under
// Binomial(trials, nominal), of every outcome no more likely than the one observed (pmf <=
// pmf(hits) (1 + 1e-7), scipy's tolerance); 1 when hits == trials x nominal. Pure.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace pulse::drift {

// Default significance: a band whose hit rate differs from nominal with p < 0.05 is miscalibrated.
inline constexpr double kCoveragePValueThreshold = 0.05;

struct CoverageTest {
  int64_t hits = 0, trials = 0;
  double nominal = 0;
  double hit_rate = 0;  // hits / trials
  double p_value = 1;
  bool miscalibrated = false;  // p_value < the threshold given
};

// InvalidArgument: trials <= 0, hits outside 0..trials, nominal outside (0, 1), threshold outside (0, 1).
Result<CoverageTest> BinomialCoverageTest(int64_t hits, int64_t trials, double nominal,
                                          double threshold = kCoveragePValueThreshold);

}  // namespace pulse::drift
