#include "core/simd.h"

#include <atomic>

namespace pulse::simd {
namespace {

std::atomic<Level> limit{Level::kAvx512};

struct Cpu {
  bool avx512 = false, avx2 = false;
  Cpu() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    avx512 =
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    avx2 = __builtin_cpu_supports("avx2");
#endif
  }
};

const Cpu& TheCpu() {
  static const Cpu cpu;
  return cpu;
}

}  // namespace

bool Avx512() { return TheCpu().avx512 && limit.load(std::memory_order_relaxed) >= Level::kAvx512; }
bool Avx2() { return TheCpu().avx2 && limit.load(std::memory_order_relaxed) >= Level::kAvx2; }
void LimitLevel(Level max) { limit.store(max, std::memory_order_relaxed); }

}  // namespace pulse::simd
