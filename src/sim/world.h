// The world state's shape and its rules, parsed from YAML text (data/sim/catalog.yaml,
// data/sim/rules.yaml). Every overlay, capital asset and variable is a slot; a name resolves to
// its slot in rule expressions. Parsing is pure (the caller reads the files); every error names
// file:line:column and the field.
//
// Write semantics (what an effect does to its target):
//   overlay   clamped to [0, 1] on every write; rule and event effects on overlays are applied
//             only with the symbolic switch on (the original's ENABLE_SYMBOLIC_SYSTEM = False
//             turns them into no-ops; decay and injection always apply)
//   capital   floored at 0 on every write (the original's clamp), unless signed capital is on
//   variable  unbounded (the catalog range is metadata, used for noise and summaries)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "sim/expr.h"

namespace pulse::sim {

enum class SlotKind { kOverlay, kCapital, kVariable };

struct SlotInfo {
  std::string name;
  SlotKind kind = SlotKind::kVariable;
  double initial = 0;
  std::optional<std::pair<double, double>> range;  // overlays: [0, 1]
  std::string type;                                // variables: economic, market, driver, ...
};

class Catalog {
 public:
  static Result<Catalog> Parse(std::string_view yaml, std::string_view file);
  // Adds a slot (dynamic overlays, scenario variables). kAlreadyExists for a duplicate name.
  Result<uint32_t> Add(SlotInfo slot);
  size_t size() const { return slots_.size(); }
  const SlotInfo& operator[](uint32_t i) const { return slots_[i]; }
  const std::vector<SlotInfo>& slots() const { return slots_; }
  std::optional<uint32_t> Find(std::string_view name) const;
  // Initial values of every slot.
  std::vector<double> Initial() const;

 private:
  std::vector<SlotInfo> slots_;
  std::unordered_map<std::string, uint32_t> index_;
};

enum class RuleKind { kCausal, kStatic };
enum class EffectOp { kAdd, kSet, kScale };

struct Effect {
  uint32_t target = 0;
  EffectOp op = EffectOp::kAdd;
  Expr value;
};

// A causal rule's `add` effects are scaled by mod = trust * importance (the original's Beta
// trust, 0.5, times the rule's importance); `set` and `scale` apply as written. Static rules
// and events apply every effect as written.
struct Rule {
  std::string id;
  RuleKind kind = RuleKind::kCausal;
  double importance = 1, trust = 0.5;
  std::vector<std::string> tags;
  Expr when;
  std::vector<Effect> effects;
  double Mod() const { return kind == RuleKind::kCausal ? trust * importance : 1.0; }
};

// A narrative event: a fixed bundle of effects applied when the event occurs.
struct Event {
  std::string id;
  std::vector<Effect> effects;
};

struct RuleSet {
  std::vector<Rule> rules;  // file order; causal rules run before static ones within a turn
  std::vector<Event> events;
  std::optional<size_t> FindEvent(std::string_view id) const;
};

// Names in expressions resolve against `catalog`. kParseError with file:line:column.
Result<RuleSet> ParseRules(std::string_view yaml, std::string_view file, const Catalog& catalog);

}  // namespace pulse::sim
