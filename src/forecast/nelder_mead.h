// Nelder-Mead simplex minimisation (Nelder & Mead 1965, standard coefficients 1, 2, 0.5, 0.5).
// The objective returns +infinity outside the feasible region; the search never evaluates the
// objective with allocation: the simplex lives in fixed-size arrays.
#pragma once

#include <array>
#include <cstddef>
#include <functional>

namespace pulse::forecast {

inline constexpr size_t kMaxNmDims = 6;

struct NmResult {
  std::array<double, kMaxNmDims> x{};
  double value = 0;
  int iterations = 0;
};

// Minimises f over `dims` variables from `start` with initial steps `step`.
NmResult NelderMead(const std::function<double(const double*)>& f, size_t dims, const double* start, const double* step,
                    int max_iterations = 2000, double tolerance = 1e-10);

// Minimises a function of one variable on [lo, hi] by golden-section search to an interval of
// width `tolerance`; about 1.44 log2((hi - lo) / tolerance) evaluations. For unimodal objectives.
double GoldenSectionMinimize(const std::function<double(double)>& f, double lo, double hi, double tolerance = 1e-6);

}  // namespace pulse::forecast
