// The ETS family: each component type recovers the structure it models, AICc selection picks
// the right family on clear-cut data, forecast variances behave (class 1, 2 and 3), and every
// bad input is a clear error or a documented fallback, never a NaN.
#include <gtest/gtest.h>

#include <cmath>

#include "core/random.h"
#include "forecast/exp_smoothing.h"

namespace pulse::forecast {
namespace {

// level + slope t + season(t), the season's amplitude growing with the level when multiplicative.
std::vector<double> Synthetic(size_t n, int m, double slope, double amplitude, bool multiplicative, double noise,
                              uint64_t seed) {
  CounterRng rng(seed);
  std::vector<double> y(n);
  for (size_t t = 0; t < n; ++t) {
    const double level = 100 + slope * static_cast<double>(t);
    const double wave = std::sin(2 * M_PI * static_cast<double>(t % static_cast<size_t>(m)) / m);
    const double base = multiplicative ? level * (1 + amplitude * wave) : level + amplitude * wave;
    y[t] = base * (1 + noise * rng.Normal());
  }
  return y;
}

TEST(Ets, SpecNames) {
  EXPECT_EQ((EtsSpec{ErrorType::kMultiplicative, Trend::kDamped, SeasonType::kAdditive}.Name()), "ETS(M,Ad,A)");
  EXPECT_EQ(EtsSpec{}.Name(), "ETS(A,N,N)");
  for (const char* name : {"ETS(A,N,N)", "ETS(M,Ad,M)", "ETS(A,A,A)", "ETS(M,N,A)"}) {
    auto spec = ParseEtsSpec(name);
    ASSERT_TRUE(spec.ok()) << name;
    EXPECT_EQ(spec->Name(), name);
  }
  EXPECT_EQ(ParseEtsSpec("MAdN")->Name(), "ETS(M,Ad,N)");
  for (const char* bad : {"", "ETS(X,N,N)", "ETS(A,M,N)", "ETS(A,N)", "ETS(A,N,Q)", "hello"})
    EXPECT_EQ(ParseEtsSpec(bad).status().code(), StatusCode::kInvalidArgument) << bad;
}

TEST(Ets, SeasonalModelsTrackTheSeasonAndTheTrend) {
  const int m = 12;
  auto y = Synthetic(240, m, 0.5, 10, /*multiplicative=*/false, 0.002, 1);
  auto fit = FitEts(y, EtsSpec{ErrorType::kAdditive, Trend::kAdditive, SeasonType::kAdditive}, m);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  auto truth = Synthetic(240 + 24, m, 0.5, 10, false, 0.0, 1);
  for (size_t h = 1; h <= 24; ++h) EXPECT_NEAR(fit->Forecast(h), truth[239 + h], 2.0) << "h=" << h;
  EXPECT_GE(fit->gamma, 1e-4);
  EXPECT_LE(fit->gamma, 1 - fit->alpha);
  EXPECT_EQ(fit->parameters, 2 + 2 + m);  // alpha, l0, beta, b0, gamma, 11 seasonal states
}

TEST(Ets, AutoSelectsTheGeneratingFamily) {
  const int m = 12;
  // Multiplicative season with a strong trend: the season's swing grows with the level.
  auto mult = Synthetic(360, m, 2.0, 0.3, /*multiplicative=*/true, 0.01, 2);
  auto a = AutoEts(mult, m);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->spec.season, SeasonType::kMultiplicative) << a->spec.Name();
  EXPECT_NE(a->spec.trend, Trend::kNone) << a->spec.Name();
  // No season, no trend: the level model (either error type).
  CounterRng rng(5);
  std::vector<double> flat(200);
  for (double& v : flat) v = 50 + rng.Normal();
  auto f = AutoEts(flat, m);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->spec.season, SeasonType::kNone) << f->spec.Name();
  EXPECT_EQ(f->spec.trend, Trend::kNone) << f->spec.Name();
  // Additive season on data that crosses zero: multiplicative models are not candidates.
  auto crossing = Synthetic(240, m, 0.0, 150, /*multiplicative=*/false, 0.0, 3);
  for (double& v : crossing) v -= 100;
  for (const EtsSpec& spec : EtsCandidates(crossing, m)) {
    EXPECT_EQ(spec.error, ErrorType::kAdditive);
    EXPECT_NE(spec.season, SeasonType::kMultiplicative);
  }
  auto c = AutoEts(crossing, m);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->spec.season, SeasonType::kAdditive) << c->spec.Name();
}

TEST(Ets, CandidateSetsFollowEtsDefaults) {
  std::vector<double> positive(100, 1.0);
  positive[3] = 2;
  EXPECT_EQ(EtsCandidates(positive, 1).size(), 6u);                       // {A,M} x {N,A,Ad}
  EXPECT_EQ(EtsCandidates(positive, 12).size(), 15u);                     // + seasons, without (A,*,M)
  EXPECT_EQ(EtsCandidates(positive, 25).size(), 6u);                      // period above 24: no season
  EXPECT_EQ(EtsCandidates(std::vector<double>(20, 1.0), 12).size(), 6u);  // fewer than three cycles
  positive[0] = 0;
  EXPECT_EQ(EtsCandidates(positive, 12).size(), 6u);  // a zero: additive error, N/A seasons only
}

TEST(Ets, ForecastVariancesAreFiniteAndGrow) {
  const int m = 12;
  auto y = Synthetic(240, m, 0.3, 0.2, /*multiplicative=*/true, 0.02, 7);
  for (const EtsSpec& spec : EtsCandidates(y, m)) {
    auto fit = FitEts(y, spec, m);
    ASSERT_TRUE(fit.ok()) << spec.Name() << ": " << fit.status().ToString();
    std::vector<double> mean(36), sd(36);
    fit->ForecastInto(mean, sd);
    for (size_t k = 0; k < mean.size(); ++k) {
      ASSERT_TRUE(std::isfinite(mean[k]) && std::isfinite(sd[k])) << spec.Name() << " step " << k + 1;
      EXPECT_GT(sd[k], 0) << spec.Name();
    }
    // Uncertainty a year out exceeds the one-step uncertainty (same season position).
    EXPECT_GT(sd[12], sd[0]) << spec.Name();
    EXPECT_NEAR(sd[0], fit->ForecastSd(1), 1e-9 * sd[0] + 1e-12) << spec.Name();
    if (spec.error == ErrorType::kMultiplicative && spec.season != SeasonType::kMultiplicative) {
      // Class 2, step 1: sd = |mu| sigma.
      EXPECT_NEAR(sd[0], std::abs(mean[0]) * std::sqrt(fit->sigma2), 1e-9 * sd[0]) << spec.Name();
    }
  }
  // Class 3 intervals are simulated with a fixed seed: the same fit gives the same numbers.
  auto fit = FitEts(y, EtsSpec{ErrorType::kMultiplicative, Trend::kNone, SeasonType::kMultiplicative}, m);
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->ForecastSd(10), fit->ForecastSd(10));
}

TEST(Ets, BadInputsAreClearErrorsOrDocumentedFallbacks) {
  const EtsSpec mam{ErrorType::kMultiplicative, Trend::kAdditive, SeasonType::kMultiplicative};
  auto y = Synthetic(120, 12, 0.3, 0.2, true, 0.02, 9);
  // Non-positive values with multiplicative components.
  auto neg = y;
  neg[50] = -1;
  auto r = FitEts(neg, mam, 12);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("positive"), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(FitEts(neg, EtsSpec{ErrorType::kMultiplicative, Trend::kNone, SeasonType::kNone}, 1).ok());
  auto auto_neg = AutoEts(neg, 12);  // AutoEts simply leaves multiplicative models out
  ASSERT_TRUE(auto_neg.ok());
  EXPECT_EQ(auto_neg->spec.error, ErrorType::kAdditive);
  // NaN / Inf.
  auto nan = y;
  nan[3] = NAN;
  EXPECT_NE(FitEts(nan, mam, 12).status().message().find("NaN"), std::string::npos);
  EXPECT_FALSE(AutoEts(nan, 12).ok());
  nan[3] = INFINITY;
  EXPECT_FALSE(AutoEts(nan, 1).ok());
  // Too short: three values for SES, four with a trend, three cycles with a season.
  EXPECT_FALSE(FitEts(std::vector<double>{1, 2}, Trend::kNone).ok());
  EXPECT_FALSE(FitEts(std::vector<double>{1, 2, 3}, Trend::kAdditive).ok());
  EXPECT_FALSE(FitEts(std::span(y).first(30), mam, 12).ok());
  EXPECT_FALSE(AutoEts(std::vector<double>{}, 1).ok());
  EXPECT_FALSE(AutoEts(std::vector<double>{1, 2}, 1).ok());
  auto tiny = AutoEts(std::vector<double>{1, 2, 4, 3}, 1);  // too short for any candidate: ETS(A,N,N)
  ASSERT_TRUE(tiny.ok()) << tiny.status().ToString();
  EXPECT_EQ(tiny->spec.Name(), "ETS(A,N,N)");
  // Periods a seasonal model cannot take.
  EXPECT_FALSE(FitEts(y, mam, 1).ok());
  EXPECT_FALSE(FitEts(std::vector<double>(200, 1.0), mam, 30).ok());
  // A constant series: flat forecast, zero variance, for every spec, no NaN anywhere.
  std::vector<double> constant(60, 7.5);
  for (const EtsSpec& spec : EtsCandidates(constant, 12)) {
    auto c = FitEts(constant, spec, 12);
    ASSERT_TRUE(c.ok()) << spec.Name();
    EXPECT_TRUE(c->constant);
    std::vector<double> mean(5), sd(5);
    c->ForecastInto(mean, sd);
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_EQ(mean[k], 7.5);
      EXPECT_EQ(sd[k], 0.0);
    }
  }
  auto c = AutoEts(constant, 12);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Forecast(100), 7.5);
}

}  // namespace
}  // namespace pulse::forecast
