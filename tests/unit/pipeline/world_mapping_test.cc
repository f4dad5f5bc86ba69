// The signal -> world-state mapping of pulse run: the bundled file parses, every bad entry is a
// clear error naming the file and entry, and the JSON form (task kwargs) round-trips.
#include <gtest/gtest.h>

#include "core/files.h"
#include "pipeline/world_simulation.h"

namespace pulse::pipeline {
namespace {

const sim::Catalog& BundledCatalog() {
  static const sim::Catalog catalog = [] {
    auto text = ReadTextFile(std::string(PULSE_SOURCE_DIR) + "/data/sim/catalog.yaml");
    auto parsed = sim::Catalog::Parse(*text, "catalog.yaml");
    return *parsed;
  }();
  return catalog;
}

TEST(WorldMapping, BundledFileParsesAndRoundTripsThroughJson) {
  auto text = ReadTextFile(std::string(PULSE_SOURCE_DIR) + "/data/us-macro-world.yaml");
  ASSERT_TRUE(text.ok());
  auto m = ParseWorldMapping(*text, "us-macro-world.yaml", BundledCatalog());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->signals.at("unemp").variable, "unemployment_rate");
  EXPECT_DOUBLE_EQ(m->signals.at("unemp").scale, 0.01);
  EXPECT_EQ(m->key_variables.front(), "hope");
  auto back = WorldMappingFromJson(m->ToJson(), BundledCatalog());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->ToJson(), m->ToJson());
}

void ExpectError(const std::string& yaml, const std::string& needle) {
  auto m = ParseWorldMapping(yaml, "map.yaml", BundledCatalog());
  ASSERT_FALSE(m.ok()) << yaml;
  EXPECT_NE(m.status().message().find("map.yaml"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find(needle), std::string::npos) << m.status().message();
}

TEST(WorldMapping, BadEntriesAreClearErrors) {
  ExpectError("signals: {}\n", "non-empty 'signals'");
  ExpectError("key_variables: [hope]\n", "non-empty 'signals'");
  ExpectError("signals:\n  unemp: {variable: nope, scale: 0.01}\n", "'nope'");
  ExpectError("signals:\n  unemp: {variable: unemployment_rate, scale: 0}\n", "non-zero scale");
  ExpectError("signals:\n  unemp: 3\n", "needs {variable");
  ExpectError("signals:\n  unemp: {variable: unemployment_rate, scale: abc}\n", "map.yaml:");
  ExpectError("signals:\n  unemp: {variable: unemployment_rate\n", "map.yaml:");
  ExpectError("signals:\n  unemp: {variable: unemployment_rate}\nkey_variables: [hope, nope]\n", "'nope'");
  ExpectError("signals:\n  unemp: {variable: unemployment_rate}\nkey_variables: hope\n", "must be a list");
}

TEST(WorldMapping, JsonFormRejectsBadShapes) {
  EXPECT_FALSE(WorldMappingFromJson(nlohmann::json::array(), BundledCatalog()).ok());
  EXPECT_FALSE(WorldMappingFromJson({{"signals", {{"unemp", {{"scale", 1}}}}}}, BundledCatalog()).ok());
  EXPECT_FALSE(WorldMappingFromJson({{"signals", {{"unemp", {{"variable", "nope"}}}}}}, BundledCatalog()).ok());
}

}  // namespace
}  // namespace pulse::pipeline
