#include "trust/trust_engine.h"

#include <algorithm>
#include <cmath>

namespace pulse::trust {
namespace {

double Round3(double x) { return std::round(x * 1000.0) / 1000.0; }

// The last (up to) 3 memories, as the original's memory[-3:].
std::vector<const Change*> Recent(const std::vector<Change>& memory) {
  std::vector<const Change*> out;
  for (size_t i = memory.size() > 3 ? memory.size() - 3 : 0; i < memory.size(); ++i) out.push_back(&memory[i]);
  return out;
}

double Similarity(const Change& now, const Change& past) {
  double total = 0;
  size_t common = 0;
  for (const auto& [key, value] : now) {
    auto it = past.find(key);
    if (it == past.end()) continue;
    total += std::abs(value - it->second);
    ++common;
  }
  if (common == 0) return 0.6;
  return 1.0 - std::min(total / static_cast<double>(common), 1.0);
}

}  // namespace

double Tension(double hope, double despair, double rage, double fatigue, double trust) {
  return Round3(hope * despair + rage * trust + 0.5 * fatigue * hope);
}

double FragilityIndex(double tension, const Change& change) {
  double total = 0;
  for (const auto& [key, value] : change) total += std::abs(value);
  return std::min(0.6 * tension + 0.4 * std::min(total / 5.0, 1.0), 0.7);
}

std::string FragilityLabel(double fragility) {
  if (fragility < 0.3) return "Stable";
  if (fragility < 0.6) return "Moderate";
  return "Volatile";
}

double HistoricalSimilarity(const Change& change, const std::vector<Change>& memory) {
  if (memory.empty()) return 0.8;
  if (change.empty()) return 0.7;
  const auto recent = Recent(memory);
  double total = 0;
  for (const Change* past : recent) total += Similarity(change, *past);
  return total / static_cast<double>(recent.size());
}

double RiskScore(const Evidence& e) {
  const double capital = e.capital_movement.value_or(0.0);
  double hist_risk = 0;
  if (!e.memory.empty()) hist_risk = e.change.empty() ? 0.4 : 1.0 - HistoricalSimilarity(e.change, e.memory);
  double risk = 0.5 * std::min(capital / 2000.0, 1.0) + 0.4 * hist_risk + 0.1 * 0.1;
  if (e.memory.size() < 3) risk = std::min(risk, 0.7);
  return Round3(std::clamp(risk, 0.0, 1.0));
}

TrustScore Score(const Evidence& e, const Thresholds& t) {
  TrustScore s;
  s.fragility = e.fragility.value_or(1.0);
  double penalty = std::min(s.fragility, 1.0);
  if (penalty > 0.8 && !e.has_overlays && e.change.empty()) penalty = 0.5;
  const double movement = e.capital_movement ? std::min(*e.capital_movement / 1000.0, 1.0) : 0.5;
  s.baseline = std::max(0.3, ((1.0 - penalty) + movement) / 2.0);
  s.hist = HistoricalSimilarity(e.change, e.memory);
  s.novelty = 1.0;
  for (const Change* past : Recent(e.memory))
    if (*past == e.change) s.novelty = 0.0;
  s.risk = RiskScore(e);
  const double drift_penalty = e.fragmented ? 0.2 : (e.arc_volatility > 0.7 ? 0.1 : 0.0);
  s.confidence = Round3(
      std::clamp(0.4 * s.baseline + 0.3 * (1.0 - s.risk) + 0.2 * s.hist + 0.1 * s.novelty - drift_penalty, 0.4, 1.0));
  if (s.confidence >= t.gate_confidence && s.fragility <= t.gate_fragility && s.risk <= t.gate_risk) {
    s.label = "Trusted";
  } else if (s.confidence >= t.gate_confidence) {
    s.label = "Unstable";
  } else {
    s.label = "Rejected";
  }
  if (s.confidence >= t.licence_confidence && s.fragility < t.licence_fragility) {
    s.licence = "Licensed";
  } else if (s.confidence >= t.licence_confidence) {
    s.licence = "Unlicensed";
  } else {
    s.licence = "Suppressed";
  }
  return s;
}

}  // namespace pulse::trust
