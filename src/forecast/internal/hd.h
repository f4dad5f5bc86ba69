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
#else
#define PULSE_HD
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
