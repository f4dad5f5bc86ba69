#include "sim/retrodiction.h"

#include <cmath>
#include <limits>

namespace pulse::sim {

Result<RetroReport> Retrodict(const TurnEngine& engine, const std::vector<double>& initial, const History& history,
                              RetroMode mode) {
  const Catalog& catalog = engine.catalog();
  const size_t columns = history.slots.size(), points = history.times.size();
  if (points < 2)
    return Status::InvalidArgument("retrodiction needs at least 2 points of history, got " + std::to_string(points));
  if (history.values.size() != points * columns) {
    return Status::InvalidArgument("history has " + std::to_string(history.values.size()) + " values for " +
                                   std::to_string(points) + " x " + std::to_string(columns));
  }
  for (size_t t = 1; t < points; ++t)
    if (history.times[t] <= history.times[t - 1]) return Status::InvalidArgument("history times must be ascending");
  for (uint32_t s : history.slots) {
    if (s >= catalog.size())
      return Status::InvalidArgument("history slot " + std::to_string(s) + " is not in the catalog");
  }
  if (initial.size() != catalog.size()) return Status::InvalidArgument("the initial state does not match the catalog");

  auto observations = [&](size_t t) {
    Injection out;
    for (size_t c = 0; c < columns; ++c)
      if (const double v = history.At(t, c); !std::isnan(v)) out.emplace_back(history.slots[c], v);
    return out;
  };
  const std::vector<std::string> scored_overlays = {"hope", "despair", "rage", "fatigue"};
  std::vector<bool> in_score(catalog.size(), false);
  for (const auto& name : scored_overlays)
    if (const auto s = catalog.Find(name)) in_score[*s] = true;

  BlockState state(catalog.size(), 1);
  state.Fill(initial);
  const Injection first = observations(0);
  for (const auto& [slot, v] : first) state.slot(slot)[0] = v;

  RetroReport report;
  report.turns = points - 1;
  report.errors.resize(columns);
  std::vector<double> sum_sq(columns, 0.0), sum_abs(columns, 0.0);
  for (size_t t = 1; t < points; ++t) {
    const Injection inject = mode == RetroMode::kStrict && t > 1 ? observations(t - 1) : Injection{};
    engine.Run(state, inject.empty() ? nullptr : &inject, nullptr);
    double score = 0;
    bool scored = false;
    for (size_t c = 0; c < columns; ++c) {
      const double truth = history.At(t, c);
      if (std::isnan(truth)) continue;
      const uint32_t slot = history.slots[c];
      const double diff = state.slot(slot)[0] - truth;
      sum_sq[c] += diff * diff, sum_abs[c] += std::abs(diff);
      ++report.errors[c].count;
      if (in_score[slot]) score += diff * diff, scored = true;
      if (catalog[slot].kind == SlotKind::kCapital) score += (diff / 1000) * (diff / 1000), scored = true;
    }
    report.error_score.push_back(scored ? std::sqrt(score) : std::numeric_limits<double>::quiet_NaN());
    report.misaligned_turns += scored && std::sqrt(score) > 1.5;
  }
  double kind_sq[3] = {0, 0, 0}, total_sq = 0;
  uint64_t kind_n[3] = {0, 0, 0}, total_n = 0;
  for (size_t c = 0; c < columns; ++c) {
    SlotError& e = report.errors[c];
    e.slot = history.slots[c];
    if (e.count == 0) continue;
    e.mse = sum_sq[c] / static_cast<double>(e.count);
    e.mae = sum_abs[c] / static_cast<double>(e.count);
    const auto kind = static_cast<size_t>(catalog[e.slot].kind);
    kind_sq[kind] += sum_sq[c], kind_n[kind] += e.count;
    total_sq += sum_sq[c], total_n += e.count;
  }
  auto mean = [](double sq, uint64_t n) { return n ? sq / static_cast<double>(n) : 0.0; };
  report.overlay_mse =
      mean(kind_sq[static_cast<size_t>(SlotKind::kOverlay)], kind_n[static_cast<size_t>(SlotKind::kOverlay)]);
  report.capital_mse =
      mean(kind_sq[static_cast<size_t>(SlotKind::kCapital)], kind_n[static_cast<size_t>(SlotKind::kCapital)]);
  report.variable_mse =
      mean(kind_sq[static_cast<size_t>(SlotKind::kVariable)], kind_n[static_cast<size_t>(SlotKind::kVariable)]);
  report.total_mse = mean(total_sq, total_n);
  return report;
}

}  // namespace pulse::sim
