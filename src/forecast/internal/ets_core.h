// The per-series ETS fitting core: the likelihood pass, the least-squares initial states, the
// parameter search (Nelder-Mead / golden section) and the candidate loop of AutoEts with its warm
// starts, as allocation-free templates that compile for the host and, under nvcc, for the device
// (internal/hd.h). exp_smoothing.cc's FitEts and AutoEts run exactly this code on the CPU; the
// batched API (forecast/gpu_ets.h) runs it over a thread pool or, in a -DPULSE_CUDA=ON build with
// a device, in src/forecast/cuda/ets.cu, one device thread per series.
//
// What stays on the host (exp_smoothing.cc): input checks and their error messages, the constant
// series shortcut, the heuristic initial states (GuessInitialStates: a classical decomposition)
// and the choice among the fitted candidates by AICc. The host compiler builds pulse_forecast
// without FMA (x86-64 baseline, no -march) and ets.cu is compiled with --fmad=false, so every
// operation rounds alike; the only difference can come from the device's log (hd::Log), used by
// multiplicative-error objectives.
//
// Contracts: `scratch` holds at least 4 * y.size() doubles (the additive-season solve); y has
// passed FitEts's checks for every spec handed in (length, finite, positive where needed, not
// constant), m is 1 without a season and the period (2..24) with one.
#pragma once

#include <array>
#include <cstddef>
#include <limits>
#include <span>

#include "forecast/exp_smoothing.h"
#include "forecast/internal/hd.h"
#include "forecast/internal/nelder_mead_core.h"

namespace pulse::forecast::ets_core {

using hd::Abs;
using hd::IsFinite;
using hd::Max;
using hd::Min;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLower = 1e-4, kUpper = 0.9999, kPhiLower = 0.8, kPhiUpper = 0.98;
// The most candidates EtsCandidates returns: 6 additive-error and 9 multiplicative-error models.
constexpr size_t kMaxCandidates = 15;

struct Params {
  double alpha = 0, beta = 0, gamma = 0, phi = 1;
};

// The recursion's state; s[pos] is the seasonal state used at the current time.
struct State {
  double l = 0, b = 0;
  std::array<double, kMaxEtsPeriod> s{};
};

// Starting values for the states, as ets's heuristic (exp_smoothing.cc GuessInitialStates).
struct InitialGuess {
  double l0 = 0, b0 = 0;
  std::array<double, kMaxEtsPeriod> s0{};
};

// One step of the recursion for observation y, in the form shared by additive and multiplicative
// errors (they differ in the likelihood only): returns the one-step forecast and moves the state
// on. Linear in (state, y) unless the season is multiplicative.
template <Trend T, SeasonType S>
PULSE_HD inline double Step(State& x, size_t pos, double y, const Params& p) {
  const double ph = T == Trend::kDamped ? p.phi : 1.0;
  const double q = T == Trend::kNone ? x.l : x.l + ph * x.b;
  double f = q, adjusted = y;
  if constexpr (S == SeasonType::kAdditive) f = q + x.s[pos], adjusted = y - x.s[pos];
  if constexpr (S == SeasonType::kMultiplicative) f = q * x.s[pos], adjusted = y / x.s[pos];
  const double d = adjusted - q;
  x.l = q + p.alpha * d;
  if constexpr (T != Trend::kNone) x.b = ph * x.b + p.beta * d;
  if constexpr (S == SeasonType::kAdditive) x.s[pos] += p.gamma * (y - q - x.s[pos]);
  if constexpr (S == SeasonType::kMultiplicative) x.s[pos] += p.gamma * (y / q - x.s[pos]);
  return f;
}

PULSE_HD inline size_t Next(size_t pos, size_t m) { return pos + 1 == m ? 0 : pos + 1; }

struct Likelihood {
  double sse = 0;      // squared errors, relative for multiplicative error
  double sum_log = 0;  // sum log f (multiplicative error)
  bool ok = true;      // false when a forecast was not positive where it must be
};

// Runs the recursion over y from state x, leaving the final state in x.
template <ErrorType E, Trend T, SeasonType S>
PULSE_HD PULSE_HD_NOINLINE Likelihood Run(std::span<const double> y, const Params& p, size_t m, State& x) {
  constexpr bool kNeedsPositive = E == ErrorType::kMultiplicative || S == SeasonType::kMultiplicative;
  Likelihood out;
  size_t pos = 0;
  double product = 1;  // of forecasts since the last log: one log per 8 steps
  for (size_t t = 0; t < y.size(); ++t) {
    const double f = Step<T, S>(x, pos, y[t], p);
    if constexpr (kNeedsPositive) {
      if (!(f > 0) || !IsFinite(f)) {
        out.ok = false;
        return out;
      }
    }
    if constexpr (E == ErrorType::kAdditive) {
      const double e = y[t] - f;
      out.sse += e * e;
    } else {
      const double e = (y[t] - f) / f;
      out.sse += e * e;
      product *= f;
      if ((t & 7) == 7) out.sum_log += hd::Log(product), product = 1;
    }
    if constexpr (S != SeasonType::kNone) pos = Next(pos, m);
  }
  if constexpr (E == ErrorType::kMultiplicative) out.sum_log += hd::Log(product);
  return out;
}

template <Trend T, SeasonType S>
PULSE_HD double ResponseNorm(const State& x, size_t m) {
  double norm = x.l * x.l + x.b * x.b;
  if constexpr (S != SeasonType::kNone)
    for (size_t j = 0; j < m; ++j) norm += x.s[j] * x.s[j];
  return norm;
}

// For a linear recursion the one-step errors are affine in the initial level and slope:
// e_t = a_t - l0 u_t - b0 v_t, with a_t the errors from zero initial level and slope (and the
// fixed seasonal states s0), u_t and v_t the forecasts of the responses to a unit l0 or b0 with
// no data. The least-squares (l0, b0) solve a 2x2 system accumulated in the same pass. Once the
// responses have decayed to nothing only the data recursion runs on. Returns the minimal sum of
// squared additive errors and sets *l0, *b0.
template <Trend T, SeasonType S>
PULSE_HD PULSE_HD_NOINLINE double SolveLevelAndSlope(std::span<const double> y, const Params& p, size_t m,
                                                     const std::array<double, kMaxEtsPeriod>& s0, double* l0,
                                                     double* b0) {
  constexpr bool kHasTrend = T != Trend::kNone;
  State data, u, v;
  data.s = s0;
  u.l = 1;
  v.b = 1;
  double saa = 0, sau = 0, sav = 0, suu = 0, suv = 0, svv = 0;
  size_t t = 0, pos = 0;
  for (; t < y.size(); ++t) {
    const double a = y[t] - Step<T, S>(data, pos, y[t], p);
    const double fu = Step<T, S>(u, pos, 0.0, p);
    saa += a * a, sau += a * fu, suu += fu * fu;
    if constexpr (kHasTrend) {
      const double fv = Step<T, S>(v, pos, 0.0, p);
      sav += a * fv, suv += fu * fv, svv += fv * fv;
    }
    if constexpr (S != SeasonType::kNone) pos = Next(pos, m);
    if ((t & 15) == 15 && ResponseNorm<T, S>(u, m) < 1e-16 * suu &&
        (!kHasTrend || ResponseNorm<T, S>(v, m) < 1e-16 * svv)) {
      ++t;
      break;
    }
  }
  for (; t < y.size(); ++t) {
    const double a = y[t] - Step<T, S>(data, pos, y[t], p);
    saa += a * a;
    if constexpr (S != SeasonType::kNone) pos = Next(pos, m);
  }
  auto level_only = [&] {
    *l0 = suu > 0 ? sau / suu : 0;
    *b0 = 0;
    return Max(0.0, saa - *l0 * sau);
  };
  if (!kHasTrend) return level_only();
  const double ridge = 1e-12 * (suu + svv);
  const double det = (suu + ridge) * (svv + ridge) - suv * suv;
  if (!(Abs(det) > 0)) return level_only();
  *l0 = ((svv + ridge) * sau - suv * sav) / det;
  *b0 = ((suu + ridge) * sav - suv * sau) / det;
  return Max(0.0, saa - *l0 * sau - *b0 * sav);
}

// Solves A x = r in place for a symmetric positive (semi)definite A of size k (Cholesky with a
// small ridge); returns false when A is singular even with the ridge.
PULSE_HD PULSE_HD_NOINLINE inline bool SolveSymmetric(double* a, double* r, size_t k, size_t stride) {
  double trace = 0;
  for (size_t i = 0; i < k; ++i) trace += a[i * stride + i];
  const double ridge = 1e-12 * trace / static_cast<double>(k) + 1e-300;
  for (size_t i = 0; i < k; ++i) a[i * stride + i] += ridge;
  for (size_t j = 0; j < k; ++j) {
    double d = a[j * stride + j];
    for (size_t q = 0; q < j; ++q) d -= a[j * stride + q] * a[j * stride + q];
    if (!(d > 0)) return false;
    d = hd::Sqrt(d);
    a[j * stride + j] = d;
    for (size_t i = j + 1; i < k; ++i) {
      double v = a[i * stride + j];
      for (size_t q = 0; q < j; ++q) v -= a[i * stride + q] * a[j * stride + q];
      a[i * stride + j] = v / d;
    }
  }
  for (size_t i = 0; i < k; ++i) {  // L z = r
    double v = r[i];
    for (size_t q = 0; q < i; ++q) v -= a[i * stride + q] * r[q];
    r[i] = v / a[i * stride + i];
  }
  for (size_t i = k; i-- > 0;) {  // L^T x = z
    double v = r[i];
    for (size_t q = i + 1; q < k; ++q) v -= a[q * stride + i] * r[q];
    r[i] = v / a[i * stride + i];
  }
  return true;
}

// With an additive season every initial state enters the errors linearly:
// e_t = a_t - l0 u_t - b0 v_t - sum_j s_j w_{t-j}, where a_t are the errors from all-zero initial
// states and u, v, w the forecasts of the responses to a unit l0, b0 or first seasonal state.
// The recursion treats the seasonal slots alike, so the response to slot j is w delayed by j
// steps. The cross sums sum_t c_t (u_t, v_t, w_{t-j} for every j) for c = a, u, v, w come from
// one backward pass of the adjoint recursion each (O(n), not O(n m)); the Gram entries
// sum_t w_{t-i} w_{t-j} are then the lag sums less a few tail terms. The seasonal states are
// constrained to sum to zero (level and season are otherwise confounded), as in ets. Returns the
// minimal sum of squared errors and sets *l0, *b0 and s0. scratch: 4 n doubles.
template <Trend T>
PULSE_HD PULSE_HD_NOINLINE double SolveAllInitialStates(std::span<const double> y, const Params& p, size_t m,
                                                        double* scratch, double* l0, double* b0,
                                                        std::array<double, kMaxEtsPeriod>& s0) {
  constexpr bool kHasTrend = T != Trend::kNone;
  constexpr SeasonType S = SeasonType::kAdditive;
  const size_t n = y.size();
  double* const a = scratch;
  double* const u = a + n;
  double* const v = u + n;
  double* const w = v + n;
  State data, ru, rv, rw;
  ru.l = 1, rv.b = 1, rw.s[0] = 1;
  double saa = 0;
  size_t pos = 0;
  for (size_t t = 0; t < n; ++t) {
    a[t] = y[t] - Step<T, S>(data, pos, y[t], p);
    saa += a[t] * a[t];
    u[t] = Step<T, S>(ru, pos, 0.0, p);
    v[t] = kHasTrend ? Step<T, S>(rv, pos, 0.0, p) : 0.0;
    w[t] = Step<T, S>(rw, pos, 0.0, p);
    pos = Next(pos, m);
  }
  // Adjoint of the unit-free recursion x_{t+1} = M_t x_t, f_t = C_t x_t: lambda_t = C_t' c_t +
  // M_t' lambda_{t+1}; lambda_0 = sum_t c_t df_t/dx_0. Only l, b and the active slot change.
  const double ph = T == Trend::kDamped ? p.phi : 1.0, al = p.alpha, be = kHasTrend ? p.beta : 0.0, ga = p.gamma;
  State adj[4];  // inputs a, u, v, w
  const double* inputs[4] = {a, u, v, w};
  pos = (n - 1) % m;
  for (size_t t = n; t-- > 0;) {
    for (size_t k = 0; k < 4; ++k) {
      if (!kHasTrend && k == 2) continue;
      State& x = adj[k];
      const double c = inputs[k][t], ll = x.l, lb = x.b, ls = x.s[pos];
      x.l = c + (1 - al) * ll - be * lb - ga * ls;
      if constexpr (kHasTrend) x.b = ph * (c + (1 - al) * ll + (1 - be) * lb - ga * ls);
      x.s[pos] = c - al * ll - be * lb + (1 - ga) * ls;
    }
    pos = pos == 0 ? m - 1 : pos - 1;
  }
  const double sau = adj[0].l, sav = adj[0].b, suu = adj[1].l, suv = adj[1].b, svv = adj[2].b;
  const auto& aw = adj[0].s;
  const auto& uw = adj[1].s;
  const auto& vw = adj[2].s;
  const auto& ww = adj[3].s;
  // Normal equations over x = (l0, [b0], s_0 .. s_{m-1}).
  const size_t off = kHasTrend ? 2 : 1, k = off + m;
  constexpr size_t kMaxK = kMaxEtsPeriod + 2;
  double nm[kMaxK][kMaxK] = {}, r[kMaxK] = {};
  nm[0][0] = suu, r[0] = sau;
  if constexpr (kHasTrend) nm[0][1] = nm[1][0] = suv, nm[1][1] = svv, r[1] = sav;
  for (size_t j = 0; j < m; ++j) {
    nm[0][off + j] = nm[off + j][0] = uw[j];
    if constexpr (kHasTrend) nm[1][off + j] = nm[off + j][1] = vw[j];
    r[off + j] = aw[j];
  }
  // sum_{t >= j} w_{t-i} w_{t-j} for i <= j and d = j - i is the sum over k <= n-1-j of
  // w_{k+d} w_k: the lag sum ww[d] (k <= n-1-d) less its last j - d terms (n >= 3m: no underflow).
  for (size_t d = 0; d < m; ++d) {
    double sum = ww[d];
    size_t end = n - 1 - d;  // sum covers k <= end
    for (size_t j = d; j < m; ++j) {
      for (; end > n - 1 - j; --end) sum -= w[end + d] * w[end];
      nm[off + j - d][off + j] = nm[off + j][off + j - d] = sum;
    }
  }
  // Substitute s_{m-1} = -(s_0 + ... + s_{m-2}): column c becomes c - last for seasonal c.
  const size_t last = k - 1;
  double reduced[kMaxK][kMaxK] = {}, rr[kMaxK] = {};
  for (size_t i = 0; i < last; ++i) {
    const double si = i >= off ? 1.0 : 0.0;
    rr[i] = r[i] - si * r[last];
    for (size_t j = 0; j < last; ++j) {
      const double sj = j >= off ? 1.0 : 0.0;
      reduced[i][j] = nm[i][j] - sj * nm[i][last] - si * nm[last][j] + si * sj * nm[last][last];
    }
  }
  double x[kMaxK] = {};
  for (size_t i = 0; i < last; ++i) x[i] = rr[i];
  if (!SolveSymmetric(&reduced[0][0], x, last, kMaxK)) {
    *l0 = *b0 = 0;
    for (size_t j = 0; j < kMaxEtsPeriod; ++j) s0[j] = 0;
    return saa;
  }
  double explained = 0;
  for (size_t i = 0; i < last; ++i) explained += x[i] * rr[i];
  *l0 = x[0];
  *b0 = kHasTrend ? x[1] : 0;
  double sum_s = 0;
  for (size_t j = 0; j + 1 < m; ++j) s0[j] = x[off + j], sum_s += x[off + j];
  s0[m - 1] = -sum_s;
  return Max(0.0, saa - explained);
}

// Least-squares initial states of a linear model for given smoothing parameters: level and slope
// with the seasonal states fixed (no season) or all of them (additive season).
template <Trend T, SeasonType S>
PULSE_HD double SolveInitialStates(std::span<const double> y, const Params& p, size_t m, double* scratch, double* l0,
                                   double* b0, std::array<double, kMaxEtsPeriod>& s0) {
  if constexpr (S == SeasonType::kAdditive) return SolveAllInitialStates<T>(y, p, m, scratch, l0, b0, s0);
  return SolveLevelAndSlope<T, S>(y, p, m, s0, l0, b0);
}

PULSE_HD inline int ParameterCount(const EtsSpec& spec, size_t m) {
  int count = 2;                                                       // alpha, l0
  if (spec.trend != Trend::kNone) count += 2;                          // beta, b0
  if (spec.trend == Trend::kDamped) count += 1;                        // phi
  if (spec.season != SeasonType::kNone) count += static_cast<int>(m);  // gamma, m - 1 seasonal states
  return count;
}

// Where FitTyped's parameter search starts, and its first simplex steps: R's ets defaults for
// alpha, [beta], [gamma], [phi]; the smoothing parameters of `seed` (a damped model's undamped
// twin) or all parameters of `warm` when given, with smaller steps; and for a multiplicative season
// the initial level and slope [l0, b0] from `guess`. Fills start[0..n) and step[0..n), returns n.
template <Trend T, SeasonType S>
PULSE_HD size_t SearchStart(size_t m, const InitialGuess& guess, double scale, const EtsFit* warm, const EtsFit* seed,
                            double* start, double* step) {
  constexpr bool kHasTrend = T != Trend::kNone, kSeasonal = S != SeasonType::kNone;
  constexpr bool kLinear = S != SeasonType::kMultiplicative;  // states linear in l0, b0
  size_t dims = 0;
  const double alpha0 = kSeasonal ? kLower + 0.2 * (kUpper - kLower) / static_cast<double>(m) : 0.1 + 0.2 * 0.9;
  start[dims] = alpha0, step[dims++] = 0.1;
  if constexpr (kHasTrend) {
    if (kSeasonal) {
      start[dims] = kLower + 0.1 * (alpha0 - kLower), step[dims++] = 0.5 * alpha0;
    } else {
      start[dims] = 0.01, step[dims++] = 0.02;
    }
  }
  if constexpr (kSeasonal) start[dims] = kLower + 0.05 * (1 - alpha0 - kLower), step[dims++] = 0.05;
  if constexpr (T == Trend::kDamped) start[dims] = 0.97, step[dims++] = -0.05;
  if (seed && !warm) {  // smoothing parameters of the undamped twin: the damped search starts there
    size_t i = 0;
    start[i] = seed->alpha, step[i++] *= 0.5;
    if constexpr (kHasTrend) start[i] = seed->beta, step[i++] *= 0.5;
    if constexpr (kSeasonal) start[i] = seed->gamma, step[i++] *= 0.5;
  }
  if (warm) {
    size_t i = 0;
    start[i] = warm->alpha, step[i++] *= 0.25;
    if constexpr (kHasTrend) start[i] = warm->beta, step[i++] *= 0.25;
    if constexpr (kSeasonal) start[i] = warm->gamma, step[i++] *= 0.25;
    if constexpr (T == Trend::kDamped) start[i] = warm->phi, step[i++] *= 0.25;
  }
  if constexpr (!kLinear) {
    start[dims] = guess.l0, step[dims++] = 0.05 * Max(Abs(guess.l0), 1e-3 * scale);
    if constexpr (kHasTrend) start[dims] = guess.b0, step[dims++] = 0.05 * Max(Abs(guess.b0), 1e-4 * scale);
  }
  return dims;
}

// Fits one model. `warm`, for a model with a multiplicative component, is the fit of its additive
// counterpart (same trend, additive error, additive season where this one has a season): its
// smoothing parameters start the search and its least-squares initial states are used - kept
// as they are with linear states (the search then runs one pass per evaluation on a smooth
// objective), converted to ratios s_j = 1 + s_j / l0 for a multiplicative season (where the
// level and slope are then searched from there). A fit without a feasible point has sse = inf.
template <ErrorType E, Trend T, SeasonType S>
PULSE_HD PULSE_HD_NOINLINE EtsFit FitTyped(std::span<const double> y, size_t m, const InitialGuess& heuristic,
                                           const EtsFit* warm, const EtsFit* seed, double* scratch) {
  constexpr bool kHasTrend = T != Trend::kNone, kSeasonal = S != SeasonType::kNone;
  constexpr bool kLinear = S != SeasonType::kMultiplicative;  // states linear in l0, b0
  // l0, b0 solved in closed form for each evaluation
  const bool solve_states = kLinear && !warm;
  InitialGuess guess = heuristic;
  if (warm) {
    guess.l0 = warm->l0, guess.b0 = warm->b0, guess.s0 = warm->s0;
    if constexpr (S == SeasonType::kMultiplicative)
      for (size_t j = 0; j < m; ++j) guess.s0[j] = Max(0.01, 1 + warm->s0[j] / Max(warm->l0, 1e-12));
  }
  const double nn = static_cast<double>(y.size());
  double scale = 0;
  for (size_t t = 0; t < y.size(); ++t) scale = Max(scale, Abs(y[t]));

  // Variables: alpha, [beta], [gamma], [phi], and with a multiplicative season l0, [b0].
  double start[kMaxNmDims] = {}, step[kMaxNmDims] = {};
  const size_t dims = SearchStart<T, S>(m, guess, scale, warm, seed, start, step);

  auto unpack = [&](const double* x, Params& p, double& l0, double& b0) {
    size_t i = 0;
    p.alpha = x[i++];
    if constexpr (kHasTrend) p.beta = x[i++];
    if constexpr (kSeasonal) p.gamma = x[i++];
    if constexpr (T == Trend::kDamped) p.phi = x[i++];
    l0 = guess.l0, b0 = warm ? guess.b0 : 0;
    if constexpr (!kLinear) {
      l0 = x[i++];
      if constexpr (kHasTrend) b0 = x[i++];
    }
  };
  auto feasible = [](const Params& p) {
    if (p.alpha < kLower || p.alpha > kUpper) return false;
    if (kHasTrend && (p.beta < kLower || p.beta > p.alpha)) return false;
    if (kSeasonal && (p.gamma < kLower || p.gamma > 1 - p.alpha)) return false;
    if (T == Trend::kDamped && (p.phi < kPhiLower || p.phi > kPhiUpper)) return false;
    return true;
  };
  // Additive error: the sum of squared errors (monotone in the likelihood, what the optimiser
  // sees in R too up to the log); multiplicative: n log(sse) + 2 sum log f.
  auto objective = [&](const double* x) {
    Params p;
    double l0, b0;
    unpack(x, p, l0, b0);
    if (!feasible(p)) return kInf;
    std::array<double, kMaxEtsPeriod> s0 = guess.s0;
    if (solve_states) {
      const double sse = SolveInitialStates<T, S>(y, p, m, scratch, &l0, &b0, s0);
      if constexpr (E == ErrorType::kAdditive) return sse;
    }
    State state{l0, b0, s0};
    const Likelihood lik = Run<E, T, S>(y, p, m, state);
    if (!lik.ok) return kInf;
    if constexpr (E == ErrorType::kAdditive) return lik.sse;
    return nn * hd::Log(Max(lik.sse, 1e-300)) + 2 * lik.sum_log;
  };

  NmResult best;
  if (dims == 1) {
    // One parameter: golden-section search on alpha (the objective is unimodal in practice).
    auto along_alpha = [&](double alpha) {
      const double x[kMaxNmDims] = {alpha};
      return objective(x);
    };
    best.x[0] = hd::GoldenSectionMinimize(along_alpha, kLower, kUpper, 1e-7);
    best.value = objective(best.x.data());
  } else {
    // Relative tolerance 1e-8 as R's optim; one restart from the best point guards against
    // Nelder-Mead's early collapse (it costs a few iterations when the first run converged).
    best = hd::NelderMead(objective, dims, start, step, 2000, 1e-8);
    double restart_step[kMaxNmDims];
    for (size_t d = 0; d < dims; ++d) restart_step[d] = step[d] * 0.25;
    NmResult again = hd::NelderMead(objective, dims, best.x.data(), restart_step, 2000, 1e-8);
    if (again.value < best.value) best = again;
  }

  EtsFit fit;
  fit.spec = EtsSpec{E, T, S};
  fit.trend = T;
  fit.period = static_cast<int>(m);
  Params p;
  unpack(best.x.data(), p, fit.l0, fit.b0);
  fit.s0 = guess.s0;
  if (solve_states) SolveInitialStates<T, S>(y, p, m, scratch, &fit.l0, &fit.b0, fit.s0);
  fit.alpha = p.alpha, fit.beta = p.beta, fit.gamma = p.gamma, fit.phi = p.phi;
  State state{fit.l0, fit.b0, fit.s0};
  const Likelihood lik = Run<E, T, S>(y, p, m, state);
  fit.level = state.l, fit.slope = state.b;
  for (size_t j = 0; j < m && kSeasonal; ++j) fit.season[j] = state.s[(y.size() + j) % m];
  fit.sse = lik.sse, fit.sum_log_forecast = lik.sum_log;
  fit.n = y.size();
  fit.parameters = ParameterCount(fit.spec, m);
  fit.sigma2 = fit.sse / Max(1.0, nn - fit.parameters);
  if (!lik.ok || !IsFinite(fit.sse)) fit.sse = kInf;  // no feasible point: never selected
  return fit;
}

// Calls fn.template operator()<E, T, S>() for the spec's component types.
template <ErrorType E, Trend T, class Fn>
PULSE_HD decltype(auto) WithSeason(SeasonType season, Fn& fn) {
  switch (season) {
    case SeasonType::kAdditive: return fn.template operator()<E, T, SeasonType::kAdditive>();
    case SeasonType::kMultiplicative: return fn.template operator()<E, T, SeasonType::kMultiplicative>();
    case SeasonType::kNone: break;
  }
  return fn.template operator()<E, T, SeasonType::kNone>();
}
template <ErrorType E, class Fn>
PULSE_HD decltype(auto) WithTrend(const EtsSpec& spec, Fn& fn) {
  switch (spec.trend) {
    case Trend::kAdditive: return WithSeason<E, Trend::kAdditive>(spec.season, fn);
    case Trend::kDamped: return WithSeason<E, Trend::kDamped>(spec.season, fn);
    case Trend::kNone: break;
  }
  return WithSeason<E, Trend::kNone>(spec.season, fn);
}
template <class Fn>
PULSE_HD decltype(auto) Dispatch(const EtsSpec& spec, Fn&& fn) {
  if (spec.error == ErrorType::kMultiplicative) return WithTrend<ErrorType::kMultiplicative>(spec, fn);
  return WithTrend<ErrorType::kAdditive>(spec, fn);
}

// The model whose fit warm-starts `spec`: additive error, additive season where it has one.
PULSE_HD inline EtsSpec AdditiveCounterpart(const EtsSpec& spec) {
  return EtsSpec{ErrorType::kAdditive, spec.trend,
                 spec.season == SeasonType::kNone ? SeasonType::kNone : SeasonType::kAdditive};
}

// Fits `spec` from the heuristic `guess`. A model with a multiplicative component starts from
// `warm` (its additive counterpart's fit) or, without one, fits that counterpart first from the
// same guess; `seed` (an additive damped model's undamped twin) starts the damped search.
PULSE_HD inline EtsFit FitSpec(std::span<const double> y, const EtsSpec& spec, size_t m, const InitialGuess& guess,
                               const EtsFit* warm, const EtsFit* seed, double* scratch) {
  EtsFit additive;
  if (spec.error == ErrorType::kAdditive && spec.season != SeasonType::kMultiplicative) {
    warm = nullptr;
  } else if (!warm) {
    additive = Dispatch(AdditiveCounterpart(spec), [&]<ErrorType E, Trend T, SeasonType S>() {
      return FitTyped<E, T, S>(y, m, guess, nullptr, nullptr, scratch);
    });
    warm = &additive;
  }
  return Dispatch(
      spec, [&]<ErrorType E, Trend T, SeasonType S>() { return FitTyped<E, T, S>(y, m, guess, warm, seed, scratch); });
}

// AutoEts's fitting loop for one series: fits specs[0..count) in order into fits[0..count) (an
// infeasible fit has sse = inf and warm-starts nothing). Each multiplicative-error model starts
// from the latest feasible additive-error fit with its trend and counterpart season; an
// additive damped model from its undamped twin. With count == 1 this is FitEts's fit.
PULSE_HD inline void FitCandidates(std::span<const double> y, int period, const EtsSpec* specs,
                                   const InitialGuess* guesses, size_t count, double* scratch, EtsFit* fits) {
  size_t additive[kMaxCandidates];  // indices of feasible additive-error fits, in fitting order
  size_t additive_count = 0;
  for (size_t c = 0; c < count; ++c) {
    const EtsSpec spec = specs[c];
    const size_t m = spec.season == SeasonType::kNone ? 1 : static_cast<size_t>(Max(period, 1));
    const EtsFit* warm = nullptr;
    for (size_t i = 0; i < additive_count; ++i) {
      const EtsFit& a = fits[additive[i]];
      if (a.spec.trend == spec.trend && a.spec.season == AdditiveCounterpart(spec).season) warm = &a;
    }
    const EtsFit* seed = nullptr;
    if (spec.error == ErrorType::kAdditive && spec.trend == Trend::kDamped) {
      for (size_t i = 0; i < additive_count; ++i) {
        const EtsFit& a = fits[additive[i]];
        if (a.spec.trend == Trend::kAdditive && a.spec.season == spec.season) seed = &a;
      }
    }
    fits[c] = FitSpec(y, spec, m, guesses[c], warm, seed, scratch);
    if (IsFinite(fits[c].sse) && spec.error == ErrorType::kAdditive && additive_count < kMaxCandidates)
      additive[additive_count++] = c;
  }
}

}  // namespace pulse::forecast::ets_core
