// Fuzz target: the simulation's YAML inputs. The input is parsed as a rules file against the
// shipped catalog (data/sim/catalog.yaml), and as a catalog; a catalog that parses is then used
// to parse the shipped rules (data/sim/rules.yaml).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "sim/world.h"

namespace {

struct Shipped {
  std::string rules = pulse::fuzz::ReadSourceFile("data/sim/rules.yaml");
  pulse::sim::Catalog catalog;
  Shipped() {
    auto parsed = pulse::sim::Catalog::Parse(pulse::fuzz::ReadSourceFile("data/sim/catalog.yaml"), "catalog.yaml");
    if (!parsed.ok()) __builtin_trap();  // the fuzzer needs the shipped catalog
    catalog = std::move(*parsed);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Shipped shipped;
  const auto text = pulse::fuzz::AsText(data, size);
  auto rules = pulse::sim::ParseRules(text, "fuzz.yaml", shipped.catalog);
  (void)rules;
  auto catalog = pulse::sim::Catalog::Parse(text, "fuzz.yaml");
  if (catalog.ok()) {
    auto again = pulse::sim::ParseRules(shipped.rules, "rules.yaml", *catalog);
    (void)again;
  }
  return 0;
}
