#include "forecast/evaluation.h"

#include <chrono>
#include <mutex>

#include "core/thread_pool.h"
#include "forecast/metrics.h"

namespace pulse::forecast {

Result<EvalReport> EvaluateBenchmarks(const std::vector<EvalSeries>& series, int m, int threads) {
  if (series.empty()) return Status::InvalidArgument("no series to evaluate");
  using Clock = std::chrono::steady_clock;
  const auto wall0 = Clock::now();
  constexpr size_t kMethods = kAllMethods.size();
  struct PerSeries {
    bool ok = false;
    std::string problem;
    std::array<double, kMethods> smape{}, mase{};
    double seconds = 0;
  };
  std::vector<PerSeries> results(series.size());
  DefaultThreadPool().ParallelFor(series.size(), [&](size_t i) {
    const EvalSeries& s = series[i];
    PerSeries& r = results[i];
    auto scale = MaseScale(s.train, m);
    if (!scale.ok()) {
      r.problem = s.id + ": " + scale.status().message();
      return;
    }
    auto t0 = Clock::now();
    auto forecasts = M4Benchmarks(s.train, m, static_cast<int>(s.test.size()));
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!forecasts.ok()) {
      r.problem = s.id + ": " + forecasts.status().message();
      return;
    }
    for (size_t k = 0; k < kMethods; ++k) {
      r.smape[k] = Smape(s.test, (*forecasts)[k]);
      r.mase[k] = Mase(s.test, (*forecasts)[k], *scale);
    }
    r.ok = true;
  }, threads > 0 ? static_cast<size_t>(threads) : 0);

  EvalReport report;
  std::array<double, kMethods> smape{}, mase{};
  double seconds = 0;
  for (const auto& r : results) {
    if (!r.ok) {
      ++report.skipped;
      if (report.problems.size() < 20) report.problems.push_back(r.problem);
      continue;
    }
    ++report.series;
    for (size_t k = 0; k < kMethods; ++k) smape[k] += r.smape[k], mase[k] += r.mase[k];
    seconds += r.seconds;
  }
  if (report.series == 0) return Status::InvalidArgument("no series could be evaluated: " + report.problems.front());
  const double count = static_cast<double>(report.series);
  const size_t naive2 = static_cast<size_t>(Method::kNaive2);
  for (size_t k = 0; k < kMethods; ++k) {
    MethodScore score;
    score.method = kAllMethods[k];
    score.smape = smape[k] / count;
    score.mase = mase[k] / count;
    score.owa = Owa(score.smape, score.mase, smape[naive2] / count, mase[naive2] / count);
    score.seconds = seconds;  // all methods are fitted together per series
    report.scores.push_back(score);
  }
  report.wall_seconds = std::chrono::duration<double>(Clock::now() - wall0).count();
  return report;
}

}  // namespace pulse::forecast
