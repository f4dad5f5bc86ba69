// GpuTurns for builds without -DPULSE_CUDA=ON: no device path, the CPU runs every turn.
#include "sim/gpu.h"

#ifndef PULSE_HAVE_CUDA
namespace pulse::sim {

std::unique_ptr<GpuTurns> GpuTurns::Create(const TurnEngine& /*engine*/, const std::vector<TurnNoise>& /*noise*/,
                                           uint64_t /*seed*/, std::string* why_not) {
  if (why_not) *why_not = "built without CUDA (-DPULSE_CUDA=ON)";
  return nullptr;
}

bool GpuCompiledIn() { return false; }

}  // namespace pulse::sim
#endif
