// Additive-error exponential smoothing without seasonality: ETS(A,N,N) (SES), ETS(A,A,N) (Holt)
// and ETS(A,Ad,N) (damped trend), fitted like R's forecast::ets fits these models: parameters and
// initial states by maximum likelihood (for additive Gaussian errors, minimum sum of squared
// one-step errors) within alpha in [1e-4, 0.9999], beta in [1e-4, alpha], phi in [0.8, 0.98].
// Unlike ets, the initial states are not searched numerically: for given smoothing parameters
// the errors are affine in them, so their optimum is solved exactly in the same pass, and
// Nelder-Mead searches only the 1-3 smoothing parameters. Pure and allocation-free when fitting.
#pragma once

#include <span>
#include <vector>

#include "core/status.h"

namespace pulse::forecast {

enum class Trend { kNone, kAdditive, kDamped };

struct EtsFit {
  Trend trend = Trend::kNone;
  double alpha = 0, beta = 0, phi = 1;
  double level = 0, slope = 0;        // final states
  double l0 = 0, b0 = 0;              // fitted initial states
  double sse = 0;
  double sigma2 = 0;                  // residual variance, sse / (n - parameters)
  size_t n = 0;
  int parameters = 0;                 // estimated: smoothing + initial states
  // Point forecast for step h >= 1.
  double Forecast(size_t h) const;
  // Standard deviation of the step-h forecast error under the model (Hyndman et al. 2008,
  // class 1: var_h = sigma2 (1 + sum_{j<h} c_j^2), c_j = alpha + beta (phi + ... + phi^j)).
  double ForecastSd(size_t h) const;
  // AICc of the Gaussian likelihood (for model selection across trend types).
  double Aicc() const;
};

// kInvalidArgument for fewer than 3 values (SES) or 4 (trend), or non-finite values.
Result<EtsFit> FitEts(std::span<const double> y, Trend trend);

}  // namespace pulse::forecast
