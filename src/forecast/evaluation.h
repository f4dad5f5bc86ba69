// Accuracy evaluation of the benchmark methods on a set of series with known futures (M4 style):
// per method, the set-level mean sMAPE and MASE, OWA relative to Naive2, and fitting time.
// Series are fitted in parallel on the shared thread pool; results do not depend on thread count.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "forecast/benchmarks.h"

namespace pulse::forecast {

struct EvalSeries {
  std::string id;
  std::vector<double> train;
  std::vector<double> test;  // its size is the horizon
};

struct MethodScore {
  Method method;
  double smape = 0;        // mean over series of the per-series sMAPE
  double mase = 0;
  double owa = 0;          // vs Naive2 on the same series
  double seconds = 0;      // summed fitting time across series (CPU seconds)
};

struct EvalReport {
  size_t series = 0;
  size_t skipped = 0;                    // series that could not be scored (reason in `problems`)
  std::vector<std::string> problems;     // "<id>: <reason>", at most 20
  std::vector<MethodScore> scores;       // in kAllMethods order
  double wall_seconds = 0;
};

// m: the seasonal period for the seasonality test and for MASE.
Result<EvalReport> EvaluateBenchmarks(const std::vector<EvalSeries>& series, int m, int threads = 0);

}  // namespace pulse::forecast
