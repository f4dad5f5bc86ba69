// Model lifecycle facts -> the original's drift penalty inputs (trust/model_health.h).
#include "trust/model_health.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pulse::trust {
namespace {

Evidence TurnRecord() {
  Evidence e;
  e.has_overlays = true;  // the original's worked example: confidence 0.677 without a penalty
  return e;
}

double ConfidenceWith(const ModelHealth& health, const ModelHealthPolicy& policy = {}) {
  Evidence e = TurnRecord();
  ApplyModelHealth(AssessModelHealth(health, policy), &e);
  return Score(e).confidence;
}

TEST(ModelHealth, AHealthyFreshModelChangesNothing) {
  ModelHealth h;
  h.days_since_training = 3;
  h.rolling_coverage80 = 0.8;
  h.coverage_outcomes = 20;
  const auto a = AssessModelHealth(h);
  EXPECT_EQ(a.status, "ok");
  EXPECT_FALSE(a.drifted || a.stale || a.under_covered);
  EXPECT_DOUBLE_EQ(a.penalty, 0.0);
  EXPECT_NEAR(a.instability, 0.7 * 3 / 90, 1e-12);
  EXPECT_DOUBLE_EQ(ConfidenceWith(h), 0.677);
}

TEST(ModelHealth, DriftIsTheFragmentedPenalty) {
  ModelHealth h;
  h.drifted = true;
  h.days_since_training = 1;
  const auto a = AssessModelHealth(h);
  EXPECT_EQ(a.status, "drifted");
  EXPECT_DOUBLE_EQ(a.penalty, 0.2);
  EXPECT_DOUBLE_EQ(ConfidenceWith(h), 0.477);  // 0.677 - 0.2
}

TEST(ModelHealth, StalenessCrossesThePenaltyExactlyAfterStaleAfterDays) {
  ModelHealth h;
  h.days_since_training = 90;  // exactly stale_after_days: instability 0.7, not above it
  auto a = AssessModelHealth(h);
  EXPECT_FALSE(a.stale);
  EXPECT_DOUBLE_EQ(a.instability, 0.7);
  EXPECT_DOUBLE_EQ(a.penalty, 0.0);
  h.days_since_training = 91;
  a = AssessModelHealth(h);
  EXPECT_TRUE(a.stale);
  EXPECT_EQ(a.status, "stale");
  EXPECT_DOUBLE_EQ(a.penalty, 0.1);
  EXPECT_DOUBLE_EQ(ConfidenceWith(h), 0.577);
  h.days_since_training = 10000;  // capped at 1
  EXPECT_DOUBLE_EQ(AssessModelHealth(h).instability, 1.0);
  ModelHealthPolicy weekly;
  weekly.stale_after_days = 7;
  h.days_since_training = 8;
  EXPECT_TRUE(AssessModelHealth(h, weekly).stale);
}

TEST(ModelHealth, RollingCoverageBelowTheFloorIsUnderCovered) {
  ModelHealth h;
  h.rolling_coverage80 = 0.65;  // exactly the floor: shortfall 0.7, no penalty
  h.coverage_outcomes = 20;
  auto a = AssessModelHealth(h);
  EXPECT_FALSE(a.under_covered);
  EXPECT_NEAR(a.instability, 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(a.penalty, 0.0);
  h.rolling_coverage80 = 0.5;
  a = AssessModelHealth(h);
  EXPECT_TRUE(a.under_covered);
  EXPECT_EQ(a.status, "under-covered");
  EXPECT_DOUBLE_EQ(a.instability, 1.0);  // 0.7 * 0.3 / 0.15 = 1.4, capped
  EXPECT_DOUBLE_EQ(ConfidenceWith(h), 0.577);
  h.rolling_coverage80 = 0.95;  // over-covering is not penalised here
  EXPECT_DOUBLE_EQ(AssessModelHealth(h).instability, 0.0);
}

TEST(ModelHealth, TooFewOutcomesAreNotJudged) {
  ModelHealth h;
  h.rolling_coverage80 = 0.0;
  h.coverage_outcomes = 4;  // below min_coverage_outcomes (5)
  const auto a = AssessModelHealth(h);
  EXPECT_FALSE(a.under_covered);
  EXPECT_DOUBLE_EQ(a.instability, 0.0);
  EXPECT_EQ(a.status, "ok");
}

TEST(ModelHealth, DriftWinsOverStaleAndUnderCovered) {
  ModelHealth h;
  h.drifted = true;
  h.days_since_training = 400;
  h.rolling_coverage80 = 0.1;
  h.coverage_outcomes = 30;
  const auto a = AssessModelHealth(h);
  EXPECT_TRUE(a.drifted && a.stale && a.under_covered);
  EXPECT_EQ(a.status, "drifted");
  EXPECT_DOUBLE_EQ(a.penalty, 0.2);  // the original's penalties do not add up
  EXPECT_DOUBLE_EQ(ConfidenceWith(h), 0.477);
}

TEST(ModelHealth, NonFiniteOrNegativeFactsAreAbsent) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ModelHealth h;
  h.days_since_training = nan;
  h.rolling_coverage80 = nan;
  h.coverage_outcomes = 50;
  auto a = AssessModelHealth(h);
  EXPECT_TRUE(std::isfinite(a.instability));
  EXPECT_DOUBLE_EQ(a.instability, 0.0);
  h.days_since_training = -5;  // a clock skew: not "fresher than new"
  h.rolling_coverage80 = std::numeric_limits<double>::infinity();
  a = AssessModelHealth(h);
  EXPECT_DOUBLE_EQ(a.instability, 0.0);
  EXPECT_EQ(a.status, "ok");
  ModelHealthPolicy broken;
  broken.stale_after_days = 0;
  broken.min_rolling_coverage80 = 0.9;  // above nominal: coverage cannot be judged
  h.days_since_training = 50;
  h.rolling_coverage80 = 0.2;
  EXPECT_DOUBLE_EQ(AssessModelHealth(h, broken).instability, 0.0);
}

TEST(ModelHealth, ApplySetsTheOriginalsInputs) {
  ModelHealthAssessment a;
  a.drifted = true;
  a.instability = 0.42;
  Evidence e;
  ApplyModelHealth(a, &e);
  EXPECT_TRUE(e.fragmented);
  EXPECT_DOUBLE_EQ(e.arc_volatility, 0.42);
}

}  // namespace
}  // namespace pulse::trust
