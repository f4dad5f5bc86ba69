// Forecast accuracy metrics with the M4 competition's definitions (Makridakis et al. 2020; the
// organisers' "Benchmarks and Evaluation.R"). Inputs are one series' test values and forecasts.
//
//   sMAPE = mean_h 200 |y - f| / (|y| + |f|)                 (a term with |y| + |f| = 0 counts 0)
//   MASE  = mean_h |y - f| / scale, scale = mean_t |x_t - x_{t-m}| over the training series x
//   OWA   = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2 over set-level means (see Owa)
//   MSIS  = mean_h [(U - L) + (2/a)(L - y)1{y<L} + (2/a)(y - U)1{y>U}] / scale, a = 1 - level
//   pinball loss of quantile q: mean_h max(q (y - f_q), (q - 1)(y - f_q))
#pragma once

#include <span>

#include "core/status.h"

namespace pulse::forecast {

double Smape(std::span<const double> actual, std::span<const double> forecast);
// The in-sample seasonal-naive scale; kInvalidArgument when the series is shorter than m + 1
// or the scale is 0 (a constant series), since MASE is then undefined.
Result<double> MaseScale(std::span<const double> train, int m);
double Mase(std::span<const double> actual, std::span<const double> forecast, double scale);
double Msis(std::span<const double> actual, std::span<const double> lower, std::span<const double> upper, double alpha,
            double scale);
// Fraction of actual values inside [lower, upper].
double Coverage(std::span<const double> actual, std::span<const double> lower, std::span<const double> upper);
double Pinball(std::span<const double> actual, std::span<const double> quantile_forecast, double q);
// M4's OWA from set-level mean sMAPE and MASE of a method and of Naive2.
double Owa(double smape, double mase, double smape_naive2, double mase_naive2);

}  // namespace pulse::forecast
