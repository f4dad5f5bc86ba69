// The original Pulse's trust heuristics (reference: the original's trust_system/trust_engine.py,
// fragility_detector.py, forecast_licenser.py; ../shared/reference/pulse-original.md §3.3-3.4,
// §4.1), ported with their constants as defaults and their defects left out:
//   fragility  = min(0.6 * tension + 0.4 * min(sum |change| / 5, 1), 0.7)
//   confidence = round3(clip(0.4 * baseline + 0.3 * (1 - risk) + 0.2 * hist + 0.1 * novelty
//                            - drift_penalty, 0.4, 1))
//   risk       = round3(clip(min(0.5 * min(capital_move / 2000, 1) + 0.4 * hist_risk + 0.01,
//                                0.7 if fewer than 3 memories), 0, 1))
//   label      = Trusted (conf >= 0.5, fragility <= 0.7, risk <= 0.5) | Unstable (conf >= 0.5)
//                | Rejected
//   licence    = Licensed (conf >= 0.4, fragility < 0.7) | Unlicensed (conf >= 0.4) | Suppressed
// These are heuristics, not probabilities: the 0.4 floor means the licence's "Suppressed" never
// fires with the default thresholds, as in the original. Pulse reports them next to calibrated statistical measures and
// says which is which. Pure functions: no I/O, deterministic.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pulse::trust {

// A "symbolic change": named deltas (the original: overlay deltas; Pulse's forecasts: the
// forecast's relative move at each step, keys "h1".."hN").
using Change = std::map<std::string, double>;

// h*d + r*t + 0.5*f*h, rounded to 3 decimals (0.625 when every overlay is 0.5).
double Tension(double hope, double despair, double rage, double fatigue, double trust);

// The fragility detector's index and label (< 0.3 Stable, < 0.6 Moderate, else Volatile).
double FragilityIndex(double tension, const Change& change);
std::string FragilityLabel(double fragility);

struct Evidence {
  std::optional<double> fragility;         // absent: the original's default 1.0
  bool has_overlays = false;               // the record carries overlays (turn records do)
  std::optional<double> capital_movement;  // sum over nvda, msft, ibit, spy of |end - start|; absent: 0.5 movement
  Change change;                           // this forecast's change
  std::vector<Change> memory;              // earlier forecasts' changes of the same subject, oldest first
  bool fragmented = false;                 // drift penalty 0.2
  double arc_volatility = 0;               // > 0.7: drift penalty 0.1
};

struct Thresholds {
  double gate_confidence = 0.5, gate_fragility = 0.7, gate_risk = 0.5;  // confidence_gate(0.5, 0.7, 0.5)
  double licence_confidence = 0.4, licence_fragility = 0.7;             // filter_by_confidence(0.4, 0.7)
};

struct TrustScore {
  double confidence = 0, risk = 0, fragility = 0;
  double baseline = 0, hist = 0, novelty = 0;  // the confidence's components
  std::string label;                           // Trusted | Unstable | Rejected
  std::string licence;                         // Licensed | Unlicensed | Suppressed
};

// The memory term: mean over the last 3 memories of 1 - min(sum_common |now - past| / |common|, 1)
// (0.6 for a memory with no common key); 0.8 with no memory, 0.7 when `change` is empty.
double HistoricalSimilarity(const Change& change, const std::vector<Change>& memory);

double RiskScore(const Evidence& evidence);
TrustScore Score(const Evidence& evidence, const Thresholds& thresholds = {});

}  // namespace pulse::trust
