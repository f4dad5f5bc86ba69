// Loads tests/fixtures/drift/*.json (written by scripts/make-drift-fixtures from scipy and river).
#pragma once

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pulse::drift::testing {

inline nlohmann::json LoadFixture(const std::string& name) {
  std::ifstream in(std::string(PULSE_SOURCE_DIR) + "/tests/fixtures/drift/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// The fixture script's "lcg" windows: ((i a + c) mod m) / m * scale + shift, the same doubles as numpy's.
inline std::vector<double> LcgWindow(const nlohmann::json& spec) {
  const auto n = spec["n"].get<int64_t>();
  const auto a = spec["a"].get<int64_t>();
  const auto c = spec["c"].get<int64_t>();
  const auto m = spec["m"].get<int64_t>();
  const double scale = spec["scale"].get<double>();
  const double shift = spec["shift"].get<double>();
  std::vector<double> out;
  for (int64_t i = 0; i < n; ++i) {
    out.push_back(static_cast<double>((i * a + c) % m) / static_cast<double>(m) * scale + shift);
  }
  return out;
}

// |actual - expected| <= rel * |expected| + abs.
inline bool Near(double actual, double expected, double rel, double abs = 0.0) {
  return std::fabs(actual - expected) <= rel * std::fabs(expected) + abs;
}

}  // namespace pulse::drift::testing
