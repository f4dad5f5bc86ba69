#include "forecast/benchmarks.h"

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

Result<std::array<std::vector<double>, kAllMethods.size()>> M4Benchmarks(std::span<const double> y, int m, int h) {
  if (h < 1 || h > 10000) return Status::InvalidArgument("horizon must be 1..10000, got " + std::to_string(h));
  if (m < 1) return Status::InvalidArgument("seasonal period must be >= 1");
  if (y.size() < 4) return Status::InvalidArgument("a series needs at least 4 values, got " + std::to_string(y.size()));
  for (double v : y)
    if (!std::isfinite(v)) return Status::InvalidArgument("the series has a NaN or infinite value");
  const size_t n = y.size(), hh = static_cast<size_t>(h), period = static_cast<size_t>(m);
  std::array<std::vector<double>, kAllMethods.size()> out;
  for (auto& v : out) v.resize(hh);
  auto at = [&](Method method) -> std::vector<double>& { return out[static_cast<size_t>(method)]; };

  Deseasonalized ds = Deseasonalize(y, m);
  const auto& x = ds.values;
  PULSE_ASSIGN_OR_RETURN(EtsFit ses, FitEts(x, Trend::kNone));
  PULSE_ASSIGN_OR_RETURN(EtsFit holt, FitEts(x, Trend::kAdditive));
  PULSE_ASSIGN_OR_RETURN(EtsFit damped, FitEts(x, Trend::kDamped));
  PULSE_ASSIGN_OR_RETURN(auto theta, ThetaClassic(x, hh));
  const double drift = (x[n - 1] - x[0]) / static_cast<double>(n - 1);
  for (size_t k = 1; k <= hh; ++k) {
    const double s = ds.IndexFor(n, k);
    at(Method::kNaive)[k - 1] = y[n - 1];
    at(Method::kSeasonalNaive)[k - 1] = n >= period ? y[n - period + (k - 1) % period] : y[n - 1];
    at(Method::kNaive2)[k - 1] = x[n - 1] * s;
    at(Method::kDrift)[k - 1] = (x[n - 1] + static_cast<double>(k) * drift) * s;
    at(Method::kSes)[k - 1] = ses.Forecast(k) * s;
    at(Method::kHolt)[k - 1] = holt.Forecast(k) * s;
    at(Method::kDamped)[k - 1] = damped.Forecast(k) * s;
    at(Method::kTheta)[k - 1] = std::max(0.0, theta[k - 1] * s);
    at(Method::kComb)[k - 1] = (at(Method::kSes)[k - 1] + at(Method::kHolt)[k - 1] + at(Method::kDamped)[k - 1]) / 3;
  }
  return out;
}

}  // namespace pulse::forecast
