// Optional GPU path for the Monte Carlo turns: CMake -DPULSE_CUDA=ON (off by default) compiles
// src/sim/cuda/turns.cu with nvcc; without it this header's GpuTurns::Create always says no and
// the CPU path runs. With it, Create still says no when no CUDA device is present, so a CUDA build
// runs everywhere and picks the CPU on machines without a GPU.
//
// What runs on the device: one turn of a block of runs (decay, the rules in TurnEngine order with
// their conditions and effects interpreted from Expr::code() one thread per run, then the turn's
// noise from the same Philox stream (seed, run, turn) and the same ziggurat tables). The code
// mirrors Expr::Evaluate and TurnEngine::Run operation by operation and is compiled with
// --fmad=false, so the results are meant to equal the CPU's bit for bit; the exception is the
// ziggurat's rare slow path (about 1 draw in 100 takes it), which calls the device's exp and log
// (CUDA's double exp/log are within 1 ulp, glibc's are correctly rounded in practice), so a value
// there may differ in its last bits: the stated tolerance is 1e-12 relative per value.
// Not on the device: injections (the GPU path is refused with them), events (applied on the
// host between turns), the summary (the host aggregates each step, as on the CPU path).
// Status: compiled here (scripts/check-cuda-build); never run on a device in this project yet.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/turn.h"

namespace pulse::sim {

// A slot's per-turn noise as the Monte Carlo applies it: x = clamp(x + sd * z, lo, hi).
struct TurnNoise {
  uint32_t slot = 0;
  double sd = 0, lo = 0, hi = 0;
};

class GpuTurns {
 public:
  // nullptr, with the reason in *why_not, when built without CUDA, when no device is present or
  // when the rules need more than the device evaluator's stack. `noise`: the slots that take a
  // draw every turn, in slot order.
  static std::unique_ptr<GpuTurns> Create(const TurnEngine& engine, const std::vector<TurnNoise>& noise, uint64_t seed,
                                          std::string* why_not);
  virtual ~GpuTurns() = default;
  // One turn of the block's runs (runs first_run .. first_run + count - 1), in place, then the
  // turn's noise; fired[i] = runs in which rule i's condition held (as TurnEngine::Run).
  virtual Status Turn(BlockState& state, uint64_t first_run, uint32_t turn, std::vector<uint32_t>* fired) = 0;
};

// Whether this build has the CUDA path compiled in (-DPULSE_CUDA=ON).
bool GpuCompiledIn();

}  // namespace pulse::sim
