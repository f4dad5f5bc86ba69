// The device side of forecast/gpu_ets.h: ets_core::FitCandidates for many series in one launch.
// FitJob is one device thread's work; the CPU path of the batch runs the same FitJob per series
// over the thread pool, so the batch's flattening (jobs, candidate ranges, scratch) is exercised
// on the CPU too. FitCandidatesOnDevice is defined by src/forecast/cuda/ets.cu in a
// -DPULSE_CUDA=ON build, else by gpu_ets_cpu_only.cc.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "forecast/exp_smoothing.h"
#include "forecast/internal/ets_core.h"

namespace pulse::forecast {

// One series and its planned candidates.
struct EtsDeviceJob {
  uint64_t begin = 0, n = 0;      // the series: values[begin, begin + n)
  uint64_t scratch = 0;           // its scratch: 4 n doubles from here in a buffer of 4 values.size()
  uint32_t first = 0, count = 0;  // its candidates: specs / guesses / fits [first, first + count)
  int32_t period = 1;
};

// One job: FitCandidates over its series and candidates; scratch holds 4 job.n doubles.
PULSE_HD inline void FitJob(const double* values, const EtsDeviceJob& job, const EtsSpec* specs,
                            const ets_core::InitialGuess* guesses, EtsFit* fits, double* scratch) {
  ets_core::FitCandidates(std::span<const double>(values + job.begin, job.n), job.period, specs + job.first,
                          guesses + job.first, job.count, scratch, fits + job.first);
}

// Runs FitJob for every job on the CUDA device, one thread per job, and fills fits. false,
// with the reason in *why_not, when the build has no CUDA path, no device is present or a CUDA
// call failed (fits are then unspecified: the caller runs the CPU path).
bool FitCandidatesOnDevice(std::span<const double> values, std::span<const EtsDeviceJob> jobs,
                           std::span<const EtsSpec> specs, std::span<const ets_core::InitialGuess> guesses,
                           std::span<EtsFit> fits, std::string* why_not);

}  // namespace pulse::forecast
