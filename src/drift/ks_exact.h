// Exact null distribution of the two-sample Kolmogorov-Smirnov statistic (two-sided), as scipy's
// ks_2samp computes it: the share of lattice paths from (0, 0) to (m, n) that leave the band
// |x/m - y/n| < h / lcm(m, n). Equal sizes: the alternating binomial sum of Hodges (1958) evaluated
// as a Horner-like product; unequal sizes: Hodges' "inside method" rewritten to carry 1 - p
// (Viehmann 2021, arXiv 2102.08037), one column of the lattice at a time. Pure.
#pragma once

#include <cstdint>

namespace pulse::drift {

// P(D_{m,n} >= h / lcm(m, n)) under the null; m, n > 0, g = gcd(m, n), 0 < h <= lcm.
double KsTwoSampleExactSf(int64_t m, int64_t n, int64_t g, int64_t h);

}  // namespace pulse::drift
