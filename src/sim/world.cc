#include "sim/world.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <exception>

#include "core/printable.h"

namespace pulse::sim {
namespace {

std::string Where(std::string_view file, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return Printable(file);
  return Printable(file) + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

std::string Where(std::string_view file, const YAML::Node& node) { return Where(file, node.Mark()); }

Status FieldError(std::string_view file, const YAML::Node& node, const std::string& message) {
  return Status::ParseError(Where(file, node) + ": " + message);
}

// yaml-cpp reports type mismatches and malformed documents by throwing: every call into it in
// this file runs under Guard, which turns an exception into a kParseError naming file:line:column.
template <class F>
auto Guard(std::string_view file, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const YAML::Exception& e) {
    return Status::ParseError(Where(file, e.mark) + ": " + Printable(e.msg));
  } catch (const std::exception& e) {
    return Status::ParseError(Printable(file) + ": " + Printable(e.what()));
  }
}

Result<YAML::Node> Load(std::string_view yaml, std::string_view file) {
  return Guard(file, [&]() -> Result<YAML::Node> { return YAML::Load(std::string(yaml)); });
}

// The value of `key` in a map node; an undefined node when `parent` is not a map (never throws).
YAML::Node Child(const YAML::Node& parent, const char* key) {
  if (!parent.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return parent[key];
}

// A scalar that must be text ("kind", "type", a tag): kParseError when it is a list or a map.
Result<std::string> Scalar(std::string_view file, const YAML::Node& node, const std::string& field) {
  if (!node.IsScalar()) return FieldError(file, node, field + " must be a single value, not a list or a map");
  return node.Scalar();
}

Result<double> Number(std::string_view file, const YAML::Node& node, const std::string& field) {
  if (!node.IsScalar()) {
    return FieldError(file, node,
                      field + " must be a number, got a " +
                          (node.IsMap()        ? "map"
                           : node.IsSequence() ? "list"
                                               : "null"));
  }
  try {
    const double v = node.as<double>();
    if (!std::isfinite(v)) return FieldError(file, node, field + " must be a finite number");
    return v;
  } catch (const YAML::Exception&) {
    return FieldError(file, node, field + " must be a number, got '" + Printable(node.Scalar(), 64) + "'");
  }
}

Result<std::string> Text(std::string_view file, const YAML::Node& parent, const std::string& field) {
  const YAML::Node node = Child(parent, field.c_str());
  if (!node || !node.IsScalar() || node.Scalar().empty())
    return FieldError(file, node ? node : parent, "missing or empty '" + field + "' (a single value)");
  if (!ValidUtf8(node.Scalar()))
    return FieldError(file, node, "'" + field + "' is not valid UTF-8: '" + Printable(node.Scalar(), 64) + "'");
  return node.Scalar();
}

// The expression's location: a quoted scalar's text starts one column after its mark.
SourceLocation ExprLocation(std::string_view file, const YAML::Node& node) {
  const bool quoted = node.Tag() == "!";
  return {std::string(file), node.Mark().line + 1, node.Mark().column + 1 + (quoted ? 1 : 0)};
}

Result<Catalog> ParseCatalogUnguarded(std::string_view yaml, std::string_view file) {
  PULSE_ASSIGN_OR_RETURN(YAML::Node root, Load(yaml, file));
  if (!root.IsMap()) return FieldError(file, root, "a catalog is a map with overlays, capital, variables");
  Catalog out;
  const std::pair<const char*, SlotKind> sections[] = {
      {"overlays", SlotKind::kOverlay}, {"capital", SlotKind::kCapital}, {"variables", SlotKind::kVariable}};
  for (const auto& [section, kind] : sections) {
    const YAML::Node list = root[section];
    if (!list) continue;
    if (!list.IsSequence()) return FieldError(file, list, std::string(section) + " must be a list");
    for (const YAML::Node& item : list) {
      if (!item.IsMap()) return FieldError(file, item, "each entry is a map with name and default");
      SlotInfo slot;
      slot.kind = kind;
      PULSE_ASSIGN_OR_RETURN(slot.name, Text(file, item, "name"));
      if (item["default"]) {
        PULSE_ASSIGN_OR_RETURN(slot.initial, Number(file, item["default"], "default"));
      }
      if (kind == SlotKind::kOverlay) {
        slot.range = {0.0, 1.0};
        if (slot.initial < 0 || slot.initial > 1) return FieldError(file, item, "an overlay's default lies in [0, 1]");
      }
      if (const YAML::Node range = item["range"]) {
        if (!range.IsSequence() || range.size() != 2) return FieldError(file, range, "range is [low, high]");
        PULSE_ASSIGN_OR_RETURN(double lo, Number(file, range[0], "range"));
        PULSE_ASSIGN_OR_RETURN(double hi, Number(file, range[1], "range"));
        if (!(lo < hi)) return FieldError(file, range, "range needs low < high");
        if (kind != SlotKind::kOverlay) slot.range = {lo, hi};
      }
      if (item["type"]) {
        PULSE_ASSIGN_OR_RETURN(slot.type, Scalar(file, item["type"], "type"));
      }
      auto added = out.Add(std::move(slot));
      if (!added.ok()) return FieldError(file, item, Printable(added.status().message()));
    }
  }
  if (out.size() == 0) return Status::ParseError(std::string(file) + ": the catalog defines no slots");
  return out;
}

}  // namespace

Result<Catalog> Catalog::Parse(std::string_view yaml, std::string_view file) {
  return Guard(file, [&] { return ParseCatalogUnguarded(yaml, file); });
}

Result<uint32_t> Catalog::Add(SlotInfo slot) {
  if (index_.count(slot.name)) return Status::AlreadyExists("'" + slot.name + "' is defined twice");
  const auto id = static_cast<uint32_t>(slots_.size());
  index_.emplace(slot.name, id);
  slots_.push_back(std::move(slot));
  return id;
}

std::optional<uint32_t> Catalog::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::vector<double> Catalog::Initial() const {
  std::vector<double> out(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) out[i] = slots_[i].initial;
  return out;
}

std::optional<size_t> RuleSet::FindEvent(std::string_view id) const {
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].id == id) return i;
  return std::nullopt;
}

namespace {

// Compiles the expression of `node`; a failure also names the rule or event it belongs to.
Result<Expr> Compile(const YAML::Node& node, std::string_view file, const std::string& owner,
                     const SlotResolver& resolve) {
  auto expr = Expr::Compile(node.Scalar(), resolve, ExprLocation(file, node));
  if (!expr.ok()) return Status(expr.status().code(), expr.status().message() + " (" + owner + ")");
  return expr;
}

Result<std::vector<Effect>> ParseEffects(std::string_view file, const YAML::Node& owner, const std::string& owner_name,
                                         const Catalog& catalog, const SlotResolver& resolve) {
  const YAML::Node list = owner["effects"];
  if (!list || !list.IsSequence() || list.size() == 0)
    return FieldError(file, list ? list : owner, "needs a list of effects");
  std::vector<Effect> out;
  for (const YAML::Node& item : list) {
    if (!item.IsMap()) return FieldError(file, item, "an effect is {target: NAME, add|set|scale: EXPR}");
    PULSE_ASSIGN_OR_RETURN(std::string target, Text(file, item, "target"));
    Effect effect;
    const auto slot = catalog.Find(target);
    if (!slot) return FieldError(file, item["target"], "unknown target '" + Printable(target, 80) + "'");
    effect.target = *slot;
    int ops = 0;
    for (const auto& [key, op] :
         {std::pair{"add", EffectOp::kAdd}, {"set", EffectOp::kSet}, {"scale", EffectOp::kScale}}) {
      const YAML::Node value = item[key];
      if (!value) continue;
      ++ops;
      effect.op = op;
      if (!value.IsScalar()) return FieldError(file, value, std::string(key) + " takes an expression");
      PULSE_ASSIGN_OR_RETURN(effect.value, Compile(value, file, owner_name, resolve));
    }
    if (ops != 1) return FieldError(file, item, "an effect has exactly one of add, set, scale");
    out.push_back(std::move(effect));
  }
  return out;
}

Result<RuleSet> ParseRulesUnguarded(std::string_view yaml, std::string_view file, const Catalog& catalog) {
  PULSE_ASSIGN_OR_RETURN(YAML::Node root, Load(yaml, file));
  if (!root.IsMap() || !root["rules"] || !root["rules"].IsSequence()) {
    return FieldError(file, root.IsMap() && root["rules"] ? root["rules"] : root,
                      "a rules file is a map with a 'rules' list");
  }
  const SlotResolver resolve = [&](std::string_view name) { return catalog.Find(name); };
  RuleSet out;
  for (const YAML::Node& item : root["rules"]) {
    if (!item.IsMap()) return FieldError(file, item, "a rule is a map with id, kind, when, effects");
    Rule rule;
    PULSE_ASSIGN_OR_RETURN(rule.id, Text(file, item, "id"));
    for (const Rule& other : out.rules) {
      if (other.id == rule.id)
        return FieldError(file, item["id"], "rule id '" + Printable(rule.id, 80) + "' is used twice");
    }
    const std::string owner = "rule '" + Printable(rule.id, 80) + "'";
    std::string kind = "causal";
    if (item["kind"]) {
      PULSE_ASSIGN_OR_RETURN(kind, Scalar(file, item["kind"], "kind"));
    }
    if (kind == "static") {
      rule.kind = RuleKind::kStatic;
    } else if (kind != "causal") {
      return FieldError(file, item["kind"], "kind is causal or static, got '" + Printable(kind, 40) + "'");
    }
    if (item["importance"]) {
      PULSE_ASSIGN_OR_RETURN(rule.importance, Number(file, item["importance"], "importance"));
    }
    if (item["trust"]) {
      PULSE_ASSIGN_OR_RETURN(rule.trust, Number(file, item["trust"], "trust"));
    }
    if (rule.importance < 0 || rule.trust < 0 || rule.trust > 1)
      return FieldError(file, item, "importance must be >= 0 and trust in [0, 1]");
    if (const YAML::Node tags = item["tags"]) {
      if (!tags.IsSequence()) return FieldError(file, tags, "tags is a list");
      for (const YAML::Node& t : tags) {
        PULSE_ASSIGN_OR_RETURN(std::string tag, Scalar(file, t, "a tag"));
        rule.tags.push_back(std::move(tag));
      }
    }
    const YAML::Node when = item["when"];
    if (!when || !when.IsScalar())
      return FieldError(file, when ? when : item, owner + " needs a 'when' condition (one expression)");
    PULSE_ASSIGN_OR_RETURN(rule.when, Compile(when, file, owner, resolve));
    PULSE_ASSIGN_OR_RETURN(rule.effects, ParseEffects(file, item, owner, catalog, resolve));
    out.rules.push_back(std::move(rule));
  }
  if (const YAML::Node events = root["events"]) {
    if (!events.IsSequence()) return FieldError(file, events, "events is a list");
    for (const YAML::Node& item : events) {
      if (!item.IsMap()) return FieldError(file, item, "an event is a map with id and effects");
      Event event;
      PULSE_ASSIGN_OR_RETURN(event.id, Text(file, item, "id"));
      if (out.FindEvent(event.id))
        return FieldError(file, item["id"], "event id '" + Printable(event.id, 80) + "' is used twice");
      PULSE_ASSIGN_OR_RETURN(event.effects,
                             ParseEffects(file, item, "event '" + Printable(event.id, 80) + "'", catalog, resolve));
      out.events.push_back(std::move(event));
    }
  }
  return out;
}

}  // namespace

Result<RuleSet> ParseRules(std::string_view yaml, std::string_view file, const Catalog& catalog) {
  return Guard(file, [&] { return ParseRulesUnguarded(yaml, file, catalog); });
}

}  // namespace pulse::sim
