// Special functions the drift tests need, in double precision: the regularised upper incomplete
// gamma function (chi-square survival), the binomial pmf, and the one-sample Kolmogorov-Smirnov
// distribution. Pure functions: no I/O, no state, deterministic.
//
// Accuracy contract (checked against scipy in tests/unit/drift): relative error below 1e-12 for
// the chi-square and normal tails and the binomial pmf (n <= 10^6); KolmogorovSf below 1e-9
// (see its comment).
#pragma once

#include <cstdint>

namespace pulse::drift {

// Q(a, x) = Gamma(a, x) / Gamma(a), a > 0, x >= 0 (series below a + 1, continued fraction above).
double RegularizedGammaQ(double a, double x);

// P(X >= x) for X ~ chi-square with `dof` > 0 degrees of freedom (scipy.stats.chi2.sf).
double ChiSquareSf(double x, double dof);

// P(Z > z) for a standard normal Z (scipy.stats.norm.sf), computed as erfc(z / sqrt 2) / 2.
double NormalSf(double z);

// P(X = k) for X ~ Binomial(n, p), 0 <= p <= 1; 0 outside 0..n. Evaluated in log space.
double BinomialPmf(int64_t k, int64_t n, double p);

// P(D_n >= x) for the two-sided one-sample Kolmogorov-Smirnov statistic D_n of n observations
// (scipy.stats.kstwo.sf(x, n)), with scipy's choice of method by region (Simard and L'Ecuyer
// 2011): Ruben-Gambino closed forms near x = 1/(2n) and x = 1; 2 * Smirnov's one-sided exact
// tail when n x^2 >= 2.2 (n > 140) or x >= 0.5; 0 when n x^2 >= 370; otherwise 1 - the Durbin
// matrix CDF (Marsaglia, Tsang and Wang 2003) when n <= 100000 and n x^1.5 <= 1.4, else 1 - Pelz and
// Good's (1976) expansion, as scipy does; for n <= 140 scipy uses Pomeranz's exact recursion where
// Pulse uses the (equally exact) Durbin matrix. Agreement with scipy: 1e-9 relative (measured
// worst 8e-11). Pulse calls this for the asymptotic two-sample test (a window over 10,000 points).
double KolmogorovSf(int64_t n, double x);

// P(D+_n >= x): Smirnov's one-sided exact tail (scipy.special.smirnov), Birnbaum-Tingey sum.
double SmirnovSf(int64_t n, double x);

}  // namespace pulse::drift
