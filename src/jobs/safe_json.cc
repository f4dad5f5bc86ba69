#include "jobs/safe_json.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/json_text.h"

namespace pulse::jobs {

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what, size_t max_depth) {
  if (JsonNestingDepth(text, max_depth) > max_depth)
    return Status::InvalidArgument(std::string(what) + " nests deeper than " + std::to_string(max_depth) + " levels");
  // nlohmann stops at a NUL byte as if the text ended there; in JSON text a raw NUL is never valid.
  if (text.find('\0') != std::string_view::npos)
    return Status::InvalidArgument(std::string(what) + " is not JSON (it contains a NUL byte)");
  try {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::InvalidArgument(std::string(what) + " is not JSON");
    return j;
  } catch (const std::exception& e) {  // allocation failure; parse errors do not throw here
    return Status::InvalidArgument(std::string(what) + " could not be parsed: " + e.what());
  }
}

size_t JsonValueDepth(const nlohmann::json& j, size_t limit) {
  size_t deepest = 0;
  std::vector<std::pair<const nlohmann::json*, size_t>> stack = {{&j, 0}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    if (deepest > limit) return limit + 1;
    for (const auto& child : *node) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

std::string DumpJson(const nlohmann::json& j) {
  try {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception&) {  // only allocation failures remain
    return "null";
  }
}

std::string JsonTypeName(const nlohmann::json& j) {
  if (j.is_number()) return "number";
  return j.type_name();
}

}  // namespace pulse::jobs
