// Input drift: does the current window of a series look like its reference window? Two-sample
// tests and distances with Evidently's definitions and default thresholds, and Evidently's rule for
// choosing the test. Pure functions: no I/O, deterministic; bad inputs are a Status, never NaN.
//
// Sources (read for facts; re-checked against scipy 1.17.1 by tests/fixtures/drift, made by
// scripts/make-drift-fixtures):
// - KS: scipy.stats.ks_2samp(reference, current) with its defaults (two-sided, method='auto':
//   exact when both windows have <= 10,000 points, else the asymptotic kstwo.sf(d, round(mn/(m+n))));
//   Evidently's "ks" test reports its p-value, drift when p < 0.05.
// - PSI: Evidently's "psi": sum (r_i - c_i) ln(r_i / c_i) over bins of the reference (r) and current
//   (c) shares; drift when PSI >= 0.1.
// - Jensen-Shannon: Evidently's "jensenshannon": scipy.spatial.distance.jensenshannon of the shares
//   (natural log: the distance, not the divergence); drift when >= 0.1.
// - Wasserstein: Evidently's "wasserstein" (normed): scipy.stats.wasserstein_distance(reference,
//   current) / max(std(reference), 0.001) (population std, ddof = 0); drift when >= 0.1.
// - Chi-square: Evidently's "chisquare": scipy.stats.chisquare(f_obs = current counts per category,
//   f_exp = reference counts x n_current / n_reference), p = chi2.sf(stat, k - 1); drift when p < 0.05.
// - Z: Evidently's "z" (two categories): two-proportion z-test, p = 2 (1 - Phi(|z|)); drift when p < 0.05.
// Binning (Evidently's get_binned_data): a numeric window whose reference has more than 20 distinct
// values is cut into Sturges bins (numpy.histogram_bin_edges(reference + current, "sturges"):
// ceil(log2(n) + 1) equal bins over [min, max] of both windows, the last bin closed); otherwise each
// distinct value is a category. For PSI, empty shares are replaced by min(non-empty share) / 10^6
// when that minimum is <= 0.0001, else by 0.0001 (Evidently's feel_zeroes); JS uses the raw shares.
// Default test (Evidently's _get_default_stattest for a numerical column; n_unique = distinct values
// of both windows together): reference <= 1000 points: KS if n_unique > 5, else chi-square if
// n_unique > 2, else Z; reference > 1000 points: Wasserstein if n_unique > 5, else Jensen-Shannon.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::drift {

// Evidently's default thresholds.
inline constexpr double kKsPValueThreshold = 0.05;
inline constexpr double kChiSquarePValueThreshold = 0.05;
inline constexpr double kZPValueThreshold = 0.05;
inline constexpr double kPsiThreshold = 0.1;
inline constexpr double kJensenShannonThreshold = 0.1;
inline constexpr double kWassersteinThreshold = 0.1;

struct KsResult {
  double statistic = 0;  // sup |F_ref - F_cur|
  double p_value = 1;
  bool exact = true;  // exact null distribution (false: the asymptotic one)
};

// Kolmogorov-Smirnov two-sample test, two-sided (scipy.stats.ks_2samp, method='auto').
// InvalidArgument: an empty window, or a NaN / infinite value (named by window and index).
Result<KsResult> KolmogorovSmirnov(std::span<const double> reference, std::span<const double> current);

// Population stability index (Evidently's binning, above). Same errors as KolmogorovSmirnov.
Result<double> PopulationStabilityIndex(std::span<const double> reference, std::span<const double> current);

// Jensen-Shannon distance of the binned shares (natural log). Same errors.
Result<double> JensenShannonDistance(std::span<const double> reference, std::span<const double> current);

// First Wasserstein distance / max(std(reference), 0.001). Same errors.
Result<double> WassersteinNormed(std::span<const double> reference, std::span<const double> current);

struct ChiSquareResult {
  double statistic = 0;
  double p_value = 1;
  int dof = 0;  // categories - 1
};

// Chi-square goodness of fit of the current category counts to the reference's (Evidently's
// "chisquare"). Categories are compared as strings. InvalidArgument: an empty window; a category
// seen in the current window but never in the reference (expected count 0: the test is undefined,
// as in scipy, which returns inf / NaN).
Result<ChiSquareResult> ChiSquare(std::span<const std::string> reference, std::span<const std::string> current);
// The same on numeric values, each distinct value a category (same errors as KolmogorovSmirnov too).
Result<ChiSquareResult> ChiSquare(std::span<const double> reference, std::span<const double> current);

struct ZTestResult {
  double statistic = 0;  // z (its sign depends on which value is counted; the p-value does not)
  double p_value = 1;
};

// Two-proportion z-test of a two-valued window (Evidently's "z"). Same errors as
// KolmogorovSmirnov; InvalidArgument when the windows hold more than two distinct values.
Result<ZTestResult> ProportionZTest(std::span<const double> reference, std::span<const double> current);

enum class InputTest { kKs, kChiSquare, kZ, kWasserstein, kJensenShannon };
std::string_view InputTestName(InputTest test);  // "ks", "chisquare", "z", "wasserstein", "jensenshannon"

// Evidently's default test for a numerical column (rule above).
InputTest DefaultInputTest(size_t reference_size, size_t n_unique);

// One statistic of an input-drift comparison.
struct InputDriftMeasure {
  std::string detector;  // "ks", "psi", "jensenshannon", "wasserstein", "chisquare", "z"
  double statistic = 0;  // the test statistic or distance
  double p_value = -1;   // the p-value for tests that have one, else -1
  double threshold = 0;  // drift when p_value < threshold (tests) or statistic >= threshold (distances)
  bool drift = false;
};

struct InputDriftReport {
  std::vector<InputDriftMeasure> measures;  // ks, psi, jensenshannon, wasserstein (always), + chisquare / z when chosen
  std::string default_test;                 // the test Evidently's rule picks (its name)
  bool drift = false;                       // the default test's decision
};

// Every measure above on two numeric windows, and Evidently's default decision. Same errors as
// KolmogorovSmirnov.
Result<InputDriftReport> CompareWindows(std::span<const double> reference, std::span<const double> current);

}  // namespace pulse::drift
