#include "forecast/benchmarks.h"

#include <chrono>
#include <cmath>

#include "forecast/exp_smoothing.h"
#include "forecast/linear_trend.h"
#include "forecast/seasonality.h"

namespace pulse::forecast {

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kNaive: return "Naive";
    case Method::kSeasonalNaive: return "sNaive";
    case Method::kNaive2: return "Naive2";
    case Method::kDrift: return "Drift";
    case Method::kSes: return "SES";
    case Method::kHolt: return "Holt";
    case Method::kDamped: return "Damped";
    case Method::kTheta: return "Theta";
    case Method::kComb: return "Comb";
    case Method::kEts: return "ETS";
    case Method::kEnsemble: return "Ensemble";
    case Method::kSelected: return "Selected";
  }
  return "?";
}

namespace {

// Classic Theta on (deseasonalised) x: returns steps 1..h before reseasonalising.
Result<std::vector<double>> ThetaClassic(std::span<const double> x, size_t h) {
  const size_t n = x.size();
  const LinearTrend line = FitLinearTrend(x);
  std::vector<double> theta2(n);
  for (size_t t = 0; t < n; ++t) theta2[t] = 2 * x[t] - line.At(static_cast<double>(t + 1));
  PULSE_ASSIGN_OR_RETURN(EtsFit ses, FitEts(theta2, Trend::kNone));
  std::vector<double> out(h);
  for (size_t k = 1; k <= h; ++k) out[k - 1] = 0.5 * ses.Forecast(k) + 0.5 * line.At(static_cast<double>(n + k));
  return out;
}

}  // namespace

namespace {
// Root mean square of y_t - y_{t-lag} - offset.
double DiffRms(std::span<const double> y, size_t lag, double offset) {
  if (y.size() <= lag) return 0;
  double sum = 0;
  for (size_t t = lag; t < y.size(); ++t) {
    double d = y[t] - y[t - lag] - offset;
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(y.size() - lag));
}
}  // namespace

Result<AllForecasts> M4Benchmarks(std::span<const double> y, int m, int h) {
  if (h < 1 || h > 10000) return Status::InvalidArgument("horizon must be 1..10000, got " + std::to_string(h));
  if (m < 1) return Status::InvalidArgument("seasonal period must be >= 1");
  if (y.size() < 4) return Status::InvalidArgument("a series needs at least 4 values, got " + std::to_string(y.size()));
  for (double v : y)
    if (!std::isfinite(v)) return Status::InvalidArgument("the series has a NaN or infinite value");
  const size_t n = y.size(), hh = static_cast<size_t>(h), period = static_cast<size_t>(m);
  AllForecasts out;
  for (auto& f : out) f.mean.resize(hh), f.sd.resize(hh);
  auto at = [&](Method method) -> MethodForecast& { return out[static_cast<size_t>(method)]; };

  using Clock = std::chrono::steady_clock;
  auto t = Clock::now();
  auto lap = [&t] {
    const auto now = Clock::now();
    const double s = std::chrono::duration<double>(now - t).count();
    t = now;
    return s;
  };
  Deseasonalized ds = Deseasonalize(y, m);
  const auto& x = ds.values;
  const double decompose = lap();
  PULSE_ASSIGN_OR_RETURN(EtsFit ses, FitEts(x, Trend::kNone));
  at(Method::kSes).seconds = decompose + lap();
  PULSE_ASSIGN_OR_RETURN(EtsFit holt, FitEts(x, Trend::kAdditive));
  at(Method::kHolt).seconds = decompose + lap();
  PULSE_ASSIGN_OR_RETURN(EtsFit damped, FitEts(x, Trend::kDamped));
  at(Method::kDamped).seconds = decompose + lap();
  PULSE_ASSIGN_OR_RETURN(auto theta, ThetaClassic(x, hh));
  at(Method::kTheta).seconds = decompose + lap();
  const bool ets_seasonal = m <= kMaxEtsPeriod;  // else fitted on x and reseasonalised
  PULSE_ASSIGN_OR_RETURN(EtsFit ets, ets_seasonal ? AutoEts(y, m) : AutoEts(x, 1));
  ets.ForecastInto(at(Method::kEts).mean, at(Method::kEts).sd);
  at(Method::kEts).seconds = lap() + (ets_seasonal ? 0 : decompose);
  at(Method::kComb).seconds =
      at(Method::kSes).seconds + at(Method::kHolt).seconds + at(Method::kDamped).seconds - 2 * decompose;
  const double drift = (x[n - 1] - x[0]) / static_cast<double>(n - 1);
  const double naive_sd = DiffRms(y, 1, 0), snaive_sd = DiffRms(y, n > period ? period : 1, 0);
  const double naive2_sd = DiffRms(x, 1, 0), drift_sd = DiffRms(x, 1, drift);
  for (size_t k = 1; k <= hh; ++k) {
    const double s = ds.IndexFor(n, k), kk = static_cast<double>(k);
    const size_t i = k - 1;
    auto set = [&](Method method, double mean, double sd) {
      at(method).mean[i] = mean;
      at(method).sd[i] = sd;
    };
    set(Method::kNaive, y[n - 1], naive_sd * std::sqrt(kk));
    const size_t seasons_ahead = i / period + 1;  // whole seasons: sNaive's variance grows per season
    set(Method::kSeasonalNaive, n >= period ? y[n - period + i % period] : y[n - 1],
        snaive_sd * std::sqrt(static_cast<double>(seasons_ahead)));
    set(Method::kNaive2, x[n - 1] * s, naive2_sd * std::sqrt(kk) * s);
    set(Method::kDrift, (x[n - 1] + kk * drift) * s,
        drift_sd * std::sqrt(kk * (1 + kk / static_cast<double>(n - 1))) * s);
    set(Method::kSes, ses.Forecast(k) * s, ses.ForecastSd(k) * s);
    set(Method::kHolt, holt.Forecast(k) * s, holt.ForecastSd(k) * s);
    set(Method::kDamped, damped.Forecast(k) * s, damped.ForecastSd(k) * s);
    set(Method::kTheta, std::max(0.0, theta[i] * s), ses.ForecastSd(k) * s);
    set(Method::kComb, (at(Method::kSes).mean[i] + at(Method::kHolt).mean[i] + at(Method::kDamped).mean[i]) / 3,
        (at(Method::kSes).sd[i] + at(Method::kHolt).sd[i] + at(Method::kDamped).sd[i]) / 3);
    if (!ets_seasonal) at(Method::kEts).mean[i] *= s, at(Method::kEts).sd[i] *= s;
  }
  const double naive_family = lap();  // the loop above: the naive methods' only work
  for (Method method : {Method::kNaive, Method::kSeasonalNaive}) at(method).seconds = naive_family / 4;
  for (Method method : {Method::kNaive2, Method::kDrift}) at(method).seconds = decompose + naive_family / 4;
  return out;
}

}  // namespace pulse::forecast
