// Run-time choice of vector instruction sets. Hot loops have a plain version and, on x86-64, a
// version compiled for a wider instruction set (__attribute__((target("...")))) that gives the
// same results bit for bit; they call Avx512() / Avx2() to pick one. -ffp-contract=off (core and
// sim, src/CMakeLists.txt) keeps a * b + c unfused in both, so the doubles agree too. Code using
// these from another module needs that flag too.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pulse::simd {

enum class Level { kPlain, kAvx2, kAvx512 };

// True where the CPU has AVX-512 F, DQ and VL (resp. AVX2) and LimitLevel() allows it.
bool Avx512();
bool Avx2();
// Caps the instruction sets the dispatching functions may use from now on (tests compare the
// versions on a machine that has them all); Level::kAvx512 (the default) leaves the CPU's choice.
void LimitLevel(Level max);

}  // namespace pulse::simd

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wuninitialized and
// -Wmaybe-uninitialized wrongly flag at every use; and unoptimised (the asan preset is -O0), some
// are macros that pass an all-lanes mask, (__mmask8)0xFF, on as a char, which -Wsign-conversion
// flags (only there: optimised builds keep that warning). Code between these two macros is spared
// them.
#if defined(__GNUC__) && !defined(__clang__)
#if defined(__OPTIMIZE__)
#define PULSE_SIMD_MACRO_WARNINGS
#else
#define PULSE_SIMD_MACRO_WARNINGS _Pragma("GCC diagnostic ignored \"-Wsign-conversion\"")
#endif
#define PULSE_SIMD_BEGIN                                                               \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wuninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") PULSE_SIMD_MACRO_WARNINGS
#define PULSE_SIMD_END _Pragma("GCC diagnostic pop")
#else
#define PULSE_SIMD_BEGIN
#define PULSE_SIMD_END
#endif
