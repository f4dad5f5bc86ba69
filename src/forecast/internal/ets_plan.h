// The host halves of FitEts and AutoEts around the fitting core (internal/ets_core.h), so that the
// batched API (forecast/gpu_ets.h) can run the core elsewhere - a thread pool, a CUDA device - and
// still answer exactly as FitEts and AutoEts: FitEts(y, spec, period) is
//   RunPlan(y, period, PlanFitEts(y, spec, period), false)
// and AutoEts(y, period) is RunPlan(y, period, PlanAutoEts(y, period), true).
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "core/status.h"
#include "forecast/exp_smoothing.h"
#include "forecast/internal/ets_core.h"

namespace pulse::forecast {

// The models to fit for one series, in order (ets_core::FitCandidates), each with its heuristic
// initial states; or, in `done`, the answer that needs no fitting (an input error, a constant
// series). PlanAutoEts may return neither: no candidate can be fitted, FinishAutoEts falls back.
struct EtsPlan {
  std::vector<EtsSpec> specs;
  std::vector<ets_core::InitialGuess> guesses;
  std::optional<Result<EtsFit>> done;
};

// FitEts's checks and heuristic initial states for one spec: one model, or `done`.
EtsPlan PlanFitEts(std::span<const double> y, EtsSpec spec, int period);
// AutoEts's candidates (EtsCandidates less those with too few values or failing FitEts's checks).
EtsPlan PlanAutoEts(std::span<const double> y, int period);

// FitEts's answer from the core's fit: the fit, or kInvalidArgument when no parameters were feasible.
Result<EtsFit> FinishFitEts(const EtsFit& fit);
// AutoEts's answer from the core's fits of the plan's candidates: the feasible fit with the lowest
// AICc (first on ties); without one, FitEts(y, ETS(A,N,N)) (run here, on the calling thread).
Result<EtsFit> FinishAutoEts(std::span<const double> y, std::span<const EtsFit> fits);

// Plan, core on the calling thread, finish.
Result<EtsFit> RunPlan(std::span<const double> y, int period, const EtsPlan& plan, bool automatic);

}  // namespace pulse::forecast
