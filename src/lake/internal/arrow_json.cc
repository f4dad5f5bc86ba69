#include "lake/internal/arrow_json.h"

#include <arrow/api.h>

namespace pulse::lake {
namespace {

using json = nlohmann::json;

Status FromArrow(const arrow::Status& st) { return st.ok() ? Status::Ok() : Status::Internal(st.ToString()); }

template <typename BuilderT, typename T>
Status AppendNumber(arrow::ArrayBuilder& b, const json& v) {
  if (!v.is_number() && !v.is_boolean()) return Status::InvalidArgument("expected a number, got " + v.dump());
  return FromArrow(static_cast<BuilderT&>(b).Append(v.get<T>()));
}

}  // namespace

Status AppendJson(arrow::ArrayBuilder& builder, const json& value) {
  if (value.is_null()) return FromArrow(builder.AppendNull());
  switch (builder.type()->id()) {
    case arrow::Type::NA: return FromArrow(builder.AppendNull());
    case arrow::Type::BOOL:
      if (!value.is_boolean()) return Status::InvalidArgument("expected a boolean, got " + value.dump());
      return FromArrow(static_cast<arrow::BooleanBuilder&>(builder).Append(value.get<bool>()));
    case arrow::Type::INT8: return AppendNumber<arrow::Int8Builder, int8_t>(builder, value);
    case arrow::Type::INT16: return AppendNumber<arrow::Int16Builder, int16_t>(builder, value);
    case arrow::Type::INT32: return AppendNumber<arrow::Int32Builder, int32_t>(builder, value);
    case arrow::Type::INT64: return AppendNumber<arrow::Int64Builder, int64_t>(builder, value);
    case arrow::Type::UINT64: return AppendNumber<arrow::UInt64Builder, uint64_t>(builder, value);
    case arrow::Type::FLOAT: return AppendNumber<arrow::FloatBuilder, float>(builder, value);
    case arrow::Type::DOUBLE: return AppendNumber<arrow::DoubleBuilder, double>(builder, value);
    case arrow::Type::DATE32: return AppendNumber<arrow::Date32Builder, int32_t>(builder, value);
    case arrow::Type::TIMESTAMP: return AppendNumber<arrow::TimestampBuilder, int64_t>(builder, value);
    case arrow::Type::STRING: {
      std::string s = value.is_string() ? value.get<std::string>() : value.dump();
      return FromArrow(static_cast<arrow::StringBuilder&>(builder).Append(s));
    }
    case arrow::Type::BINARY: {
      std::string s = value.is_string() ? value.get<std::string>() : value.dump();
      return FromArrow(static_cast<arrow::BinaryBuilder&>(builder).Append(s));
    }
    case arrow::Type::STRUCT: {
      if (!value.is_object()) return Status::InvalidArgument("expected an object, got " + value.dump());
      auto& sb = static_cast<arrow::StructBuilder&>(builder);
      const auto type_ptr = builder.type();  // type() returns by value: keep it alive
      const auto& type = static_cast<const arrow::StructType&>(*type_ptr);
      PULSE_RETURN_IF_ERROR(FromArrow(sb.Append()));
      for (int i = 0; i < type.num_fields(); ++i) {
        auto it = value.find(type.field(i)->name());
        PULSE_RETURN_IF_ERROR(AppendJson(*sb.field_builder(i), it == value.end() ? json() : *it));
      }
      return Status::Ok();
    }
    case arrow::Type::LIST: {
      if (!value.is_array()) return Status::InvalidArgument("expected an array, got " + value.dump());
      auto& lb = static_cast<arrow::ListBuilder&>(builder);
      PULSE_RETURN_IF_ERROR(FromArrow(lb.Append()));
      for (const auto& e : value) PULSE_RETURN_IF_ERROR(AppendJson(*lb.value_builder(), e));
      return Status::Ok();
    }
    case arrow::Type::MAP: {
      if (!value.is_object()) return Status::InvalidArgument("expected an object for a map, got " + value.dump());
      auto& mb = static_cast<arrow::MapBuilder&>(builder);
      PULSE_RETURN_IF_ERROR(FromArrow(mb.Append()));
      for (auto it = value.begin(); it != value.end(); ++it) {
        PULSE_RETURN_IF_ERROR(AppendJson(*mb.key_builder(), json(it.key())));
        PULSE_RETURN_IF_ERROR(AppendJson(*mb.item_builder(), it.value()));
      }
      return Status::Ok();
    }
    default: return Status::InvalidArgument("cannot build Arrow type " + builder.type()->ToString() + " from JSON");
  }
}

Result<json> ArrayElementToJson(const arrow::Array& array, int64_t i) {
  if (array.IsNull(i)) return json();
  switch (array.type_id()) {
    case arrow::Type::NA: return json();
    case arrow::Type::BOOL: return json(static_cast<const arrow::BooleanArray&>(array).Value(i));
    case arrow::Type::INT8: return json(static_cast<const arrow::Int8Array&>(array).Value(i));
    case arrow::Type::INT16: return json(static_cast<const arrow::Int16Array&>(array).Value(i));
    case arrow::Type::INT32: return json(static_cast<const arrow::Int32Array&>(array).Value(i));
    case arrow::Type::INT64: return json(static_cast<const arrow::Int64Array&>(array).Value(i));
    case arrow::Type::UINT8: return json(static_cast<const arrow::UInt8Array&>(array).Value(i));
    case arrow::Type::UINT16: return json(static_cast<const arrow::UInt16Array&>(array).Value(i));
    case arrow::Type::UINT32: return json(static_cast<const arrow::UInt32Array&>(array).Value(i));
    case arrow::Type::UINT64: return json(static_cast<const arrow::UInt64Array&>(array).Value(i));
    case arrow::Type::FLOAT: return json(static_cast<const arrow::FloatArray&>(array).Value(i));
    case arrow::Type::DOUBLE: return json(static_cast<const arrow::DoubleArray&>(array).Value(i));
    case arrow::Type::DATE32: return json(static_cast<const arrow::Date32Array&>(array).Value(i));
    case arrow::Type::TIMESTAMP: return json(static_cast<const arrow::TimestampArray&>(array).Value(i));
    case arrow::Type::STRING: return json(std::string(static_cast<const arrow::StringArray&>(array).GetView(i)));
    case arrow::Type::LARGE_STRING:
      return json(std::string(static_cast<const arrow::LargeStringArray&>(array).GetView(i)));
    case arrow::Type::STRING_VIEW:
      return json(std::string(static_cast<const arrow::StringViewArray&>(array).GetView(i)));
    case arrow::Type::BINARY: return json(std::string(static_cast<const arrow::BinaryArray&>(array).GetView(i)));
    case arrow::Type::STRUCT: {
      const auto& s = static_cast<const arrow::StructArray&>(array);
      const auto& type = static_cast<const arrow::StructType&>(*array.type());
      json out = json::object();
      for (int f = 0; f < type.num_fields(); ++f) {
        auto child = s.field(f);
        // Children of a sliced struct share its offset.
        PULSE_ASSIGN_OR_RETURN(json v, ArrayElementToJson(*child, i));
        if (!v.is_null()) out[type.field(f)->name()] = std::move(v);
      }
      return out;
    }
    case arrow::Type::LIST:
    case arrow::Type::LARGE_LIST: {
      std::shared_ptr<arrow::Array> values;
      int64_t begin = 0, end = 0;
      if (array.type_id() == arrow::Type::LIST) {
        const auto& l = static_cast<const arrow::ListArray&>(array);
        values = l.values();
        begin = l.value_offset(i);
        end = begin + l.value_length(i);
      } else {
        const auto& l = static_cast<const arrow::LargeListArray&>(array);
        values = l.values();
        begin = l.value_offset(i);
        end = begin + l.value_length(i);
      }
      json out = json::array();
      for (int64_t k = begin; k < end; ++k) {
        PULSE_ASSIGN_OR_RETURN(json v, ArrayElementToJson(*values, k));
        out.push_back(std::move(v));
      }
      return out;
    }
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapArray&>(array);
      json out = json::object();
      int64_t begin = m.value_offset(i), end = begin + m.value_length(i);
      for (int64_t k = begin; k < end; ++k) {
        PULSE_ASSIGN_OR_RETURN(json key, ArrayElementToJson(*m.keys(), k));
        PULSE_ASSIGN_OR_RETURN(json val, ArrayElementToJson(*m.items(), k));
        out[key.is_string() ? key.get<std::string>() : key.dump()] = std::move(val);
      }
      return out;
    }
    default: return Status::InvalidArgument("cannot convert Arrow type " + array.type()->ToString() + " to JSON");
  }
}

}  // namespace pulse::lake
