// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011).
//
// A CounterRng's output is a pure function of (seed, key1, key2, key3) and the draw index: the
// stream for, say, (seed, run, turn, variable) is the same on any thread, in any order, on any
// machine. That is what makes Monte Carlo results independent of thread count and chunking.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pulse {

// One Philox4x32-10 block: 10 rounds over a 128-bit counter `ctr` with a 64-bit key.
std::array<uint32_t, 4> Philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key);

// The ziggurat tables Normal() uses (x: 257 layer edges, ratio: 256 x[i + 1] / x[i]), for other
// implementations of the same draws (the CUDA Monte Carlo path copies them to the device).
const double* ZigguratEdges();
const double* ZigguratRatios();

class CounterRng {
 public:
  // The stream addressed by (seed, k1, k2, k3): seed is the key; k1..k3 fill the counter's high
  // words, and the low word counts draws (2^32 blocks of 4 words per stream).
  explicit CounterRng(uint64_t seed, uint32_t k1 = 0, uint32_t k2 = 0, uint32_t k3 = 0)
      : key_{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}, counter_{0, k1, k2, k3} {}

  uint32_t NextU32() {
    if (used_ == 4) Refill();
    return block_[used_++];
  }
  uint64_t NextU64() {
    uint64_t hi = NextU32();
    return (hi << 32) | NextU32();
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }
  // Standard normal (ziggurat: one 64-bit draw per value in 99% of calls; the rest rejects or
  // samples the tail, consuming further draws of the same deterministic stream).
  double Normal();
  // out[0..n) = n successive Normal() draws, bit for bit, leaving the stream where those calls
  // would. Generates Philox blocks in batches (vectorised where the CPU allows), so it is several
  // times faster per draw than calling Normal() n times.
  void Normals(double* out, size_t n);

 private:
  void Refill() {
    block_ = Philox4x32_10(counter_, key_);
    ++counter_[0];
    used_ = 0;
  }
  std::array<uint32_t, 2> key_;
  std::array<uint32_t, 4> counter_;
  std::array<uint32_t, 4> block_{};
  size_t used_ = 4;
};

}  // namespace pulse
