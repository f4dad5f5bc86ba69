#include "sim/turn.h"

#include <algorithm>

namespace pulse::sim {

BlockState::BlockState(size_t slots, size_t count)
    : slots_(slots), count_(std::min(count, kBlock)), data_(slots * kStride, 0.0), pointers_(slots) {
  for (size_t s = 0; s < slots; ++s) pointers_[s] = slot(static_cast<uint32_t>(s));
}

void BlockState::Fill(const std::vector<double>& values) {
  for (size_t s = 0; s < slots_ && s < values.size(); ++s)
    std::fill_n(slot(static_cast<uint32_t>(s)), count_, values[s]);
}

TurnEngine::TurnEngine(const Catalog& catalog, const RuleSet& rules, TurnOptions options)
    : catalog_(catalog), rules_(rules), options_(options) {
  for (uint32_t s = 0; s < catalog.size(); ++s)
    if (catalog[s].kind == SlotKind::kOverlay) overlays_.push_back(s);
  for (RuleKind kind : {RuleKind::kCausal, RuleKind::kStatic}) {
    for (size_t i = 0; i < rules.rules.size(); ++i)
      if (rules.rules[i].kind == kind) order_.push_back(i);
  }
}

double TurnEngine::Bound(uint32_t slot, double value) const {
  switch (catalog_[slot].kind) {
    case SlotKind::kOverlay: return std::clamp(value, 0.0, 1.0);
    case SlotKind::kCapital: return options_.signed_capital ? value : std::max(0.0, value);
    case SlotKind::kVariable: break;
  }
  return value;
}

void TurnEngine::ApplyEffect(const Effect& effect, double mod, BlockState& state, const double* mask) const {
  const SlotKind kind = catalog_[effect.target].kind;
  if (kind == SlotKind::kOverlay && !options_.symbolic) return;  // the original's adjust_overlay when off
  const size_t n = state.count();
  double value[kBlock];
  effect.value.Evaluate(state.pointers(), n, value);
  double* x = state.slot(effect.target);
  const bool clamp01 = kind == SlotKind::kOverlay;
  const bool floor0 = kind == SlotKind::kCapital && !options_.signed_capital;
  for (size_t r = 0; r < n; ++r) {
    double v = effect.op == EffectOp::kAdd   ? x[r] + mod * value[r]
               : effect.op == EffectOp::kSet ? value[r]
                                             : x[r] * value[r];
    if (clamp01) v = std::min(std::max(v, 0.0), 1.0);
    if (floor0) v = std::max(v, 0.0);
    if (!mask || mask[r] != 0) x[r] = v;
  }
}

void TurnEngine::Run(BlockState& state, const Injection* inject, std::vector<uint32_t>* fired) const {
  const size_t n = state.count();
  if (inject)
    for (const auto& [slot, value] : *inject) std::fill_n(state.slot(slot), n, Bound(slot, value));
  for (uint32_t s : overlays_) {
    double* x = state.slot(s);
    for (size_t r = 0; r < n; ++r) x[r] = std::max(0.0, x[r] - options_.decay_rate);
  }
  if (fired) fired->assign(rules_.rules.size(), 0);
  double mask[kBlock];
  for (size_t i : order_) {
    const Rule& rule = rules_.rules[i];
    rule.when.Evaluate(state.pointers(), n, mask);
    size_t holds = 0;
    for (size_t r = 0; r < n; ++r) holds += mask[r] != 0;
    if (fired) (*fired)[i] = static_cast<uint32_t>(holds);
    if (holds == 0) continue;
    const double mod = rule.Mod();
    for (const Effect& effect : rule.effects) {
      // Effects of add ops scale by mod; set and scale apply as written.
      ApplyEffect(effect, effect.op == EffectOp::kAdd ? mod : 1.0, state, holds == n ? nullptr : mask);
    }
  }
}

void TurnEngine::ApplyEvent(BlockState& state, size_t event) const {
  for (const Effect& effect : rules_.events[event].effects) ApplyEffect(effect, 1.0, state, nullptr);
}

}  // namespace pulse::sim
