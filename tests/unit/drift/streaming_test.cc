// Streaming detectors against river 0.26.1 (tests/fixtures/drift/streaming.json): the indices at
// which each detector reports drift must be exactly river's on the same sequence.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "drift/streaming.h"
#include "fixtures.h"

namespace pulse::drift {
namespace {

using testing::LoadFixture;

TEST(StreamingFixtures, AdwinAndPageHinkleyDetectWhereRiverDoes) {
  const auto fx = LoadFixture("streaming.json");
  ASSERT_GE(fx["streams"].size(), 5u);
  for (const auto& s : fx["streams"]) {
    SCOPED_TRACE(s["name"].get<std::string>());
    const auto values = s["values"].get<std::vector<double>>();
    auto adwin = AdwinDetections(values);
    ASSERT_TRUE(adwin.ok());
    EXPECT_EQ(*adwin, s["adwin"].get<std::vector<int64_t>>());
    auto ph = PageHinkleyDetections(values);
    ASSERT_TRUE(ph.ok());
    EXPECT_EQ(*ph, s["page_hinkley"].get<std::vector<int64_t>>());
  }
}

TEST(StreamingFixtures, DdmDetectsWhereRiverDoes) {
  const auto fx = LoadFixture("streaming.json");
  for (const auto& s : fx["binary"]) {
    SCOPED_TRACE(s["name"].get<std::string>());
    auto ddm = DdmDetections(s["values"].get<std::vector<double>>());
    ASSERT_TRUE(ddm.ok());
    EXPECT_EQ(*ddm, s["ddm"].get<std::vector<int64_t>>());
  }
}

TEST(Streaming, NanIsAnErrorNamingTheIndex) {
  std::vector<double> v(10, 1.0);
  v[7] = std::nan("");
  EXPECT_EQ(AdwinDetections(v).status().message(), "value at index 7 is NaN");
  EXPECT_EQ(PageHinkleyDetections(v).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DdmDetections(v).status().code(), StatusCode::kInvalidArgument);
}

TEST(Streaming, DdmRefusesNonBinaryErrors) {
  auto r = DdmDetections({0, 1, 0.5});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "DDM takes 0 (hit) or 1 (miss): value at index 2 is 0.500000");
  Ddm ddm;
  EXPECT_FALSE(ddm.Update(2.0).ok());
  EXPECT_FALSE(ddm.drift_detected());
}

TEST(Streaming, ConstantAndEmptyStreamsNeverDrift) {
  EXPECT_TRUE(AdwinDetections(std::vector<double>(5000, 3.0))->empty());
  EXPECT_TRUE(PageHinkleyDetections(std::vector<double>(5000, 3.0))->empty());
  EXPECT_TRUE(DdmDetections(std::vector<double>(5000, 0.0))->empty());
  EXPECT_TRUE(AdwinDetections({})->empty());
}

}  // namespace
}  // namespace pulse::drift
