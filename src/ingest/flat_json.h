// ScanFlatJson: a fast reader for the usual shape of a JSON-lines signal record - one flat object
// whose keys and values are plain strings, numbers or null - that builds no JSON document.
//
// Contract: it either returns true with the object's fields, or false and the caller reads the
// line with the general reader (RecordReader, record_reader.h), which decides every record. It
// returns true only when the general reader would accept the line and give the same fields:
//  - the line is one JSON object, surrounded by JSON whitespace only;
//  - keys and string values contain no backslash escape, no control character (< 0x20) and only
//    valid UTF-8 (RFC 3629, as the general reader checks it); their text is the bytes between the
//    quotes (views into `line`);
//  - a value is a string, null, or a number by the JSON grammar: an integer of at most 18 digits
//    other than -0 (text as written, which is also how the general reader prints it back) or a
//    decimal/exponent number that converts to a finite double (type kNumber: the general reader
//    prints it back in its own shortest form, so only its double value is the same);
//  - no key appears twice, and the object has at most kMaxFlatJsonFields fields.
// Anything else - nesting, true/false, escapes, a syntax error, a duplicate key - returns false.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace pulse::ingest {

inline constexpr size_t kMaxFlatJsonFields = 32;

struct FlatJsonField {
  enum class Type { kString, kInteger, kNumber, kNull };
  std::string_view key;
  std::string_view text;  // kString: the bytes between the quotes; kNull: "null"; numbers: as written
  Type type = Type::kString;
};

// Fills `fields` (cleared first) in the order of the line; see the contract above.
bool ScanFlatJson(std::string_view line, std::vector<FlatJsonField>& fields);

}  // namespace pulse::ingest
