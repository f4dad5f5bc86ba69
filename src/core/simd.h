// x86 vector intrinsics for the functions that choose an instruction set at run time
// (__attribute__((target("..."))) versions picked with __builtin_cpu_supports; every such
// function has a plain version giving the same results, for other CPUs and architectures).
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wuninitialized and
// -Wmaybe-uninitialized wrongly flag at every use; code between these two macros is spared them.
#if defined(__GNUC__) && !defined(__clang__)
#define PULSE_SIMD_BEGIN                                                               \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wuninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define PULSE_SIMD_END _Pragma("GCC diagnostic pop")
#else
#define PULSE_SIMD_BEGIN
#define PULSE_SIMD_END
#endif
