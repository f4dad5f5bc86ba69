#include "lake/internal/delta_schema.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <set>

#include <nlohmann/json.hpp>

#include "core/time.h"

namespace pulse::lake {
namespace {

using json = nlohmann::json;

Result<json> TypeToDelta(const arrow::DataType& type, const std::string& field) {
  switch (type.id()) {
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING: return json("string");
    case arrow::Type::INT64: return json("long");
    case arrow::Type::INT32: return json("integer");
    case arrow::Type::INT16: return json("short");
    case arrow::Type::INT8: return json("byte");
    case arrow::Type::DOUBLE: return json("double");
    case arrow::Type::FLOAT: return json("float");
    case arrow::Type::BOOL: return json("boolean");
    case arrow::Type::BINARY: return json("binary");
    case arrow::Type::DATE32: return json("date");
    case arrow::Type::TIMESTAMP: {
      const auto& ts = static_cast<const arrow::TimestampType&>(type);
      if (ts.unit() != arrow::TimeUnit::MICRO) {
        return Status::InvalidArgument("field '" + field + "': Delta timestamps are microseconds, got " +
                                       type.ToString());
      }
      return json(ts.timezone().empty() ? "timestamp_ntz" : "timestamp");
    }
    case arrow::Type::LIST: {
      const auto& l = static_cast<const arrow::ListType&>(type);
      PULSE_ASSIGN_OR_RETURN(json elem, TypeToDelta(*l.value_type(), field));
      return json{{"type", "array"}, {"elementType", elem}, {"containsNull", l.value_field()->nullable()}};
    }
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapType&>(type);
      PULSE_ASSIGN_OR_RETURN(json k, TypeToDelta(*m.key_type(), field));
      PULSE_ASSIGN_OR_RETURN(json v, TypeToDelta(*m.item_type(), field));
      return json{{"type", "map"}, {"keyType", k}, {"valueType", v}, {"valueContainsNull", m.item_field()->nullable()}};
    }
    case arrow::Type::STRUCT: {
      json fields = json::array();
      for (const auto& f : type.fields()) {
        PULSE_ASSIGN_OR_RETURN(json t, TypeToDelta(*f->type(), field + "." + f->name()));
        fields.push_back({{"name", f->name()}, {"type", t}, {"nullable", f->nullable()}, {"metadata", json::object()}});
      }
      return json{{"type", "struct"}, {"fields", fields}};
    }
    default:
      return Status::InvalidArgument("field '" + field + "': type " + type.ToString() + " has no Delta equivalent");
  }
}

// A Delta schema nested deeper than this is refused (the readers below recurse once per level).
constexpr int kMaxSchemaDepth = 64;

Result<std::shared_ptr<arrow::DataType>> TypeFromDelta(const json& t, const std::string& field, int depth);

// Optional boolean member; a present member of another type is an error.
Result<bool> BoolMember(const json& obj, const char* key, bool fallback, const std::string& field) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    return Status::ParseError("schemaString: field '" + field + "': '" + key + "' must be a boolean");
  return it->get<bool>();
}

// A required member (type checked by the caller's recursion).
Result<const json*> Member(const json& obj, const char* key, const std::string& field) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::ParseError("schemaString: field '" + field + "': type without '" + key + "'");
  return &*it;
}

Result<std::shared_ptr<arrow::Field>> FieldFromDelta(const json& f, const std::string& parent, int depth) {
  if (!f.is_object() || !f.contains("name") || !f.contains("type") || !f["name"].is_string())
    return Status::ParseError("schemaString: malformed field under '" + parent + "'");
  std::string name = f["name"].get<std::string>();
  const std::string path = parent.empty() ? name : parent + "." + name;
  PULSE_ASSIGN_OR_RETURN(auto type, TypeFromDelta(f["type"], path, depth + 1));
  PULSE_ASSIGN_OR_RETURN(bool nullable, BoolMember(f, "nullable", true, path));
  return arrow::field(name, type, nullable);
}

Result<std::shared_ptr<arrow::DataType>> TypeFromDelta(const json& t, const std::string& field, int depth) {
  if (depth > kMaxSchemaDepth) {
    return Status::ParseError("schemaString: field '" + field + "' is nested more than " +
                              std::to_string(kMaxSchemaDepth) + " levels deep");
  }
  if (t.is_string()) {
    const std::string s = t.get<std::string>();
    if (s == "string") return arrow::utf8();
    if (s == "long") return arrow::int64();
    if (s == "integer") return arrow::int32();
    if (s == "short") return arrow::int16();
    if (s == "byte") return arrow::int8();
    if (s == "double") return arrow::float64();
    if (s == "float") return arrow::float32();
    if (s == "boolean") return arrow::boolean();
    if (s == "binary") return arrow::binary();
    if (s == "date") return arrow::date32();
    if (s == "timestamp") return arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
    if (s == "timestamp_ntz") return arrow::timestamp(arrow::TimeUnit::MICRO);
    if (s.starts_with("decimal(")) {
      int precision = 0, scale = 0;
      if (std::sscanf(s.c_str(), "decimal(%d,%d)", &precision, &scale) == 2) {
        auto type = arrow::Decimal128Type::Make(precision, scale);  // validates; never aborts
        if (type.ok()) return *type;
        return Status::ParseError("field '" + field + "': invalid Delta type '" + s + "': " + type.status().message());
      }
    }
    return Status::InvalidArgument("field '" + field + "': unsupported Delta type '" + s + "'");
  }
  if (!t.is_object()) return Status::ParseError("field '" + field + "': malformed type");
  auto kind_it = t.find("type");
  const std::string kind = kind_it != t.end() && kind_it->is_string() ? kind_it->get<std::string>() : "";
  if (kind == "array") {
    PULSE_ASSIGN_OR_RETURN(const json* elem_json, Member(t, "elementType", field));
    PULSE_ASSIGN_OR_RETURN(auto elem, TypeFromDelta(*elem_json, field, depth + 1));
    PULSE_ASSIGN_OR_RETURN(bool nulls, BoolMember(t, "containsNull", true, field));
    return arrow::list(arrow::field("element", elem, nulls));
  }
  if (kind == "map") {
    PULSE_ASSIGN_OR_RETURN(const json* k_json, Member(t, "keyType", field));
    PULSE_ASSIGN_OR_RETURN(const json* v_json, Member(t, "valueType", field));
    PULSE_ASSIGN_OR_RETURN(auto k, TypeFromDelta(*k_json, field, depth + 1));
    PULSE_ASSIGN_OR_RETURN(auto v, TypeFromDelta(*v_json, field, depth + 1));
    PULSE_ASSIGN_OR_RETURN(bool nulls, BoolMember(t, "valueContainsNull", true, field));
    std::shared_ptr<arrow::DataType> map =
        std::make_shared<arrow::MapType>(arrow::field("key", k, false), arrow::field("value", v, nulls));
    return map;
  }
  if (kind == "struct") {
    PULSE_ASSIGN_OR_RETURN(const json* fields_json, Member(t, "fields", field));
    if (!fields_json->is_array()) return Status::ParseError("field '" + field + "': struct 'fields' must be an array");
    arrow::FieldVector fields;
    for (const auto& f : *fields_json) {
      PULSE_ASSIGN_OR_RETURN(auto af, FieldFromDelta(f, field, depth + 1));
      fields.push_back(af);
    }
    return arrow::struct_(fields);
  }
  return Status::InvalidArgument("field '" + field + "': unsupported Delta type " + t.dump());
}

}  // namespace

Result<std::string> ArrowSchemaToDelta(const arrow::Schema& schema) {
  PULSE_ASSIGN_OR_RETURN(json s, TypeToDelta(*arrow::struct_(schema.fields()), ""));
  return s.dump();
}

Result<std::shared_ptr<arrow::Schema>> DeltaSchemaToArrow(const std::string& schema_string) {
  json s = json::parse(schema_string, nullptr, false);
  if (s.is_discarded() || !s.is_object() || !s.contains("type") || s["type"] != "struct" || !s.contains("fields") ||
      !s["fields"].is_array())
    return Status::ParseError("schemaString is not a Delta struct type");
  arrow::FieldVector fields;
  std::set<std::string> names;
  for (const auto& f : s["fields"]) {
    PULSE_ASSIGN_OR_RETURN(auto af, FieldFromDelta(f, "", 0));
    if (!names.insert(af->name()).second)
      return Status::ParseError("schemaString: column '" + af->name() + "' appears twice");
    fields.push_back(af);
  }
  return arrow::schema(fields);
}

Result<std::shared_ptr<arrow::Array>> PartitionValueArray(const std::shared_ptr<arrow::DataType>& type,
                                                          const std::string* value, int64_t length) {
  if (value == nullptr || (value->empty() && type->id() != arrow::Type::STRING)) {
    auto r = arrow::MakeArrayOfNull(type, length);
    if (!r.ok()) return Status::Internal(r.status().ToString());
    return *r;
  }
  std::shared_ptr<arrow::Scalar> scalar;
  if (type->id() == arrow::Type::TIMESTAMP) {
    PULSE_ASSIGN_OR_RETURN(int64_t us, time::ParseTimestamp(*value));
    scalar = std::make_shared<arrow::TimestampScalar>(us, type);
  } else {
    auto parsed = arrow::Scalar::Parse(type, *value);
    if (!parsed.ok()) return Status::ParseError("partition value '" + *value + "' is not a valid " + type->ToString());
    scalar = *parsed;
  }
  auto r = arrow::MakeArrayFromScalar(*scalar, length);
  if (!r.ok()) return Status::Internal(r.status().ToString());
  return *r;
}

Result<std::optional<std::string>> PartitionValueText(const arrow::Array& column, int64_t index) {
  if (column.IsNull(index)) return std::optional<std::string>{};
  switch (column.type_id()) {
    case arrow::Type::STRING:
      return std::optional<std::string>(std::string(static_cast<const arrow::StringArray&>(column).GetView(index)));
    case arrow::Type::TIMESTAMP: {
      int64_t us = static_cast<const arrow::TimestampArray&>(column).Value(index);
      // Delta's partition text for timestamps: "YYYY-MM-DD HH:MM:SS.ffffff".
      std::string iso = time::FormatTimestamp(us);  // "...T...Z"
      if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
      auto t = iso.find('T');
      if (t != std::string::npos) iso[t] = ' ';
      return std::optional<std::string>(iso);
    }
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::DATE32:
    case arrow::Type::BOOL: {
      auto s = column.GetScalar(index);
      if (!s.ok()) return Status::Internal(s.status().ToString());
      return std::optional<std::string>((*s)->ToString());
    }
    default:
      return Status::InvalidArgument("partition column of type " + column.type()->ToString() + " is not supported");
  }
}

}  // namespace pulse::lake
