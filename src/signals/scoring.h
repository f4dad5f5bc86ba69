// Per-signal scoring and gating, ported from the original Pulse (iris_scraper.ingest_signal and
// signal_gating.py; ../shared/reference/pulse-original.md 5.1-5.2) with its defects fixed. Pure:
// no I/O; the caller supplies each series' history (ingest/signal_scoring.h reads it from the
// signals table). Formulas, defaults and the defects fixed: docs/signals.md.
//
// For one signal (kind, source, name, ts, value, ingest_time):
//   recency  = clip(1 - age / window, 0, 1), age = reference - ts, where the reference is the
//              signal's ingest time (how fresh it was when Pulse received it) unless the rules fix
//              one ("as_of"); window = 7 days, or the kind's own window. A signal from the future
//              (age < 0) has recency 1. A history load of years-old data therefore has recency 0,
//              an STI of 0.6 (0.4 if anomalous) and, with the default thresholds, is accepted
//              (anomalous rows are escalated, never suppressed): it is not gated away.
//   anomaly  = rolling z-score per series (source, name): z = (value - mean) / sd over the last
//              `window` (50) values of the series with an earlier timestamp (population sd). It
//              needs `min_history` (10) such values; otherwise z is unset and the signal is not
//              anomalous. Flagged when |z| > 3; a flat window (sd = 0) leaves z unset and flags
//              any value that differs from it.
//   STI      = round(clip(0.6 + 0.3 * recency - 0.2 * anomaly, 0, 1), 3)  (symbolic tension index)
//   tag      = the first of the rules' tags (hope, despair, rage, fatigue) that starts a word of
//              the name (words: runs of ASCII letters, lower-cased, split at a lower-to-upper
//              case change), else "neutral". The original matched any substring, so "average"
//              and "leverage" were tagged rage; its zero-shot BART fallback is not ported.
//   gate     = accept when sti >= min_sti(tag) and the anomalies among the signal and the previous
//              `window` values of its series are <= max_anomalies(tag); otherwise escalate when
//              sti >= escalate_min_sti (0.4), else suppress. The original counted anomalies
//              cumulatively over all signals forever and read mis-keyed fields, so its default
//              row always applied and no anomaly was ever counted.
//
// Determinism: a signal's anomaly score and count depend only on the values of its series with
// earlier timestamps, so the same rows give the same scores whether they arrive in one batch or
// in several, provided each batch's rows of a series are not older than those already stored
// (streams keyed by series are). Recency depends on the ingest time by design (or on as_of).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::signals {

enum class Gate { kAccept, kEscalate, kSuppress };
// "accept", "escalate", "suppress" (the values of the signals table's `gate` column).
std::string_view GateName(Gate gate);

struct GateThreshold {
  double min_sti = 0.5;
  int64_t max_anomalies = 2;
};

// The scoring and gating rules: data/signals/scoring.yaml (ParseScoringRules) or these defaults,
// which equal that file.
struct ScoringRules {
  int64_t recency_window_us = 7LL * 86400 * 1000000;
  std::map<std::string, int64_t, std::less<>> recency_window_by_kind;  // kind -> window (us)
  std::optional<int64_t> as_of_us;  // recency reference for every signal; unset = its ingest time
  int64_t anomaly_window = 50;
  int64_t anomaly_min_history = 10;
  double anomaly_z = 3.0;
  std::vector<std::string> tags = {"hope", "despair", "rage", "fatigue"};  // lower-case, in priority order
  std::map<std::string, GateThreshold, std::less<>> thresholds = {
      {"hope", {0.5, 2}}, {"despair", {0.6, 1}}, {"rage", {0.7, 1}}, {"fatigue", {0.4, 3}}};
  GateThreshold default_threshold{0.5, 2};  // "neutral" and any tag without a row
  double escalate_min_sti = 0.4;

  int64_t RecencyWindow(std::string_view kind) const;
  const GateThreshold& Threshold(std::string_view tag) const;
  // Values older than this many positions before a new signal never affect its scores: a
  // signal's window, and the windows of the values in it (for their anomaly flags).
  int64_t HistoryDepth() const { return 2 * anomaly_window; }
};

// Parses the rules YAML (see data/signals/scoring.yaml for the keys). Missing keys keep their
// defaults; unknown keys, wrong types and out-of-range values are kInvalidArgument naming
// `origin`, the key and the value. Never throws.
Result<ScoringRules> ParseScoringRules(std::string_view yaml_text, std::string_view origin);

// clip(1 - age_us / window_us, 0, 1); window_us > 0.
double Recency(int64_t age_us, int64_t window_us);
// round(clip(0.6 + 0.3 * recency - 0.2 * anomaly, 0, 1), 3).
double SymbolicTensionIndex(double recency, bool anomaly);
// The first tag of `tags` that starts a word of `name` (see above), else "neutral".
std::string_view SymbolicTag(std::string_view name, const std::vector<std::string>& tags);

struct AnomalyScore {
  std::optional<double> z;  // unset: fewer than min_history earlier values, or a flat window
  bool anomaly = false;
};
// The z-score of `value` against `window` (the earlier values).
AnomalyScore RollingZ(std::span<const double> window, double value, const ScoringRules& rules);

struct GateResult {
  Gate gate = Gate::kAccept;
  std::string reason;  // empty when accepted
};
GateResult Decide(double sti, std::string_view tag, int64_t anomalies, const ScoringRules& rules);

// One observation of a series.
struct Observation {
  int64_t ts = 0;
  double value = 0;
};

struct SeriesScore {
  AnomalyScore anomaly;
  int64_t anomalies_in_window = 0;  // flags among this value and the `anomaly_window` before it
};

// Anomaly scores of `rows` (new observations of one series, any order) given `history` (the
// series' stored observations, any order; only the HistoryDepth() values before the earliest row
// matter, more are ignored). The result is aligned with `rows`. Observations are ordered by
// (ts, value); a value's window is the `anomaly_window` values before it with an earlier ts.
std::vector<SeriesScore> ScoreSeries(std::span<const Observation> history, std::span<const Observation> rows,
                                     const ScoringRules& rules);

// Gate decisions of one batch.
struct GateCounts {
  int64_t accept = 0;
  int64_t escalate = 0;
  int64_t suppress = 0;
  void Add(Gate gate);
};

}  // namespace pulse::signals
