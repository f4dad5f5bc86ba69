// The simulation engine: the expression language (values, precedence, errors with positions),
// catalog and rules parsing (every bad input a clear error), the turn's semantics (order,
// clamps, the symbolic switch, mod scaling), and Monte Carlo reproducibility (bit-identical for
// any thread count and any split; exact merges).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/simd.h"
#include "sim/expr.h"
#include "sim/gpu.h"
#include "sim/monte_carlo.h"
#include "sim/retrodiction.h"
#include "sim/turn.h"
#include "sim/world.h"

namespace pulse::sim {
namespace {

constexpr const char* kCatalog = R"(
overlays:
  - {name: hope, default: 0.5}
  - {name: despair, default: 0.5}
  - {name: rage, default: 0.5}
  - {name: fatigue, default: 0.5}
  - {name: trust, default: 0.5}
capital:
  - {name: nvda, default: 0}
  - {name: cash, default: 100000}
variables:
  - {name: inflation_index, type: driver, default: 0.03, range: [0, 1]}
  - {name: energy_price_index, type: driver, default: 0.5, range: [0, 2]}
)";

constexpr const char* kRules = R"(
rules:
  - id: HopeTrust
    kind: causal
    importance: 0.8
    when: "hope > 0.4 and fatigue < 0.7"
    effects:
      - {target: trust, add: "0.02"}
  - id: TrustCapital
    importance: 0.9
    when: "trust > 0.45"
    effects:
      - {target: nvda, add: "500"}
  - id: Sell
    importance: 1
    when: "inflation_index > 0.035"
    effects:
      - {target: nvda, add: "-1000"}
  - id: EnergySpike
    kind: static
    when: "energy_price_index > 0.4"
    effects:
      - {target: inflation_index, add: "0.01"}
events:
  - id: shock
    effects:
      - {target: hope, add: "-0.2"}
      - {target: energy_price_index, set: "energy_price_index * 2"}
)";

struct World {
  Catalog catalog;
  RuleSet rules;
};

World Load(const char* rules = kRules) {
  auto catalog = Catalog::Parse(kCatalog, "catalog.yaml");
  EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
  auto parsed = ParseRules(rules, "rules.yaml", *catalog);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return {*catalog, *parsed};
}

double Eval(const std::string& text, std::vector<double> slots = {}) {
  SlotResolver resolve = [](std::string_view name) -> std::optional<uint32_t> {
    if (name == "a") return 0;
    if (name == "b") return 1;
    return std::nullopt;
  };
  auto e = Expr::Compile(text, resolve, {"t", 1, 1});
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().ToString();
  if (!e.ok()) return NAN;
  slots.resize(2);
  const double* ptrs[] = {&slots[0], &slots[1]};
  double out = 0;
  e->Evaluate(ptrs, 1, &out);
  return out;
}

TEST(Expr, EvaluatesWithPrecedence) {
  EXPECT_EQ(Eval("1 + 2 * 3"), 7);
  EXPECT_EQ(Eval("(1 + 2) * 3"), 9);
  EXPECT_EQ(Eval("-2 * -3"), 6);
  EXPECT_EQ(Eval("10 - 4 - 3"), 3);  // left-associative
  EXPECT_EQ(Eval("8 / 4 / 2"), 1);
  EXPECT_EQ(Eval("1 / 0"), 0);  // never inf
  EXPECT_EQ(Eval("a > 0.4 and b < 0.7", {0.5, 0.6}), 1);
  EXPECT_EQ(Eval("a > 0.4 and b < 0.7", {0.5, 0.8}), 0);
  EXPECT_EQ(Eval("not a > 1 or b", {2, 0}), 0);
}

TEST(Expr, Functions) {
  EXPECT_EQ(Eval("max(0, a - 0.02)", {0.01}), 0);
  EXPECT_EQ(Eval("min(a, b)", {3, 2}), 2);
  EXPECT_EQ(Eval("abs(-1.5)"), 1.5);
  EXPECT_EQ(Eval("clamp(a, 0, 1)", {7}), 1);
  EXPECT_EQ(Eval("1e-3 * 1000"), 1);
}

TEST(Expr, ErrorsNamePositionAndProblem) {
  SlotResolver resolve = [](std::string_view name) -> std::optional<uint32_t> {
    if (name == "hope") return 0;
    return std::nullopt;
  };
  auto check = [&](const char* text, const char* fragment) {
    auto e = Expr::Compile(text, resolve, {"rules.yaml", 7, 11});
    ASSERT_FALSE(e.ok()) << text;
    EXPECT_EQ(e.status().code(), StatusCode::kParseError);
    EXPECT_NE(e.status().message().find(fragment), std::string::npos) << e.status().ToString();
    EXPECT_NE(e.status().message().find("rules.yaml:7:"), std::string::npos) << e.status().ToString();
  };
  check("hope >", "expected a value");
  check("hopez > 1", "unknown name 'hopez'");
  check("hope > 1)", "unexpected ')'");
  check("(hope", "expected ')'");
  check("min(hope)", "min takes 2 arguments");
  check("hope > 0.4.5", "bad number");
  check("hope $ 1", "unexpected '$'");
  check("hope < 1 < 2", "unexpected '<'");  // comparisons do not chain
  check("", "expected a value");
  check("__import__('os')", "unknown name '__import__'");
  auto e = Expr::Compile("hope > zz", resolve, {"r.yaml", 3, 10});
  EXPECT_NE(e.status().message().find("r.yaml:3:17:"), std::string::npos) << e.status().ToString();
}

TEST(World, CatalogAndRulesParse) {
  World w = Load();
  EXPECT_EQ(w.catalog.size(), 9u);
  EXPECT_EQ(w.catalog[*w.catalog.Find("cash")].initial, 100000);
  EXPECT_EQ(w.catalog[*w.catalog.Find("hope")].kind, SlotKind::kOverlay);
  ASSERT_EQ(w.rules.rules.size(), 4u);
  EXPECT_DOUBLE_EQ(w.rules.rules[0].Mod(), 0.4);
  EXPECT_DOUBLE_EQ(w.rules.rules[3].Mod(), 1.0);  // static
  EXPECT_TRUE(w.rules.FindEvent("shock"));
}

TEST(World, BadFilesAreClearErrors) {
  auto catalog = Catalog::Parse(kCatalog, "catalog.yaml");
  ASSERT_TRUE(catalog.ok());
  auto rules_error = [&](const std::string& yaml, const char* fragment) {
    auto r = ParseRules(yaml, "rules.yaml", *catalog);
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("rules.yaml"), std::string::npos) << r.status().ToString();
  };
  rules_error("rules: [", "rules.yaml:1");
  rules_error("nothing: 1", "'rules' list");
  rules_error("rules:\n  - {id: A, when: \"hope >\", effects: [{target: hope, add: 1}]}", "rules.yaml:2:");
  rules_error("rules:\n  - {id: A, when: \"1\", effects: [{target: nope, add: 1}]}", "unknown target 'nope'");
  rules_error("rules:\n  - {id: A, when: \"1\", effects: [{target: hope, add: 1, set: 2}]}",
              "exactly one of add, set, scale");
  rules_error("rules:\n  - {id: A, when: \"1\"}", "effects");
  rules_error("rules:\n  - {id: A, effects: [{target: hope, add: 1}]}", "needs a 'when'");
  rules_error("rules:\n  - {id: A, kind: magic, when: \"1\", effects: [{target: hope, add: 1}]}", "causal or static");
  rules_error(
      "rules:\n  - {id: A, when: \"1\", effects: [{target: hope, add: 1}]}\n  - {id: A, when: \"1\", effects: "
      "[{target: hope, add: 1}]}",
      "used twice");
  rules_error("rules:\n  - {id: A, trust: 2, when: \"1\", effects: [{target: hope, add: 1}]}", "trust in [0, 1]");
  auto catalog_error = [&](const std::string& yaml, const char* fragment) {
    auto c = Catalog::Parse(yaml, "catalog.yaml");
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.status().message().find(fragment), std::string::npos) << c.status().ToString();
  };
  catalog_error("overlays:\n  - {name: hope, default: 2}", "[0, 1]");
  catalog_error("variables:\n  - {name: x, default: abc}", "must be a number");
  catalog_error("variables:\n  - {name: x, range: [2, 1]}", "low < high");
  catalog_error("variables:\n  - {name: x}\n  - {name: x}", "defined twice");
  catalog_error("{}", "no slots");
}

TEST(Turn, FollowsTheOriginalsOrderAndClamps) {
  World w = Load();
  const uint32_t hope = *w.catalog.Find("hope"), trust = *w.catalog.Find("trust"), nvda = *w.catalog.Find("nvda"),
                 inflation = *w.catalog.Find("inflation_index");
  // Symbolic off (the original as shipped): overlays only decay; capital and variables move.
  {
    TurnEngine engine(w.catalog, w.rules, {.decay_rate = 0.01, .symbolic = false});
    BlockState st(w.catalog.size(), 1);
    st.Fill(w.catalog.Initial());
    std::vector<uint32_t> fired;
    engine.Run(st, nullptr, &fired);
    EXPECT_DOUBLE_EQ(st.slot(hope)[0], 0.49);
    EXPECT_DOUBLE_EQ(st.slot(trust)[0], 0.49);            // R1's +0.02*0.4 is a no-op
    EXPECT_DOUBLE_EQ(st.slot(nvda)[0], 0.5 * 0.9 * 500);  // trust 0.49 > 0.45
    EXPECT_DOUBLE_EQ(st.slot(inflation)[0], 0.04);        // static rule, after the causal ones
    EXPECT_EQ(fired, (std::vector<uint32_t>{1, 1, 0, 1}));
    // Turn 2: Sell sees the inflation the static rule raised last turn; capital floors at 0.
    engine.Run(st, nullptr, &fired);
    EXPECT_EQ(fired[2], 1u);
    EXPECT_DOUBLE_EQ(st.slot(nvda)[0], 0.0);  // 225 + 225 - 500 -> 0 (the original's clamp)
  }
  // Symbolic on: overlay effects apply, clamped to [0, 1] per write.
  {
    TurnEngine engine(w.catalog, w.rules, {.decay_rate = 0.0, .symbolic = true});
    BlockState st(w.catalog.size(), 2);
    st.Fill(w.catalog.Initial());
    st.slot(trust)[1] = 0.999;
    engine.Run(st, nullptr, nullptr);
    EXPECT_DOUBLE_EQ(st.slot(trust)[0], 0.5 + 0.008);
    EXPECT_DOUBLE_EQ(st.slot(trust)[1], 1.0);  // 0.999 + 0.008, clamped
  }
  // Injection assigns before decay; overlays are clamped.
  {
    TurnEngine engine(w.catalog, w.rules, {.decay_rate = 0.05});
    BlockState st(w.catalog.size(), 1);
    st.Fill(w.catalog.Initial());
    Injection inject = {{hope, 1.7}, {inflation, 0.2}};
    engine.Run(st, &inject, nullptr);
    EXPECT_DOUBLE_EQ(st.slot(hope)[0], 0.95);
    EXPECT_DOUBLE_EQ(st.slot(inflation)[0], 0.21);
    engine.ApplyEvent(st, *w.rules.FindEvent("shock"));
    EXPECT_DOUBLE_EQ(st.slot(hope)[0], 0.95);  // symbolic off: the event's overlay effect is a no-op
    EXPECT_DOUBLE_EQ(st.slot(*w.catalog.Find("energy_price_index"))[0], 1.0);
  }
}

MonteCarloOptions Options(int threads) {
  MonteCarloOptions o;
  o.runs = 1000;  // four blocks, the last partial
  o.turns = 12;
  o.seed = 42;
  o.threads = threads;
  return o;
}

void ExpectSameSummary(const Summary& a, const Summary& b, const std::vector<double>& q) {
  ASSERT_EQ(a.steps(), b.steps());
  ASSERT_EQ(a.columns(), b.columns());
  for (size_t step = 0; step < a.steps(); ++step) {
    for (size_t c = 0; c < a.columns().size(); ++c) {
      auto x = a.Get(step, c, q), y = b.Get(step, c, q);
      ASSERT_EQ(x.count, y.count);
      ASSERT_EQ(x.mean, y.mean) << a.columns()[c] << " step " << step;
      ASSERT_EQ(x.sd, y.sd) << a.columns()[c] << " step " << step;
      ASSERT_EQ(x.quantiles, y.quantiles) << a.columns()[c] << " step " << step;
    }
  }
}

TEST(MonteCarlo, BitIdenticalForAnyThreadCount) {
  World w = Load();
  TurnEngine engine(w.catalog, w.rules, {.symbolic = true});
  auto with_paths = [](int threads) {
    auto o = Options(threads);
    o.sample_paths = 300;  // spans two blocks
    return o;
  };
  auto one = RunMonteCarlo(engine, w.catalog.Initial(), with_paths(1));
  auto two = RunMonteCarlo(engine, w.catalog.Initial(), with_paths(2));
  auto three = RunMonteCarlo(engine, w.catalog.Initial(), with_paths(3));
  ASSERT_TRUE(one.ok() && two.ok() && three.ok());
  ASSERT_EQ(one->paths.size(), size_t{300} * 13 * w.catalog.size());
  EXPECT_EQ(one->paths, two->paths);
  EXPECT_EQ(one->paths, three->paths);
  ExpectSameSummary(one->summary, two->summary, {0.05, 0.5, 0.95});
  ExpectSameSummary(one->summary, three->summary, {0.05, 0.5, 0.95});
  EXPECT_EQ(one->rule_fired, two->rule_fired);
  // The noise is real: overlays spread; a different seed gives different numbers.
  const auto hope = one->summary.Get(12, *w.catalog.Find("hope"), {0.05, 0.95});
  EXPECT_GT(hope.sd, 0.005);
  EXPECT_LT(hope.quantiles[0], hope.mean);
  EXPECT_GT(hope.quantiles[1], hope.mean);
  auto other = Options(1);
  other.seed = 43;
  auto different = RunMonteCarlo(engine, w.catalog.Initial(), other);
  EXPECT_NE(different->summary.Get(12, *w.catalog.Find("hope"), {}).mean, hope.mean);
}

TEST(MonteCarlo, GroupsOfBlocksGiveWhatBlocksOneAtATimeGive) {
  // A worker advances its blocks of 256 runs in groups of up to 8, turn by turn. 2,600 runs on one
  // thread are a full group and a partial one ending in a partial block; computed instead as 11
  // separate one-block chunks, the merged summary, the paths and the rule counts are the same.
  World w = Load();
  TurnEngine engine(w.catalog, w.rules, {.symbolic = true});
  MonteCarloOptions whole = Options(1);
  whole.runs = 2600, whole.turns = 4, whole.sample_paths = 2600;
  std::vector<uint64_t> progress;
  auto all = RunMonteCarlo(engine, w.catalog.Initial(), whole, [&](uint64_t done, uint64_t total) {
    EXPECT_EQ(total, 2600u);
    progress.push_back(done);
  });
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(progress, (std::vector<uint64_t>{2048, 2600}));  // once per group
  Summary merged;
  std::vector<double> paths;
  std::vector<uint64_t> fired(all->rule_fired.size(), 0);
  for (uint64_t first = 0; first < whole.runs; first += kBlock) {
    MonteCarloOptions chunk = whole;
    chunk.first_run = first, chunk.runs = std::min<uint64_t>(kBlock, whole.runs - first);
    chunk.sample_paths = chunk.runs;
    auto part = RunMonteCarlo(engine, w.catalog.Initial(), chunk);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    merged.Merge(part->summary);
    paths.insert(paths.end(), part->paths.begin(), part->paths.end());
    for (size_t i = 0; i < fired.size(); ++i) fired[i] += part->rule_fired[i];
  }
  EXPECT_EQ(all->summary.Serialize(), merged.Serialize());
  EXPECT_EQ(all->paths, paths);
  EXPECT_EQ(all->rule_fired, fired);
}

TEST(MonteCarlo, VectorisedPathsGiveThePlainResults) {
  // The summary's scan, the Philox batches and the shock tiles have AVX-512 versions chosen at run
  // time; simd::LimitLevel(kPlain) makes each take its plain version. Both must give the same
  // bits. 19 more ranged variables (magnitudes from 10^-3 to 10^4) make the shocks fill whole 8 x 8
  // tiles; 700 runs end in a partial block whose last tile is partial. (Without AVX-512 both runs
  // are plain and the test shows nothing more than determinism.)
  std::string catalog_text = kCatalog;
  for (int i = 0; i < 19; ++i) {
    const double scale = std::pow(10.0, i % 8 - 3);
    catalog_text += "  - {name: v" + std::to_string(i) + ", type: driver, default: " + std::to_string(scale) +
                    ", range: [0, " + std::to_string(2 * scale) + "]}\n";
  }
  auto catalog = Catalog::Parse(catalog_text, "catalog.yaml");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  auto rules = ParseRules(kRules, "rules.yaml", *catalog);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  TurnEngine engine(*catalog, *rules, {.symbolic = true});
  MonteCarloOptions o = Options(1);
  o.runs = 700, o.turns = 6, o.noise_scale = 0.05, o.sample_paths = 20;
  simd::LimitLevel(simd::Level::kPlain);
  auto plain = RunMonteCarlo(engine, catalog->Initial(), o);
  simd::LimitLevel(simd::Level::kAvx512);
  auto fast = RunMonteCarlo(engine, catalog->Initial(), o);
  ASSERT_TRUE(plain.ok() && fast.ok());
  EXPECT_EQ(plain->summary.Serialize(), fast->summary.Serialize());
  EXPECT_EQ(plain->paths, fast->paths);
  EXPECT_EQ(plain->rule_fired, fast->rule_fired);
  EXPECT_GT(fast->summary.Get(6, *catalog->Find("v7"), {}).sd, 0.0);  // the shocks are real
}

TEST(MonteCarlo, ChunksOfABatchMergeIntoTheSingleRunResult) {
  // As a cluster splits one batch: runs [0, 300) and [300, 1000) computed apart (serialised, as
  // they would travel between workers) and merged give exactly the 1000-run result.
  World w = Load();
  TurnEngine engine(w.catalog, w.rules, {.symbolic = true});
  auto whole = RunMonteCarlo(engine, w.catalog.Initial(), Options(2));
  auto a = Options(1), b = Options(1);
  a.runs = 300;
  b.first_run = 300, b.runs = 700;
  auto ra = RunMonteCarlo(engine, w.catalog.Initial(), a);
  auto rb = RunMonteCarlo(engine, w.catalog.Initial(), b);
  ASSERT_TRUE(whole.ok() && ra.ok() && rb.ok());
  auto sa = Summary::Deserialize(ra->summary.Serialize());
  auto sb = Summary::Deserialize(rb->summary.Serialize());
  ASSERT_TRUE(sa.ok() && sb.ok()) << sa.status().ToString();
  Summary merged;
  merged.Merge(*sb), merged.Merge(*sa);
  ExpectSameSummary(whole->summary, merged, {0.05, 0.5, 0.95});
  EXPECT_FALSE(Summary::Deserialize("{}").ok());
  EXPECT_FALSE(
      Summary::Deserialize(R"({"format": "pulse-sim-summary-1", "steps": 1, "columns": ["x"], "cells": []})").ok());
}

TEST(MonteCarlo, SummariesMergeExactlyInAnyOrder) {
  Summary whole(1, {"x"}), a(1, {"x"}), b(1, {"x"}), c(1, {"x"});
  std::vector<double> values;
  for (int i = 0; i < 3000; ++i) values.push_back(std::sin(i * 0.37) * 1e3 + 0.1 * i);
  whole.Add(0, 0, values.data(), values.size());
  a.Add(0, 0, values.data(), 1000);
  b.Add(0, 0, values.data() + 1000, 1500);
  c.Add(0, 0, values.data() + 2500, 500);
  Summary abc, cba;
  abc.Merge(a), abc.Merge(b), abc.Merge(c);
  cba.Merge(c), cba.Merge(b), cba.Merge(a);
  ExpectSameSummary(whole, abc, {0.01, 0.5, 0.99});
  ExpectSameSummary(whole, cba, {0.01, 0.5, 0.99});
  // And the statistics are right: the mean to the fixed-point resolution, quantiles to the
  // bucket width (2^-7 relative).
  double mean = 0;
  for (double v : values) mean += v / 3000;
  auto s = whole.Get(0, 0, {0.5});
  EXPECT_NEAR(s.mean, mean, 1e-6);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NEAR(s.quantiles[0], sorted[1499], std::abs(sorted[1499]) * 0.01 + 1e-9);
}

TEST(MonteCarlo, AskingForTheGpuWithoutOneRunsTheCpuPathWithTheSameResults) {
  // A CPU-only build (or a CUDA build on a machine without a device) says why and computes on
  // the CPU: the same summary, paths and rule counts as without use_gpu.
  World w = Load();
  TurnEngine engine(w.catalog, w.rules, {.symbolic = true});
  auto o = Options(2);
  o.sample_paths = 10;
  auto cpu = RunMonteCarlo(engine, w.catalog.Initial(), o);
  o.use_gpu = true;
  auto asked = RunMonteCarlo(engine, w.catalog.Initial(), o);
  ASSERT_TRUE(cpu.ok() && asked.ok());
  EXPECT_EQ(cpu->device, "cpu");
  EXPECT_TRUE(cpu->gpu_unused.empty());
  if (!GpuCompiledIn()) {
    EXPECT_EQ(asked->device, "cpu");
    EXPECT_NE(asked->gpu_unused.find("without CUDA"), std::string::npos) << asked->gpu_unused;
  }
  if (asked->device == "cpu") {
    EXPECT_FALSE(asked->gpu_unused.empty());
  }
  EXPECT_EQ(cpu->paths, asked->paths);
  EXPECT_EQ(cpu->rule_fired, asked->rule_fired);
  EXPECT_EQ(cpu->summary.Serialize(), asked->summary.Serialize());
  o.injections = {{{*w.catalog.Find("hope"), 0.9}}};
  auto injected = RunMonteCarlo(engine, w.catalog.Initial(), o);
  ASSERT_TRUE(injected.ok());
  EXPECT_EQ(injected->device, "cpu");
  EXPECT_FALSE(injected->gpu_unused.empty());
}

TEST(MonteCarlo, DeterministicWithoutNoiseAndBadOptions) {
  World w = Load();
  TurnEngine engine(w.catalog, w.rules, {});
  auto o = Options(2);
  o.noise_scale = 0;
  auto r = RunMonteCarlo(engine, w.catalog.Initial(), o);
  ASSERT_TRUE(r.ok());
  const auto infl = r->summary.Get(12, *w.catalog.Find("inflation_index"), {0.05, 0.95});
  EXPECT_NEAR(infl.mean, 0.03 + 12 * 0.01, 1e-6);
  EXPECT_EQ(infl.sd, 0);
  EXPECT_EQ(infl.quantiles[0], infl.quantiles[1]);
  // Tag and arc shares: every run starts at 0.5 (Neutral, arc Unknown); a fork with hopeful
  // overlays is Hope Rising / Hope Surge in every run.
  auto column = [&](const std::string& name) {
    const auto& cols = r->summary.columns();
    return static_cast<size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin());
  };
  EXPECT_EQ(r->summary.Get(0, column("tag.Neutral"), {}).mean, 1.0);
  EXPECT_EQ(r->summary.Get(0, column("arc.Unknown"), {}).mean, 1.0);
  auto hopeful = o;
  hopeful.overrides = {
      {*w.catalog.Find("hope"), 0.9}, {*w.catalog.Find("despair"), 0.1}, {*w.catalog.Find("rage"), 0.1}};
  auto h = RunMonteCarlo(engine, w.catalog.Initial(), hopeful);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->summary.Get(1, column("tag.Hope Rising"), {}).mean, 1.0);
  EXPECT_EQ(h->summary.Get(1, column("arc.Hope Surge"), {}).mean, 1.0);
  EXPECT_EQ(h->summary.Get(1, column("tag.Neutral"), {}).mean, 0.0);
  // The turn record's overlay deltas: symbolic off, so only the decay moves them.
  EXPECT_NEAR(r->summary.Get(3, column("delta.hope"), {}).mean, -0.01, 1e-6);
  EXPECT_EQ(r->summary.Get(0, column("delta.hope"), {}).mean, 0.0);
  // Counterfactual fork: same seed, overridden input.
  auto fork = o;
  fork.overrides = {{*w.catalog.Find("energy_price_index"), 0.1}};
  auto f = RunMonteCarlo(engine, w.catalog.Initial(), fork);
  EXPECT_NEAR(f->summary.Get(12, *w.catalog.Find("inflation_index"), {}).mean, 0.03, 1e-6);
  auto bad = o;
  bad.runs = 0;
  EXPECT_EQ(RunMonteCarlo(engine, w.catalog.Initial(), bad).status().code(), StatusCode::kInvalidArgument);
  bad = o;
  bad.turns = 0;
  EXPECT_FALSE(RunMonteCarlo(engine, w.catalog.Initial(), bad).ok());
  bad = o;
  bad.quantiles = {1.5};
  EXPECT_FALSE(RunMonteCarlo(engine, w.catalog.Initial(), bad).ok());
  EXPECT_FALSE(RunMonteCarlo(engine, {1, 2}, o).ok());
}

TEST(Retrodiction, StrictIsOneStepAheadAndFreeDrifts) {
  World w = Load();
  TurnEngine engine(w.catalog, w.rules, {});
  const uint32_t inflation = *w.catalog.Find("inflation_index"), nvda = *w.catalog.Find("nvda"),
                 hope = *w.catalog.Find("hope");
  // Observed: inflation flat at 0.03 (the static rule adds 0.01 a turn), nvda flat at 2000, hope 0.5.
  History h;
  h.slots = {inflation, nvda, hope};
  for (int t = 0; t < 6; ++t) {
    h.times.push_back(t * 7LL * 86400 * 1000000);
    h.values.insert(h.values.end(), {0.03, 2000.0, t == 3 ? NAN : 0.5});
  }
  auto strict = Retrodict(engine, w.catalog.Initial(), h, RetroMode::kStrict);
  ASSERT_TRUE(strict.ok()) << strict.status().ToString();
  EXPECT_EQ(strict->turns, 5u);
  EXPECT_EQ(strict->errors[0].count, 5u);
  EXPECT_EQ(strict->errors[2].count, 4u);                  // one unobserved point is not compared
  EXPECT_NEAR(strict->errors[0].mse, 0.01 * 0.01, 1e-12);  // every turn: one rule step from the truth
  // hope: one decay step (0.01) per turn, except after the unobserved point, where nothing was
  // injected and two steps accumulate: (0.01 + 0.01 + 0.02 + 0.01) / 4.
  EXPECT_NEAR(strict->errors[2].mae, 0.0125, 1e-12);
  auto free = Retrodict(engine, w.catalog.Initial(), h, RetroMode::kSeedThenFree);
  ASSERT_TRUE(free.ok());
  // Running free, inflation drifts 0.01 further each turn: errors 0.01 .. 0.05.
  EXPECT_NEAR(free->errors[0].mae, 0.03, 1e-12);
  EXPECT_GT(free->errors[0].mse, strict->errors[0].mse);
  // The original's error score: sqrt(sum of overlay sq + sum of (capital diff / 1000)^2).
  ASSERT_EQ(free->error_score.size(), 5u);
  EXPECT_TRUE(std::isnan(free->error_score[2]) == false);
  EXPECT_GT(free->capital_mse, 0);
  // Bad input.
  History one = h;
  one.times.resize(1);
  one.values.resize(3);
  EXPECT_FALSE(Retrodict(engine, w.catalog.Initial(), one, RetroMode::kStrict).ok());
  History unordered = h;
  std::swap(unordered.times[1], unordered.times[2]);
  EXPECT_FALSE(Retrodict(engine, w.catalog.Initial(), unordered, RetroMode::kStrict).ok());
  History wrong = h;
  wrong.values.pop_back();
  EXPECT_FALSE(Retrodict(engine, w.catalog.Initial(), wrong, RetroMode::kStrict).ok());
}

}  // namespace
}  // namespace pulse::sim
