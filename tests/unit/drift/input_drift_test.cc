// Input drift against scipy 1.17.1 (tests/fixtures/drift/input_drift.json). Tolerances (relative):
// KS statistic 1e-15 absolute; exact KS p-values 1e-12; asymptotic KS p-values and kstwo.sf 1e-9
// (measured worst: 8e-11, Pelz-Good at n = 150000; 2e-12, the Smirnov sum); PSI, JS, Wasserstein,
// chi-square and binomtest 1e-12 (measured worst: 3e-13, JS; numpy sums pairwise, Pulse in order).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "drift/coverage.h"
#include "drift/input_drift.h"
#include "drift/special_functions.h"
#include "fixtures.h"

namespace pulse::drift {
namespace {

using testing::LcgWindow;
using testing::LoadFixture;
using testing::Near;

std::pair<std::vector<double>, std::vector<double>> Windows(const nlohmann::json& c) {
  if (c.contains("reference")) {
    return {c["reference"].get<std::vector<double>>(), c["current"].get<std::vector<double>>()};
  }
  return {LcgWindow(c["reference_lcg"]), LcgWindow(c["current_lcg"])};
}

TEST(InputDriftFixtures, KolmogorovSmirnovEqualsScipy) {
  const auto fx = LoadFixture("input_drift.json");
  ASSERT_GE(fx["cases"].size(), 10u);
  for (const auto& c : fx["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto [ref, cur] = Windows(c);
    auto ks = KolmogorovSmirnov(ref, cur);
    ASSERT_TRUE(ks.ok()) << ks.status().ToString();
    EXPECT_NEAR(ks->statistic, c["ks_statistic"].get<double>(), 1e-15);
    const double rel = ks->exact ? 1e-12 : 1e-9;
    EXPECT_TRUE(Near(ks->p_value, c["ks_pvalue"].get<double>(), rel, 1e-300))
        << ks->p_value << " vs " << c["ks_pvalue"].get<double>();
    EXPECT_EQ(ks->exact, std::max(ref.size(), cur.size()) <= 10000);
  }
}

TEST(InputDriftFixtures, DistancesEqualScipyWithEvidentlyBinning) {
  const auto fx = LoadFixture("input_drift.json");
  for (const auto& c : fx["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto [ref, cur] = Windows(c);
    auto psi = PopulationStabilityIndex(ref, cur);
    auto js = JensenShannonDistance(ref, cur);
    auto wd = WassersteinNormed(ref, cur);
    ASSERT_TRUE(psi.ok() && js.ok() && wd.ok());
    EXPECT_TRUE(Near(*psi, c["psi"].get<double>(), 1e-12, 1e-15)) << *psi << " vs " << c["psi"];
    EXPECT_TRUE(Near(*js, c["jensenshannon"].get<double>(), 1e-12, 1e-15)) << *js << " vs " << c["jensenshannon"];
    EXPECT_TRUE(Near(*wd, c["wasserstein_normed"].get<double>(), 1e-12, 1e-15))
        << *wd << " vs " << c["wasserstein_normed"];
    if (c.contains("chisquare_pvalue")) {
      auto chi = ChiSquare(std::span<const double>(ref), std::span<const double>(cur));
      ASSERT_TRUE(chi.ok()) << chi.status().ToString();
      EXPECT_TRUE(Near(chi->statistic, c["chisquare_statistic"].get<double>(), 1e-12, 1e-15));
      EXPECT_TRUE(Near(chi->p_value, c["chisquare_pvalue"].get<double>(), 1e-10, 1e-300));
    }
  }
}

TEST(InputDriftFixtures, KolmogorovDistributionEqualsScipyKstwo) {
  const auto fx = LoadFixture("input_drift.json");
  for (const auto& c : fx["kstwo"]) {
    const auto n = c["n"].get<int64_t>();
    const double x = c["x"].get<double>();
    const double expected = c["sf"].get<double>();
    // Durbin matrix: exact on both sides; Smirnov sum and Pelz-Good: the same formulas, summed differently.
    EXPECT_TRUE(Near(KolmogorovSf(n, x), expected, 1e-9, 1e-300))
        << "n=" << n << " x=" << x << ": " << KolmogorovSf(n, x) << " vs " << expected;
  }
}

TEST(InputDriftFixtures, ChiSquareSurvivalEqualsScipy) {
  const auto fx = LoadFixture("input_drift.json");
  for (const auto& c : fx["chi2"]) {
    const double expected = c["sf"].get<double>();
    EXPECT_TRUE(Near(ChiSquareSf(c["x"].get<double>(), c["dof"].get<double>()), expected, 1e-12, 1e-300)) << c.dump();
  }
}

TEST(CoverageFixtures, BinomialTestEqualsScipyBinomtest) {
  const auto fx = LoadFixture("input_drift.json");
  for (const auto& c : fx["binomtest"]) {
    auto t = BinomialCoverageTest(c["k"].get<int64_t>(), c["n"].get<int64_t>(), c["p"].get<double>());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_TRUE(Near(t->p_value, c["pvalue"].get<double>(), 1e-12, 1e-300)) << c.dump() << ": " << t->p_value;
    EXPECT_EQ(t->miscalibrated, c["pvalue"].get<double>() < 0.05) << c.dump();
  }
}

TEST(CoverageTest, RefusesBadCounts) {
  EXPECT_EQ(BinomialCoverageTest(0, 0, 0.8).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BinomialCoverageTest(11, 10, 0.8).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BinomialCoverageTest(-1, 10, 0.8).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BinomialCoverageTest(5, 10, 1.0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BinomialCoverageTest(5, 10, std::nan("")).status().code(), StatusCode::kInvalidArgument);
}

TEST(InputDrift, EmptyWindowIsAnError) {
  const std::vector<double> some{1, 2, 3};
  const std::vector<double> none;
  auto ks = KolmogorovSmirnov(none, some);
  ASSERT_FALSE(ks.ok());
  EXPECT_EQ(ks.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ks.status().message().find("reference window is empty"), std::string::npos);
  EXPECT_NE(PopulationStabilityIndex(some, none).status().message().find("current window is empty"), std::string::npos);
  EXPECT_FALSE(JensenShannonDistance(none, some).ok());
  EXPECT_FALSE(WassersteinNormed(some, none).ok());
  EXPECT_FALSE(CompareWindows(none, none).ok());
  const std::vector<std::string> cats{"a"};
  EXPECT_FALSE(ChiSquare(std::span<const std::string>(cats), std::span<const std::string>()).ok());
}

TEST(InputDrift, NanOrInfinityIsAnErrorNamingTheIndex) {
  const std::vector<double> ok{1, 2, 3, 4};
  const std::vector<double> with_nan{1, 2, std::nan(""), 4};
  const std::vector<double> with_inf{1, std::numeric_limits<double>::infinity()};
  auto r = CompareWindows(ok, with_nan);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "current window: value at index 2 is NaN");
  EXPECT_EQ(KolmogorovSmirnov(with_inf, ok).status().message(), "reference window: value at index 1 is infinite");
}

TEST(InputDrift, ConstantWindowsAreDefinedAndNotDrift) {
  // Evidently's definitions: KS d = 0 (p = 1), one bin (PSI = JS = 0), std(ref) = 0 normed by 0.001.
  const std::vector<double> a(40, 2.5), b(30, 2.5);
  auto r = CompareWindows(a, b);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->drift);
  EXPECT_EQ(r->default_test, "z");
  for (const auto& m : r->measures) {
    EXPECT_FALSE(m.drift) << m.detector;
  }
  // A constant reference and a current window at another constant: every measure says drift.
  const std::vector<double> c(30, 3.5);
  auto moved = CompareWindows(a, c);
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(moved->drift);
  auto wd = WassersteinNormed(a, c);
  EXPECT_DOUBLE_EQ(*wd, 1.0 / 0.001);
}

TEST(InputDrift, ChiSquareRefusesACategoryTheReferenceNeverHad) {
  const std::vector<std::string> ref{"a", "a", "b"}, cur{"a", "c"};
  auto r = ChiSquare(std::span<const std::string>(ref), std::span<const std::string>(cur));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("never occurs in the reference"), std::string::npos);
}

TEST(InputDrift, DefaultTestFollowsEvidentlysRule) {
  EXPECT_EQ(DefaultInputTest(1000, 6), InputTest::kKs);
  EXPECT_EQ(DefaultInputTest(1000, 5), InputTest::kChiSquare);
  EXPECT_EQ(DefaultInputTest(200, 2), InputTest::kZ);
  EXPECT_EQ(DefaultInputTest(1001, 6), InputTest::kWasserstein);
  EXPECT_EQ(DefaultInputTest(5000, 3), InputTest::kJensenShannon);
}

TEST(InputDrift, LevelShiftIsDriftAndTheSameDistributionIsNot) {
  const auto fx = LoadFixture("input_drift.json");
  for (const auto& c : fx["cases"]) {
    if (c["name"] != "level_shift_60") continue;
    const auto [ref, cur] = Windows(c);
    auto r = CompareWindows(ref, cur);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->default_test, "ks");
    EXPECT_TRUE(r->drift);
    auto same = CompareWindows(ref, ref);
    ASSERT_TRUE(same.ok());
    EXPECT_FALSE(same->drift);
  }
}

}  // namespace
}  // namespace pulse::drift
