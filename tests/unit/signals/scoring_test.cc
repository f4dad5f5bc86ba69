// Scoring and gating (signals/scoring.h): every formula against values computed by hand, the
// original's defects fixed (per-series windows, anomaly counts within the window, tags as words),
// and the batch invariance the ingest paths rely on (one batch or many give the same scores).
#include "signals/scoring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

namespace pulse::signals {
namespace {

constexpr int64_t kDay = 86400LL * 1000000;

TEST(Recency, ClipsOneMinusAgeOverWindow) {
  const int64_t week = 7 * kDay;
  EXPECT_DOUBLE_EQ(Recency(0, week), 1.0);
  EXPECT_DOUBLE_EQ(Recency(week / 2, week), 0.5);
  EXPECT_DOUBLE_EQ(Recency(kDay, week), 1.0 - 1.0 / 7.0);
  EXPECT_DOUBLE_EQ(Recency(week, week), 0.0);
  EXPECT_DOUBLE_EQ(Recency(400 * week, week), 0.0);  // years old: 0, not negative
  EXPECT_DOUBLE_EQ(Recency(-kDay, week), 1.0);       // from the future: 1, not above
}

TEST(SymbolicTensionIndex, IsRoundedClippedLinearCombination) {
  EXPECT_DOUBLE_EQ(SymbolicTensionIndex(1.0, false), 0.9);
  EXPECT_DOUBLE_EQ(SymbolicTensionIndex(0.0, false), 0.6);
  EXPECT_DOUBLE_EQ(SymbolicTensionIndex(0.0, true), 0.4);
  EXPECT_DOUBLE_EQ(SymbolicTensionIndex(0.5, true), 0.55);
  EXPECT_DOUBLE_EQ(SymbolicTensionIndex(1.0 - 1.0 / 7.0, false), 0.857);  // 0.857142... rounded to 3 dp
  EXPECT_DOUBLE_EQ(SymbolicTensionIndex(1.0, true), 0.7);
}

TEST(SymbolicTag, FirstTagStartingAWordOfTheName) {
  const ScoringRules rules;
  EXPECT_EQ(SymbolicTag("hope_index", rules.tags), "hope");
  EXPECT_EQ(SymbolicTag("consumerDespair", rules.tags), "despair");  // camelCase splits words
  EXPECT_EQ(SymbolicTag("HOPE", rules.tags), "hope");
  EXPECT_EQ(SymbolicTag("fatigued-workers", rules.tags), "fatigue");  // a word starting with the tag
  EXPECT_EQ(SymbolicTag("rage_and_hope", rules.tags), "hope");        // priority order, not position
  EXPECT_EQ(SymbolicTag("road.rage.2024", rules.tags), "rage");
  // The original's substring match tagged these rage; they are not.
  EXPECT_EQ(SymbolicTag("average_hourly_earnings", rules.tags), "neutral");
  EXPECT_EQ(SymbolicTag("leverage", rules.tags), "neutral");
  EXPECT_EQ(SymbolicTag("storage", rules.tags), "neutral");
  EXPECT_EQ(SymbolicTag("realgdp", rules.tags), "neutral");
  EXPECT_EQ(SymbolicTag("", rules.tags), "neutral");
  EXPECT_EQ(SymbolicTag("hope", {}), "neutral");
}

TEST(RollingZ, PopulationZScoreAgainstEarlierValues) {
  const ScoringRules rules;
  std::vector<double> window = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};  // mean 5.5, population variance 99/12
  const double sd = std::sqrt(99.0 / 12.0);
  auto high = RollingZ(window, 15, rules);
  ASSERT_TRUE(high.z.has_value());
  EXPECT_NEAR(*high.z, 9.5 / sd, 1e-12);  // 3.3075 > 3
  EXPECT_TRUE(high.anomaly);
  auto below = RollingZ(window, 14, rules);
  EXPECT_NEAR(*below.z, 8.5 / sd, 1e-12);  // 2.9594 <= 3
  EXPECT_FALSE(below.anomaly);
  auto low = RollingZ(window, -4, rules);
  EXPECT_NEAR(*low.z, -9.5 / sd, 1e-12);
  EXPECT_TRUE(low.anomaly);
  // Fewer than min_history (10) earlier values: no score.
  std::vector<double> nine(window.begin(), window.begin() + 9);
  auto short_window = RollingZ(nine, 1000, rules);
  EXPECT_FALSE(short_window.z.has_value());
  EXPECT_FALSE(short_window.anomaly);
}

TEST(RollingZ, FlatWindowFlagsAnyChange) {
  const ScoringRules rules;
  std::vector<double> flat(10, 0.1);  // summing ten 0.1s is not exactly 1: no spurious tiny sd
  EXPECT_FALSE(RollingZ(flat, 0.1, rules).anomaly);
  EXPECT_FALSE(RollingZ(flat, 0.1, rules).z.has_value());
  auto changed = RollingZ(flat, 0.2, rules);
  EXPECT_TRUE(changed.anomaly);
  EXPECT_FALSE(changed.z.has_value());
}

TEST(Decide, OriginalThresholdTable) {
  const ScoringRules rules;
  EXPECT_EQ(Decide(0.6, "neutral", 0, rules).gate, Gate::kAccept);
  EXPECT_TRUE(Decide(0.6, "neutral", 2, rules).reason.empty());
  EXPECT_EQ(Decide(0.5, "hope", 2, rules).gate, Gate::kAccept);  // >= and <= are inclusive
  EXPECT_EQ(Decide(0.6, "despair", 1, rules).gate, Gate::kAccept);
  EXPECT_EQ(Decide(0.4, "fatigue", 3, rules).gate, Gate::kAccept);

  auto rage = Decide(0.6, "rage", 0, rules);
  EXPECT_EQ(rage.gate, Gate::kEscalate);
  EXPECT_EQ(rage.reason, "sti 0.6 < 0.7 (min_sti for tag rage)");
  auto despair = Decide(0.6, "despair", 2, rules);
  EXPECT_EQ(despair.gate, Gate::kEscalate);
  EXPECT_EQ(despair.reason, "2 anomalies in the series window > 1 (max_anomalies for tag despair)");
  auto both = Decide(0.4, "neutral", 3, rules);
  EXPECT_EQ(both.gate, Gate::kEscalate);  // 0.4 >= escalate_min_sti
  EXPECT_EQ(both.reason,
            "sti 0.4 < 0.5 (min_sti for tag neutral); 3 anomalies in the series window > 2 "
            "(max_anomalies for tag neutral)");
  // An unknown tag uses the default row.
  EXPECT_EQ(Decide(0.45, "other", 0, rules).gate, Gate::kEscalate);

  ScoringRules strict;
  strict.escalate_min_sti = 0.5;
  auto suppressed = Decide(0.45, "neutral", 0, strict);
  EXPECT_EQ(suppressed.gate, Gate::kSuppress);
  EXPECT_EQ(suppressed.reason, "sti 0.45 < 0.5 (min_sti for tag neutral); sti 0.45 < 0.5 (escalate_min_sti)");
  EXPECT_EQ(GateName(Gate::kSuppress), "suppress");
}

TEST(Decide, DefaultFormulasNeverSuppress) {
  // STI >= 0.4 for every recency and anomaly, and escalate_min_sti is 0.4: with the original's
  // numbers a signal is accepted or escalated, never suppressed (docs/signals.md).
  const ScoringRules rules;
  for (double r : {0.0, 0.25, 1.0})
    for (bool a : {false, true})
      for (const char* tag : {"neutral", "hope", "despair", "rage", "fatigue"})
        EXPECT_NE(Decide(SymbolicTensionIndex(r, a), tag, 51, rules).gate, Gate::kSuppress);
}

std::vector<Observation> Seq(std::initializer_list<double> values, int64_t first_ts = 1) {
  std::vector<Observation> out;
  int64_t ts = first_ts;
  for (double v : values) out.push_back({ts++, v});
  return out;
}

TEST(ScoreSeries, HandComputedWindowAndCount) {
  const ScoringRules rules;
  auto history = Seq({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  auto rows = Seq({15, 5.5}, 11);
  auto s = ScoreSeries(history, rows, rules);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_NEAR(*s[0].anomaly.z, 9.5 / std::sqrt(99.0 / 12.0), 1e-12);
  EXPECT_TRUE(s[0].anomaly.anomaly);
  EXPECT_EQ(s[0].anomalies_in_window, 1);
  // Window 1..10 and 15: mean 70/11, population variance 610/11 - (70/11)^2.
  const double mean = 70.0 / 11.0, sd = std::sqrt(610.0 / 11.0 - mean * mean);
  EXPECT_NEAR(*s[1].anomaly.z, (5.5 - mean) / sd, 1e-12);
  EXPECT_FALSE(s[1].anomaly.anomaly);
  EXPECT_EQ(s[1].anomalies_in_window, 1);  // the 15 before it
  // Rows in any order give the same, aligned scores.
  std::vector<Observation> reversed = {rows[1], rows[0]};
  auto r = ScoreSeries(history, reversed, rules);
  EXPECT_EQ(*r[0].anomaly.z, *s[1].anomaly.z);
  EXPECT_EQ(*r[1].anomaly.z, *s[0].anomaly.z);
}

TEST(ScoreSeries, SameTimestampIsNotInTheWindow) {
  ScoringRules rules;
  rules.anomaly_min_history = 2;
  auto history = Seq({1, 2});
  // Two values at ts 3 (a revision): each is scored against {1, 2} only.
  std::vector<Observation> rows = {{3, 100}, {3, 1.5}};
  auto s = ScoreSeries(history, rows, rules);
  EXPECT_NEAR(*s[0].anomaly.z, (100 - 1.5) / 0.5, 1e-12);
  EXPECT_NEAR(*s[1].anomaly.z, 0.0, 1e-12);
  EXPECT_EQ(s[1].anomalies_in_window, 0);  // the 100 at the same instant is not before it
}

TEST(ScoreSeries, AnomalyCountIsWithinTheWindowNotCumulative) {
  ScoringRules rules;
  rules.anomaly_window = 10;
  rules.anomaly_min_history = 5;
  // A calm series with one spike at position 10, then 30 calm values: the spike leaves the count
  // once it is more than `window` values back (the original never reset its count).
  std::vector<Observation> all;
  for (int i = 0; i < 41; ++i) all.push_back({i, i == 10 ? 50.0 : (i % 2 == 0 ? 1.0 : 2.0)});
  auto s = ScoreSeries({}, all, rules);
  EXPECT_TRUE(s[10].anomaly.anomaly);
  EXPECT_EQ(s[10].anomalies_in_window, 1);
  EXPECT_EQ(s[20].anomalies_in_window, 1);  // window of 20: values 10..19
  EXPECT_EQ(s[21].anomalies_in_window, 0);  // window of 21: values 11..20
  EXPECT_EQ(s[40].anomalies_in_window, 0);
}

// Straightforward reference: flags over the whole sorted series, windows by definition.
std::vector<SeriesScore> Reference(std::vector<Observation> all, const std::vector<Observation>& rows,
                                   const ScoringRules& rules) {
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.ts != b.ts ? a.ts < b.ts : a.value < b.value; });
  std::vector<bool> flags(all.size());
  std::vector<AnomalyScore> scores(all.size());
  auto window_of = [&](size_t k) {
    size_t hi = 0;
    while (hi < all.size() && all[hi].ts < all[k].ts) ++hi;
    size_t lo = hi > static_cast<size_t>(rules.anomaly_window) ? hi - static_cast<size_t>(rules.anomaly_window) : 0;
    return std::make_pair(lo, hi);
  };
  for (size_t k = 0; k < all.size(); ++k) {
    auto [lo, hi] = window_of(k);
    std::vector<double> w;
    for (size_t j = lo; j < hi; ++j) w.push_back(all[j].value);
    scores[k] = RollingZ(w, all[k].value, rules);
    flags[k] = scores[k].anomaly;
  }
  std::vector<SeriesScore> out;
  for (const auto& r : rows) {
    size_t k = 0;
    while (!(all[k].ts == r.ts && all[k].value == r.value)) ++k;
    auto [lo, hi] = window_of(k);
    SeriesScore s{scores[k], flags[k] ? 1 : 0};
    for (size_t j = lo; j < hi; ++j) s.anomalies_in_window += flags[j] ? 1 : 0;
    out.push_back(s);
  }
  return out;
}

TEST(ScoreSeries, OneBatchOrManyGiveTheSameScores) {
  ScoringRules rules;
  rules.anomaly_window = 12;
  rules.anomaly_min_history = 4;
  rules.anomaly_z = 1.8;  // many flags, so counts are exercised
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 1);
  std::vector<Observation> series;
  for (int i = 0; i < 300; ++i) series.push_back({i / 3 * 10, std::round(noise(rng) * 100) / 100});  // ties in ts
  auto whole = ScoreSeries({}, series, rules);
  auto reference = Reference(series, series, rules);
  for (size_t i = 0; i < series.size(); ++i) {
    EXPECT_EQ(whole[i].anomaly.anomaly, reference[i].anomaly.anomaly) << i;
    EXPECT_EQ(whole[i].anomaly.z.has_value(), reference[i].anomaly.z.has_value()) << i;
    if (whole[i].anomaly.z) {
      EXPECT_NEAR(*whole[i].anomaly.z, *reference[i].anomaly.z, 1e-9) << i;
    }
    EXPECT_EQ(whole[i].anomalies_in_window, reference[i].anomalies_in_window) << i;
  }
  // Batches of 1..37 rows, in time order (a batch may end inside an instant), each scored against
  // everything before it.
  for (size_t batch : {1u, 2u, 5u, 37u}) {
    std::vector<Observation> history;
    for (size_t start = 0; start < series.size(); start += batch) {
      const size_t end = std::min(series.size(), start + batch);
      std::vector<Observation> rows(series.begin() + static_cast<std::ptrdiff_t>(start),
                                    series.begin() + static_cast<std::ptrdiff_t>(end));
      auto s = ScoreSeries(history, rows, rules);
      for (size_t j = 0; j < rows.size(); ++j) {
        const auto& w = whole[start + j];
        EXPECT_EQ(s[j].anomaly.anomaly, w.anomaly.anomaly) << batch << " " << start + j;
        EXPECT_EQ(s[j].anomalies_in_window, w.anomalies_in_window) << batch << " " << start + j;
        if (w.anomaly.z) {
          EXPECT_NEAR(*s[j].anomaly.z, *w.anomaly.z, 1e-9);
        }
      }
      history.insert(history.end(), rows.begin(), rows.end());
    }
  }
}

TEST(ParseScoringRules, BundledFileEqualsTheBuiltInDefaults) {
  std::ifstream in(std::string(PULSE_SOURCE_DIR) + "/data/signals/scoring.yaml");
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ParseScoringRules(text.str(), "scoring.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const ScoringRules defaults;
  EXPECT_EQ(parsed->recency_window_us, defaults.recency_window_us);
  EXPECT_EQ(parsed->recency_window_by_kind, defaults.recency_window_by_kind);
  EXPECT_EQ(parsed->as_of_us, defaults.as_of_us);
  EXPECT_EQ(parsed->anomaly_window, defaults.anomaly_window);
  EXPECT_EQ(parsed->anomaly_min_history, defaults.anomaly_min_history);
  EXPECT_EQ(parsed->anomaly_z, defaults.anomaly_z);
  EXPECT_EQ(parsed->tags, defaults.tags);
  EXPECT_EQ(parsed->escalate_min_sti, defaults.escalate_min_sti);
  EXPECT_EQ(parsed->default_threshold.min_sti, defaults.default_threshold.min_sti);
  EXPECT_EQ(parsed->default_threshold.max_anomalies, defaults.default_threshold.max_anomalies);
  ASSERT_EQ(parsed->thresholds.size(), defaults.thresholds.size());
  for (const auto& [tag, t] : defaults.thresholds) {
    EXPECT_EQ(parsed->Threshold(tag).min_sti, t.min_sti) << tag;
    EXPECT_EQ(parsed->Threshold(tag).max_anomalies, t.max_anomalies) << tag;
  }
  EXPECT_EQ(defaults.Threshold("despair").min_sti, 0.6);
  EXPECT_EQ(defaults.Threshold("rage").max_anomalies, 1);
  EXPECT_EQ(defaults.Threshold("neutral").min_sti, 0.5);
}

TEST(ParseScoringRules, ReadsEveryKey) {
  auto r = ParseScoringRules(R"(
recency: {window: 12h, window_by_kind: {macro: 2w}, as_of: "2009-09-30"}
anomaly: {window: 20, min_history: 5, z: 2.5}
tags: [calm, storm]
gate:
  escalate_min_sti: 0.55
  default: {min_sti: 0.7, max_anomalies: 0}
  thresholds: {storm: {min_sti: 0.8, max_anomalies: 4}}
)",
                             "r.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->recency_window_us, 12 * 3600LL * 1000000);
  EXPECT_EQ(r->RecencyWindow("macro"), 14 * kDay);
  EXPECT_EQ(r->RecencyWindow("price"), 12 * 3600LL * 1000000);
  EXPECT_EQ(*r->as_of_us, 1254268800LL * 1000000);
  EXPECT_EQ(r->anomaly_window, 20);
  EXPECT_EQ(r->anomaly_min_history, 5);
  EXPECT_EQ(r->anomaly_z, 2.5);
  EXPECT_EQ(r->tags, (std::vector<std::string>{"calm", "storm"}));
  EXPECT_EQ(r->escalate_min_sti, 0.55);
  EXPECT_EQ(r->Threshold("storm").max_anomalies, 4);
  EXPECT_EQ(r->Threshold("hope").min_sti, 0.7);  // the thresholds map was replaced: default row
  EXPECT_EQ(r->HistoryDepth(), 40);
  auto empty = ParseScoringRules("", "e.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->anomaly_window, 50);
}

TEST(ParseScoringRules, BadInputIsAClearError) {
  auto err = [](const char* yaml) {
    auto r = ParseScoringRules(yaml, "bad.yaml");
    EXPECT_FALSE(r.ok()) << yaml;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(err("recency: {windw: 7d}").find("bad.yaml:1: recency.windw: unknown key (known: window,"),
            std::string::npos);
  EXPECT_NE(err("gates: {}").find("gates: unknown key"), std::string::npos);
  EXPECT_NE(err("recency: {window: 7}").find("expected a duration such as 7d"), std::string::npos);
  EXPECT_NE(err("recency: {window: -1d}").find("got '-1d'"), std::string::npos);
  EXPECT_NE(err("recency: {window: 99999999999999d}").find("duration"), std::string::npos);
  EXPECT_NE(err("recency: {as_of: yesterday}").find("recency.as_of"), std::string::npos);
  EXPECT_NE(err("anomaly: {window: 5, min_history: 10}").find("exceeds anomaly.window"), std::string::npos);
  EXPECT_NE(err("anomaly: {z: nan}").find("anomaly.z: expected a number"), std::string::npos);
  EXPECT_NE(err("anomaly: {window: 1}").find("anomaly.window: expected an integer in [2,"), std::string::npos);
  EXPECT_NE(err("tags: hope").find("tags: expected a list"), std::string::npos);
  EXPECT_NE(err("tags: [Hope]").find("lower-case ASCII"), std::string::npos);
  EXPECT_NE(err("tags: [hope, hope]").find("listed twice"), std::string::npos);
  EXPECT_NE(err("gate: {default: {min_sti: 0.5}}").find("needs both min_sti and max_anomalies"), std::string::npos);
  EXPECT_NE(err("gate: {default: {min_sti: 1.5, max_anomalies: 1}}").find("gate.default.min_sti"), std::string::npos);
  EXPECT_NE(
      err("gate: {thresholds: {hope: {min_sti: 0.5, max_anomalies: x}}}").find("gate.thresholds.hope.max_anomalies"),
      std::string::npos);
  EXPECT_NE(err("gate: {thresholds: [1, 2]}").find("expected a map"), std::string::npos);
  EXPECT_NE(err("recency: [1").find("bad.yaml:"), std::string::npos);  // YAML syntax error, no throw
  EXPECT_NE(err("- 1\n- 2").find("the rules: expected a map"), std::string::npos);
}

}  // namespace
}  // namespace pulse::signals
