// The staged fits of a chunked forecast (pipeline/forecast_chunks.h): pass 1 (ForecastChunkScores)
// keeps what pass 2 (ForecastChunkSeries) needs to build a chunk's rows once the pooled
// multipliers are known, so that pass 2 writes without fitting again.
//
// Where: one object per chunk in the lake's own store, written through the lake FileSystem (local
// folder or S3 alike; WriteFile is atomic, so a reader sees a whole object or none), key
//   _pulse/staging/forecast/<options key>/<signals version>/<index>-of-<count>
// Encoding (little-endian): "PULSEFS1", the options key, signals version, index, count, the
// series skipped when reading, then per series kind, name, origin (last timestamp), ok, problem,
// grid, horizon, period, scale, ensemble mean and sd, weights, ensemble backtest scores and
// backtest MASEs (doubles as their IEEE-754 bytes: exact), then the SHA-256 (hex) of all of that.
// Only those fields of SeriesData / SeriesForecast are restored (SeriesData.ts holds the origin
// alone, values is empty): exactly what the rows and PooledScores read.
//
// Staging is an optimisation, never a source of truth: a missing, truncated, corrupt or foreign
// object (another key, format or chunk) decodes to an error and pass 2 fits the chunk again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pipeline/forecast_signals.h"
#include "pipeline/internal/series_fit.h"

namespace pulse::pipeline::internal {

struct StagedChunk {
  std::string options_key;
  int64_t signals_version = -1;
  ForecastChunk chunk;
  std::vector<std::string> skipped;  // series skipped when reading (too short)
  std::vector<SeriesData> series;    // kind, name, ts = {origin}
  std::vector<SeriesForecast> forecasts;
};

// The prefix of every staging object, and the key of one chunk's.
inline constexpr std::string_view kForecastStagingPrefix = "_pulse/staging/forecast/";
std::string StagingKey(const std::string& options_key, int64_t signals_version, const ForecastChunk& chunk);

// `series` and `forecasts` are parallel (FitAll's input and output).
std::string EncodeStagedChunk(const StagedChunk& staged);
// kParseError for a truncated or corrupt object (checksum, lengths) or an unknown format.
Result<StagedChunk> DecodeStagedChunk(std::string_view bytes);

}  // namespace pulse::pipeline::internal
