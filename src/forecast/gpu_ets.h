// Batched ETS fitting: one spec (FitEts) or AutoEts's candidate set on many series at once, with
// an optional CUDA path. Every series' answer equals FitEts / AutoEts on that series alone: the
// same errors for bad series (too short, non-finite, non-positive with a multiplicative
// component - per series, never a failed batch), the same constant-series fits, and on the CPU
// the same fits bit for bit (both run the fitting core of internal/ets_core.h).
//
// Where the fitting runs: CMake -DPULSE_CUDA=ON (off by default) compiles src/forecast/cuda/ets.cu
// with nvcc; in such a build with a CUDA device present and options.use_gpu, the core runs on the
// device, one thread per series (each thread runs the series' whole candidate loop with its warm
// starts). Otherwise - built without CUDA, no device, or the device failed - the same core runs
// on the CPU over the thread pool, one task per series; `device` and `gpu_unused` say which ran
// and why. The input checks, heuristic initial states and the AICc choice run on the host either
// way (internal/ets_plan.h).
//
// GPU vs CPU: ets.cu is compiled with --fmad=false and pulse_forecast without FMA, so additive-
// error fits (whose objective has no transcendental function) are expected to equal the CPU's bit
// for bit. Multiplicative-error objectives call log, which on the device may differ from glibc's
// in the last bit; Nelder-Mead can then take another path to a point of equal likelihood within
// its tolerance. The stated tolerance: -2 log-likelihood within 1e-9 relative, point forecasts
// within 1e-6 of the largest forecast, and AutoEts choosing another model only where two AICc
// values are that close (src/forecast/README.md: measured on the CPU with every log 1 ulp off,
// never on a device here).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "forecast/exp_smoothing.h"

namespace pulse::forecast {

struct EtsBatchOptions {
  bool use_gpu = true;  // use the CUDA path when the build has it and a device is present
  size_t threads = 0;   // CPU path: at most this many threads of the default pool (0: all of them)
};

struct EtsBatch {
  std::vector<Result<EtsFit>> fits;  // one per series, in order
  std::string device;                // "cuda" when the device fitted the series, else "cpu"
  std::string gpu_unused;            // why the CPU did ("" when the device did)
};

// Series i is values[offsets[i], offsets[i + 1]). kInvalidArgument (for the whole call) when
// offsets is empty, decreases or points past values; every per-series problem is that series'
// Result. FitEtsBatch: FitEts(series, spec, period) for each; AutoEtsBatch: AutoEts(series, period).
Result<EtsBatch> FitEtsBatch(std::span<const double> values, std::span<const size_t> offsets, EtsSpec spec, int period,
                             const EtsBatchOptions& options = {});
Result<EtsBatch> AutoEtsBatch(std::span<const double> values, std::span<const size_t> offsets, int period,
                              const EtsBatchOptions& options = {});

// Whether this build has the CUDA path compiled in (-DPULSE_CUDA=ON).
bool EtsGpuCompiledIn();

}  // namespace pulse::forecast
