#include "drift/input_drift.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include "drift/ks_exact.h"
#include "drift/special_functions.h"

namespace pulse::drift {
namespace {

// scipy's ks_2samp: exact when both windows have at most this many points (method='auto').
constexpr size_t kMaxExactKsSize = 10000;

Status CheckWindow(std::span<const double> window, std::string_view name) {
  if (window.empty()) return Status::InvalidArgument(std::string(name) + " window is empty");
  for (size_t i = 0; i < window.size(); ++i) {
    if (!std::isfinite(window[i])) {
      return Status::InvalidArgument(std::string(name) + " window: value at index " + std::to_string(i) + " is " +
                                     (std::isnan(window[i]) ? "NaN" : "infinite"));
    }
  }
  return Status::Ok();
}

Status CheckWindows(std::span<const double> reference, std::span<const double> current) {
  PULSE_RETURN_IF_ERROR(CheckWindow(reference, "reference"));
  return CheckWindow(current, "current");
}

// Ascending copy. Windows of 256 values or more go through an LSD radix sort on the IEEE-754
// bits made order-preserving as unsigned integers (negative: all bits flipped; positive: the sign
// bit set), one byte per pass, skipping passes where every key has the same byte; finite values
// only (the callers refuse NaN and infinities first).
std::vector<double> Sorted(std::span<const double> values) {
  std::vector<double> out(values.begin(), values.end());
  if (out.size() < 256) {
    std::sort(out.begin(), out.end());
    return out;
  }
  const size_t n = out.size();
  std::vector<uint64_t> keys(n), scratch(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, &out[i], sizeof bits);
    keys[i] = (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
  }
  std::array<std::array<size_t, 256>, 8> counts{};
  for (uint64_t k : keys) {
    for (size_t pass = 0; pass < 8; ++pass) ++counts[pass][(k >> (8 * pass)) & 0xff];
  }
  for (size_t pass = 0; pass < 8; ++pass) {
    auto& count = counts[pass];
    if (count[(keys[0] >> (8 * pass)) & 0xff] == n) continue;  // every key has this byte
    size_t sum = 0;
    for (size_t& c : count) {
      const size_t here = c;
      c = sum;
      sum += here;
    }
    for (uint64_t k : keys) scratch[count[(k >> (8 * pass)) & 0xff]++] = k;
    keys.swap(scratch);
  }
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = keys[i];
    const uint64_t bits = (k >> 63) != 0 ? k & ~(uint64_t{1} << 63) : ~k;
    std::memcpy(&out[i], &bits, sizeof bits);
  }
  return out;
}

size_t DistinctCount(const std::vector<double>& sorted) {
  if (sorted.empty()) return 0;
  size_t count = 1;
  for (size_t i = 1; i < sorted.size(); ++i) count += sorted[i] != sorted[i - 1] ? size_t{1} : size_t{0};
  return count;
}

// Shares of each window per bin (or per distinct value), Evidently's get_binned_data.
struct Shares {
  std::vector<double> reference, current;
};

std::vector<double> HistogramShares(const std::vector<double>& sorted, const std::vector<double>& edges) {
  // numpy.histogram with explicit edges: [e_i, e_{i+1}) except the last bin, which is closed.
  std::vector<double> shares(edges.size() - 1, 0.0);
  const auto n = static_cast<double>(sorted.size());
  for (size_t i = 0; i + 1 < edges.size(); ++i) {
    const auto lo = std::lower_bound(sorted.begin(), sorted.end(), edges[i]);
    const auto hi = i + 2 == edges.size() ? std::upper_bound(sorted.begin(), sorted.end(), edges[i + 1])
                                          : std::lower_bound(sorted.begin(), sorted.end(), edges[i + 1]);
    shares[i] = static_cast<double>(hi - lo) / n;
  }
  return shares;
}

Shares BinnedShares(const std::vector<double>& ref, const std::vector<double>& cur) {
  Shares out;
  if (DistinctCount(ref) > 20) {
    // numpy.histogram_bin_edges(ref + cur, "sturges").
    const double lo = std::min(ref.front(), cur.front());
    const double hi = std::max(ref.back(), cur.back());
    const double size = static_cast<double>(ref.size() + cur.size());
    const double width = (hi - lo) / (std::log2(size) + 1.0);
    const auto bins = static_cast<size_t>(std::ceil((hi - lo) / width));
    const double step = (hi - lo) / static_cast<double>(bins);
    std::vector<double> edges(bins + 1);
    for (size_t i = 0; i < bins; ++i) edges[i] = static_cast<double>(i) * step + lo;
    edges[bins] = hi;
    out.reference = HistogramShares(ref, edges);
    out.current = HistogramShares(cur, edges);
    return out;
  }
  std::map<double, std::pair<int64_t, int64_t>> counts;
  for (double v : ref) ++counts[v].first;
  for (double v : cur) ++counts[v].second;
  for (const auto& [value, c] : counts) {
    out.reference.push_back(static_cast<double>(c.first) / static_cast<double>(ref.size()));
    out.current.push_back(static_cast<double>(c.second) / static_cast<double>(cur.size()));
  }
  return out;
}

// Evidently's feel_zeroes: empty shares become min(non-empty) / 10^6 (if that is <= 1e-4) or 1e-4.
void FillZeroes(std::vector<double>& shares) {
  double min_nonzero = INFINITY;
  for (double s : shares) {
    if (s != 0.0) min_nonzero = std::min(min_nonzero, s);
  }
  const double fill = min_nonzero <= 0.0001 ? min_nonzero / 1e6 : 0.0001;
  for (double& s : shares) {
    if (s == 0.0) s = fill;
  }
}

// scipy.special.rel_entr.
double RelEntr(double x, double y) {
  if (x > 0 && y > 0) return x * std::log(x / y);
  if (x == 0 && y >= 0) return 0.0;
  return INFINITY;
}

double PopulationStd(const std::vector<double>& values) {
  const auto n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double ss = 0.0;
  for (double v : values) ss += (v - mean) * (v - mean);
  return std::sqrt(ss / n);
}

ChiSquareResult ChiSquareOfCounts(const std::vector<std::pair<int64_t, int64_t>>& counts, size_t n_ref, size_t n_cur) {
  const double k_norm = static_cast<double>(n_cur) / static_cast<double>(n_ref);
  double stat = 0.0;
  for (const auto& [ref_count, cur_count] : counts) {
    const double expected = static_cast<double>(ref_count) * k_norm;
    const double diff = static_cast<double>(cur_count) - expected;
    stat += diff * diff / expected;
  }
  ChiSquareResult out;
  out.statistic = stat;
  out.dof = static_cast<int>(counts.size()) - 1;
  out.p_value = out.dof > 0 ? ChiSquareSf(stat, out.dof) : NAN;
  return out;
}

template <typename T>
Result<ChiSquareResult> ChiSquareOfValues(std::span<const T> reference, std::span<const T> current) {
  std::map<T, std::pair<int64_t, int64_t>> counts;
  for (const T& v : reference) ++counts[v].first;
  for (const T& v : current) ++counts[v].second;
  std::vector<std::pair<int64_t, int64_t>> flat;
  for (const auto& [value, c] : counts) {
    if (c.first == 0) {
      return Status::InvalidArgument(
          "chi-square: a category of the current window never occurs in the reference window (expected count 0)");
    }
    flat.push_back(c);
  }
  if (flat.size() < 2) {
    // One category in both windows: nothing can differ (scipy: chisquare with 0 dof is NaN).
    ChiSquareResult same;
    same.p_value = 1.0;
    return same;
  }
  return ChiSquareOfCounts(flat, reference.size(), current.size());
}

// KS on sorted windows: sup over every observed value x of F1(x) - F2(x) and F2(x) - F1(x), with
// F(x) = #(values <= x) / n as scipy's searchsorted(..., 'right') / n, walking both windows once.
// One walk over both sorted windows, value by distinct value x: the KS extremes of F1(x) - F2(x),
// the Wasserstein integral (|F1 - F2| at the previous value x the gap to this one) and the
// number of distinct values of both windows together.
struct Walk {
  double max_s = -INFINITY, min_s = INFINITY, wasserstein = 0;
  size_t distinct = 0;
};

Walk WalkSorted(const std::vector<double>& a, const std::vector<double>& b) {
  Walk w;
  const auto n1 = static_cast<double>(a.size());
  const auto n2 = static_cast<double>(b.size());
  size_t i = 0, j = 0;
  double prev = std::min(a.front(), b.front());
  while (i < a.size() || j < b.size()) {
    const double x = j >= b.size() || (i < a.size() && a[i] <= b[j]) ? a[i] : b[j];
    w.wasserstein += std::fabs(static_cast<double>(i) / n1 - static_cast<double>(j) / n2) * (x - prev);
    prev = x;
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    const double diff = static_cast<double>(i) / n1 - static_cast<double>(j) / n2;
    w.max_s = std::max(w.max_s, diff);
    w.min_s = std::min(w.min_s, diff);
    ++w.distinct;
  }
  return w;
}

KsResult KsOfWalk(const Walk& w, const std::vector<double>& a, const std::vector<double>& b) {
  const auto n1 = static_cast<int64_t>(a.size());
  const auto n2 = static_cast<int64_t>(b.size());
  const double max_s = w.max_s, min_s = w.min_s;
  const double neg = std::clamp(-min_s, 0.0, 1.0);
  double d = neg > max_s ? neg : max_s;
  KsResult out;
  if (std::max(a.size(), b.size()) <= kMaxExactKsSize) {
    const int64_t g = std::gcd(n1, n2);
    const int64_t lcm = (n1 / g) * n2;
    const auto h = static_cast<int64_t>(std::nearbyint(d * static_cast<double>(lcm)));
    const double d_exact = static_cast<double>(h) / static_cast<double>(lcm);
    const double p = h == 0 ? 1.0 : KsTwoSampleExactSf(n1, n2, g, h);
    if (p >= 0.0 && p <= 1.0) {
      out.statistic = d_exact;
      out.p_value = p;
      out.exact = true;
      return out;
    }
    d = d_exact;  // scipy falls back to the asymptotic distribution with the rounded statistic
  }
  const double m = static_cast<double>(std::max(n1, n2));
  const double n = static_cast<double>(std::min(n1, n2));
  const auto en = static_cast<int64_t>(std::nearbyint(m * n / (m + n)));
  out.statistic = d;
  out.p_value = std::clamp(KolmogorovSf(en, d), 0.0, 1.0);
  out.exact = false;
  return out;
}

double PsiOfShares(Shares shares) {
  FillZeroes(shares.reference);
  FillZeroes(shares.current);
  double psi = 0.0;
  for (size_t i = 0; i < shares.reference.size(); ++i) {
    const double r = shares.reference[i];
    const double c = shares.current[i];
    psi += (r - c) * std::log(r / c);
  }
  return psi;
}

double JensenShannonOfShares(const Shares& shares) {
  const double sum_p = std::accumulate(shares.reference.begin(), shares.reference.end(), 0.0);
  const double sum_q = std::accumulate(shares.current.begin(), shares.current.end(), 0.0);
  double left = 0.0, right = 0.0;
  for (size_t i = 0; i < shares.reference.size(); ++i) {
    const double p = shares.reference[i] / sum_p;
    const double q = shares.current[i] / sum_q;
    const double m = (p + q) / 2.0;
    left += RelEntr(p, m);
    right += RelEntr(q, m);
  }
  return std::sqrt((left + right) / 2.0);
}

double WassersteinNormedOfWalk(const Walk& w, const std::vector<double>& reference) {
  return w.wasserstein / std::max(PopulationStd(reference), 0.001);
}

}  // namespace

Result<KsResult> KolmogorovSmirnov(std::span<const double> reference, std::span<const double> current) {
  PULSE_RETURN_IF_ERROR(CheckWindows(reference, current));
  const std::vector<double> a = Sorted(reference);
  const std::vector<double> b = Sorted(current);
  return KsOfWalk(WalkSorted(a, b), a, b);
}

Result<double> PopulationStabilityIndex(std::span<const double> reference, std::span<const double> current) {
  PULSE_RETURN_IF_ERROR(CheckWindows(reference, current));
  return PsiOfShares(BinnedShares(Sorted(reference), Sorted(current)));
}

Result<double> JensenShannonDistance(std::span<const double> reference, std::span<const double> current) {
  PULSE_RETURN_IF_ERROR(CheckWindows(reference, current));
  return JensenShannonOfShares(BinnedShares(Sorted(reference), Sorted(current)));
}

Result<double> WassersteinNormed(std::span<const double> reference, std::span<const double> current) {
  PULSE_RETURN_IF_ERROR(CheckWindows(reference, current));
  const std::vector<double> a = Sorted(reference);
  return WassersteinNormedOfWalk(WalkSorted(a, Sorted(current)), a);
}

Result<ChiSquareResult> ChiSquare(std::span<const std::string> reference, std::span<const std::string> current) {
  if (reference.empty()) return Status::InvalidArgument("reference window is empty");
  if (current.empty()) return Status::InvalidArgument("current window is empty");
  return ChiSquareOfValues<std::string>(reference, current);
}

Result<ChiSquareResult> ChiSquare(std::span<const double> reference, std::span<const double> current) {
  PULSE_RETURN_IF_ERROR(CheckWindows(reference, current));
  return ChiSquareOfValues<double>(reference, current);
}

Result<ZTestResult> ProportionZTest(std::span<const double> reference, std::span<const double> current) {
  PULSE_RETURN_IF_ERROR(CheckWindows(reference, current));
  std::set<double> keys(reference.begin(), reference.end());
  keys.insert(current.begin(), current.end());
  if (keys.size() > 2) return Status::InvalidArgument("z-test: the windows hold more than two distinct values");
  if (keys.size() == 1) return ZTestResult{};  // Evidently: one and the same value in both windows: p = 1
  const double key = *keys.begin();
  auto share = [key](std::span<const double> w) {
    const auto hits = std::count(w.begin(), w.end(), key);
    return static_cast<double>(static_cast<int64_t>(w.size()) - hits) / static_cast<double>(w.size());
  };
  const auto n1 = static_cast<double>(reference.size());
  const auto n2 = static_cast<double>(current.size());
  const double p1 = share(reference);
  const double p2 = share(current);
  const double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const double z = (p1 - p2) / std::sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
  return ZTestResult{z, 2.0 * NormalSf(std::fabs(z))};
}

std::string_view InputTestName(InputTest test) {
  switch (test) {
    case InputTest::kKs: return "ks";
    case InputTest::kChiSquare: return "chisquare";
    case InputTest::kZ: return "z";
    case InputTest::kWasserstein: return "wasserstein";
    case InputTest::kJensenShannon: return "jensenshannon";
  }
  return "ks";
}

InputTest DefaultInputTest(size_t reference_size, size_t n_unique) {
  if (reference_size <= 1000) {
    if (n_unique > 5) return InputTest::kKs;
    return n_unique > 2 ? InputTest::kChiSquare : InputTest::kZ;
  }
  return n_unique > 5 ? InputTest::kWasserstein : InputTest::kJensenShannon;
}

Result<InputDriftReport> CompareWindows(std::span<const double> reference, std::span<const double> current) {
  PULSE_RETURN_IF_ERROR(CheckWindows(reference, current));
  InputDriftReport report;
  const std::vector<double> ref = Sorted(reference);
  const std::vector<double> cur = Sorted(current);
  const Walk walk = WalkSorted(ref, cur);
  const KsResult ks = KsOfWalk(walk, ref, cur);
  report.measures.push_back({"ks", ks.statistic, ks.p_value, kKsPValueThreshold, ks.p_value < kKsPValueThreshold});
  const Shares shares = BinnedShares(ref, cur);
  const double psi = PsiOfShares(shares);
  report.measures.push_back({"psi", psi, -1, kPsiThreshold, psi >= kPsiThreshold});
  const double js = JensenShannonOfShares(shares);
  report.measures.push_back({"jensenshannon", js, -1, kJensenShannonThreshold, js >= kJensenShannonThreshold});
  const double wd = WassersteinNormedOfWalk(walk, ref);
  report.measures.push_back({"wasserstein", wd, -1, kWassersteinThreshold, wd >= kWassersteinThreshold});

  const InputTest test = DefaultInputTest(reference.size(), walk.distinct);
  report.default_test = std::string(InputTestName(test));
  if (test == InputTest::kChiSquare) {
    auto chi = ChiSquare(reference, current);
    if (chi.ok()) {
      report.measures.push_back({"chisquare", chi->statistic, chi->p_value, kChiSquarePValueThreshold,
                                 chi->p_value < kChiSquarePValueThreshold});
    } else {
      // A value the reference never had: scipy's statistic is infinite and its p-value 0 (drift).
      report.measures.push_back({"chisquare", INFINITY, 0.0, kChiSquarePValueThreshold, true});
    }
  } else if (test == InputTest::kZ) {
    PULSE_ASSIGN_OR_RETURN(const ZTestResult z, ProportionZTest(reference, current));
    report.measures.push_back({"z", z.statistic, z.p_value, kZPValueThreshold, z.p_value < kZPValueThreshold});
  }
  for (const InputDriftMeasure& m : report.measures) {
    if (m.detector == report.default_test) report.drift = m.drift;
  }
  return report;
}

}  // namespace pulse::drift
