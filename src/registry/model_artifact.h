// What a forecasting "model" is in Pulse, and how it is stored: one ForecastModel per series,
// serialised as `model.json`, next to a `manifest.json` that lists every artifact file with its
// size and SHA-256 (core/hash.h Sha256Hex). A model version's artifacts are exactly these two files.
//
// A ForecastModel fixes what the forecast pipeline decides when it fits a series: the method
// (the accuracy-weighted ensemble, or one benchmark method), the ensemble members' weights, the
// seasonal period, horizon and sampling grid, and the split-conformal multipliers of its interval
// levels; it records what it was trained on (signals table version, the series' data digest and
// observation count, the last observation's time) and its out-of-sample backtest scores (MASE of the
// model and of Naive1 on the last-horizon window, the share of that window inside the calibrated 80%
// band). Serving a model (pipeline/train_models.h) re-runs the members on the latest observations
// and combines them with these weights and multipliers; the members' smoothing parameters are
// re-estimated on that data, which is what their state needs to follow new observations.
//
// Identity: `identity` is ContentId (core/hash.h) of the training configuration (model format,
// method, horizon, period, levels, min points, series kind and name) and the digest of the series'
// usable observations. Training the same configuration on the same data (in particular, on the same
// signals version) gives the same identity, and the registry already holding a version with that
// identity makes training a no-op.
//
// Parsing is strict and never throws: a missing or wrong-typed field, a non-finite number, a
// manifest listing a file that is absent or whose bytes do not hash to the recorded digest is a
// clear kInvalidArgument / kParseError error naming the file and field.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace pulse::registry {

inline constexpr const char* kModelFormat = "pulse-forecast-model/1";
inline constexpr const char* kModelFile = "model.json";
inline constexpr const char* kManifestFile = "manifest.json";

struct IntervalBand {
  double level = 0;       // in (0, 1)
  double multiplier = 0;  // half-width = multiplier * model sd
  bool calibrated = false;
};

struct BacktestScores {
  double mase = 0;        // the model on the last-horizon window, out of sample (NaN: no backtest)
  double naive_mase = 0;  // Naive1 on the same window
  double coverage80 = 0;  // share of that window's outcomes inside the calibrated 80% band
  int64_t points = 0;     // outcomes scored
};

struct ForecastModel {
  std::string kind, series;
  std::string method = "Ensemble";        // "Ensemble" or a benchmark method's name (forecast/benchmarks.h)
  std::map<std::string, double> weights;  // Ensemble members (method name -> weight > 0), summing to 1
  int period = 1;                         // seasonal period
  int horizon = 1;                        // steps forecast
  std::string frequency;                  // sampling grid (hourly, daily, ..., irregular)
  std::vector<IntervalBand> bands;        // one per interval level
  int64_t signals_version = -1;           // signals table version trained on
  std::string data_digest;                // Sha256Hex of the series' usable observations
  int64_t observations = 0;
  int64_t last_observation_us = 0;  // time of the last observation trained on
  int64_t trained_at_us = 0;
  BacktestScores backtest;
  std::string identity;  // see above
};

// JSON text of a model (keys sorted; numbers in round-trip form) and back.
std::string ModelToJson(const ForecastModel& model);
Result<ForecastModel> ModelFromJson(const std::string& text);

// One artifact file: its path (relative, '/'-separated, no '..') and bytes.
struct ArtifactFile {
  std::string path;
  std::string bytes;
};

// The artifact files of a model: model.json and manifest.json (listing model.json's size and hash).
std::vector<ArtifactFile> ModelArtifacts(const ForecastModel& model);

// Checks `manifest.json` against the other files (each listed file present with the recorded size
// and SHA-256) and parses model.json. kInvalidArgument naming the file on any mismatch.
Result<ForecastModel> LoadModelArtifacts(const std::map<std::string, std::string>& files);

// A relative artifact path is safe when it is non-empty, has no empty, "." or ".." component, no
// backslash or NUL, and does not start with '/'.
bool SafeArtifactPath(const std::string& path);

}  // namespace pulse::registry
