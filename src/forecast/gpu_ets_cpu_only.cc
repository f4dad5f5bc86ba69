// The device side of forecast/gpu_ets.h for builds without -DPULSE_CUDA=ON: never runs, the CPU
// path fits every series.
#include "forecast/internal/ets_device.h"

#ifndef PULSE_FORECAST_CUDA
namespace pulse::forecast {

bool FitCandidatesOnDevice(std::span<const double> /*values*/, std::span<const EtsDeviceJob> /*jobs*/,
                           std::span<const EtsSpec> /*specs*/, std::span<const ets_core::InitialGuess> /*guesses*/,
                           std::span<EtsFit> /*fits*/, std::string* why_not) {
  if (why_not) *why_not = "built without CUDA (-DPULSE_CUDA=ON)";
  return false;
}

bool EtsGpuCompiledIn() { return false; }

}  // namespace pulse::forecast
#endif
