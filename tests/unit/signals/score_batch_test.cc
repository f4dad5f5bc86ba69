// ScoreBatch: validated rows gain the score columns (ScoredSignalSchema), per series, with the
// recency reference and gate counts as documented in signals/scoring.h.
#include "signals/score_batch.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "signals/signal_builder.h"
#include "signals/signal_schema.h"

namespace pulse::signals {
namespace {

constexpr int64_t kDay = 86400LL * 1000000;
constexpr int64_t kNow = 1700000000LL * 1000000;

std::shared_ptr<arrow::Table> Build(const std::function<void(SignalBatchBuilder&)>& fill) {
  SignalBatchBuilder b;
  fill(b);
  auto t = b.Finish();
  EXPECT_TRUE(t.ok());
  return *t;
}

template <class T>
std::shared_ptr<T> Col(const arrow::Table& t, const char* name) {
  auto combined = t.CombineChunksToBatch();
  EXPECT_TRUE(combined.ok());
  return std::static_pointer_cast<T>((*combined)->GetColumnByName(name));
}

TEST(ScoreBatch, AddsScoreColumnsPerSeries) {
  // Series a/x: ten calm values already stored, then a spike and a calm value arrive. Series b/x
  // (same name, other source) has no history: its spike is not scored against a/x's values.
  SeriesHistory history;
  for (int i = 0; i < 10; ++i) history.Add("a", "x", {i * kDay, static_cast<double>(i + 1)});
  auto rows = Build([](SignalBatchBuilder& b) {
    ASSERT_TRUE(b.Append("x", "a", "k", 10 * kDay, 15, "", "", kNow).ok());
    ASSERT_TRUE(b.Append("x", "b", "k", 10 * kDay, 1000, "", "", kNow).ok());
    ASSERT_TRUE(b.Append("hope_index", "a", "k", kNow - kDay, 1, "", "", kNow).ok());
    ASSERT_TRUE(b.Append("road_rage", "a", "k", kNow + kDay, 1, "", "", kNow).ok());
  });
  GateCounts counts;
  auto scored = ScoreBatch(*rows, history, ScoringRules{}, &counts);
  ASSERT_TRUE(scored.ok()) << scored.status().message();
  const auto& t = **scored;
  EXPECT_TRUE(t.schema()->Equals(*ScoredSignalSchema()));
  ASSERT_EQ(t.num_rows(), 4);
  auto recency = Col<arrow::DoubleArray>(t, "recency");
  auto z = Col<arrow::DoubleArray>(t, "anomaly_z");
  auto anomaly = Col<arrow::BooleanArray>(t, "anomaly");
  auto sti = Col<arrow::DoubleArray>(t, "sti");
  auto tag = Col<arrow::StringArray>(t, "tag");
  auto gate = Col<arrow::StringArray>(t, "gate");
  auto reason = Col<arrow::StringArray>(t, "gate_reason");
  // Row 0: years-old (recency 0), z = 9.5 / sqrt(8.25) > 3: sti 0.4, escalated.
  EXPECT_EQ(recency->Value(0), 0.0);
  EXPECT_NEAR(z->Value(0), 9.5 / std::sqrt(8.25), 1e-12);
  EXPECT_TRUE(anomaly->Value(0));
  EXPECT_DOUBLE_EQ(sti->Value(0), 0.4);
  EXPECT_EQ(tag->GetView(0), "neutral");
  EXPECT_EQ(gate->GetView(0), "escalate");
  EXPECT_EQ(reason->GetView(0), "sti 0.4 < 0.5 (min_sti for tag neutral)");
  // Row 1: no history for b/x: no z-score, not anomalous, sti 0.6, accepted with a null reason.
  EXPECT_TRUE(z->IsNull(1));
  EXPECT_FALSE(anomaly->Value(1));
  EXPECT_DOUBLE_EQ(sti->Value(1), 0.6);
  EXPECT_EQ(gate->GetView(1), "accept");
  EXPECT_TRUE(reason->IsNull(1));
  // Row 2: one day old: recency 6/7, sti 0.857, tag hope.
  EXPECT_DOUBLE_EQ(recency->Value(2), 1.0 - 1.0 / 7.0);
  EXPECT_DOUBLE_EQ(sti->Value(2), 0.857);
  EXPECT_EQ(tag->GetView(2), "hope");
  EXPECT_EQ(gate->GetView(2), "accept");
  // Row 3: from the future: recency 1, sti 0.9 >= rage's 0.7.
  EXPECT_EQ(recency->Value(3), 1.0);
  EXPECT_EQ(tag->GetView(3), "rage");
  EXPECT_EQ(gate->GetView(3), "accept");
  EXPECT_EQ(counts.accept, 3);
  EXPECT_EQ(counts.escalate, 1);
  EXPECT_EQ(counts.suppress, 0);
}

TEST(ScoreBatch, RecencyReferenceAndKindWindowsFromTheRules) {
  auto rows = Build([](SignalBatchBuilder& b) {
    ASSERT_TRUE(b.Append("gdp", "s", "macro", kNow - 30 * kDay, 1, "", "", kNow).ok());
    ASSERT_TRUE(b.Append("px", "s", "price", kNow - 30 * kDay, 1, "", "", kNow).ok());
  });
  ScoringRules rules;
  rules.recency_window_by_kind["macro"] = 120 * kDay;
  auto by_kind = ScoreBatch(*rows, {}, rules);
  ASSERT_TRUE(by_kind.ok());
  EXPECT_DOUBLE_EQ(Col<arrow::DoubleArray>(**by_kind, "recency")->Value(0), 0.75);  // 1 - 30/120
  EXPECT_EQ(Col<arrow::DoubleArray>(**by_kind, "recency")->Value(1), 0.0);          // 30 days > 7
  rules.as_of_us = kNow - 27 * kDay;  // a backfill scored as of an earlier instant
  auto as_of = ScoreBatch(*rows, {}, rules);
  ASSERT_TRUE(as_of.ok());
  EXPECT_DOUBLE_EQ(Col<arrow::DoubleArray>(**as_of, "recency")->Value(0), 1.0 - 3.0 / 120.0);
  EXPECT_DOUBLE_EQ(Col<arrow::DoubleArray>(**as_of, "recency")->Value(1), 1.0 - 3.0 / 7.0);
}

TEST(ScoreBatch, SuppressedRowsKeepTheirReason) {
  auto rows = Build([](SignalBatchBuilder& b) { ASSERT_TRUE(b.Append("old", "s", "k", 0, 1, "", "", kNow).ok()); });
  ScoringRules rules;
  rules.default_threshold.min_sti = 0.7;
  rules.escalate_min_sti = 0.65;  // recency 0 -> sti 0.6 < 0.65
  GateCounts counts;
  auto scored = ScoreBatch(*rows, {}, rules, &counts);
  ASSERT_TRUE(scored.ok());
  EXPECT_EQ(Col<arrow::StringArray>(**scored, "gate")->GetView(0), "suppress");
  EXPECT_EQ(Col<arrow::StringArray>(**scored, "gate_reason")->GetView(0),
            "sti 0.6 < 0.7 (min_sti for tag neutral); sti 0.6 < 0.65 (escalate_min_sti)");
  EXPECT_EQ(counts.suppress, 1);
}

TEST(ScoreBatch, EmptyAndWrongInput) {
  auto empty = Build([](SignalBatchBuilder&) {});
  auto scored = ScoreBatch(*empty, {}, ScoringRules{});
  ASSERT_TRUE(scored.ok());
  EXPECT_EQ((*scored)->num_rows(), 0);
  EXPECT_TRUE((*scored)->schema()->Equals(*ScoredSignalSchema()));
  auto wrong = arrow::Table::MakeEmpty(arrow::schema({arrow::field("name", arrow::utf8())}));
  ASSERT_TRUE(wrong.ok());
  auto bad = ScoreBatch(**wrong, {}, ScoringRules{});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(SeriesHistory, TrimKeepsTheNewestPerSeries) {
  SeriesHistory h;
  for (int i = 9; i >= 0; --i) h.Add("s", "n", {i, static_cast<double>(i)});
  h.Add("s", "m", {0, 1});
  h.Trim(3);
  auto kept = h.Get("s", "n");
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].ts, 7);
  EXPECT_EQ(kept[2].ts, 9);
  EXPECT_EQ(h.Get("s", "m").size(), 1u);
  EXPECT_TRUE(h.Get("t", "n").empty());
  EXPECT_FALSE(h.Contains("t", "n"));
  h.Ensure("t", "n");
  EXPECT_TRUE(h.Contains("t", "n"));
}

// SeriesHistory::Window: scoring rows against the window equals scoring them against the whole
// history, for histories with many values per timestamp, rows before, inside and after it.
TEST(SeriesHistoryWindow, ScoresEqualTheWholeHistory) {
  uint64_t seed = 12345;
  auto next = [&](int64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((seed >> 33) % static_cast<uint64_t>(n));
  };
  ScoringRules rules;
  for (int trial = 0; trial < 400; ++trial) {
    rules.anomaly_window = 1 + next(8);
    rules.anomaly_min_history = 1 + next(3);
    rules.anomaly_z = 1.0 + static_cast<double>(next(3));
    SeriesHistory h;
    const int64_t n = next(80);
    for (int64_t i = 0; i < n; ++i)
      h.Add("s", "x", {next(30), static_cast<double>(next(6) == 0 ? 50 + next(5) : next(5))});
    std::vector<Observation> rows;
    const int64_t m = 1 + next(6);
    for (int64_t i = 0; i < m; ++i) rows.push_back({next(36), static_cast<double>(next(7))});
    int64_t t_min = INT64_MAX, t_max = INT64_MIN;
    for (const auto& r : rows) t_min = std::min(t_min, r.ts), t_max = std::max(t_max, r.ts);
    const auto whole = ScoreSeries(h.Get("s", "x"), rows, rules);
    h.Sort();
    const auto window = h.Window("s", "x", t_min, t_max, rules.anomaly_window);
    EXPECT_LE(window.size(), static_cast<size_t>(n));
    const auto part = ScoreSeries(window, rows, rules);
    ASSERT_EQ(whole.size(), part.size());
    for (size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(whole[i].anomaly.anomaly, part[i].anomaly.anomaly) << trial;
      EXPECT_EQ(whole[i].anomaly.z.has_value(), part[i].anomaly.z.has_value()) << trial;
      if (whole[i].anomaly.z && part[i].anomaly.z) {
        EXPECT_DOUBLE_EQ(*whole[i].anomaly.z, *part[i].anomaly.z) << trial;
      }
      EXPECT_EQ(whole[i].anomalies_in_window, part[i].anomalies_in_window) << trial;
    }
  }
}

TEST(SeriesHistoryWindow, RepeatedTimestampsNeedNoHistory) {
  // The service benchmark's shape: one timestamp pushed again and again. Its rows' windows hold
  // only earlier timestamps, so the window of the history is empty however long it grows.
  SeriesHistory h;
  for (int i = 0; i < 5000; ++i) h.Add("s", "x", {100, 1.0 + (i % 3)});
  h.Sort();
  EXPECT_TRUE(h.Window("s", "x", 100, 100, 50).empty());
  h.Add("s", "x", {50, 7.0});  // an earlier value: now in the window
  h.Sort();
  EXPECT_EQ(h.Window("s", "x", 100, 100, 50).size(), 1u);
  EXPECT_EQ(h.Window("s", "x", 101, 101, 50).size(), 5001u);
}

TEST(ScoreSeries, AGroupOfEqualTimestampsAcrossTheHistoryStartIsSafe) {
  // w = 2: the scan starts inside the group of ts 2 (values b, c, d); such values get an empty
  // window instead of a negative one.
  ScoringRules rules;
  rules.anomaly_window = 2;
  rules.anomaly_min_history = 1;
  const std::vector<Observation> history = {{1, 1}, {2, 2}, {2, 3}, {2, 4}, {3, 5}, {3, 6}};
  const auto s = ScoreSeries(history, std::vector<Observation>{{4, 5.5}}, rules);
  ASSERT_EQ(s.size(), 1u);
  ASSERT_TRUE(s[0].anomaly.z.has_value());
  EXPECT_DOUBLE_EQ(*s[0].anomaly.z, 0.0);  // window {5, 6}
}

}  // namespace
}  // namespace pulse::signals
