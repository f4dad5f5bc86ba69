// Content hashing: one SHA-256 and one canonical content-identity recipe for the whole code base.
//
// - Sha256Hex(bytes): the lower-case hex SHA-256 of exactly `bytes` (file content identity, S3
//   payload hashes).
// - ContentId(identity): the identity of a computed artefact (a simulation, a cached task result, a
//   model version) from the JSON object of everything that determines it. The JSON is dumped
//   compactly with keys in sorted order (nlohmann::json objects are ordered maps), numbers in
//   round-trip form, so equal inputs give equal ids on every machine and field boundaries can never
//   run together ("ab"+"c" vs "a"+"bc"). Put large inputs in as their Sha256Hex, not their text.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pulse {

std::string Sha256Hex(std::string_view bytes);

// Lower-case hex SHA-256 of identity.dump(). Never throws: invalid UTF-8 inside strings is replaced
// (U+FFFD) before hashing, so such an input still gets a stable id.
std::string ContentId(const nlohmann::json& identity);

}  // namespace pulse
