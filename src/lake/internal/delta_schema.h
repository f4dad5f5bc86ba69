// Conversion between Arrow schemas and the Delta protocol's schemaString (a JSON struct type), and
// between typed partition values and their Delta text form.
//
// Supported Delta primitive types: string, long, integer, short, byte, double, float, boolean,
// binary, date, timestamp (Arrow timestamp[us, UTC]) and timestamp_ntz (timestamp[us]).
// Nested types (struct, array, map) are converted recursively. Anything else is kInvalidArgument
// naming the field.
#pragma once

#include <arrow/type_fwd.h>

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"

namespace pulse::lake {

Result<std::string> ArrowSchemaToDelta(const arrow::Schema& schema);
Result<std::shared_ptr<arrow::Schema>> DeltaSchemaToArrow(const std::string& schema_string);

// An array of `length` copies of a partition value given in Delta's text form ("" or absent = null).
Result<std::shared_ptr<arrow::Array>> PartitionValueArray(const std::shared_ptr<arrow::DataType>& type,
                                                          const std::string* value, int64_t length);
// The Delta text form of element `index` of a partition column; nullopt for null.
Result<std::optional<std::string>> PartitionValueText(const arrow::Array& column, int64_t index);

}  // namespace pulse::lake
