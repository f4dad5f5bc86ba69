#include "forecast/gpu_ets.h"

#include <optional>

#include "core/thread_pool.h"
#include "forecast/internal/ets_device.h"
#include "forecast/internal/ets_plan.h"

namespace pulse::forecast {
namespace {

Status CheckOffsets(std::span<const double> values, std::span<const size_t> offsets) {
  if (offsets.empty()) return Status::InvalidArgument("a batch needs offsets (series count + 1 of them)");
  for (size_t i = 0; i + 1 < offsets.size(); ++i) {
    if (offsets[i + 1] < offsets[i])
      return Status::InvalidArgument("batch offsets decrease at series " + std::to_string(i));
  }
  if (offsets.back() > values.size()) {
    return Status::InvalidArgument("batch offsets end at " + std::to_string(offsets.back()) + ", past the " +
                                   std::to_string(values.size()) + " values");
  }
  return Status::Ok();
}

// Plans every series on the pool (host checks and guesses), runs the fitting core over the
// flattened candidates on the device or, one FitJob per series, on the pool, and finishes on the
// pool (errors, AICc choice).
Result<EtsBatch> RunBatch(std::span<const double> values, std::span<const size_t> offsets, int period,
                          const EtsBatchOptions& options, const std::optional<EtsSpec>& spec) {
  PULSE_RETURN_IF_ERROR(CheckOffsets(values, offsets));
  const size_t count = offsets.size() - 1;
  auto series = [&](size_t i) { return values.subspan(offsets[i], offsets[i + 1] - offsets[i]); };
  ThreadPool& pool = DefaultThreadPool();
  const bool automatic = !spec.has_value();
  std::vector<EtsPlan> plans(count);
  pool.ParallelFor(
      count,
      [&](size_t i) {
        const auto y = series(i);
        plans[i] = automatic ? PlanAutoEts(y, period) : PlanFitEts(y, *spec, period);
      },
      options.threads);
  std::vector<EtsDeviceJob> jobs;
  std::vector<EtsSpec> specs;
  std::vector<ets_core::InitialGuess> guesses;
  std::vector<size_t> job_of(count, SIZE_MAX);
  for (size_t i = 0; i < count; ++i) {
    if (plans[i].done || plans[i].specs.empty()) continue;
    EtsDeviceJob job;
    job.begin = offsets[i], job.n = offsets[i + 1] - offsets[i];
    job.scratch = 4 * offsets[i];
    job.first = static_cast<uint32_t>(specs.size()), job.count = static_cast<uint32_t>(plans[i].specs.size());
    job.period = period;
    job_of[i] = jobs.size();
    jobs.push_back(job);
    specs.insert(specs.end(), plans[i].specs.begin(), plans[i].specs.end());
    guesses.insert(guesses.end(), plans[i].guesses.begin(), plans[i].guesses.end());
  }
  std::vector<EtsFit> fits(specs.size());
  EtsBatch batch;
  batch.device = "cpu";
  if (!options.use_gpu) {
    batch.gpu_unused = "not requested";
  } else if (FitCandidatesOnDevice(values, jobs, specs, guesses, fits, &batch.gpu_unused)) {
    batch.device = "cuda", batch.gpu_unused.clear();
  }
  if (batch.device == "cpu") {
    pool.ParallelFor(
        jobs.size(),
        [&](size_t k) {
          std::vector<double> scratch(4 * jobs[k].n);
          FitJob(values.data(), jobs[k], specs.data(), guesses.data(), fits.data(), scratch.data());
        },
        options.threads);
  }
  batch.fits.resize(count, Result<EtsFit>(Status::Internal("not fitted")));
  pool.ParallelFor(
      count,
      [&](size_t i) {
        const EtsPlan& plan = plans[i];
        if (job_of[i] == SIZE_MAX) {  // nothing to fit: the plan's answer or AutoEts's fallback
          batch.fits[i] = RunPlan(series(i), period, plan, automatic);
          return;
        }
        const std::span<const EtsFit> own(fits.data() + jobs[job_of[i]].first, plan.specs.size());
        batch.fits[i] = automatic ? FinishAutoEts(series(i), own) : FinishFitEts(own[0]);
      },
      options.threads);
  return batch;
}

}  // namespace

Result<EtsBatch> FitEtsBatch(std::span<const double> values, std::span<const size_t> offsets, EtsSpec spec, int period,
                             const EtsBatchOptions& options) {
  return RunBatch(values, offsets, period, options, spec);
}

Result<EtsBatch> AutoEtsBatch(std::span<const double> values, std::span<const size_t> offsets, int period,
                              const EtsBatchOptions& options) {
  return RunBatch(values, offsets, period, options, std::nullopt);
}

}  // namespace pulse::forecast
