// Numeric command-line options, parsed strictly and range-checked before any command runs.
//
// CLI11 converts with strtoull/strtold: "--runs -1" becomes 2^64-1, "--seed 010" is octal 8,
// "--noise inf" and "--wait nan" pass. AddNumberOption instead parses with core/config.h's
// ParseUint64 / ParseInt64 / ParseFiniteDouble (decimal only, no sign for unsigned targets, finite
// doubles) and checks [min, max]; a bad value is a usage error (exit 2) that names the option,
// what it expects and what it got, e.g.
//   --runs: expected a whole number >= 0, got '-1'
//   --noise: must lie in [0, 1], got '5'
// The target keeps its initial value as the default shown by --help.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>

#include "core/config.h"

namespace pulse::cli {

namespace detail {
template <class T>
std::string NumberText(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    std::ostringstream out;
    out << v;
    return out.str();
  } else {
    return std::to_string(v);
  }
}

inline std::string QuoteArg(const std::string& text) {
  std::string out = "'";
  for (char c : text.substr(0, 80)) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return out + (text.size() > 80 ? "...'" : "'");
}
}  // namespace detail

template <class T>
CLI::Option* AddNumberOption(CLI::App* app, const std::string& name, T& target, const std::string& description,
                             std::type_identity_t<T> min = std::numeric_limits<T>::lowest(),
                             std::type_identity_t<T> max = std::numeric_limits<T>::max()) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  auto parse = [&target, name, min, max](const std::string& text) {
    auto out_of_range = [&] {
      return CLI::ValidationError(name + ": must lie in [" + detail::NumberText(min) + ", " + detail::NumberText(max) +
                                  "], got " + detail::QuoteArg(text));
    };
    if constexpr (std::is_floating_point_v<T>) {
      auto v = ParseFiniteDouble(text);
      if (!v) throw CLI::ValidationError(name + ": expected a finite number, got " + detail::QuoteArg(text));
      if (*v < static_cast<double>(min) || *v > static_cast<double>(max)) throw out_of_range();
      target = static_cast<T>(*v);
    } else if constexpr (std::is_unsigned_v<T>) {
      auto v = ParseUint64(text);
      if (!v) throw CLI::ValidationError(name + ": expected a whole number >= 0, got " + detail::QuoteArg(text));
      if (*v < static_cast<uint64_t>(min) || *v > static_cast<uint64_t>(max)) throw out_of_range();
      target = static_cast<T>(*v);
    } else {
      auto v = ParseInt64(text);
      if (!v) throw CLI::ValidationError(name + ": expected a whole number, got " + detail::QuoteArg(text));
      if (*v < static_cast<int64_t>(min) || *v > static_cast<int64_t>(max)) throw out_of_range();
      target = static_cast<T>(*v);
    }
  };
  const char* type = std::is_floating_point_v<T> ? "NUMBER" : std::is_unsigned_v<T> ? "UINT" : "INT";
  return app->add_option_function<std::string>(name, parse, description)
      ->type_name(type)
      ->default_str(detail::NumberText(target));
}

}  // namespace pulse::cli
