#include "signals/scoring.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

namespace pulse::signals {
namespace {

// Shortest text that reads back as `v` ("0.6", "0.35").
std::string Num(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsLetter(char c) { return IsUpper(c) || IsLower(c); }

}  // namespace

std::string_view GateName(Gate gate) {
  switch (gate) {
    case Gate::kAccept: return "accept";
    case Gate::kEscalate: return "escalate";
    case Gate::kSuppress: return "suppress";
  }
  return "accept";
}

int64_t ScoringRules::RecencyWindow(std::string_view kind) const {
  auto it = recency_window_by_kind.find(kind);
  return it != recency_window_by_kind.end() ? it->second : recency_window_us;
}

const GateThreshold& ScoringRules::Threshold(std::string_view tag) const {
  auto it = thresholds.find(tag);
  return it != thresholds.end() ? it->second : default_threshold;
}

void GateCounts::Add(Gate gate) {
  switch (gate) {
    case Gate::kAccept: ++accept; break;
    case Gate::kEscalate: ++escalate; break;
    case Gate::kSuppress: ++suppress; break;
  }
}

double Recency(int64_t age_us, int64_t window_us) {
  if (window_us <= 0) return age_us <= 0 ? 1.0 : 0.0;
  const double r = 1.0 - static_cast<double>(age_us) / static_cast<double>(window_us);
  return std::clamp(r, 0.0, 1.0);
}

double SymbolicTensionIndex(double recency, bool anomaly) {
  const double raw = std::clamp(0.6 + 0.3 * recency - 0.2 * (anomaly ? 1.0 : 0.0), 0.0, 1.0);
  return std::round(raw * 1000.0) / 1000.0;
}

std::string_view SymbolicTag(std::string_view name, const std::vector<std::string>& tags) {
  // Words: maximal runs of ASCII letters, also split where a lower-case letter meets an upper-case
  // one ("consumerHope" -> consumer, hope), lower-cased.
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!IsLetter(c)) {
      if (!word.empty()) words.push_back(std::move(word)), word.clear();
      continue;
    }
    if (IsUpper(c) && i > 0 && IsLower(name[i - 1]) && !word.empty()) words.push_back(std::move(word)), word.clear();
    word.push_back(IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (!word.empty()) words.push_back(std::move(word));
  for (const auto& tag : tags) {
    for (const auto& w : words)
      if (!tag.empty() && w.starts_with(tag)) return tag;
  }
  return "neutral";
}

AnomalyScore RollingZ(std::span<const double> window, double value, const ScoringRules& rules) {
  AnomalyScore out;
  if (window.empty() || static_cast<int64_t>(window.size()) < rules.anomaly_min_history) return out;
  const auto [lo, hi] = std::minmax_element(window.begin(), window.end());
  if (*lo == *hi) {  // flat: no z-score; any change from the constant is an anomaly
    out.anomaly = value != *lo;
    return out;
  }
  const double n = static_cast<double>(window.size());
  const double mean = std::accumulate(window.begin(), window.end(), 0.0) / n;
  double ss = 0;
  for (double v : window) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / n);
  if (!(sd > 0) || !std::isfinite(sd)) return out;
  const double z = (value - mean) / sd;
  if (!std::isfinite(z)) return out;
  out.z = z;
  out.anomaly = std::fabs(z) > rules.anomaly_z;
  return out;
}

GateResult Decide(double sti, std::string_view tag, int64_t anomalies, const ScoringRules& rules) {
  const GateThreshold& t = rules.Threshold(tag);
  const bool sti_ok = sti >= t.min_sti;
  const bool anomalies_ok = anomalies <= t.max_anomalies;
  GateResult out;
  if (sti_ok && anomalies_ok) return out;
  const std::string for_tag = " for tag " + std::string(tag) + ")";
  if (!sti_ok) out.reason = "sti " + Num(sti) + " < " + Num(t.min_sti) + " (min_sti" + for_tag;
  if (!anomalies_ok) {
    if (!out.reason.empty()) out.reason += "; ";
    out.reason += std::to_string(anomalies) + " anomalies in the series window > " + std::to_string(t.max_anomalies) +
                  " (max_anomalies" + for_tag;
  }
  if (sti >= rules.escalate_min_sti) {
    out.gate = Gate::kEscalate;
  } else {
    out.gate = Gate::kSuppress;
    out.reason += "; sti " + Num(sti) + " < " + Num(rules.escalate_min_sti) + " (escalate_min_sti)";
  }
  return out;
}

std::vector<SeriesScore> ScoreSeries(std::span<const Observation> history, std::span<const Observation> rows,
                                     const ScoringRules& rules) {
  std::vector<SeriesScore> out(rows.size());
  if (rows.empty()) return out;
  // Every observation, ordered by (ts, value); `origin` is the row index, or -1 for history.
  struct Item {
    int64_t ts;
    double value;
    int64_t origin;
  };
  std::vector<Item> all;
  all.reserve(history.size() + rows.size());
  for (const auto& h : history) all.push_back({h.ts, h.value, -1});
  for (size_t i = 0; i < rows.size(); ++i) all.push_back({rows[i].ts, rows[i].value, static_cast<int64_t>(i)});
  std::sort(all.begin(), all.end(), [](const Item& a, const Item& b) {
    if (a.ts != b.ts) return a.ts < b.ts;
    if (a.value != b.value) return a.value < b.value;
    return a.origin < b.origin;
  });
  const int64_t n = static_cast<int64_t>(all.size());
  const int64_t w = rules.anomaly_window;
  // first[k]: the first index holding all[k].ts; a value's window is [first[k] - w, first[k]).
  std::vector<int64_t> first(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    first[static_cast<size_t>(k)] = k > 0 && all[static_cast<size_t>(k - 1)].ts == all[static_cast<size_t>(k)].ts
                                        ? first[static_cast<size_t>(k - 1)]
                                        : k;
  }
  // Only values that can reach a row's window or the windows of the values in it matter.
  int64_t q = 0;
  while (all[static_cast<size_t>(q)].origin < 0) ++q;
  const int64_t a = first[static_cast<size_t>(std::max<int64_t>(0, first[static_cast<size_t>(q)] - w))];
  const int64_t start = std::max<int64_t>(0, a - w);

  std::vector<double> values(all.size());
  for (size_t k = 0; k < all.size(); ++k) values[k] = all[k].value;
  std::vector<int64_t> flags_before(static_cast<size_t>(n + 1), 0);  // prefix sums of anomaly flags
  for (int64_t k = start; k < n; ++k) {
    const Item& item = all[static_cast<size_t>(k)];
    const int64_t hi = first[static_cast<size_t>(k)];
    // Values before `start` whose group began earlier (hi < start) get an empty window: their
    // flags are never read (every row's window starts at a group start >= start + w).
    const int64_t lo = std::min(hi, std::max(start, hi - w));
    const std::span<const double> window(values.data() + lo, static_cast<size_t>(hi - lo));
    const AnomalyScore score = RollingZ(window, item.value, rules);
    flags_before[static_cast<size_t>(k + 1)] = flags_before[static_cast<size_t>(k)] + (score.anomaly ? 1 : 0);
    if (item.origin >= 0) {
      SeriesScore& s = out[static_cast<size_t>(item.origin)];
      s.anomaly = score;
      s.anomalies_in_window =
          (score.anomaly ? 1 : 0) + flags_before[static_cast<size_t>(hi)] - flags_before[static_cast<size_t>(lo)];
    }
  }
  return out;
}

}  // namespace pulse::signals
