#include "drift/special_functions.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

namespace pulse::drift {
namespace {

constexpr double kEps = 1e-16;
constexpr double kTiny = 1e-300;

// P(a, x) by its power series; converges fast for x < a + 1.
double GammaPSeries(double a, double x) {
  double term = 1.0 / a;
  double sum = term;
  for (int i = 1; i < 100000; ++i) {
    term *= x / (a + i);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * kEps) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Q(a, x) by its continued fraction (modified Lentz); converges fast for x >= a + 1.
double GammaQContinuedFraction(double a, double x) {
  double b = x + 1.0 - a;
  double c = 1.0 / kTiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEps) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

// log(n! / n^n).
double LogFactorialOverPower(int64_t n) {
  const double dn = static_cast<double>(n);
  return std::lgamma(dn + 1.0) - dn * std::log(dn);
}

// Square matrix of doubles, row-major.
struct Matrix {
  size_t m = 0;
  std::vector<double> v;
  explicit Matrix(size_t size) : m(size), v(size * size, 0.0) {}
  double& at(size_t i, size_t j) { return v[i * m + j]; }
  double at(size_t i, size_t j) const { return v[i * m + j]; }
};

Matrix Multiply(const Matrix& a, const Matrix& b) {
  Matrix c(a.m);
  for (size_t i = 0; i < a.m; ++i) {
    for (size_t k = 0; k < a.m; ++k) {
      const double aik = a.at(i, k);
      if (aik == 0.0) continue;
      for (size_t j = 0; j < a.m; ++j) c.at(i, j) += aik * b.at(k, j);
    }
  }
  return c;
}

// H^n with a separate base-2 exponent so that entries stay in range: returns (matrix, exponent).
void MatrixPower(const Matrix& h, int64_t n, Matrix& out, int64_t& exponent) {
  if (n == 1) {
    out = h;
    exponent = 0;
    return;
  }
  MatrixPower(h, n / 2, out, exponent);
  Matrix sq = Multiply(out, out);
  int64_t e = 2 * exponent;
  if (n % 2 == 1) sq = Multiply(h, sq);
  const size_t mid = sq.m / 2;
  if (sq.at(mid, mid) > 1e140) {
    for (double& x : sq.v) x = std::ldexp(x, -465);
    e += 465;
  }
  out = std::move(sq);
  exponent = e;
}

// P(D_n < d) by the Durbin matrix (Marsaglia, Tsang and Wang 2003), exact.
double DurbinMatrixCdf(int64_t n, double d) {
  const double nd = static_cast<double>(n) * d;
  const auto k = static_cast<int64_t>(std::floor(nd)) + 1;
  const auto m = static_cast<size_t>(2 * k - 1);
  const double h = static_cast<double>(k) - nd;
  Matrix hm(m);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < m; ++j) {
      if (i + 1 >= j) hm.at(i, j) = std::exp(-std::lgamma(static_cast<double>(i + 1 - j) + 1.0));
    }
  }
  for (size_t i = 0; i < m; ++i) {
    const double p = static_cast<double>(i + 1);
    hm.at(i, 0) -= std::pow(h, p) / std::exp(std::lgamma(p + 1.0));
    const double q = static_cast<double>(m - i);
    hm.at(m - 1, i) -= std::pow(h, q) / std::exp(std::lgamma(q + 1.0));
  }
  if (2.0 * h - 1.0 > 0.0) {
    const double dm = static_cast<double>(m);
    hm.at(m - 1, 0) += std::pow(2.0 * h - 1.0, dm) / std::exp(std::lgamma(dm + 1.0));
  }
  Matrix power(m);
  int64_t exponent = 0;
  MatrixPower(hm, n, power, exponent);
  const auto kk = static_cast<size_t>(k - 1);
  const double s = power.at(kk, kk);
  if (s <= 0.0) return 0.0;
  const double log_p = std::log(s) + static_cast<double>(exponent) * std::numbers::ln2 + LogFactorialOverPower(n);
  return std::clamp(std::exp(log_p), 0.0, 1.0);
}

// P(D_n <= x) by Pelz and Good's (1976) expansion in z = x sqrt(n) (for large n).
double PelzGoodCdf(int64_t n, double x) {
  const double pi2 = std::numbers::pi * std::numbers::pi;
  const double pi4 = pi2 * pi2;
  const double pi6 = pi4 * pi2;
  const double sqrt2pi = std::sqrt(2.0 * std::numbers::pi);
  const double dn = static_cast<double>(n);
  const double z = std::sqrt(dn) * x;
  const double z2 = z * z;
  const double z4 = z2 * z2;
  const double z6 = z4 * z2;
  const double qlog = -pi2 / 8.0 / z2;
  if (qlog < -708.0) return 0.0;
  const double q = std::exp(qlog);
  // Sums over odd m = 2k - 1 of c(m) q^(m^2), written as Horner in q^(8k) (q^(m^2) = q q^(4k(k-1))).
  const auto maxk = static_cast<int64_t>(std::ceil(16.0 * z / std::numbers::pi));
  double k0 = 0, k1 = 0, k2 = 0, k3 = 0;
  for (int64_t k = maxk; k >= 1; --k) {
    const double mm = static_cast<double>(2 * k - 1);
    const double m2 = mm * mm;
    const double m4 = m2 * m2;
    const double m6 = m4 * m2;
    const double qp = std::pow(q, 8.0 * static_cast<double>(k));
    k0 = k0 * qp + 1.0;
    k1 = k1 * qp + (-z2 + pi2 / 4.0 * m2);
    k2 = k2 * qp + (6 * z6 + 2 * z4 + (2 * z4 - 5 * z2) * pi2 / 4.0 * m2 + pi4 * (1 - 2 * z2) / 16.0 * m4);
    k3 = k3 * qp + (-30 * z6 - 90 * z6 * z2 + pi2 * (135 * z4 - 96 * z6) / 4.0 * m2 +
                    pi4 * (-60 * z2 + 212 * z4) / 16.0 * m4 + pi6 * (5 - 30 * z2) / 64.0 * m6);
  }
  k0 *= q * sqrt2pi / z;
  k1 *= q * sqrt2pi / (6 * z4);
  k2 *= q * sqrt2pi / (72 * z6 * z);
  k3 *= q * sqrt2pi / (6480 * z6 * z4);
  // The remaining sums over all integers k of (pi k)^2 q2^(k^2) terms, q2 = exp(-pi^2 / (2 z^2)).
  const double q2 = std::exp(-pi2 / 2.0 / z2);
  double k2extra = 0, k3extra = 0;
  for (int64_t k = maxk; k >= 1; --k) {
    const double dk = static_cast<double>(k);
    const double qk = std::pow(q2, dk * dk);
    k2extra += dk * dk * qk;
    const double s3z = std::sqrt(3.0) * z;
    const double kpi = std::numbers::pi * dk;
    k3extra += (s3z + kpi) * (s3z - kpi) * dk * dk * qk;
  }
  k2 += k2extra * pi2 * sqrt2pi / (-36 * z2 * z);
  k3 += k3extra * pi2 * sqrt2pi / (216 * z6);
  return k0 + k1 / std::sqrt(dn) + k2 / dn + k3 / (dn * std::sqrt(dn));
}

}  // namespace

double RegularizedGammaQ(double a, double x) {
  if (x <= 0.0) return 1.0;
  if (x < a + 1.0) return 1.0 - GammaPSeries(a, x);
  return GammaQContinuedFraction(a, x);
}

double ChiSquareSf(double x, double dof) {
  if (std::isnan(x)) return x;
  return RegularizedGammaQ(dof / 2.0, x / 2.0);
}

double NormalSf(double z) { return 0.5 * std::erfc(z / std::numbers::sqrt2); }

double BinomialPmf(int64_t k, int64_t n, double p) {
  if (k < 0 || k > n) return 0.0;
  if (p == 0.0) return k == 0 ? 1.0 : 0.0;
  if (p == 1.0) return k == n ? 1.0 : 0.0;
  const double dk = static_cast<double>(k);
  const double dn = static_cast<double>(n);
  const double log_choose = std::lgamma(dn + 1.0) - std::lgamma(dk + 1.0) - std::lgamma(dn - dk + 1.0);
  return std::exp(log_choose + dk * std::log(p) + (dn - dk) * std::log1p(-p));
}

double SmirnovSf(int64_t n, double x) {
  if (x <= 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  const double dn = static_cast<double>(n);
  const auto last = static_cast<int64_t>(std::floor(dn * (1.0 - x)));
  // x * sum_j C(n, j) (1 - x - j/n)^(n - j) (x + j/n)^(j - 1), each term in log space.
  double sum = 0.0;
  const double log_n_fact = std::lgamma(dn + 1.0);
  for (int64_t j = 0; j <= last; ++j) {
    const double dj = static_cast<double>(j);
    const double a = 1.0 - x - dj / dn;
    const double b = x + dj / dn;
    if (a <= 0.0 && j < n) continue;
    double log_term = log_n_fact - std::lgamma(dj + 1.0) - std::lgamma(dn - dj + 1.0) + (dj - 1.0) * std::log(b);
    if (j < n) log_term += (dn - dj) * std::log(a);
    sum += std::exp(log_term);
  }
  return std::clamp(x * sum, 0.0, 1.0);
}

double KolmogorovSf(int64_t n, double x) {
  if (n <= 0 || std::isnan(x)) return std::nan("");
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return 1.0;
  const double dn = static_cast<double>(n);
  const double t = dn * x;
  if (t <= 1.0) {
    if (t <= 0.5) return 1.0;
    const double cdf = std::exp(LogFactorialOverPower(n) + dn * std::log(2.0 * t - 1.0));
    return std::clamp(1.0 - cdf, 0.0, 1.0);
  }
  if (t >= dn - 1.0) return std::clamp(2.0 * std::pow(1.0 - x, dn), 0.0, 1.0);
  if (x >= 0.5) return std::clamp(2.0 * SmirnovSf(n, x), 0.0, 1.0);
  const double nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4.0) return std::clamp(1.0 - DurbinMatrixCdf(n, x), 0.0, 1.0);
    return std::clamp(2.0 * SmirnovSf(n, x), 0.0, 1.0);
  }
  if (nx2 >= 370.0) return 0.0;
  if (nx2 >= 2.2) return std::clamp(2.0 * SmirnovSf(n, x), 0.0, 1.0);
  double cdf = 0.0;
  if (n <= 100000 && dn * std::pow(x, 1.5) <= 1.4) {
    cdf = DurbinMatrixCdf(n, x);
  } else {
    cdf = PelzGoodCdf(n, x);
  }
  return std::clamp(1.0 - cdf, 0.0, 1.0);
}

}  // namespace pulse::drift
