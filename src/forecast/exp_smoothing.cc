#include "forecast/exp_smoothing.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "forecast/linear_trend.h"
#include "forecast/nelder_mead.h"

namespace pulse::forecast {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Sum of squared one-step errors; updates final states when `fit` is given.
double Sse(std::span<const double> y, Trend trend, double alpha, double beta, double phi, double l0, double b0,
           EtsFit* fit) {
  double l = l0, b = trend == Trend::kNone ? 0 : b0, sse = 0;
  const double ph = trend == Trend::kDamped ? phi : 1.0;
  for (double v : y) {
    double pred = l + ph * b;
    double e = v - pred;
    sse += e * e;
    l = pred + alpha * e;
    if (trend != Trend::kNone) b = ph * b + beta * e;
  }
  if (fit) {
    fit->level = l;
    fit->slope = b;
  }
  return sse;
}

}  // namespace

double EtsFit::Forecast(size_t h) const {
  switch (trend) {
    case Trend::kNone: return level;
    case Trend::kAdditive: return level + static_cast<double>(h) * slope;
    case Trend::kDamped: {
      // phi + phi^2 + ... + phi^h
      double sum = phi * (1 - std::pow(phi, static_cast<double>(h))) / (1 - phi);
      return level + sum * slope;
    }
  }
  return level;
}

double EtsFit::ForecastSd(size_t h) const {
  double var = 1, phi_sum = 0, phi_pow = 1;
  for (size_t j = 1; j < h; ++j) {
    double c = alpha;
    if (trend != Trend::kNone) {
      const double ph = trend == Trend::kDamped ? phi : 1.0;
      phi_pow *= ph;
      phi_sum += phi_pow;
      c += beta * phi_sum;
    }
    var += c * c;
  }
  return std::sqrt(sigma2 * var);
}

double EtsFit::Aicc() const {
  double nn = static_cast<double>(n);
  double k = parameters + 1;  // + the error variance
  double loglik = -0.5 * nn * (std::log(2 * M_PI * std::max(sse / nn, 1e-300)) + 1);
  double aic = -2 * loglik + 2 * k;
  return nn - k - 1 > 0 ? aic + 2 * k * (k + 1) / (nn - k - 1) : kInf;
}

Result<EtsFit> FitEts(std::span<const double> y, Trend trend) {
  const size_t n = y.size();
  const size_t min_n = trend == Trend::kNone ? 3 : 4;
  if (n < min_n) return Status::InvalidArgument("exponential smoothing needs at least " + std::to_string(min_n) + " values");
  for (double v : y)
    if (!std::isfinite(v)) return Status::InvalidArgument("the series has a NaN or infinite value");

  // Initial states as R's ets: a regression on the first max(10, ...) values.
  const size_t maxn = std::min<size_t>(10, n);
  const LinearTrend line = FitLinearTrend(y, maxn);
  const double m = static_cast<double>(maxn);
  double mean = 0;
  for (size_t t = 0; t < maxn; ++t) mean += y[t] / m;
  double l_start = trend == Trend::kNone ? mean : line.intercept;
  double b_start = trend == Trend::kNone ? 0 : line.slope;
  double scale = 0;
  for (size_t t = 0; t < maxn; ++t) scale += std::abs(y[t] - mean);
  scale = std::max(scale / m, 1e-3 * (std::abs(mean) + 1));

  // Variables: alpha, [beta], [phi], l0, [b0].
  double start[kMaxNmDims], step[kMaxNmDims];
  size_t dims = 0;
  start[dims] = 0.1 + 0.2 * 0.9, step[dims++] = 0.1;                                   // alpha
  if (trend != Trend::kNone) start[dims] = 0.01, step[dims++] = 0.02;                    // beta
  if (trend == Trend::kDamped) start[dims] = 0.97, step[dims++] = -0.05;                 // phi
  start[dims] = l_start, step[dims++] = scale;                                           // l0
  if (trend != Trend::kNone) start[dims] = b_start, step[dims++] = 0.1 * scale + 1e-6;   // b0

  auto objective = [&](const double* x) {
    size_t i = 0;
    double alpha = x[i++];
    double beta = trend != Trend::kNone ? x[i++] : 0;
    double phi = trend == Trend::kDamped ? x[i++] : 1;
    double l0 = x[i++];
    double b0 = trend != Trend::kNone ? x[i++] : 0;
    if (alpha < 1e-4 || alpha > 0.9999) return kInf;
    if (trend != Trend::kNone && (beta < 1e-4 || beta > alpha)) return kInf;
    if (trend == Trend::kDamped && (phi < 0.8 || phi > 0.98)) return kInf;
    return Sse(y, trend, alpha, beta, phi, l0, b0, nullptr);
  };
  // Two restarts from the best point guard against Nelder-Mead's early collapse.
  NmResult best = NelderMead(objective, dims, start, step);
  for (int restart = 0; restart < 2; ++restart) {
    NmResult again = NelderMead(objective, dims, best.x.data(), step);
    if (again.value < best.value) best = again; else break;
  }
  EtsFit fit;
  fit.trend = trend;
  size_t i = 0;
  fit.alpha = best.x[i++];
  fit.beta = trend != Trend::kNone ? best.x[i++] : 0;
  fit.phi = trend == Trend::kDamped ? best.x[i++] : 1;
  fit.l0 = best.x[i++];
  fit.b0 = trend != Trend::kNone ? best.x[i++] : 0;
  fit.n = n;
  fit.parameters = static_cast<int>(dims);
  fit.sse = Sse(y, trend, fit.alpha, fit.beta, fit.phi, fit.l0, fit.b0, &fit);
  fit.sigma2 = fit.sse / static_cast<double>(n > dims ? n - dims : 1);
  return fit;
}

}  // namespace pulse::forecast
