// Forecast engine: metrics against hand-computed values, the M4 seasonality test and
// decomposition, exponential smoothing recovering known structure, and bad-input paths.
#include <gtest/gtest.h>

#include <cmath>

#include "core/random.h"
#include "forecast/benchmarks.h"
#include "forecast/calibration.h"
#include "forecast/ensemble.h"
#include "forecast/evaluation.h"
#include "forecast/exp_smoothing.h"
#include "forecast/metrics.h"
#include "forecast/seasonality.h"

namespace pulse::forecast {
namespace {

TEST(Metrics, MatchHandComputedValues) {
  std::vector<double> y = {100, 110, 120}, f = {110, 110, 100};
  // 200*10/210, 0, 200*20/220
  EXPECT_NEAR(Smape(y, f), (2000.0 / 210 + 4000.0 / 220) / 3, 1e-12);
  std::vector<double> train = {1, 3, 2, 5, 4};  // |diffs| = 2,1,3,1 -> 1.75
  EXPECT_DOUBLE_EQ(*MaseScale(train, 1), 1.75);
  EXPECT_DOUBLE_EQ(*MaseScale(train, 2), (1.0 + 2.0 + 2.0) / 3);
  EXPECT_NEAR(Mase(y, f, 10.0), (10 + 0 + 20) / 3.0 / 10.0, 1e-12);
  EXPECT_FALSE(MaseScale(std::vector<double>{5, 5, 5}, 1).ok());
  EXPECT_FALSE(MaseScale(std::vector<double>{5}, 1).ok());
  std::vector<double> lo = {90, 100, 125}, hi = {105, 120, 130};
  // widths 15, 20, 5; y=100 inside, 110 inside, 120 < 125 -> penalty 40*5 = 200
  EXPECT_NEAR(Msis(y, lo, hi, 0.05, 2.0), (15 + 20 + 5 + 200) / 3.0 / 2.0, 1e-12);
  EXPECT_NEAR(Coverage(y, lo, hi), 2.0 / 3, 1e-12);
  EXPECT_NEAR(Pinball(std::vector<double>{10}, std::vector<double>{8}, 0.9), 1.8, 1e-12);
  EXPECT_NEAR(Pinball(std::vector<double>{10}, std::vector<double>{12}, 0.9), 0.2, 1e-12);
  EXPECT_DOUBLE_EQ(Owa(10, 2, 20, 4), 0.5);
}

std::vector<double> Seasonal(size_t n, int m, double amplitude) {
  std::vector<double> y(n);
  for (size_t t = 0; t < n; ++t) {
    y[t] = (100 + 0.5 * static_cast<double>(t)) *
           (1 + amplitude * std::sin(2 * M_PI * static_cast<double>(t % static_cast<size_t>(m)) / m));
  }
  return y;
}

TEST(Seasonality, DetectsAndRemovesMultiplicativeSeason) {
  auto y = Seasonal(size_t{24} * 20, 24, 0.3);
  EXPECT_TRUE(IsSeasonal(y, 24));
  auto idx = MultiplicativeIndices(y, 24);
  ASSERT_TRUE(idx.ok());
  double mean = 0;
  for (double v : *idx) mean += v;
  EXPECT_NEAR(mean / 24, 1.0, 1e-12);
  EXPECT_NEAR((*idx)[6], 1.3, 0.02);  // sin peak at position 6 of 24
  auto ds = Deseasonalize(y, 24);
  ASSERT_EQ(ds.indices.size(), 24u);
  EXPECT_NEAR(ds.values[100], 100 + 50, 2.0);  // the trend remains
  // White-ish noise without season, too-short series, and m = 1 are not seasonal.
  std::vector<double> flat(300);
  CounterRng rng(11);
  for (double& v : flat) v = 50 + rng.Normal();
  EXPECT_FALSE(IsSeasonal(flat, 12));
  EXPECT_FALSE(IsSeasonal(Seasonal(50, 24, 0.3), 24));  // n < 3m
  EXPECT_FALSE(IsSeasonal(y, 1));
  EXPECT_TRUE(Deseasonalize(flat, 12).indices.empty());
}

TEST(ExpSmoothing, RecoversLevelTrendAndDamping) {
  std::vector<double> level(60, 42.0);
  auto ses = FitEts(level, Trend::kNone);
  ASSERT_TRUE(ses.ok());
  EXPECT_NEAR(ses->Forecast(5), 42.0, 1e-6);
  std::vector<double> line(60);
  for (size_t t = 0; t < line.size(); ++t) line[t] = 10 + 3.0 * static_cast<double>(t);
  auto holt = FitEts(line, Trend::kAdditive);
  ASSERT_TRUE(holt.ok());
  EXPECT_NEAR(holt->Forecast(1), 10 + 3.0 * 60, 1e-3);
  EXPECT_NEAR(holt->Forecast(10), 10 + 3.0 * 69, 1e-2);
  EXPECT_LT(holt->sse, 1e-4);
  auto damped = FitEts(line, Trend::kDamped);
  ASSERT_TRUE(damped.ok());
  EXPECT_GE(damped->phi, 0.8);
  EXPECT_LE(damped->phi, 0.98);
  EXPECT_LT(damped->Forecast(50), 10 + 3.0 * 109);  // damping flattens the far horizon
  EXPECT_GT(damped->Forecast(1), 10 + 3.0 * 59);
  std::vector<double> noisy = line;
  CounterRng rng(3);
  for (double& v : noisy) v += rng.Normal();
  auto holt_noisy = FitEts(noisy, Trend::kAdditive);
  auto ses_noisy = FitEts(noisy, Trend::kNone);
  ASSERT_TRUE(holt_noisy.ok() && ses_noisy.ok());
  EXPECT_TRUE(std::isfinite(holt_noisy->Aicc()));
  EXPECT_LT(holt_noisy->Aicc(), ses_noisy->Aicc());  // the trend model wins on trending data
  // Bounds hold.
  EXPECT_GE(holt->alpha, 1e-4);
  EXPECT_LE(holt->beta, holt->alpha);
}

TEST(Benchmarks, ShapesAndKnownForecasts) {
  std::vector<double> y = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  auto f = M4Benchmarks(y, 1, 3);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto at = [&](Method m) { return (*f)[static_cast<size_t>(m)].mean; };
  EXPECT_EQ(at(Method::kNaive), (std::vector<double>{10, 10, 10}));
  EXPECT_EQ(at(Method::kNaive2), (std::vector<double>{10, 10, 10}));
  EXPECT_NEAR(at(Method::kDrift)[2], 13, 1e-12);
  EXPECT_NEAR(at(Method::kHolt)[2], 13, 1e-3);
  // Theta on a straight line: SES of the theta=2 line (itself the line) lags; the average with
  // the regression line lies between them and below the true continuation.
  EXPECT_LT(at(Method::kTheta)[0], 11.0 + 1e-9);
  EXPECT_GT(at(Method::kTheta)[0], 9.0);
  for (Method m : kAllMethods)
    for (double v : at(m)) EXPECT_TRUE(std::isfinite(v)) << MethodName(m);
  // Seasonal naive repeats the last cycle.
  std::vector<double> cyc = {1, 5, 9, 1, 5, 9, 1, 5, 9, 1, 5, 9};
  auto s = M4Benchmarks(cyc, 3, 4);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[static_cast<size_t>(Method::kSeasonalNaive)].mean, (std::vector<double>{1, 5, 9, 1}));
}

TEST(Benchmarks, BadInputsAreClearErrors) {
  std::vector<double> ok = {1, 2, 3, 4, 5};
  EXPECT_EQ(M4Benchmarks(ok, 1, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(M4Benchmarks(ok, 1, 1000000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(M4Benchmarks(ok, 0, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(M4Benchmarks(std::vector<double>{1, 2, 3}, 1, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(M4Benchmarks(std::vector<double>{}, 1, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(M4Benchmarks(std::vector<double>{1, NAN, 3, 4}, 1, 3).status().message().find("NaN"), std::string::npos);
  EXPECT_FALSE(M4Benchmarks(std::vector<double>{1, INFINITY, 3, 4}, 1, 3).ok());
  // A constant series is forecast as the constant by every method (no NaN).
  auto c = M4Benchmarks(std::vector<double>(40, 7.0), 4, 5);
  ASSERT_TRUE(c.ok());
  for (const auto& f : *c)
    for (double v : f.mean) EXPECT_NEAR(v, 7.0, 1e-6);
  // Negative values with a seasonal period: the multiplicative decomposition is skipped, not NaN.
  std::vector<double> neg(60);
  for (size_t t = 0; t < neg.size(); ++t) neg[t] = (t % 4 == 0 ? -5.0 : 3.0) + 0.01 * static_cast<double>(t);
  auto n = M4Benchmarks(neg, 4, 4);
  ASSERT_TRUE(n.ok());
  for (const auto& f : *n) {
    for (double v : f.mean) EXPECT_TRUE(std::isfinite(v));
    for (double v : f.sd) EXPECT_TRUE(std::isfinite(v) && v >= 0);
  }
}

TEST(Calibration, ConformalMultiplierCoversNominally) {
  ConformalCalibrator cal;
  CounterRng rng(5);
  for (int i = 0; i < 20000; ++i) cal.Add(std::abs(rng.Normal() * 2.0));  // scores of a 2x-too-narrow model
  EXPECT_NEAR(*cal.Multiplier(0.95), 2 * 1.959964, 0.1);
  EXPECT_NEAR(*cal.Multiplier(0.5), 2 * 0.674490, 0.05);
  EXPECT_NEAR(GaussianMultiplier(0.95), 1.959964, 1e-5);
  EXPECT_NEAR(GaussianMultiplier(0.8), 1.281552, 1e-5);
  ConformalCalibrator few;
  for (int i = 0; i < 10; ++i) few.Add(i);
  EXPECT_FALSE(few.Multiplier(0.95).ok());  // needs >= 19 scores
  EXPECT_FALSE(few.Multiplier(1.0).ok());
}

TEST(Benchmarks, ForecastSdGrowsWithHorizon) {
  std::vector<double> y(80);
  CounterRng rng(9);
  double level = 100;
  for (double& v : y) v = (level += rng.Normal());
  auto f = M4Benchmarks(y, 1, 10);
  ASSERT_TRUE(f.ok());
  for (Method m : {Method::kNaive, Method::kSes, Method::kHolt, Method::kDamped, Method::kDrift}) {
    const auto& sd = (*f)[static_cast<size_t>(m)].sd;
    EXPECT_GT(sd[0], 0) << MethodName(m);
    EXPECT_GT(sd[9], sd[0]) << MethodName(m);
  }
}

TEST(Ensemble, WeightsFavourTheMethodsThatBacktestedBest) {
  AllForecasts back;
  for (size_t k = 0; k < back.size(); ++k) {
    back[k].mean.assign(4, 10.0 + static_cast<double>(k));  // method k is off by k
    back[k].sd.assign(4, 1.0);
  }
  std::vector<double> actual(4, 10.0);
  back[0].mean.assign(4, 10.5);  // Naive: off by 0.5, the best
  auto w = WeighByBacktest(back, actual, 1.0, 3);
  double total = 0;
  size_t used = 0;
  for (double v : w.weight) total += v, used += v > 0;
  EXPECT_NEAR(total, 1.0, 1e-12);
  EXPECT_EQ(used, 3u);
  EXPECT_GT(w.weight[0], w.weight[1]);  // 1/0.25 vs 1/1
  EXPECT_GT(w.weight[1], w.weight[2]);
  auto combined = Combine(back, w);
  EXPECT_GT(combined.mean[0], 10.5);
  EXPECT_LT(combined.mean[0], 12.0);
  EXPECT_DOUBLE_EQ(combined.sd[0], 1.0);
}

TEST(Ensemble, RollingOriginSelectionPicksTheBestBacktestedCandidate) {
  // A clean straight line: Drift forecasts it exactly on every window, so it wins the selection.
  std::vector<double> y;
  for (int t = 0; t < 60; ++t) y.push_back(100.0 + 2.0 * t);
  auto plain = ForecastWithBacktest(y, 1, 6, 2.0);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->selected, kAllMethods.size());  // no selection asked: the ensemble
  EXPECT_TRUE(std::isnan(plain->selection_mase[0]));
  auto picked = ForecastWithBacktest(y, 1, 6, 2.0, /*select=*/true);
  ASSERT_TRUE(picked.ok());
  ASSERT_LT(picked->selected, kAllMethods.size() + 1);
  const double best = picked->selection_mase[picked->selected];
  for (double v : picked->selection_mase) EXPECT_LE(best, v);  // every candidate is scored here
  EXPECT_LT(best, 1e-9);
  EXPECT_NEAR(picked->selection_mase[static_cast<size_t>(Method::kDrift)], 0.0, 1e-9);
  // Too short for any backtest: the ensemble (Comb weights).
  auto tiny = ForecastWithBacktest(std::vector<double>(y.begin(), y.begin() + 8), 1, 6, 2.0, true);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->selected, kAllMethods.size());
}

TEST(Evaluation, ScoresAreIndependentOfThreadCount) {
  std::vector<EvalSeries> series;
  for (int s = 0; s < 12; ++s) {
    auto y = Seasonal(24 * 6 + 24, 24, 0.1 * (s % 3));
    EvalSeries e{"H" + std::to_string(s), std::vector<double>(y.begin(), y.end() - 24),
                 std::vector<double>(y.end() - 24, y.end())};
    series.push_back(e);
  }
  series.push_back({"const", std::vector<double>(50, 1.0), {1, 1}});  // MASE undefined: skipped
  auto one = EvaluateBenchmarks(series, {.period = 24, .threads = 1});
  auto two = EvaluateBenchmarks(series, {.period = 24, .threads = 2});
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(one->series, 12u);
  EXPECT_EQ(one->skipped, 1u);
  EXPECT_NE(one->problems[0].find("const"), std::string::npos);
  for (size_t k = 0; k < one->scores.size(); ++k) {
    EXPECT_EQ(one->scores[k].smape, two->scores[k].smape);
    EXPECT_EQ(one->scores[k].mase, two->scores[k].mase);
    EXPECT_EQ(one->scores[k].msis_calibrated, two->scores[k].msis_calibrated);
  }
  EXPECT_EQ(one->calibration_scores, 12u * 24);
  EXPECT_DOUBLE_EQ(one->scores[static_cast<size_t>(Method::kNaive2)].owa, 1.0);
  EXPECT_FALSE(EvaluateBenchmarks({}, {}).ok());
  EXPECT_FALSE(EvaluateBenchmarks(series, {.levels = {1.5}}).ok());
}

}  // namespace
}  // namespace pulse::forecast
