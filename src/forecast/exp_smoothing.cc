#include "forecast/exp_smoothing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/random.h"
#include "forecast/internal/ets_core.h"
#include "forecast/internal/ets_plan.h"
#include "forecast/linear_trend.h"
#include "forecast/seasonality.h"

namespace pulse::forecast {
namespace {

using ets_core::InitialGuess;
using ets_core::kInf;
using ets_core::Params;
using ets_core::State;

constexpr int kSimulatedPaths = 1000;

// Starting values for the states, as ets's heuristic: seasonal states from a classical
// decomposition of the first three cycles; level (and slope) from a line through the first
// max(10, 2m) seasonally adjusted values.
Result<InitialGuess> GuessInitialStates(std::span<const double> y, const EtsSpec& spec, size_t m) {
  InitialGuess g;
  const bool multiplicative = spec.season == SeasonType::kMultiplicative;
  const size_t maxn = std::min(std::max<size_t>(10, 2 * m), y.size());
  std::vector<double> adjusted(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(maxn));
  if (spec.season != SeasonType::kNone) {
    PULSE_ASSIGN_OR_RETURN(auto figure,
                           SeasonalIndices(y.first(std::min(y.size(), 3 * m)), static_cast<int>(m), multiplicative));
    for (size_t j = 0; j < m; ++j) {
      g.s0[j] = multiplicative ? std::max(figure[j], 0.01) : figure[j];
      if (!std::isfinite(g.s0[j])) return Status::InvalidArgument("seasonal decomposition failed");
    }
    for (size_t t = 0; t < maxn; ++t) adjusted[t] = multiplicative ? y[t] / g.s0[t % m] : y[t] - g.s0[t % m];
  }
  if (spec.trend == Trend::kNone) {
    for (double v : adjusted) g.l0 += v / static_cast<double>(maxn);
  } else {
    const LinearTrend line = FitLinearTrend(adjusted);
    g.l0 = line.intercept, g.b0 = line.slope;
  }
  return g;
}

// c_j of the forecast variance: the weight of the error j steps back in the step-(j+1) forecast.
double ErrorWeight(const EtsFit& fit, size_t j, double* phi_sum, double* phi_pow) {
  double c = fit.alpha;
  if (fit.trend != Trend::kNone) {
    *phi_pow *= fit.trend == Trend::kDamped ? fit.phi : 1.0;
    *phi_sum += *phi_pow;
    c += fit.beta * *phi_sum;
  }
  if (fit.spec.season != SeasonType::kNone && j % static_cast<size_t>(fit.period) == 0) c += fit.gamma;
  return c;
}

// Class 3 (multiplicative season): sample-path standard deviations by simulation, accumulated
// as deviations from the point forecast (no cancellation when the spread is tiny).
template <ErrorType E, Trend T, SeasonType S>
void SimulateSd(const EtsFit& fit, std::span<double> sd) {
  const size_t h = sd.size(), m = static_cast<size_t>(fit.period);
  const double sigma = std::sqrt(fit.sigma2);
  const Params p{fit.alpha, fit.beta, fit.gamma, fit.phi};
  std::vector<double> sum(h, 0.0), sum2(h, 0.0);
  for (int path = 0; path < kSimulatedPaths; ++path) {
    CounterRng rng(0x45545333ULL, static_cast<uint32_t>(path));
    State x{fit.level, fit.slope, {}};
    for (size_t j = 0; j < m; ++j) x.s[j] = fit.season[j];
    size_t pos = 0;
    for (size_t k = 0; k < h; ++k) {
      State probe = x;
      const double f = ets_core::Step<T, S>(probe, pos, 0.0, p);  // the forecast only; probe is discarded
      const double eps = sigma * rng.Normal();
      const double y = E == ErrorType::kAdditive ? f + eps : f * (1 + eps);
      ets_core::Step<T, S>(x, pos, y, p);
      const double d = y - fit.Forecast(k + 1);
      sum[k] += d, sum2[k] += d * d;
      if constexpr (S != SeasonType::kNone) pos = ets_core::Next(pos, m);
    }
  }
  for (size_t k = 0; k < h; ++k) {
    const double mean = sum[k] / kSimulatedPaths;
    sd[k] = std::sqrt(std::max(0.0, sum2[k] / kSimulatedPaths - mean * mean));
  }
}

}  // namespace

std::string EtsSpec::Name() const {
  std::string out = "ETS(";
  out += error == ErrorType::kAdditive ? "A," : "M,";
  out += trend == Trend::kNone ? "N," : trend == Trend::kAdditive ? "A," : "Ad,";
  out += season == SeasonType::kNone ? "N)" : season == SeasonType::kAdditive ? "A)" : "M)";
  return out;
}

Result<EtsSpec> ParseEtsSpec(std::string_view name) {
  std::string compact;
  std::string_view body = name;
  if (body.starts_with("ETS")) body.remove_prefix(3);
  for (char c : body)
    if (c != '(' && c != ')' && c != ',' && c != ' ') compact += c;
  EtsSpec spec;
  auto bad = [&] {
    return Status::InvalidArgument("not an ETS model name: '" + std::string(name) +
                                   "' (expected e.g. ETS(M,Ad,N): error A|M, trend N|A|Ad, season N|A|M)");
  };
  if (compact.size() < 3 || compact.size() > 4) return bad();
  const char error = compact[0], season = compact.back();
  const std::string trend = compact.substr(1, compact.size() - 2);
  if (error != 'A' && error != 'M') return bad();
  spec.error = error == 'A' ? ErrorType::kAdditive : ErrorType::kMultiplicative;
  if (trend == "N") {
    spec.trend = Trend::kNone;
  } else if (trend == "A") {
    spec.trend = Trend::kAdditive;
  } else if (trend == "Ad") {
    spec.trend = Trend::kDamped;
  } else {
    return bad();
  }
  if (season == 'N') {
    spec.season = SeasonType::kNone;
  } else if (season == 'A') {
    spec.season = SeasonType::kAdditive;
  } else if (season == 'M') {
    spec.season = SeasonType::kMultiplicative;
  } else {
    return bad();
  }
  return spec;
}

double EtsFit::Forecast(size_t h) const {
  double q = level;
  if (!constant) {
    if (trend == Trend::kAdditive) q += static_cast<double>(h) * slope;
    if (trend == Trend::kDamped) q += phi * (1 - std::pow(phi, static_cast<double>(h))) / (1 - phi) * slope;
  }
  if (constant || spec.season == SeasonType::kNone) return q;
  const double s = season[(h - 1) % static_cast<size_t>(period)];
  return spec.season == SeasonType::kAdditive ? q + s : q * s;
}

double EtsFit::ForecastSd(size_t h) const {
  std::vector<double> mean(h), sd(h);
  ForecastInto(mean, sd);
  return sd[h - 1];
}

void EtsFit::ForecastInto(std::span<double> mean, std::span<double> sd) const {
  const size_t h = mean.size();
  for (size_t k = 1; k <= h; ++k) mean[k - 1] = Forecast(k);
  if (constant) {
    std::fill(sd.begin(), sd.end(), 0.0);
    return;
  }
  if (spec.season == SeasonType::kMultiplicative) {
    ets_core::Dispatch(spec, [&]<ErrorType E, Trend T, SeasonType S>() { SimulateSd<E, T, S>(*this, sd); });
    return;
  }
  double phi_sum = 0, phi_pow = 1;
  if (spec.error == ErrorType::kAdditive) {  // class 1
    double var = 1;
    for (size_t k = 1; k <= h; ++k) {
      if (k > 1) {
        const double c = ErrorWeight(*this, k - 1, &phi_sum, &phi_pow);
        var += c * c;
      }
      sd[k - 1] = std::sqrt(sigma2 * var);
    }
    return;
  }
  // Class 2: theta_1 = mu_1^2, theta_k = mu_k^2 + sigma2 sum_{j<k} c_j^2 theta_{k-j},
  // var_k = (1 + sigma2) theta_k - mu_k^2.
  std::vector<double> c2(h, 0.0), theta(h + 1, 0.0);
  for (size_t j = 1; j < h; ++j) {
    const double c = ErrorWeight(*this, j, &phi_sum, &phi_pow);
    c2[j] = c * c;
  }
  for (size_t k = 1; k <= h; ++k) {
    const double mu = mean[k - 1];
    double acc = 0;
    for (size_t j = 1; j < k; ++j) acc += c2[j] * theta[k - j];
    theta[k] = mu * mu + sigma2 * acc;
    sd[k - 1] = std::sqrt(std::max(0.0, (1 + sigma2) * theta[k] - mu * mu));
  }
}

double EtsFit::MinusTwoLogLik() const {
  const double nn = static_cast<double>(n);
  return nn * (std::log(2 * M_PI * std::max(sse / nn, 1e-300)) + 1) + 2 * sum_log_forecast;
}

double EtsFit::Aicc() const {
  if (constant || !std::isfinite(sse)) return constant ? -kInf : kInf;
  const double nn = static_cast<double>(n), k = parameters + 1;  // + the error variance
  const double aic = MinusTwoLogLik() + 2 * k;
  return nn - k - 1 > 0 ? aic + 2 * k * (k + 1) / (nn - k - 1) : kInf;
}

namespace {

// FitEts's input checks, in its order. Sets *constant for a constant series (every spec then
// gives the constant fit).
Status CheckFitInput(std::span<const double> y, const EtsSpec& spec, int period, bool* constant) {
  const size_t n = y.size();
  const bool seasonal = spec.season != SeasonType::kNone;
  const size_t m = seasonal ? static_cast<size_t>(std::max(period, 1)) : 1;
  const size_t min_n = spec.trend == Trend::kNone ? 3 : 4;
  if (n < min_n) {
    return Status::InvalidArgument(spec.Name() + " needs at least " + std::to_string(min_n) + " values, got " +
                                   std::to_string(n));
  }
  if (seasonal && (period < 2 || period > kMaxEtsPeriod)) {
    return Status::InvalidArgument("a seasonal ETS model needs a period of 2.." + std::to_string(kMaxEtsPeriod) +
                                   ", got " + std::to_string(period));
  }
  if (seasonal && n < 3 * m) {
    return Status::InvalidArgument(spec.Name() + " needs three full cycles (" + std::to_string(3 * m) +
                                   " values), got " + std::to_string(n));
  }
  double lo = kInf, hi = -kInf;
  for (double v : y) {
    if (!std::isfinite(v)) return Status::InvalidArgument("the series has a NaN or infinite value");
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  const bool multiplicative = spec.error == ErrorType::kMultiplicative || spec.season == SeasonType::kMultiplicative;
  if (multiplicative && !(lo > 0))
    return Status::InvalidArgument(spec.Name() + " needs positive values; the series has " + std::to_string(lo));
  *constant = hi - lo <= 1e-12 * std::max(1.0, std::abs(hi));
  return Status::Ok();
}

size_t SeasonLength(const EtsSpec& spec, int period) {
  return spec.season != SeasonType::kNone ? static_cast<size_t>(std::max(period, 1)) : 1;
}

// Constant: every model forecasts the value with certainty; the optimiser has nothing to fit.
EtsFit ConstantFit(std::span<const double> y, const EtsSpec& spec, size_t m) {
  EtsFit fit;
  fit.spec = spec, fit.trend = spec.trend, fit.period = static_cast<int>(m);
  fit.level = fit.l0 = y[0];
  fit.n = y.size(), fit.parameters = ets_core::ParameterCount(spec, m), fit.constant = true;
  return fit;
}

}  // namespace

EtsPlan PlanFitEts(std::span<const double> y, EtsSpec spec, int period) {
  EtsPlan plan;
  bool constant = false;
  if (Status checked = CheckFitInput(y, spec, period, &constant); !checked.ok()) {
    plan.done = Result<EtsFit>(checked);
    return plan;
  }
  const size_t m = SeasonLength(spec, period);
  if (constant) {
    plan.done = Result<EtsFit>(ConstantFit(y, spec, m));
    return plan;
  }
  auto guess = GuessInitialStates(y, spec, m);
  if (!guess.ok()) {
    plan.done = Result<EtsFit>(guess.status());
    return plan;
  }
  plan.specs.push_back(spec);
  plan.guesses.push_back(*guess);
  return plan;
}

EtsPlan PlanAutoEts(std::span<const double> y, int period) {
  EtsPlan plan;
  for (const EtsSpec& spec : EtsCandidates(y, period)) {
    const size_t m = SeasonLength(spec, period);
    if (y.size() <= static_cast<size_t>(ets_core::ParameterCount(spec, m)) + 4) continue;
    bool constant = false;
    if (!CheckFitInput(y, spec, period, &constant).ok()) continue;
    // The first candidate that passes the checks decides: the checks before the constant test
    // passed for no earlier one, so nothing has been planned yet.
    if (constant) {
      plan.specs.clear(), plan.guesses.clear();
      plan.done = Result<EtsFit>(ConstantFit(y, spec, m));
      return plan;
    }
    auto guess = GuessInitialStates(y, spec, m);
    if (!guess.ok()) continue;
    plan.specs.push_back(spec);
    plan.guesses.push_back(*guess);
  }
  return plan;
}

Result<EtsFit> FinishFitEts(const EtsFit& fit) {
  if (!std::isfinite(fit.sse))
    return Status::InvalidArgument(fit.spec.Name() + ": no parameters give positive forecasts for this series");
  return fit;
}

Result<EtsFit> FinishAutoEts(std::span<const double> y, std::span<const EtsFit> fits) {
  const EtsFit* best = nullptr;
  for (const EtsFit& fit : fits) {
    if (!std::isfinite(fit.sse)) continue;
    if (!best || fit.Aicc() < best->Aicc()) best = &fit;
  }
  if (best) return *best;
  return FitEts(y, EtsSpec{}, 1);
}

Result<EtsFit> RunPlan(std::span<const double> y, int period, const EtsPlan& plan, bool automatic) {
  if (plan.done) return *plan.done;
  std::vector<EtsFit> fits(plan.specs.size());
  std::vector<double> scratch(4 * y.size());
  ets_core::FitCandidates(y, period, plan.specs.data(), plan.guesses.data(), plan.specs.size(), scratch.data(),
                          fits.data());
  if (automatic) return FinishAutoEts(y, fits);
  return FinishFitEts(fits[0]);
}

Result<EtsFit> FitEts(std::span<const double> y, EtsSpec spec, int period) {
  return RunPlan(y, period, PlanFitEts(y, spec, period), false);
}

std::vector<EtsSpec> EtsCandidates(std::span<const double> y, int period) {
  bool positive = true;
  for (double v : y) positive = positive && v > 0;
  const bool seasonal = period >= 2 && period <= kMaxEtsPeriod && y.size() >= 3 * static_cast<size_t>(period);
  std::vector<EtsSpec> out;
  for (ErrorType error : {ErrorType::kAdditive, ErrorType::kMultiplicative}) {
    if (error == ErrorType::kMultiplicative && !positive) continue;
    for (Trend trend : {Trend::kNone, Trend::kAdditive, Trend::kDamped}) {
      for (SeasonType season : {SeasonType::kNone, SeasonType::kAdditive, SeasonType::kMultiplicative}) {
        if (season != SeasonType::kNone && !seasonal) continue;
        if (season == SeasonType::kMultiplicative && (!positive || error == ErrorType::kAdditive)) continue;
        out.push_back(EtsSpec{error, trend, season});
      }
    }
  }
  return out;
}

Result<EtsFit> AutoEts(std::span<const double> y, int period) {
  return RunPlan(y, period, PlanAutoEts(y, period), true);
}

}  // namespace pulse::forecast
