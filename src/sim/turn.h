// One simulation turn, in the original Pulse's run_turn order (reference §2.1, §10):
//   1. inject observed values (overlays clamped to [0, 1]);
//   2. decay every overlay: o = max(0, o - decay_rate);
//   3. causal rules in file order, each seeing the effects of the earlier ones;
//   4. static rules in file order;
// (the turn counter is the caller's). It runs over a block of up to kBlock runs stored
// structure-of-arrays, so each rule costs a few tight loops across runs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/world.h"

namespace pulse::sim {

struct TurnOptions {
  double decay_rate = 0.01;
  bool symbolic = false;        // false: the original as shipped (overlay effects are no-ops)
  bool signed_capital = false;  // true: capital may go negative (short exposure)
};

// The state of `count` runs: slot s of run r is slot(s)[r]. Slots lie kStride doubles apart: a
// cache line more than a block, so the same run's line of successive slots does not map to the
// same few cache sets (a stride of 2 KiB did: loops over a tile of runs across ~300 slots kept
// evicting each other's lines from L1).
class BlockState {
 public:
  static constexpr size_t kStride = kBlock + 8;
  BlockState(size_t slots, size_t count);
  size_t count() const { return count_; }
  void SetCount(size_t count) { count_ = std::min(count, kBlock); }
  size_t slots() const { return slots_; }
  double* slot(uint32_t s) { return data_.data() + s * kStride; }
  const double* slot(uint32_t s) const { return data_.data() + s * kStride; }
  const double* const* pointers() const { return pointers_.data(); }
  // Sets every run of every slot from one state vector.
  void Fill(const std::vector<double>& values);

 private:
  size_t slots_, count_;
  std::vector<double> data_;
  std::vector<const double*> pointers_;
};

// Values assigned at the start of a turn, the same in every run.
using Injection = std::vector<std::pair<uint32_t, double>>;

class TurnEngine {
 public:
  TurnEngine(const Catalog& catalog, const RuleSet& rules, TurnOptions options);

  // One turn. `fired`, when given, is resized to the rule count and receives for each rule
  // (RuleSet order) the number of runs in which its condition held.
  void Run(BlockState& state, const Injection* inject, std::vector<uint32_t>* fired) const;
  // Applies a narrative event's effects to every run.
  void ApplyEvent(BlockState& state, size_t event) const;

  const Catalog& catalog() const { return catalog_; }
  const RuleSet& rules() const { return rules_; }
  const std::vector<uint32_t>& overlays() const { return overlays_; }
  const TurnOptions& options() const { return options_; }
  // RuleSet indices in the order a turn applies them: causal rules, then static ones.
  const std::vector<size_t>& order() const { return order_; }

 private:
  void ApplyEffect(const Effect& effect, double mod, BlockState& state, const double* mask) const;
  double Bound(uint32_t slot, double value) const;

  const Catalog& catalog_;
  const RuleSet& rules_;
  TurnOptions options_;
  std::vector<uint32_t> overlays_;
  std::vector<size_t> order_;  // causal rules, then static ones
};

}  // namespace pulse::sim
