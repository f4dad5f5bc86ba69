// The M4 competition's statistical benchmarks, as its "Benchmarks and Evaluation.R" computes them:
// a 90% seasonality test, classical multiplicative deseasonalisation when seasonal, the method
// fitted on the deseasonalised series, forecasts reseasonalised with the last cycle's indices.
//   Naive (Naive1)   last value, on the raw series
//   sNaive           the value one season back, on the raw series
//   Naive2           Naive on the deseasonalised series
//   Drift            random walk with drift (last value + h * mean step), deseasonalised
//   SES, Holt, Damped  ETS(A,N,N), ETS(A,A,N), ETS(A,Ad,N), deseasonalised
//   Theta            classic Theta: 0.5 * SES(theta = 2 line) + 0.5 * linear trend, negatives -> 0
//   Comb             mean of SES, Holt and Damped
//   ETS              the AICc-selected ETS model (exp_smoothing.h AutoEts) on the raw series with
//                    the period, which ets's seasonal models take natively (2..24); for a longer
//                    period fitted on the deseasonalised series and reseasonalised like the others
#pragma once

#include <array>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::forecast {

enum class Method {
  kNaive,
  kSeasonalNaive,
  kNaive2,
  kDrift,
  kSes,
  kHolt,
  kDamped,
  kTheta,
  kComb,
  kEts,
  kEnsemble /* forecast/ensemble.h; not computed by M4Benchmarks */,
  kSelected /* forecast/ensemble.h: per series, the member or ensemble with the best
               rolling-origin backtest */
};
inline constexpr std::array<Method, 10> kAllMethods = {
    Method::kNaive, Method::kSeasonalNaive, Method::kNaive2, Method::kDrift, Method::kSes,
    Method::kHolt,  Method::kDamped,        Method::kTheta,  Method::kComb,  Method::kEts};
std::string_view MethodName(Method method);

// A method's forecast for steps 1..h: the point forecast and the model's (uncalibrated) standard
// deviation of the forecast error, both reseasonalised. Naive-type methods use the random-walk
// variance k sigma^2 of their one-step errors; ETS methods the analytic ETS variance; Theta the
// SES variance of the deseasonalised series; Comb the mean of its members' deviations; ETS its
// model's analytic (or, with a multiplicative season, simulated) deviation.
struct MethodForecast {
  std::vector<double> mean;
  std::vector<double> sd;
  double seconds = 0;  // time to fit and forecast this method (incl. its share of deseasonalising)
};
using AllForecasts = std::array<MethodForecast, kAllMethods.size()>;

// Forecasts of every method, indexed by Method.
// kInvalidArgument: fewer than 4 values, h < 1 or h > 10000, NaN/Inf in y, m < 1.
Result<AllForecasts> M4Benchmarks(std::span<const double> y, int m, int h);

}  // namespace pulse::forecast
