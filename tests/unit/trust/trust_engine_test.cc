// The original's worked examples (pulse-original.md §4.1) and the formulas' edges.
#include "trust/trust_engine.h"

#include <gtest/gtest.h>

namespace pulse::trust {
namespace {

TEST(TrustEngine, TensionOfNeutralOverlays) {
  EXPECT_DOUBLE_EQ(Tension(0.5, 0.5, 0.5, 0.5, 0.5), 0.625);
  EXPECT_DOUBLE_EQ(Tension(0.49, 0.49, 0.49, 0.49, 0.49), 0.6);  // 0.60025 rounded
}

TEST(TrustEngine, TurnRecordFirstPassScoresOriginalValue) {
  // All overlays 0.49, no capital, no fragility yet: 0.4*0.3 + 0.3*0.99 + 0.2*0.8 + 0.1 = 0.677.
  Evidence e;
  e.has_overlays = true;
  TrustScore s = Score(e);
  EXPECT_DOUBLE_EQ(s.baseline, 0.3);
  EXPECT_DOUBLE_EQ(s.risk, 0.01);
  EXPECT_DOUBLE_EQ(s.confidence, 0.677);
}

TEST(TrustEngine, TurnRecordRescoreWithFragilityScoresOriginalValue) {
  Evidence e;
  e.has_overlays = true;
  e.fragility = FragilityIndex(0.60025, {});
  EXPECT_NEAR(*e.fragility, 0.36, 1e-3);
  TrustScore s = Score(e);
  EXPECT_NEAR(s.baseline, 0.57, 1e-3);
  EXPECT_DOUBLE_EQ(s.confidence, 0.785);
  EXPECT_EQ(s.label, "Trusted");
  EXPECT_EQ(s.licence, "Licensed");
  EXPECT_EQ(FragilityLabel(*e.fragility), "Moderate");
}

TEST(TrustEngine, GeneratorOutputScoresOriginalValue) {
  Evidence e;  // HEAD generator output: fragility 0.5, no overlays, no capital
  e.fragility = 0.5;
  EXPECT_DOUBLE_EQ(Score(e).confidence, 0.757);
}

TEST(TrustEngine, HighFragilityWithoutOverlaysFallsBackToHalf) {
  Evidence e;
  e.fragility = 0.95;
  EXPECT_DOUBLE_EQ(Score(e).baseline, 0.5);
  e.has_overlays = true;
  EXPECT_DOUBLE_EQ(Score(e).baseline, 0.3);
}

TEST(TrustEngine, MemorySimilarityAndNovelty) {
  Change now = {{"h1", 0.1}, {"h2", 0.2}};
  std::vector<Change> memory = {{{"h1", 0.1}, {"h2", 0.2}}, {{"h1", 0.3}, {"h3", 9}}, {{"x", 1}}};
  // similarities: 1, 1 - 0.2 = 0.8, 0.6 (no common key)
  EXPECT_NEAR(HistoricalSimilarity(now, memory), (1 + 0.8 + 0.6) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(HistoricalSimilarity({}, memory), 0.7);
  EXPECT_DOUBLE_EQ(HistoricalSimilarity(now, {}), 0.8);
  Evidence e;
  e.change = now;
  e.memory = memory;
  TrustScore s = Score(e);
  EXPECT_DOUBLE_EQ(s.novelty, 0.0);  // equals a recent memory
  // Only the last 3 memories count: push the equal one out of the window.
  e.memory.push_back({{"y", 2}});
  EXPECT_DOUBLE_EQ(Score(e).novelty, 1.0);
}

TEST(TrustEngine, RiskCappedWithFewMemoriesAndClipped) {
  Evidence e;
  e.capital_movement = 1e9;
  e.change = {{"h1", 5}};
  e.memory = {{{"h1", -5}}};            // similarity 0
  EXPECT_DOUBLE_EQ(RiskScore(e), 0.7);  // 0.5 + 0.4 + 0.01 capped at 0.7 (< 3 memories)
  e.memory = {{{"h1", -5}}, {{"h1", -5}}, {{"h1", -5}}};
  EXPECT_DOUBLE_EQ(RiskScore(e), 0.91);
  TrustScore s = Score(e);
  EXPECT_DOUBLE_EQ(s.confidence, 0.4);  // the floor
  EXPECT_EQ(s.label, "Rejected");       // below the gate's 0.5
  EXPECT_EQ(s.licence, "Unlicensed");   // the floor still passes the licence's 0.4; fragility 1.0 does not
}

TEST(TrustEngine, LabelsAndLicencesFollowThresholds) {
  Evidence e;
  e.fragility = 0.7;  // the detector's cap: not < 0.7
  e.has_overlays = true;
  TrustScore s = Score(e);
  EXPECT_EQ(s.licence, "Unlicensed");
  Thresholds strict;
  strict.gate_confidence = 0.99;
  strict.licence_confidence = 0.99;
  s = Score(e, strict);
  EXPECT_EQ(s.label, "Rejected");
  EXPECT_EQ(s.licence, "Suppressed");
}

TEST(TrustEngine, FragilityCapsAtPointSeven) {
  EXPECT_DOUBLE_EQ(FragilityIndex(1.0, {{"a", 100}}), 0.7);
  EXPECT_EQ(FragilityLabel(0.29), "Stable");
  EXPECT_EQ(FragilityLabel(0.7), "Volatile");
}

}  // namespace
}  // namespace pulse::trust
