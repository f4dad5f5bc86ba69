// The OpenAPI document kept in the repository (src/service/openapi.json) describes exactly the
// routes pulse serve registers: every registered (method, path) is an operation of the document,
// and every operation of the document is registered. The binary embeds that same document.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "service/internal/service_state.h"

namespace pulse::service {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

TEST(OpenApi, DocumentAndRoutesAgree) {
  auto text = ReadTextFile(std::string(PULSE_SOURCE_DIR) + "/src/service/openapi.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto doc = nlohmann::json::parse(*text);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::pair<std::string, std::string>> documented, registered;
  for (const auto& [path, item] : doc["paths"].items())
    for (const auto& [method, op] : item.items())
      if (method != "parameters") documented.emplace(Lower(method), path);
  for (const auto& route : ServiceRoutes(nullptr)) registered.emplace(Lower(route.method), route.path);
  for (const auto& r : registered) EXPECT_TRUE(documented.count(r)) << "not documented: " << r.first << " " << r.second;
  for (const auto& d : documented) EXPECT_TRUE(registered.count(d)) << "not registered: " << d.first << " " << d.second;
  // Authenticated routes say so; public ones do not.
  for (const auto& route : ServiceRoutes(nullptr)) {
    const auto& op = doc["paths"][route.path][Lower(route.method)];
    EXPECT_EQ(op.contains("security"), route.scope.has_value()) << route.method << " " << route.path;
  }
}

TEST(OpenApi, BinaryEmbedsTheRepositoryDocument) {
  auto text = ReadTextFile(std::string(PULSE_SOURCE_DIR) + "/src/service/openapi.json");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(std::string(kOpenApiJson), *text);
}

}  // namespace
}  // namespace pulse::service
