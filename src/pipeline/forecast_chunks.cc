#include "pipeline/forecast_chunks.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/base64.h"
#include "jobs/task_client.h"

namespace pulse::pipeline {
namespace {

static_assert(std::endian::native == std::endian::little, "the score encoding assumes a little-endian host");

nlohmann::json ChunkKwargs(const ChunkedForecastRequest& request, int64_t signals_version, int index) {
  const ForecastOptions& o = request.options;
  return {{"lake", request.lake_url},   {"signals_version", signals_version},
          {"horizon", o.horizon},       {"period", o.period},
          {"levels", o.levels},         {"kinds", o.kinds},
          {"min_points", o.min_points}, {"chunk", index},
          {"chunks", request.chunks}};
}

// Submits one task per kwargs, then waits for every one; the results in order, or the errors
// "<pass>, chunk i/N: message" of those that failed (all awaited first).
struct PassOutcome {
  std::vector<nlohmann::json> results;  // null where failed
  std::vector<std::string> errors;
};

Result<PassOutcome> RunPass(jobs::Broker& broker, const std::string& task, const char* pass,
                            const std::vector<std::pair<int, nlohmann::json>>& kwargs,
                            const ChunkedForecastRequest& request) {
  std::vector<std::string> ids;
  for (const auto& [index, kw] : kwargs) {
    jobs::TaskMessage m;
    m.task = task;
    m.kwargs = kw;
    PULSE_ASSIGN_OR_RETURN(auto id, jobs::SubmitTask(broker, std::move(m)));
    ids.push_back(id);
  }
  PassOutcome out;
  for (size_t k = 0; k < ids.size(); ++k) {
    auto done = jobs::AwaitResult(broker, ids[k], request.task_timeout);
    if (done.ok()) {
      out.results.push_back(std::move(*done));
      continue;
    }
    out.results.emplace_back(nullptr);
    out.errors.push_back(std::string(pass) + ", chunk " + std::to_string(kwargs[k].first) + "/" +
                         std::to_string(request.chunks) + ": " + done.status().message());
  }
  return out;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : "; ") + s;
  return out;
}

// Pass 1's outcome checked and pooled: every chunk's scores (in chunk order) and series count,
// the skipped series into total.skipped; errors as ForecastOverBroker states them.
struct PooledScores {
  std::vector<double> scores;
  std::vector<size_t> chunk_series;
  size_t series = 0;  // their sum
};

Result<PooledScores> PoolScores(const PassOutcome& scored, const ChunkedForecastRequest& request,
                                ForecastReport& total) {
  if (!scored.errors.empty()) {
    return Status::Internal(std::to_string(scored.errors.size()) + " of " + std::to_string(request.chunks) +
                            " chunks failed before anything was written: " + Joined(scored.errors));
  }
  PooledScores out;
  for (size_t i = 0; i < scored.results.size(); ++i) {
    const auto& r = scored.results[i];
    const std::string where = "pass 1 (scores), chunk " + std::to_string(i) + "/" + std::to_string(request.chunks);
    if (!r.is_object() || !r.contains("scores") || !r["scores"].is_string() || !r.contains("series") ||
        !r["series"].is_number_unsigned() || r.value("signals_version", int64_t{-1}) != total.signals_version) {
      return Status::Internal(where + ": unexpected result " + r.dump().substr(0, 200));
    }
    auto scores = DecodeDoubles(r["scores"].get<std::string>());
    if (!scores.ok()) return Status::Internal(where + ": " + scores.status().message());
    out.scores.insert(out.scores.end(), scores->begin(), scores->end());
    out.chunk_series.push_back(r["series"].get<size_t>());
    if (r.contains("skipped") && r["skipped"].is_array()) {
      for (const auto& s : r["skipped"]) total.skipped.push_back(s.is_string() ? s.get<std::string>() : s.dump());
    }
  }
  for (size_t n : out.chunk_series) out.series += n;
  const size_t series = out.series;
  if (series == 0) {
    return Status::InvalidArgument("no series with at least " + std::to_string(request.options.min_points) +
                                   " points to forecast");
  }
  if (static_cast<size_t>(request.chunks) > series) {
    return Status::InvalidArgument("--chunks " + std::to_string(request.chunks) + " exceeds the " +
                                   std::to_string(series) + " series to forecast; nothing written");
  }
  return out;
}

}  // namespace

std::string EncodeDoubles(const std::vector<double>& values) {
  std::string bytes(values.size() * sizeof(double), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return Base64Encode(bytes);
}

Result<std::vector<double>> DecodeDoubles(const std::string& text) {
  PULSE_ASSIGN_OR_RETURN(std::string bytes, Base64Decode(text));
  if (bytes.size() % sizeof(double) != 0)
    return Status::InvalidArgument("encoded doubles: " + std::to_string(bytes.size()) + " bytes, not a multiple of 8");
  std::vector<double> values(bytes.size() / sizeof(double));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

nlohmann::json CalibrationJson(const ForecastCalibration& calibration) {
  std::vector<double> levels, multipliers;
  std::vector<bool> calibrated;
  for (const auto& b : calibration.bands) {
    levels.push_back(b.level), multipliers.push_back(b.multiplier), calibrated.push_back(b.calibrated);
  }
  return {{"levels", EncodeDoubles(levels)},
          {"multipliers", EncodeDoubles(multipliers)},
          {"calibrated", calibrated},
          {"multiplier80", EncodeDoubles({calibration.multiplier80})}};
}

Result<ForecastCalibration> CalibrationFromJson(const nlohmann::json& json) {
  const auto bad = [] {
    return Status::InvalidArgument(
        "calibration must be {levels, multipliers, multiplier80: encoded doubles, calibrated: [bool]}");
  };
  if (!json.is_object()) return bad();
  for (const char* key : {"levels", "multipliers", "multiplier80"}) {
    if (!json.contains(key) || !json[key].is_string()) return bad();
  }
  if (!json.contains("calibrated") || !json["calibrated"].is_array()) return bad();
  PULSE_ASSIGN_OR_RETURN(auto levels, DecodeDoubles(json["levels"].get<std::string>()));
  PULSE_ASSIGN_OR_RETURN(auto multipliers, DecodeDoubles(json["multipliers"].get<std::string>()));
  PULSE_ASSIGN_OR_RETURN(auto m80, DecodeDoubles(json["multiplier80"].get<std::string>()));
  const auto& calibrated = json["calibrated"];
  if (multipliers.size() != levels.size() || calibrated.size() != levels.size() || m80.size() != 1) return bad();
  ForecastCalibration out;
  for (size_t i = 0; i < levels.size(); ++i) {
    if (!calibrated[i].is_boolean()) return bad();
    out.bands.push_back({levels[i], multipliers[i], calibrated[i].get<bool>()});
  }
  out.multiplier80 = m80[0];
  return out;
}

Result<ChunkedForecastReport> ForecastOverBroker(jobs::Broker& broker, lake::Lake& lake,
                                                 const ChunkedForecastRequest& request) {
  if (request.chunks < 1)
    return Status::InvalidArgument("--chunks must be >= 1, got " + std::to_string(request.chunks));
  if (request.options.registry != nullptr) {
    return Status::InvalidArgument(
        "a chunked forecast serves champions from the workers' registry settings: pass options without a registry");
  }
  ChunkedForecastReport report;
  report.chunks = request.chunks;
  ForecastReport& total = report.total;
  PULSE_ASSIGN_OR_RETURN(auto signals, lake.OpenTable("signals"));
  PULSE_ASSIGN_OR_RETURN(total.signals_version, signals->LatestVersion());
  // Staging objects of runs that never finished pass 2 (best effort: a lake that cannot be listed
  // fails the run below anyway, and left-overs are retried on the next run).
  auto removed = RemoveStaleForecastStaging(lake, request.staging_max_age);
  if (removed.ok()) report.staging_removed = *removed;
  // When the run stops before pass 2, the fits pass 1 staged are of no use (a rerun fits again).
  ForecastOptions staged_options = request.options;
  staged_options.signals_version = total.signals_version;
  const auto drop_staging = [&] {
    for (int i = 0; i < request.chunks; ++i)
      (void)lake.filesystem().Delete(ForecastStagingKey(staged_options, {i, request.chunks}));
  };

  // Pass 1: every chunk's scores.
  auto started = std::chrono::steady_clock::now();
  std::vector<std::pair<int, nlohmann::json>> kwargs;
  kwargs.reserve(static_cast<size_t>(request.chunks));
  for (int i = 0; i < request.chunks; ++i) kwargs.emplace_back(i, ChunkKwargs(request, total.signals_version, i));
  PULSE_ASSIGN_OR_RETURN(auto scored, RunPass(broker, "pulse.forecast_scores", "pass 1 (scores)", kwargs, request));
  auto pooled = PoolScores(scored, request, total);
  if (!pooled.ok()) {
    drop_staging();
    return pooled.status();
  }
  const std::vector<size_t>& chunk_series = pooled->chunk_series;
  const ForecastCalibration calibration = CalibrateScores(pooled->scores, request.options.levels);
  for (const auto& band : calibration.bands) total.multipliers.emplace_back(band.level, band.multiplier);
  report.scores_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // Pass 2: the chunks with series, written with the pooled calibration.
  started = std::chrono::steady_clock::now();
  kwargs.clear();
  const nlohmann::json calibration_json = CalibrationJson(calibration);
  for (int i = 0; i < request.chunks; ++i) {
    if (chunk_series[static_cast<size_t>(i)] == 0) {
      ++report.chunks_empty;
      continue;
    }
    auto kw = ChunkKwargs(request, total.signals_version, i);
    kw["calibration"] = calibration_json;
    kwargs.emplace_back(i, std::move(kw));
  }
  PULSE_ASSIGN_OR_RETURN(auto written, RunPass(broker, "pulse.forecast_chunk", "pass 2 (write)", kwargs, request));
  report.write_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  total.series = pooled->series;
  for (const auto& r : written.results) {
    if (!r.is_object()) continue;
    if (r.value("duplicate", false)) {
      ++report.chunks_duplicate;
    } else {
      ++report.chunks_written;
      total.rows += r.value("rows", int64_t{0});
      total.champions += r.value("champions", size_t{0});
    }
    report.series_refitted += r.value("refitted", size_t{0});
    total.forecasts_version = std::max(total.forecasts_version, r.value("forecasts_version", int64_t{-1}));
  }
  if (!written.errors.empty()) {
    return Status::Internal(
        std::to_string(written.errors.size()) + " of " + std::to_string(kwargs.size()) + " chunks failed (" +
        std::to_string(report.chunks_written + report.chunks_duplicate) +
        " are committed; run the same command again to finish the others): " + Joined(written.errors));
  }
  total.duplicate = report.chunks_written == 0;
  return report;
}

}  // namespace pulse::pipeline
