// Code shared by the host compiler and nvcc (src/forecast/cuda): PULSE_HD marks a function
// __host__ __device__ under nvcc and is empty for the host compiler, and the math below calls
// glibc on the host and CUDA's libdevice on the device. Min/Max are std::min/std::max exactly
// (the same operand returned on ties and NaN; by value, so device code never binds a reference to
// a host constant), Abs is fabs, Sqrt is IEEE-rounded on both sides
// (nvcc's default -prec-sqrt=true); Log may differ from glibc's in the last bit on the device
// (CUDA documents its double log as within 1 ulp), which is the one source of CPU/GPU
// differences in the ETS fits (src/forecast/README.md, "GPU batches").
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define PULSE_HD __host__ __device__
// On the big per-series functions (the likelihood pass, the initial-state solves, one model's
// fit, the simplex loop): nvcc otherwise inlines the whole candidate loop into one kernel and
// its optimiser takes tens of minutes. Inlining changes no result (no FMA contraction, no fast
// math on either side). The host compiler decides for itself, as before.
#define PULSE_HD_NOINLINE __noinline__
#else
#define PULSE_HD
#define PULSE_HD_NOINLINE
#endif

namespace pulse::forecast::hd {

template <class T>
PULSE_HD inline constexpr T Min(T a, T b) {
  return b < a ? b : a;
}
template <class T>
PULSE_HD inline constexpr T Max(T a, T b) {
  return a < b ? b : a;
}
PULSE_HD inline double Abs(double x) { return fabs(x); }
PULSE_HD inline double Sqrt(double x) {
#ifdef __CUDA_ARCH__
  return ::sqrt(x);
#else
  return std::sqrt(x);
#endif
}
PULSE_HD inline double Log(double x) {
#ifdef __CUDA_ARCH__
  return ::log(x);
#else
  return std::log(x);
#endif
}
PULSE_HD inline bool IsFinite(double x) {
#ifdef __CUDA_ARCH__
  return isfinite(x);
#else
  return std::isfinite(x);
#endif
}

}  // namespace pulse::forecast::hd
