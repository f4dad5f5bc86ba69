#include "forecast/exp_smoothing.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

// For fixed smoothing parameters the one-step errors are affine in the initial states:
// e_t = a_t - l0 u_t - b0 v_t, with a_t the errors from zero initial states and u_t, v_t the
// predictions of the unit responses. So the SSE-optimal (l0, b0) solve a 2x2 least-squares
// problem, computed in the same single pass (the likelihood "concentrated" on the states).
// Returns the minimal SSE and sets *l0, *b0.
double ConcentratedSse(std::span<const double> y, Trend trend, double alpha, double beta, double phi, double* l0,
                       double* b0) {
  const bool has_trend = trend != Trend::kNone;
  const double ph = trend == Trend::kDamped ? phi : 1.0;
  double l = 0, b = 0;          // states driven by the data from zero initial states
  double lu = 1, bu = 0;        // response to l0 = 1 (no data)
  double lv = 0, bv = 1;        // response to b0 = 1 (no data)
  double saa = 0, sau = 0, sav = 0, suu = 0, suv = 0, svv = 0;
  size_t t = 0;
  // Phase 1: data and unit responses together, until the responses have decayed to nothing.
  for (; t < y.size(); ++t) {
    const double pred = l + ph * b, pu = lu + ph * bu, pv = lv + ph * bv;
    const double a = y[t] - pred;
    saa += a * a, sau += a * pu, suu += pu * pu;
    l = pred + alpha * a;
    lu = pu - alpha * pu;
    if (has_trend) {
      sav += a * pv, suv += pu * pv, svv += pv * pv;
      b = ph * b + beta * a;
      bu = ph * bu - beta * pu;
      lv = pv - alpha * pv;
      bv = ph * bv - beta * pv;
    }
    if ((t & 15) == 15 && pu * pu < 1e-16 * suu && (!has_trend || pv * pv < 1e-16 * svv)) {
      ++t;
      break;
    }
  }
  // Phase 2: the responses no longer add to the sums; only the data recursion remains.
  for (; t < y.size(); ++t) {
    const double pred = l + ph * b;
    const double a = y[t] - pred;
    saa += a * a;
    l = pred + alpha * a;
    if (has_trend) b = ph * b + beta * a;
  }
  if (!has_trend) {
    *l0 = suu > 0 ? sau / suu : 0;
    *b0 = 0;
    return std::max(0.0, saa - *l0 * sau);
  }
  const double ridge = 1e-12 * (suu + svv);
  const double det = (suu + ridge) * (svv + ridge) - suv * suv;
  if (!(std::abs(det) > 0)) {
    *l0 = suu > 0 ? sau / suu : 0;
    *b0 = 0;
    return std::max(0.0, saa - *l0 * sau);
  }
  *l0 = ((svv + ridge) * sau - suv * sav) / det;
  *b0 = ((suu + ridge) * sav - suv * sau) / det;
  return std::max(0.0, saa - *l0 * sau - *b0 * sav);
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

  // Variables: alpha, [beta], [phi]; the initial states are solved for in closed form.
  double start[kMaxNmDims], step[kMaxNmDims];
  size_t dims = 0;
  start[dims] = 0.1 + 0.2 * 0.9, step[dims++] = 0.1;                     // alpha
  if (trend != Trend::kNone) start[dims] = 0.01, step[dims++] = 0.02;      // beta
  if (trend == Trend::kDamped) start[dims] = 0.97, step[dims++] = -0.05;   // phi

  auto unpack = [&](const double* x, double& alpha, double& beta, double& phi) {
    size_t i = 0;
    alpha = x[i++];
    beta = trend != Trend::kNone ? x[i++] : 0;
    phi = trend == Trend::kDamped ? x[i++] : 1;
  };
  auto objective = [&](const double* x) {
    double alpha, beta, phi, l0, b0;
    unpack(x, alpha, beta, phi);
    if (alpha < 1e-4 || alpha > 0.9999) return kInf;
    if (trend != Trend::kNone && (beta < 1e-4 || beta > alpha)) return kInf;
    if (trend == Trend::kDamped && (phi < 0.8 || phi > 0.98)) return kInf;
    return ConcentratedSse(y, trend, alpha, beta, phi, &l0, &b0);
  };
  NmResult best;
  if (trend == Trend::kNone) {
    // One parameter: golden-section search on alpha (SSE(alpha) is unimodal in practice).
    best.x[0] = GoldenSectionMinimize(
        [&](double alpha) {
          const double x[kMaxNmDims] = {alpha};
          return objective(x);
        },
        1e-4, 0.9999, 1e-7);
    best.value = objective(best.x.data());
  } else {
    // Relative tolerance 1e-8 as R's optim; one restart from the best point guards against
    // Nelder-Mead's early collapse (it costs a few iterations when the first run converged).
    best = NelderMead(objective, dims, start, step, 2000, 1e-8);
    double restart_step[kMaxNmDims];
    for (size_t d = 0; d < dims; ++d) restart_step[d] = step[d] * 0.25;
    NmResult again = NelderMead(objective, dims, best.x.data(), restart_step, 2000, 1e-8);
    if (again.value < best.value) best = again;
  }
  EtsFit fit;
  fit.trend = trend;
  unpack(best.x.data(), fit.alpha, fit.beta, fit.phi);
  ConcentratedSse(y, trend, fit.alpha, fit.beta, fit.phi, &fit.l0, &fit.b0);
  fit.n = n;
  fit.parameters = static_cast<int>(dims) + (trend == Trend::kNone ? 1 : 2);  // + initial states
  fit.sse = Sse(y, trend, fit.alpha, fit.beta, fit.phi, fit.l0, fit.b0, &fit);
  fit.sigma2 = fit.sse / static_cast<double>(n > dims ? n - dims : 1);
  return fit;
}

}  // namespace pulse::forecast
