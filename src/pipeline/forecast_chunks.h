// `pulse forecast --broker URL --chunks N`: the lake forecast (pipeline/forecast_signals.h) split
// into chunk tasks on the `pulse worker`s behind a broker, with the same rows as the one-process
// run for the same signals version and any N.
//
// The intervals are calibrated on the backtest scores of EVERY series of the run, so no forecast
// row can be written before every series is fitted. Two passes of N tasks each:
//   1. pulse.forecast_scores (chunk i of N: the series with ChunkOfSeries(kind, name, N) == i)
//      fits its series and returns their scores; nothing is written. The coordinator pools them
//      into the run's multipliers (CalibrateScores: what the one-process run computes).
//   2. pulse.forecast_chunk fits its series again and appends their rows with those multipliers in
//      one Delta commit, app id "pulse-forecast:<options hash>:<i>/<N>", app version the signals
//      version: a redelivered task, or the same command run again, writes nothing for a chunk
//      already committed (and does not refit it). Chunks without series write nothing.
// The second fit is the price of one commit per chunk with pooled calibration (BENCHMARKS.md has
// the measured cost); the passes only exchange the scores (8 bytes per backtest point).
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
};

struct ChunkedForecastReport {
  ForecastReport total;      // series, rows, skipped, multipliers, signals_version; forecasts_version
                             // is the newest chunk commit; duplicate when every chunk was already there
  int chunks = 0;            // N
  int chunks_written = 0;    // chunks committed by this run
  int chunks_duplicate = 0;  // chunks already committed (nothing written)
  int chunks_empty = 0;      // chunks without series (no task in pass 2)
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
