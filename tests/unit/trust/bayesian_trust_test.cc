// The original's Bayesian tracker: prior, updates, interval, strength and decay.
#include "trust/bayesian_trust.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pulse::trust {
namespace {

TEST(BayesianTrust, PriorIsUniformAndUpdatesAddWeights) {
  BetaTrust t;
  EXPECT_DOUBLE_EQ(t.Mean(), 0.5);
  EXPECT_NEAR(t.Strength(), 1 / (1 + std::exp(1.0)), 1e-12);  // n = 0
  t.Update(true);
  t.Update(true);
  t.Update(true);
  t.Update(false, 0.5);
  EXPECT_DOUBLE_EQ(t.alpha, 4);
  EXPECT_DOUBLE_EQ(t.beta, 1.5);
  EXPECT_DOUBLE_EQ(t.Mean(), 4 / 5.5);
  const auto [lo, hi] = t.Interval();
  const double half = 1.96 * std::sqrt(t.Mean() * (1 - t.Mean()) / 5.5);
  EXPECT_DOUBLE_EQ(lo, t.Mean() - half);
  EXPECT_DOUBLE_EQ(hi, 1.0);  // clipped
}

TEST(BayesianTrust, DecayOnlyWithEnoughEvidenceAndNeverBelowOne) {
  BetaTrust t{3, 1};
  t.Decay();
  EXPECT_DOUBLE_EQ(t.alpha, 3);  // alpha + beta = 4 <= 5: untouched
  t = {10, 1.005};
  t.Decay();
  EXPECT_DOUBLE_EQ(t.alpha, 9.9);
  EXPECT_DOUBLE_EQ(t.beta, 1.0);                           // floor
  EXPECT_NEAR(BetaTrust({11, 1}).Strength(), 0.5, 1e-12);  // n = 10
}

}  // namespace
}  // namespace pulse::trust
