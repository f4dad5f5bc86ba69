// ParseScoringRules: the scoring and gating rules YAML (data/signals/scoring.yaml) -> ScoringRules.
// yaml-cpp's exceptions stay inside this file; every error names the origin, the key and the value.
#include <yaml-cpp/yaml.h>

#include <set>

#include "core/config.h"
#include "core/time.h"
#include "signals/scoring.h"

namespace pulse::signals {
namespace {

class RulesParser {
 public:
  explicit RulesParser(std::string_view origin) : origin_(origin) {}

  Result<ScoringRules> Parse(const YAML::Node& root) {
    ScoringRules r;
    if (!root || root.IsNull()) return r;  // an empty file: the defaults
    PULSE_RETURN_IF_ERROR(Keys(root, "", {"recency", "anomaly", "tags", "gate"}));
    if (const YAML::Node rec = root["recency"]) {
      PULSE_RETURN_IF_ERROR(Keys(rec, "recency", {"window", "window_by_kind", "as_of"}));
      if (rec["window"]) {
        PULSE_ASSIGN_OR_RETURN(r.recency_window_us, Duration(rec["window"], "recency.window"));
      }
      if (const YAML::Node by_kind = rec["window_by_kind"]; by_kind && !by_kind.IsNull()) {
        if (!by_kind.IsMap()) return Error(by_kind, "recency.window_by_kind", "expected a map of kind: duration");
        for (const auto& kv : by_kind) {
          PULSE_ASSIGN_OR_RETURN(std::string kind, Scalar(kv.first, "recency.window_by_kind"));
          PULSE_ASSIGN_OR_RETURN(r.recency_window_by_kind[kind], Duration(kv.second, "recency.window_by_kind." + kind));
        }
      }
      if (rec["as_of"]) {
        PULSE_ASSIGN_OR_RETURN(std::string text, Scalar(rec["as_of"], "recency.as_of"));
        if (!text.empty()) {
          auto ts = time::ParseTimestamp(text);
          if (!ts.ok()) return Error(rec["as_of"], "recency.as_of", ts.status().message());
          r.as_of_us = *ts;
        }
      }
    }
    if (const YAML::Node an = root["anomaly"]) {
      PULSE_RETURN_IF_ERROR(Keys(an, "anomaly", {"window", "min_history", "z"}));
      if (an["window"]) {
        PULSE_ASSIGN_OR_RETURN(r.anomaly_window, Int(an["window"], "anomaly.window", 2, 100000));
      }
      if (an["min_history"]) {
        PULSE_ASSIGN_OR_RETURN(r.anomaly_min_history, Int(an["min_history"], "anomaly.min_history", 2, 100000));
      }
      if (an["z"]) {
        PULSE_ASSIGN_OR_RETURN(r.anomaly_z, Number(an["z"], "anomaly.z", 0, 1e9));
      }
      if (r.anomaly_min_history > r.anomaly_window) {
        return Error(an, "anomaly.min_history",
                     std::to_string(r.anomaly_min_history) + " exceeds anomaly.window (" +
                         std::to_string(r.anomaly_window) + ")");
      }
    }
    if (const YAML::Node tags = root["tags"]) {
      if (!tags.IsSequence())
        return Error(tags, "tags", "expected a list of tags, e.g. [hope, despair, rage, fatigue]");
      r.tags.clear();
      std::set<std::string> seen;
      for (const auto& t : tags) {
        PULSE_ASSIGN_OR_RETURN(std::string tag, Scalar(t, "tags"));
        PULSE_RETURN_IF_ERROR(CheckTag(t, "tags", tag));
        if (!seen.insert(tag).second) return Error(t, "tags", "'" + tag + "' is listed twice");
        r.tags.push_back(tag);
      }
    }
    if (const YAML::Node gate = root["gate"]) {
      PULSE_RETURN_IF_ERROR(Keys(gate, "gate", {"escalate_min_sti", "default", "thresholds"}));
      if (gate["escalate_min_sti"]) {
        PULSE_ASSIGN_OR_RETURN(r.escalate_min_sti, Number(gate["escalate_min_sti"], "gate.escalate_min_sti", 0, 1));
      }
      if (gate["default"]) {
        PULSE_ASSIGN_OR_RETURN(r.default_threshold, Threshold(gate["default"], "gate.default"));
      }
      if (const YAML::Node th = gate["thresholds"]; th && !th.IsNull()) {
        if (!th.IsMap()) return Error(th, "gate.thresholds", "expected a map of tag: {min_sti, max_anomalies}");
        r.thresholds.clear();
        for (const auto& kv : th) {
          PULSE_ASSIGN_OR_RETURN(std::string tag, Scalar(kv.first, "gate.thresholds"));
          PULSE_RETURN_IF_ERROR(CheckTag(kv.first, "gate.thresholds", tag));
          PULSE_ASSIGN_OR_RETURN(r.thresholds[tag], Threshold(kv.second, "gate.thresholds." + tag));
        }
      }
    }
    return r;
  }

 private:
  std::string Where(const YAML::Node& node) const {
    const YAML::Mark m = node.Mark();
    return std::string(origin_) + (m.line >= 0 ? ":" + std::to_string(m.line + 1) : std::string());
  }
  Status Error(const YAML::Node& node, const std::string& key, const std::string& message) const {
    return Status::InvalidArgument(Where(node) + ": " + key + ": " + message);
  }

  Status Keys(const YAML::Node& node, const std::string& section, std::initializer_list<const char*> known) const {
    const std::string name = section.empty() ? std::string("the rules") : section;
    if (!node.IsMap()) return Error(node, name, "expected a map");
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) return Error(kv.first, name, "keys must be text");
      const std::string key = kv.first.Scalar();
      bool ok = false;
      std::string list;
      for (const char* k : known) {
        ok = ok || key == k;
        list += (list.empty() ? "" : ", ") + std::string(k);
      }
      if (!ok) return Error(kv.first, section.empty() ? key : section + "." + key, "unknown key (known: " + list + ")");
    }
    return Status::Ok();
  }

  Result<std::string> Scalar(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) return Error(node, key, "expected a single value");
    return node.Scalar();
  }

  Result<double> Number(const YAML::Node& node, const std::string& key, double lo, double hi) const {
    PULSE_ASSIGN_OR_RETURN(std::string text, Scalar(node, key));
    auto v = ParseFiniteDouble(text);
    if (!v || *v < lo || *v > hi) {
      return Error(node, key,
                   "expected a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + text + "'");
    }
    return *v;
  }

  Result<int64_t> Int(const YAML::Node& node, const std::string& key, int64_t lo, int64_t hi) const {
    PULSE_ASSIGN_OR_RETURN(std::string text, Scalar(node, key));
    auto v = ParseInt64(text);
    if (!v || *v < lo || *v > hi) {
      return Error(
          node, key,
          "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + text + "'");
    }
    return *v;
  }

  // "90s", "15m", "12h", "7d", "2w": a positive whole number and a unit.
  Result<int64_t> Duration(const YAML::Node& node, const std::string& key) const {
    PULSE_ASSIGN_OR_RETURN(std::string text, Scalar(node, key));
    const auto fail = [&] {
      return Error(node, key, "expected a duration such as 7d, 12h, 30m, 90s or 2w, got '" + text + "'");
    };
    if (text.size() < 2) return fail();
    int64_t unit = 0;
    switch (text.back()) {
      case 's': unit = 1000000; break;
      case 'm': unit = 60LL * 1000000; break;
      case 'h': unit = 3600LL * 1000000; break;
      case 'd': unit = 86400LL * 1000000; break;
      case 'w': unit = 7 * 86400LL * 1000000; break;
      default: return fail();
    }
    auto n = ParseInt64(std::string_view(text).substr(0, text.size() - 1));
    // At most 100,000 years: windows beyond that are meaningless and would overflow.
    if (!n || *n <= 0 || *n > (INT64_C(3155760000000000000) / unit)) return fail();
    return *n * unit;
  }

  Status CheckTag(const YAML::Node& node, const std::string& key, const std::string& tag) const {
    if (tag.empty()) return Error(node, key, "a tag must not be empty");
    for (char c : tag)
      if (c < 'a' || c > 'z') return Error(node, key, "tag '" + tag + "' must be lower-case ASCII letters");
    return Status::Ok();
  }

  Result<GateThreshold> Threshold(const YAML::Node& node, const std::string& key) const {
    PULSE_RETURN_IF_ERROR(Keys(node, key, {"min_sti", "max_anomalies"}));
    GateThreshold t;
    if (!node["min_sti"] || !node["max_anomalies"]) return Error(node, key, "needs both min_sti and max_anomalies");
    PULSE_ASSIGN_OR_RETURN(t.min_sti, Number(node["min_sti"], key + ".min_sti", 0, 1));
    PULSE_ASSIGN_OR_RETURN(t.max_anomalies, Int(node["max_anomalies"], key + ".max_anomalies", 0, 100001));
    return t;
  }

  std::string_view origin_;
};

}  // namespace

Result<ScoringRules> ParseScoringRules(std::string_view yaml_text, std::string_view origin) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    return RulesParser(origin).Parse(root);
  } catch (const YAML::Exception& e) {
    const std::string line = e.mark.line >= 0 ? ":" + std::to_string(e.mark.line + 1) : std::string();
    return Status::InvalidArgument(std::string(origin) + line + ": " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(origin) + ": " + e.what());
  }
}

}  // namespace pulse::signals
