// Generic conversion between nlohmann::json values and Arrow arrays, used for Delta checkpoints
// (whose rows are the same actions as the JSON commits) and for printing tables.
//
// Supported Arrow types: null, bool, all integers, float, double, string/large_string, binary
// (as text), date32 (days), timestamp (as integer ticks), struct, list/large_list, map (as a
// JSON object with string keys). Unsupported types give kInvalidArgument naming the type.
#pragma once

#include <arrow/type_fwd.h>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pulse::lake {

// Appends one JSON value to `builder` (null or a missing value appends null).
Status AppendJson(arrow::ArrayBuilder& builder, const nlohmann::json& value);

// The JSON value of element `index` (null for a null element).
Result<nlohmann::json> ArrayElementToJson(const arrow::Array& array, int64_t index);

}  // namespace pulse::lake
