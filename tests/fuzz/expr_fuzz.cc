// Fuzz target: the rules expression language (Expr::Compile), and evaluating what compiles over
// a block of runs whose slots hold ordinary, zero, negative, huge and tiny values.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz_util.h"
#include "sim/expr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Every name resolves (to one of kSlotCount slots, by its length), except names starting with
  // "no", so the shipped rules' expressions compile and unknown names are still exercised.
  static constexpr size_t kSlotCount = 4;
  const pulse::sim::SlotResolver resolve = [](std::string_view name) -> std::optional<uint32_t> {
    if (name.starts_with("no")) return std::nullopt;
    return static_cast<uint32_t>(name.size() % kSlotCount);
  };
  auto expr = pulse::sim::Expr::Compile(pulse::fuzz::AsText(data, size), resolve, {"fuzz.yaml", 1, 1});
  if (!expr.ok()) return 0;
  static constexpr size_t kRuns = 5;
  static const std::array<std::array<double, kRuns>, kSlotCount> kSlots = {{
      {0.5, 0.0, -1.0, 1e308, 1e-308},
      {2.0, 0.0, 3.0, -1e308, 0.25},
      {1.0, 0.0, 0.0, 1.0, 0.5},
      {-0.5, 0.0, 1e-300, 7.0, -2.0},
  }};
  std::array<const double*, kSlotCount> slots{};
  for (size_t s = 0; s < kSlotCount; ++s) slots[s] = kSlots[s].data();
  std::array<double, kRuns> out{};
  expr->Evaluate(slots.data(), kRuns, out.data());
  (void)expr->ReadSlots();
  (void)expr->ConstantValue();
  return 0;
}
