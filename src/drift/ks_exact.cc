#include "drift/ks_exact.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

namespace pulse::drift {
namespace {

// Equal sizes n: P = 2 sum_{k>=1} (-1)^(k+1) C(2n, n - k h) / C(2n, n), each ratio a product of h
// factors, nested as 2 A1 (1 - A2 (1 - A3 (...))).
double EqualSizes(int64_t n, int64_t h) {
  double p = 0.0;
  for (int64_t k = n / h; k >= 0; --k) {
    double ratio = 1.0;
    for (int64_t j = 0; j < h; ++j) {
      ratio = static_cast<double>(n - k * h - j) * ratio / static_cast<double>(n + k * h + j + 1);
    }
    p = ratio * (1.0 - p);
  }
  return 2.0 * p;
}

// Unequal sizes: column i of the lattice keeps, for rows j inside the band, the share of paths to
// (i, j) that have left the band; cells outside the band count as 1 (every path through them left).
double InsideMethod(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (m < n) std::swap(m, n);
  const int64_t mg = m / g;
  const int64_t ng = n / g;
  auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  int64_t minj = 0;
  int64_t maxj = std::min(ceil_div(h, mg), n + 1);
  int64_t curlen = maxj - minj;
  const auto len = static_cast<size_t>(std::min(2 * maxj + 2, n + 1));
  std::vector<double> a(len, 1.0);
  for (int64_t j = minj; j < maxj; ++j) a[static_cast<size_t>(j)] = 0.0;
  for (int64_t i = 1; i <= m; ++i) {
    const int64_t lastminj = minj;
    const int64_t lastlen = curlen;
    minj = std::min(std::max(floor_div(ng * i - h, mg) + 1, int64_t{0}), n);
    maxj = std::min(ceil_div(ng * i + h, mg), n + 1);
    if (maxj <= minj) return 1.0;
    double val = minj == 0 ? 0.0 : 1.0;
    for (int64_t jj = 0; jj < maxj - minj; ++jj) {
      const int64_t j = jj + minj;
      const double di = static_cast<double>(i);
      const double dj = static_cast<double>(j);
      val = (a[static_cast<size_t>(jj + minj - lastminj)] * di + val * dj) / (di + dj);
      a[static_cast<size_t>(jj)] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      for (int64_t j = maxj - minj; j < maxj - minj + (lastlen - curlen); ++j) a[static_cast<size_t>(j)] = 1.0;
    }
  }
  return a[static_cast<size_t>(maxj - minj - 1)];
}

}  // namespace

double KsTwoSampleExactSf(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (h <= 0) return 1.0;
  if (m == n) return EqualSizes(n, h);
  return InsideMethod(m, n, g, h);
}

}  // namespace pulse::drift
