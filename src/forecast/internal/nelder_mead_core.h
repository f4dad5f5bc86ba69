// The Nelder-Mead and golden-section loops of forecast/nelder_mead.h as templates over the
// objective, for host and device (internal/hd.h): nelder_mead.cc wraps them for std::function,
// the ETS fitting core (internal/ets_core.h) calls them with its lambdas directly, on the CPU and
// in the CUDA kernel alike. Contracts as in nelder_mead.h.
#pragma once

#include <array>
#include <cstddef>

#include "forecast/internal/hd.h"
#include "forecast/nelder_mead.h"

namespace pulse::forecast::hd {

template <class F>
PULSE_HD PULSE_HD_NOINLINE NmResult NelderMead(F& f, size_t dims, const double* start, const double* step,
                                               int max_iterations, double tolerance) {
  using Point = std::array<double, kMaxNmDims>;
  std::array<Point, kMaxNmDims + 1> p{};
  std::array<double, kMaxNmDims + 1> v{};
  const size_t n = Min(dims, kMaxNmDims);
  for (size_t i = 0; i <= n; ++i) {
    for (size_t d = 0; d < n; ++d) p[i][d] = start[d] + (i == d + 1 ? step[d] : 0.0);
    v[i] = f(p[i].data());
  }
  NmResult out;
  int it = 0;
  for (; it < max_iterations; ++it) {
    // Order: best first.
    std::array<size_t, kMaxNmDims + 1> order{};
    for (size_t i = 0; i <= n; ++i) {  // insertion sort of at most 7 vertices
      size_t j = i;
      for (; j > 0 && v[order[j - 1]] > v[i]; --j) order[j] = order[j - 1];
      order[j] = i;
    }
    const size_t best = order[0], worst = order[n], second = order[n - 1];
    if (IsFinite(v[worst]) && Abs(v[worst] - v[best]) <= tolerance * (Abs(v[best]) + tolerance)) break;
    Point centroid{};
    for (size_t i = 0; i < n; ++i)
      for (size_t d = 0; d < n; ++d) centroid[d] += p[order[i]][d] / static_cast<double>(n);
    auto along = [&](double t) {
      Point q{};
      for (size_t d = 0; d < n; ++d) q[d] = centroid[d] + t * (p[worst][d] - centroid[d]);
      return q;
    };
    Point reflected = along(-1.0);
    double fr = f(reflected.data());
    if (fr < v[best]) {
      Point expanded = along(-2.0);
      double fe = f(expanded.data());
      if (fe < fr) {
        p[worst] = expanded, v[worst] = fe;
      } else {
        p[worst] = reflected, v[worst] = fr;
      }
    } else if (fr < v[second]) {
      p[worst] = reflected, v[worst] = fr;
    } else {
      Point contracted = fr < v[worst] ? along(-0.5) : along(0.5);
      double fc = f(contracted.data());
      if (fc < Min(fr, v[worst])) {
        p[worst] = contracted, v[worst] = fc;
      } else {  // shrink towards the best
        for (size_t i = 0; i <= n; ++i) {
          if (i == best) continue;
          for (size_t d = 0; d < n; ++d) p[i][d] = p[best][d] + 0.5 * (p[i][d] - p[best][d]);
          v[i] = f(p[i].data());
        }
      }
    }
  }
  size_t best = 0;
  for (size_t i = 1; i <= n; ++i)
    if (v[i] < v[best]) best = i;
  out.x = p[best];
  out.value = v[best];
  out.iterations = it;
  return out;
}

template <class F>
PULSE_HD double GoldenSectionMinimize(F& f, double lo, double hi, double tolerance) {
  const double inv_phi = (Sqrt(5.0) - 1) / 2;
  double a = lo, b = hi;
  double c = b - inv_phi * (b - a), d = a + inv_phi * (b - a);
  double fc = f(c), fd = f(d);
  while (b - a > tolerance) {
    if (fc <= fd) {
      b = d, d = c, fd = fc;
      c = b - inv_phi * (b - a);
      fc = f(c);
    } else {
      a = c, c = d, fc = fd;
      d = a + inv_phi * (b - a);
      fd = f(d);
    }
  }
  return fc <= fd ? c : d;
}

}  // namespace pulse::forecast::hd
