// The ETS family of exponential smoothing models (Hyndman, Koehler, Ord & Snyder 2008): additive
// or multiplicative error; no, additive or damped trend; no, additive or multiplicative season.
// Fitted like R's forecast::ets fits them, by maximum likelihood within its "usual" bounds
// alpha in [1e-4, 0.9999], beta in [1e-4, alpha], gamma in [1e-4, 1 - alpha], phi in [0.8, 0.98];
// selected among candidates by AICc (AutoEts).
//
// Initial states. Seasonal initial states come from a classical decomposition of the first three
// cycles (as ets's heuristic does) and are counted as m - 1 estimated parameters. For models whose
// states are linear in the data (additive or no season), the one-step errors are affine in the
// initial level and slope for given smoothing parameters, so their least-squares values are solved
// exactly in the same pass as the likelihood and the optimiser searches only the smoothing
// parameters; for additive-error models this is the exact maximum likelihood, for
// multiplicative-error ones a close approximation of it. With a multiplicative season the initial
// level and slope join the smoothing parameters in the Nelder-Mead search.
//
// Pure; the fitting loops do not allocate (seasonal states live in fixed arrays, period <= 24
// like ets).
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::forecast {

enum class Trend { kNone, kAdditive, kDamped };
enum class ErrorType { kAdditive, kMultiplicative };
enum class SeasonType { kNone, kAdditive, kMultiplicative };

inline constexpr int kMaxEtsPeriod = 24;

struct EtsSpec {
  ErrorType error = ErrorType::kAdditive;
  Trend trend = Trend::kNone;
  SeasonType season = SeasonType::kNone;
  // "ETS(M,Ad,A)" style.
  std::string Name() const;
};
// Parses Name()'s form, e.g. "ETS(M,Ad,N)" (also without the "ETS" prefix or parentheses: "MAdN").
Result<EtsSpec> ParseEtsSpec(std::string_view name);

struct EtsFit {
  EtsSpec spec;
  Trend trend = Trend::kNone;  // == spec.trend
  int period = 1;              // seasonal period m (1 without season)
  double alpha = 0, beta = 0, gamma = 0, phi = 1;
  double level = 0, slope = 0;                 // final states
  std::array<double, kMaxEtsPeriod> season{};  // final seasonal states, season[j] used at step j + 1
  double l0 = 0, b0 = 0;                       // fitted initial states
  std::array<double, kMaxEtsPeriod> s0{};      // initial seasonal states, s0[j] used at time j
  double sse = 0;                              // sum of squared one-step errors (relative for M error)
  double sum_log_forecast = 0;                 // sum of log |one-step forecast| (M error likelihood term)
  double sigma2 = 0;                           // residual variance, sse / (n - parameters)
  size_t n = 0;
  int parameters = 0;     // estimated: smoothing + initial states
  bool constant = false;  // constant series: a flat forecast with zero variance

  // Point forecast for step h >= 1.
  double Forecast(size_t h) const;
  // Standard deviation of the step-h forecast error for models with an analytic variance
  // (Hyndman et al. 2008: class 1, additive error and components, var_h = sigma2 (1 + sum_{j<h}
  // c_j^2) with c_j = alpha + beta (phi + ... + phi^j) + gamma [j = 0 mod m]; class 2,
  // multiplicative error with additive components, the exact recursion of their eq. 6.6).
  // Models with a multiplicative season (class 3) have none: use ForecastInto.
  double ForecastSd(size_t h) const;
  // Steps 1..mean.size(): point forecasts and forecast-error standard deviations; class 3 models
  // by simulating 1000 sample paths with a fixed seed (deterministic).
  void ForecastInto(std::span<double> mean, std::span<double> sd) const;
  // -2 log-likelihood (Gaussian errors; for M error including the 2 sum log|f| term).
  double MinusTwoLogLik() const;
  // AICc of the likelihood, with the error variance counted as a parameter.
  double Aicc() const;
};

// kInvalidArgument for too few values (3, 4 with a trend, three full cycles with a season), non-finite values,
// non-positive values with a multiplicative error or season, or a period outside 2..24 for a seasonal model. A constant
// series gives a fit with `constant` set (flat forecast, zero variance) for every spec.
Result<EtsFit> FitEts(std::span<const double> y, EtsSpec spec, int period = 1);
inline Result<EtsFit> FitEts(std::span<const double> y, Trend trend) {
  return FitEts(y, EtsSpec{ErrorType::kAdditive, trend, SeasonType::kNone}, 1);
}

// The candidate models ets(y) tries by default: error A or M, trend N/A/Ad, season N/A/M when
// 2 <= period <= 24 and the series has three full cycles; without additive-error
// multiplicative-season models (numerically unstable) and without multiplicative error or season
// unless every value is positive.
std::vector<EtsSpec> EtsCandidates(std::span<const double> y, int period);

// Fits every candidate with more than parameters + 4 values (as ets requires) and returns the one
// with the lowest AICc; ETS(A,N,N) when none has enough data.
// kInvalidArgument when no candidate can be fitted (fewer than 4 values, non-finite values).
Result<EtsFit> AutoEts(std::span<const double> y, int period);

}  // namespace pulse::forecast
