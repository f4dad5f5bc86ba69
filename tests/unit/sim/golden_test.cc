// Golden trajectories: the original Python Pulse's run_turn loop, run offline by
// scripts/make-sim-golden (repengine/pulse at 6a9f1131, Python 3.13 in a Debian 13 chroot), on 13
// scenarios x 40 turns (tests/fixtures/sim_golden). Pulse, with the bundled catalog and rules,
// must reproduce every overlay, capital asset and variable at every turn exactly, and fire the
// same rules. Known, documented differences: R001_HopeTrust raises in the original after
// applying its effect, so the original never lists it as fired (not compared); a variable
// missing from the original's state reads 0, so each scenario starts from zeros plus its state.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/turn.h"
#include "sim/world.h"

namespace pulse::sim {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kRoot = PULSE_SOURCE_DIR;

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, ReproducesTheOriginalTurnByTurn) {
  const auto manifest = nlohmann::json::parse(ReadFile(kRoot + "/tests/fixtures/sim_golden/manifest.json"));
  nlohmann::json scenario;
  for (const auto& s : manifest["scenarios"])
    if (s["name"] == GetParam()) scenario = s;
  ASSERT_FALSE(scenario.is_null()) << GetParam();
  const auto golden =
      nlohmann::json::parse(ReadFile(kRoot + "/tests/fixtures/sim_golden/" + scenario["file"].get<std::string>()));

  auto catalog = Catalog::Parse(ReadFile(kRoot + "/data/sim/catalog.yaml"), "catalog.yaml");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  auto rules = ParseRules(ReadFile(kRoot + "/data/sim/rules.yaml"), "rules.yaml", *catalog);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  const auto& step0 = golden["steps"][0];
  for (const auto& [name, value] : step0["overlays"].items()) {
    if (!catalog->Find(name)) {
      ASSERT_TRUE(catalog->Add({name, SlotKind::kOverlay, 0.5, std::pair{0.0, 1.0}, ""}).ok());
    }
  }

  TurnEngine engine(*catalog, *rules,
                    {.decay_rate = scenario["decay_rate"].get<double>(), .symbolic = scenario["symbolic"].get<bool>()});
  BlockState state(catalog->size(), 1);
  state.Fill(std::vector<double>(catalog->size(), 0.0));  // the original's missing values read 0
  auto set_all = [&](const nlohmann::json& step) {
    for (const char* group : {"overlays", "capital", "variables"})
      for (const auto& [name, value] : step[group].items()) state.slot(*catalog->Find(name))[0] = value.get<double>();
  };
  set_all(step0);

  size_t compared = 0;
  std::vector<uint32_t> fired;
  for (size_t k = 1; k < golden["steps"].size(); ++k) {
    const auto& step = golden["steps"][k];
    Injection inject;
    if (scenario["injections"].is_array()) {
      for (const auto& [name, value] : scenario["injections"][k - 1].items())
        inject.emplace_back(*catalog->Find(name), value.get<double>());
    }
    engine.Run(state, inject.empty() ? nullptr : &inject, &fired);
    for (const char* group : {"overlays", "capital", "variables"}) {
      for (const auto& [name, value] : step[group].items()) {
        ASSERT_EQ(state.slot(*catalog->Find(name))[0], value.get<double>())
            << GetParam() << " step " << k << " " << group << "." << name;
        ++compared;
      }
    }
    std::set<std::string> mine, theirs;
    for (size_t i = 0; i < fired.size(); ++i)
      if (fired[i] && rules->rules[i].id != "R001_HopeTrust") mine.insert(rules->rules[i].id);
    for (const char* list : {"causal_fired", "static_fired"})
      for (const auto& id : step[list]) theirs.insert(id.get<std::string>());
    ASSERT_EQ(mine, theirs) << GetParam() << " step " << k;
  }
  EXPECT_GE(compared, 40u * 10);  // overlays and capital every turn at least
}

INSTANTIATE_TEST_SUITE_P(Scenarios, Golden,
                         ::testing::Values("head_empty", "legacy_default", "legacy_default_symbolic", "drivers_high",
                                           "drivers_high_symbolic", "overlays_custom", "overlays_custom_symbolic",
                                           "fatigue_high", "fatigue_high_symbolic", "overlay_clamp_symbolic",
                                           "injection", "injection_symbolic", "decay_0p05_symbolic"));

TEST(GoldenRules, DefaultRulesMatchTheOriginalsCounts) {
  auto catalog = Catalog::Parse(ReadFile(kRoot + "/data/sim/catalog.yaml"), "catalog.yaml");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EXPECT_EQ(catalog->size(), 5u + 5u + 314u);
  auto rules = ParseRules(ReadFile(kRoot + "/data/sim/rules.yaml"), "rules.yaml", *catalog);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  size_t causal = 0, fixed = 0;
  for (const Rule& r : rules->rules) (r.kind == RuleKind::kCausal ? causal : fixed)++;
  EXPECT_EQ(causal, 15u);
  EXPECT_EQ(fixed, 2u);
  EXPECT_EQ(rules->events.size(), 10u);
}

}  // namespace
}  // namespace pulse::sim
