// `pulse forecast --broker URL --chunks N`: the lake forecast (pipeline/forecast_signals.h) split
// into chunk tasks on the `pulse worker`s behind a broker, with the same rows as the one-process
// run for the same signals version and any N.
//
// The intervals are calibrated on the backtest scores of EVERY series of the run, so no forecast
// row can be written before every series is fitted. Two passes of N tasks each, each series
// fitted once:
//   1. pulse.forecast_scores (chunk i of N: the series with ChunkOfSeries(kind, name, N) == i)
//      fits its series, stages the fits in the lake's store (one object per chunk, key
//      _pulse/staging/forecast/<options hash>/<signals version>/<i>-of-<N>, written atomically
//      through the lake FileSystem: pipeline/internal/forecast_staging.h) and returns their
//      scores; no table is written. The coordinator pools them into the run's multipliers
//      (CalibrateScores: what the one-process run computes).
//   2. pulse.forecast_chunk reads its chunk's staged fits, appends their rows with those
//      multipliers in one Delta commit, app id "pulse-forecast:<options hash>:<i>/<N>", app
//      version the signals version, then deletes the staging object. A redelivered task, or the
//      same command run again, writes nothing for a chunk already committed (and reads no fits).
//      Chunks without series write nothing. Its result says how many series it had to fit again
//      (`refitted`, summed into series_refitted): only when the staging object is missing (cleaned
//      up, or staged by an older worker), corrupt, truncated or another run's - the rows are the
//      same either way, correctness never depends on the staging.
// Staging lifetime: deleted by pass 2 after its chunk's commit (or on finding it committed); by the
// coordinator for every chunk when the run stops before pass 2; and any left over (a coordinator
// that died, a failed delete) is removed by the next run's start once older than staging_max_age.
// The passes exchange only the scores (8 bytes per backtest point); the fits travel through the
// lake (per series about 16 bytes per horizon step plus its backtest scores, BENCHMARKS.md).
//
// Failure: any pass-1 task failing fails the run before anything is written. A pass-2 task failing
// leaves the other chunks committed; the error names the failed chunks and running the same
// command again (same N, same signals version: it is pinned per run to the latest version at the
// start, so pass the same data) finishes only the missing ones. Rerunning with another N writes
// the series again under other app ids (the same values; readers take the newest per series).
//
// Champions: each worker serves registered champions exactly as pulse.forecast does (its own
// registry.* settings); the coordinator's registry settings are not used.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "jobs/broker.h"
#include "lake/lake.h"
#include "pipeline/forecast_signals.h"

namespace pulse::pipeline {

struct ChunkedForecastRequest {
  std::string lake_url;  // the lake the workers open (kwarg `lake`; confined by each worker)
  ForecastOptions options;
  int chunks = 4;                                                       // 1..series count
  std::chrono::duration<double> task_timeout = std::chrono::hours(24);  // per task result
  // Staging objects older than this are removed at the start of a run (RemoveStaleForecastStaging):
  // longer than any run's pass 1 -> pass 2 gap, so no live run loses its fits (if one did, its
  // pass 2 would fit again: slower, same rows).
  std::chrono::seconds staging_max_age = std::chrono::hours(24 * 7);
};

struct ChunkedForecastReport {
  ForecastReport total;        // series, rows, skipped, multipliers, signals_version; forecasts_version
                               // is the newest chunk commit; duplicate when every chunk was already there
  int chunks = 0;              // N
  int chunks_written = 0;      // chunks committed by this run
  int chunks_duplicate = 0;    // chunks already committed (nothing written)
  int chunks_empty = 0;        // chunks without series (no task in pass 2)
  size_t series_refitted = 0;  // series pass 2 fitted again (their staged fits missing or unusable)
  size_t staging_removed = 0;  // stale staging objects removed at the start
  double scores_seconds = 0, write_seconds = 0;  // wall time of the passes
};

// Runs the two passes on `broker`'s workers. `lake` is the coordinator's view of the same lake: it
// pins the signals version. Errors: kInvalidArgument for bad options, chunks < 1, or chunks above
// the number of series to forecast (nothing written); a failed task's error prefixed with its
// pass and chunk ("pass 2 (write), chunk 3/8: ..."); when tasks of a pass fail, an error listing
// them (kInternal), after waiting for all the others.
Result<ChunkedForecastReport> ForecastOverBroker(jobs::Broker& broker, lake::Lake& lake,
                                                 const ChunkedForecastRequest& request);

// The task kwargs and results, exactly: doubles (scores, multipliers - which may be +inf) travel
// as base64 of their little-endian IEEE-754 bytes, so the workers' and coordinator's numbers are
// bit-identical.
std::string EncodeDoubles(const std::vector<double>& values);
Result<std::vector<double>> DecodeDoubles(const std::string& text);  // kInvalidArgument when malformed
nlohmann::json CalibrationJson(const ForecastCalibration& calibration);
Result<ForecastCalibration> CalibrationFromJson(const nlohmann::json& json);  // kInvalidArgument when malformed

}  // namespace pulse::pipeline
