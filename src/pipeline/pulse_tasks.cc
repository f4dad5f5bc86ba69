#include "pipeline/pulse_tasks.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <type_traits>

#include "core/files.h"
#include "core/hash.h"
#include "core/time.h"
#include "ingest/file_ingest.h"
#include "lake/lake.h"
#include "pipeline/drift_job.h"
#include "pipeline/forecast_chunks.h"
#include "pipeline/forecast_signals.h"
#include "pipeline/retrodiction_history.h"
#include "pipeline/task_paths.h"
#include "pipeline/train_models.h"
#include "pipeline/trust_scores.h"
#include "pipeline/world_simulation.h"
#include "sim/monte_carlo.h"
#include "sim/retrodiction.h"

namespace pulse::pipeline {
namespace {

template <class T>
Result<T> Kwarg(const nlohmann::json& kwargs, const char* name, T fallback) {
  auto it = kwargs.find(name);
  if (it == kwargs.end() || it->is_null()) return fallback;
  // nlohmann would convert -1 to 2^64-1 for an unsigned target and truncate 2.5 or 1e30 (the
  // latter undefined): a whole-number kwarg must be an integer within the target's range.
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const auto out_of_range = [&] {
      return Status::InvalidArgument(std::string("kwarg '") + name + "' must be a whole number in [" +
                                     std::to_string(std::numeric_limits<T>::min()) + ", " +
                                     std::to_string(std::numeric_limits<T>::max()) + "], got " + it->dump());
    };
    if (it->is_number_float()) return out_of_range();
    if (it->is_number_unsigned() && it->template get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return out_of_range();
    if (it->is_number_integer() && !it->is_number_unsigned()) {
      const int64_t v = it->template get<int64_t>();
      if (v < 0 ? (std::is_unsigned_v<T> || v < static_cast<int64_t>(std::numeric_limits<T>::min()))
                : static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        return out_of_range();
    }
  }
  try {
    T value = it->get<T>();
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(value))
        return Status::InvalidArgument(std::string("kwarg '") + name + "' must be a finite number, got " + it->dump());
    }
    return value;
  } catch (const nlohmann::json::exception&) {
    return Status::InvalidArgument(std::string("kwarg '") + name + "' has the wrong type: " + it->dump());
  }
}

Result<nlohmann::json> Simulate(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  sim::MonteCarloOptions o;
  PULSE_ASSIGN_OR_RETURN(o.runs, Kwarg<uint64_t>(kw, "runs", 1000));
  PULSE_ASSIGN_OR_RETURN(uint64_t turns, Kwarg<uint64_t>(kw, "turns", 52));
  PULSE_ASSIGN_OR_RETURN(o.seed, Kwarg<uint64_t>(kw, "seed", 0));
  PULSE_ASSIGN_OR_RETURN(o.first_run, Kwarg<uint64_t>(kw, "first_run", 0));
  PULSE_ASSIGN_OR_RETURN(o.noise_scale, Kwarg<double>(kw, "noise", 0.01));
  PULSE_ASSIGN_OR_RETURN(o.quantiles, Kwarg<std::vector<double>>(kw, "quantiles", {0.05, 0.5, 0.95}));
  PULSE_ASSIGN_OR_RETURN(bool symbolic, Kwarg<bool>(kw, "symbolic", false));
  PULSE_ASSIGN_OR_RETURN(bool want_summary, Kwarg<bool>(kw, "summary", false));
  PULSE_ASSIGN_OR_RETURN(auto names, Kwarg<std::vector<std::string>>(kw, "variables", {}));
  if (o.runs == 0 || o.runs > env.max_runs) {
    return Status::InvalidArgument("runs must be 1.." + std::to_string(env.max_runs) + ", got " +
                                   std::to_string(o.runs));
  }
  if (turns == 0 || turns > env.max_turns) {
    return Status::InvalidArgument("turns must be 1.." + std::to_string(env.max_turns) + ", got " +
                                   std::to_string(turns));
  }
  o.turns = static_cast<uint32_t>(turns);
  o.threads = 1;  // the worker's concurrency is the parallelism
  sim::TurnEngine engine(*env.catalog, *env.rules, {.decay_rate = env.decay_rate, .symbolic = symbolic});
  PULSE_ASSIGN_OR_RETURN(auto result, sim::RunMonteCarlo(engine, env.catalog->Initial(), o));
  const sim::Summary& summary = result.summary;
  std::vector<size_t> columns;
  for (size_t c = 0; c < summary.columns().size(); ++c) {
    const std::string& name = summary.columns()[c];
    bool pick;
    if (names.empty()) {
      pick = c >= env.catalog->size() ? (name == "tension" || name == "fragility")
                                      : ((*env.catalog)[static_cast<uint32_t>(c)].kind != sim::SlotKind::kVariable ||
                                         (*env.catalog)[static_cast<uint32_t>(c)].type == "driver");
    } else {
      pick = std::find(names.begin(), names.end(), name) != names.end();
    }
    if (pick) columns.push_back(c);
  }
  if (columns.size() < names.size()) return Status::InvalidArgument("unknown name in 'variables'");
  nlohmann::json vars = nlohmann::json::object();
  for (size_t c : columns) {
    nlohmann::json mean = nlohmann::json::array(), sd = nlohmann::json::array(), qs = nlohmann::json::array();
    for (size_t step = 0; step < summary.steps(); ++step) {
      auto s = summary.Get(step, c, o.quantiles);
      mean.push_back(s.mean), sd.push_back(s.sd), qs.push_back(s.quantiles);
    }
    vars[summary.columns()[c]] = {{"mean", mean}, {"sd", sd}, {"quantiles", qs}};
  }
  nlohmann::json out = {{"runs", o.runs},
                        {"turns", o.turns},
                        {"seed", o.seed},
                        {"first_run", o.first_run},
                        {"quantile_levels", o.quantiles},
                        {"variables", vars}};
  if (want_summary) out["summary"] = summary.Serialize();
  return out;
}

// The lake a task names (kwarg `lake`, default the worker's), confined (task_paths.h).
Result<std::string> TaskLakeUrl(const TaskEnvironment& env, const nlohmann::json& kw) {
  PULSE_ASSIGN_OR_RETURN(std::string url, Kwarg<std::string>(kw, "lake", env.lake_url));
  if (url.empty()) return Status::InvalidArgument("no lake: pass kwarg 'lake' or start the worker with --lake");
  return ConfineLake(url, env.lake_url, env.lake_roots);
}

Result<std::unique_ptr<lake::Lake>> OpenTaskLake(const TaskEnvironment& env, const nlohmann::json& kw) {
  PULSE_ASSIGN_OR_RETURN(std::string allowed, TaskLakeUrl(env, kw));
  return lake::Lake::Open(allowed, env.s3);
}

// pulse.ingest's `path`, already confined to the inbox.
Result<ingest::IngestReport> IngestPath(const TaskEnvironment& env, const nlohmann::json& kw, const std::string& path,
                                        const ingest::IngestOptions& options) {
  PULSE_ASSIGN_OR_RETURN(auto lake, OpenTaskLake(env, kw));
  return ingest::IngestFile(*lake, path, options);
}

// pulse.ingest's `url`: an object of the task's lake's own store (task_paths.h ConfineLakeObject).
// Every check that needs no read comes before the lake is opened (a refused url writes nothing,
// not even a new lake's folder). An S3 object is read through the lake's filesystem (its
// credentials), at most max_file_bytes, and ingested from memory; a local lake's file is resolved
// inside the lake's folder and ingested as a file. Refusals keep their url_refusal code at the
// start of the message.
Result<ingest::IngestReport> IngestUrl(const TaskEnvironment& env, const nlohmann::json& kw, const std::string& url,
                                       const ingest::IngestOptions& options) {
  PULSE_ASSIGN_OR_RETURN(std::string root, TaskLakeUrl(env, kw));
  // The object is looked for under the lake as the task or config wrote it (allowed, as `root` is
  // its resolved form): a url through the same symbolic link as lake.url is inside.
  PULSE_ASSIGN_OR_RETURN(std::string written, Kwarg<std::string>(kw, "lake", env.lake_url));
  PULSE_ASSIGN_OR_RETURN(LakeObject object, ConfineLakeObject(url, written));
  if (!object.s3) {
    PULSE_ASSIGN_OR_RETURN(std::string path, ConfineLakeFile(object, written));
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > static_cast<uintmax_t>(options.max_file_bytes)) {
      return Status::InvalidArgument(std::string(url_refusal::kTooLarge) + ": " + url + " holds " +
                                     std::to_string(size) + " bytes, more than the " +
                                     std::to_string(options.max_file_bytes) +
                                     " allowed (config ingest.max_file_bytes)");
    }
    PULSE_ASSIGN_OR_RETURN(auto lake, lake::Lake::Open(root, env.s3));
    return ingest::IngestFile(*lake, path, options);  // ReadInput bounds it again (a file that grew)
  }
  PULSE_ASSIGN_OR_RETURN(auto lake, lake::Lake::Open(root, env.s3));
  auto bytes = lake->filesystem().ReadFileAtMost(object.key, options.max_file_bytes);
  if (!bytes.ok()) {
    const Status& st = bytes.status();
    if (st.code() == StatusCode::kNotFound)
      return Status::NotFound(std::string(url_refusal::kNotFound) + ": " + st.message());
    if (st.code() == StatusCode::kInvalidArgument) {
      return Status::InvalidArgument(std::string(url_refusal::kTooLarge) + ": " + st.message() +
                                     " (config ingest.max_file_bytes)");
    }
    return st;  // unreachable store: retried
  }
  return ingest::IngestBytes(*lake, *bytes, url, options);
}

Result<nlohmann::json> Ingest(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  PULSE_ASSIGN_OR_RETURN(std::string requested, Kwarg<std::string>(kw, "path", ""));
  PULSE_ASSIGN_OR_RETURN(std::string url, Kwarg<std::string>(kw, "url", ""));
  if (!requested.empty() && !url.empty())
    return Status::InvalidArgument("pulse.ingest takes kwarg 'path' or kwarg 'url', not both");
  if (requested.empty() && url.empty()) {
    return Status::InvalidArgument(
        "pulse.ingest needs kwarg 'path' (a file in the ingest inbox) or 'url' (an object in the lake's store)");
  }
  std::string path;
  if (!requested.empty()) {
    PULSE_ASSIGN_OR_RETURN(path, ConfineIngestFile(requested, env.ingest_inbox, env.ingest_files));
  }
  ingest::IngestOptions options;
  PULSE_ASSIGN_OR_RETURN(options.kind, Kwarg<std::string>(kw, "kind", "signal"));
  PULSE_ASSIGN_OR_RETURN(options.source, Kwarg<std::string>(kw, "source", ""));
  PULSE_ASSIGN_OR_RETURN(options.wide, Kwarg<bool>(kw, "wide", false));
  PULSE_ASSIGN_OR_RETURN(options.only_new, Kwarg<bool>(kw, "only_new", false));
  PULSE_ASSIGN_OR_RETURN(options.time_columns, Kwarg<std::vector<std::string>>(kw, "time_columns", {}));
  options.scoring = env.scoring;
  options.regular_files_only = true;  // a FIFO or device must not hang the worker past its time limit
  options.max_file_bytes = env.ingest_max_bytes;
  PULSE_ASSIGN_OR_RETURN(auto report,
                         url.empty() ? IngestPath(env, kw, path, options) : IngestUrl(env, kw, url, options));
  PipelineStats& stats = *env.stats;
  if (report.duplicate) {
    ++stats.files_duplicate;
  } else {
    ++stats.files_ingested;
    stats.ingest_accepted += report.accepted;
    stats.ingest_rejected += report.rejected;
    stats.ingest_existing += report.existing;
    stats.gate_accept += report.gate.accept;
    stats.gate_escalate += report.gate.escalate;
    stats.gate_suppress += report.gate.suppress;
  }
  nlohmann::json rejects = nlohmann::json::array();
  for (const auto& r : report.rejects)
    if (rejects.size() < 100) rejects.push_back({{"line", r.line}, {"reason", r.reason}});
  return nlohmann::json{
      {"accepted", report.accepted},
      {"rejected", report.rejected},
      {"version", report.version},
      {"duplicate", report.duplicate},
      {"existing", report.existing},
      {"gate",
       {{"accept", report.gate.accept}, {"escalate", report.gate.escalate}, {"suppress", report.gate.suppress}}},
      {"rejects", rejects}};
}

// The forecast options of pulse.forecast and the chunk tasks from their kwargs; with `champions`,
// `models` holds the worker's registry when it serves champions (env.registry).
Result<ForecastOptions> ForecastOptionsFromKwargs(const TaskEnvironment& env, const nlohmann::json& kw,
                                                  std::unique_ptr<registry::Registry>& models, bool champions = true) {
  ForecastOptions options;
  if (champions && env.registry.serve_champion && !env.registry.url.empty()) {
    PULSE_ASSIGN_OR_RETURN(models, registry::OpenRegistry(env.registry.url));
    options.registry = models.get();
    options.model_prefix = env.registry.model_prefix;
  }
  PULSE_ASSIGN_OR_RETURN(options.horizon, Kwarg<int>(kw, "horizon", 0));
  PULSE_ASSIGN_OR_RETURN(options.period, Kwarg<int>(kw, "period", 0));
  PULSE_ASSIGN_OR_RETURN(options.levels, Kwarg<std::vector<double>>(kw, "levels", {0.5, 0.8, 0.95}));
  PULSE_ASSIGN_OR_RETURN(options.kinds, Kwarg<std::vector<std::string>>(kw, "kinds", {}));
  return options;
}

void CountForecast(const TaskEnvironment& env, const ForecastReport& report) {
  if (!report.duplicate) {
    env.stats->forecast_series = static_cast<int64_t>(report.series);
    env.stats->forecast_skipped = static_cast<int64_t>(report.skipped.size());
    env.stats->forecast_rows += report.rows;
  }
  env.stats->forecast_last_micros = time::NowMicros();
}

Result<nlohmann::json> Forecast(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  std::unique_ptr<registry::Registry> models;
  PULSE_ASSIGN_OR_RETURN(ForecastOptions options, ForecastOptionsFromKwargs(env, kw, models));
  PULSE_ASSIGN_OR_RETURN(auto lake, OpenTaskLake(env, kw));
  PULSE_ASSIGN_OR_RETURN(auto report, ForecastSignals(*lake, options));
  CountForecast(env, report);
  return nlohmann::json{{"series", report.series},
                        {"champions", report.champions},
                        {"rows", report.rows},
                        {"signals_version", report.signals_version},
                        {"forecasts_version", report.forecasts_version},
                        {"duplicate", report.duplicate}};
}

// The chunk kwargs of pulse.forecast_scores and pulse.forecast_chunk (pipeline/forecast_chunks.h).
Result<ForecastChunk> ChunkFromKwargs(const nlohmann::json& kw, ForecastOptions& options) {
  ForecastChunk chunk;
  PULSE_ASSIGN_OR_RETURN(chunk.index, Kwarg<int>(kw, "chunk", -1));
  PULSE_ASSIGN_OR_RETURN(chunk.count, Kwarg<int>(kw, "chunks", 0));
  PULSE_ASSIGN_OR_RETURN(options.signals_version, Kwarg<int64_t>(kw, "signals_version", -1));
  PULSE_ASSIGN_OR_RETURN(options.min_points, Kwarg<int>(kw, "min_points", options.min_points));
  if (chunk.count < 1 || chunk.index < 0 || chunk.index >= chunk.count)
    return Status::InvalidArgument("kwargs 'chunk' and 'chunks' must satisfy 0 <= chunk < chunks");
  if (options.signals_version < 0) return Status::InvalidArgument("kwarg 'signals_version' (>= 0) is required");
  return chunk;
}

Result<nlohmann::json> ForecastScores(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  std::unique_ptr<registry::Registry> models;  // pass 1 pools every fitted series' scores: no champions
  PULSE_ASSIGN_OR_RETURN(ForecastOptions options, ForecastOptionsFromKwargs(env, kw, models, false));
  PULSE_ASSIGN_OR_RETURN(ForecastChunk chunk, ChunkFromKwargs(kw, options));
  PULSE_ASSIGN_OR_RETURN(auto lake, OpenTaskLake(env, kw));
  PULSE_ASSIGN_OR_RETURN(auto scores, ForecastChunkScores(*lake, options, chunk));
  nlohmann::json out = {{"signals_version", scores.signals_version},
                        {"series", scores.series},
                        {"skipped", scores.skipped},
                        {"scores", EncodeDoubles(scores.scores)},
                        {"staged", scores.staged}};
  if (!scores.staging_error.empty()) out["staging_error"] = scores.staging_error;
  return out;
}

Result<nlohmann::json> ForecastChunkTask(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  std::unique_ptr<registry::Registry> models;
  PULSE_ASSIGN_OR_RETURN(ForecastOptions options, ForecastOptionsFromKwargs(env, kw, models));
  PULSE_ASSIGN_OR_RETURN(ForecastChunk chunk, ChunkFromKwargs(kw, options));
  if (!kw.contains("calibration")) return Status::InvalidArgument("pulse.forecast_chunk needs kwarg 'calibration'");
  PULSE_ASSIGN_OR_RETURN(ForecastCalibration calibration, CalibrationFromJson(kw["calibration"]));
  PULSE_ASSIGN_OR_RETURN(auto lake, OpenTaskLake(env, kw));
  PULSE_ASSIGN_OR_RETURN(auto report, ForecastChunkSeries(*lake, options, chunk, calibration));
  CountForecast(env, report);
  nlohmann::json out = {{"series", report.series},
                        {"champions", report.champions},
                        {"rows", report.rows},
                        {"skipped", report.skipped.size()},
                        {"signals_version", report.signals_version},
                        {"forecasts_version", report.forecasts_version},
                        {"duplicate", report.duplicate},
                        {"refitted", report.refitted}};
  if (!report.staging_problem.empty()) out["staging_problem"] = report.staging_problem;
  return out;
}

Result<nlohmann::json> Train(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  if (env.registry.url.empty()) return Status::InvalidArgument("pulse.train: the worker has no registry.url");
  TrainOptions options;
  options.registry = ModelRegistryOptionsFrom(env.registry);
  PULSE_ASSIGN_OR_RETURN(options.series, Kwarg<std::vector<std::string>>(kw, "series", {}));
  PULSE_ASSIGN_OR_RETURN(options.reason, Kwarg<std::string>(kw, "reason", "task"));
  PULSE_ASSIGN_OR_RETURN(options.method, Kwarg<std::string>(kw, "method", "Ensemble"));
  PULSE_ASSIGN_OR_RETURN(options.forecast.horizon, Kwarg<int>(kw, "horizon", 0));
  PULSE_ASSIGN_OR_RETURN(options.forecast.period, Kwarg<int>(kw, "period", 0));
  PULSE_ASSIGN_OR_RETURN(options.forecast.levels, Kwarg<std::vector<double>>(kw, "levels", {0.5, 0.8, 0.95}));
  PULSE_ASSIGN_OR_RETURN(options.forecast.kinds, Kwarg<std::vector<std::string>>(kw, "kinds", {}));
  PULSE_ASSIGN_OR_RETURN(auto lake, OpenTaskLake(env, kw));
  PULSE_ASSIGN_OR_RETURN(auto models, registry::OpenRegistry(env.registry.url));
  PULSE_ASSIGN_OR_RETURN(auto report, TrainModels(*lake, *models, options));
  return TrainReportJson(report);
}

Result<nlohmann::json> World(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  WorldSimulationOptions options;
  if (!kw.contains("mapping")) return Status::InvalidArgument("pulse.world needs kwarg 'mapping'");
  PULSE_ASSIGN_OR_RETURN(options.mapping, WorldMappingFromJson(kw["mapping"], *env.catalog));
  PULSE_ASSIGN_OR_RETURN(options.kind, Kwarg<std::string>(kw, "kind", "macro"));
  PULSE_ASSIGN_OR_RETURN(options.signals_version, Kwarg<int64_t>(kw, "signals_version", -1));
  PULSE_ASSIGN_OR_RETURN(options.runs, Kwarg<uint64_t>(kw, "runs", options.runs));
  PULSE_ASSIGN_OR_RETURN(uint64_t turns, Kwarg<uint64_t>(kw, "turns", options.turns));
  if (turns > env.max_turns) return Status::InvalidArgument("turns must be 1.." + std::to_string(env.max_turns));
  options.turns = static_cast<uint32_t>(turns);
  PULSE_ASSIGN_OR_RETURN(options.seed, Kwarg<uint64_t>(kw, "seed", 0));
  PULSE_ASSIGN_OR_RETURN(options.noise, Kwarg<double>(kw, "noise", options.noise));
  PULSE_ASSIGN_OR_RETURN(options.quantiles, Kwarg<std::vector<double>>(kw, "quantiles", options.quantiles));
  PULSE_ASSIGN_OR_RETURN(auto lake, OpenTaskLake(env, kw));
  PULSE_ASSIGN_OR_RETURN(auto report, SimulateWorld(*lake, env, options));
  nlohmann::json initial = nlohmann::json::array();
  for (const auto& v : report.initial) {
    initial.push_back(
        {{"signal", v.signal}, {"variable", v.variable}, {"ts", v.ts}, {"observed", v.observed}, {"value", v.value}});
  }
  return nlohmann::json{{"sim_id", report.sim_id},
                        {"signals_version", report.signals_version},
                        {"version", report.write.version},
                        {"rows", report.write.rows},
                        {"duplicate", report.write.duplicate},
                        {"initial", initial},
                        {"runs", options.runs},
                        {"turns", options.turns}};
}

Result<nlohmann::json> Trust(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  TrustOptions options;
  PULSE_ASSIGN_OR_RETURN(options.signals_version, Kwarg<int64_t>(kw, "signals_version", -1));
  PULSE_ASSIGN_OR_RETURN(options.sim_id, Kwarg<std::string>(kw, "sim_id", ""));
  PULSE_ASSIGN_OR_RETURN(auto lake, OpenTaskLake(env, kw));
  PULSE_ASSIGN_OR_RETURN(auto report, ScoreForecastTrust(*lake, options));
  if (!report.duplicate) env.stats->trust_rows += report.rows;
  env.stats->trust_last_micros = time::NowMicros();
  return nlohmann::json{{"signals_version", report.signals_version},
                        {"version", report.version},
                        {"rows", report.rows},
                        {"duplicate", report.duplicate}};
}

// Drift detection over the lake (pipeline/drift_job.h); the triggers are returned, not enqueued.
Result<nlohmann::json> Drift(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  DriftOptions options;
  PULSE_ASSIGN_OR_RETURN(options.reference_points, Kwarg<int64_t>(kw, "reference_points", options.reference_points));
  PULSE_ASSIGN_OR_RETURN(options.current_points, Kwarg<int64_t>(kw, "current_points", options.current_points));
  PULSE_ASSIGN_OR_RETURN(options.kinds, Kwarg<std::vector<std::string>>(kw, "kinds", {}));
  PULSE_ASSIGN_OR_RETURN(options.min_coverage_outcomes,
                         Kwarg<int64_t>(kw, "min_coverage_outcomes", options.min_coverage_outcomes));
  PULSE_ASSIGN_OR_RETURN(auto lake, OpenTaskLake(env, kw));
  PULSE_ASSIGN_OR_RETURN(auto report, DetectDrift(*lake, options));
  RecordDriftMetrics(report, *env.stats);
  nlohmann::json retrain = nlohmann::json::array();
  for (const auto& r : report.retrain) retrain.push_back({{"series", r.series}, {"reason", r.reason}});
  return nlohmann::json{{"signals_version", report.signals_version},
                        {"version", report.version},
                        {"rows", report.rows},
                        {"duplicate", report.duplicate},
                        {"series_checked", report.series_checked},
                        {"input_drift", report.input_drift},
                        {"detections", report.detections},
                        {"retrain", retrain}};
}

// Retrodiction of the rules against the lake's signals (sim/retrodiction.h).
Result<nlohmann::json> Retrodict(const TaskEnvironment& env, const jobs::TaskContext& context) {
  const nlohmann::json& kw = context.message.kwargs;
  PULSE_ASSIGN_OR_RETURN(std::string grid, Kwarg<std::string>(kw, "grid", "weekly"));
  PULSE_ASSIGN_OR_RETURN(std::string mode, Kwarg<std::string>(kw, "mode", "strict"));
  PULSE_ASSIGN_OR_RETURN(bool symbolic, Kwarg<bool>(kw, "symbolic", false));
  PULSE_ASSIGN_OR_RETURN(auto kinds, Kwarg<std::vector<std::string>>(kw, "kinds", {}));
  PULSE_ASSIGN_OR_RETURN(int64_t version, Kwarg<int64_t>(kw, "signals_version", -1));
  if (grid != "daily" && grid != "weekly")
    return Status::InvalidArgument("grid is daily or weekly, got '" + grid + "'");
  if (mode != "strict" && mode != "free") return Status::InvalidArgument("mode is strict or free, got '" + mode + "'");
  std::map<std::string, SignalMapping> mapping;
  if (kw.contains("mapping")) {
    PULSE_ASSIGN_OR_RETURN(auto parsed, WorldMappingFromJson({{"signals", kw["mapping"]}}, *env.catalog));
    mapping = parsed.signals;
  }
  PULSE_ASSIGN_OR_RETURN(auto lake, OpenTaskLake(env, kw));
  PULSE_ASSIGN_OR_RETURN(auto table, lake->OpenTable("signals"));
  lake::ReadOptions read{.columns = {"kind", "name", "ts", "value"}};
  if (version >= 0) read.version = version;
  if (!kinds.empty()) read.partition_filters.push_back({"kind", kinds});
  PULSE_ASSIGN_OR_RETURN(auto rows, table->Read(read));
  std::vector<std::string> unmapped;
  PULSE_ASSIGN_OR_RETURN(
      auto history,
      BuildHistory(*rows, *env.catalog, grid == "daily" ? TurnGrid::kDaily : TurnGrid::kWeekly, mapping, &unmapped));
  sim::TurnEngine engine(*env.catalog, *env.rules, {.decay_rate = env.decay_rate, .symbolic = symbolic});
  PULSE_ASSIGN_OR_RETURN(auto report,
                         sim::Retrodict(engine, env.catalog->Initial(), history,
                                        mode == "strict" ? sim::RetroMode::kStrict : sim::RetroMode::kSeedThenFree));
  return RetroReportJson(report, *env.catalog, history, grid, mode, unmapped);
}

}  // namespace

Result<TaskEnvironment> LoadTaskEnvironment(const std::string& catalog_path, const std::string& rules_path) {
  PULSE_ASSIGN_OR_RETURN(std::string catalog_text, ReadTextFile(catalog_path));
  PULSE_ASSIGN_OR_RETURN(auto catalog, sim::Catalog::Parse(catalog_text, catalog_path));
  PULSE_ASSIGN_OR_RETURN(std::string rules_text, ReadTextFile(rules_path));
  PULSE_ASSIGN_OR_RETURN(auto rules, sim::ParseRules(rules_text, rules_path, catalog));
  TaskEnvironment env;
  env.version = ContentId({{"catalog", Sha256Hex(catalog_text)}, {"rules", Sha256Hex(rules_text)}});
  env.catalog = std::make_shared<const sim::Catalog>(std::move(catalog));
  env.rules = std::make_shared<const sim::RuleSet>(std::move(rules));
  return env;
}

void RegisterPulseTasks(jobs::TaskRegistry& registry, const TaskEnvironment& environment) {
  registry.Register("pulse.noop",
                    {[](const jobs::TaskContext& c) -> Result<nlohmann::json> { return c.message.args; }});
  jobs::TaskSpec simulate;
  simulate.fn = [env = environment](const jobs::TaskContext& c) { return Simulate(env, c); };
  simulate.cache_key = [version = environment.version, decay = environment.decay_rate](const jobs::TaskMessage& m) {
    return ContentId({{"task", m.task}, {"args", m.args}, {"kwargs", m.kwargs}, {"model", version}, {"decay", decay}});
  };
  registry.Register("pulse.simulate", std::move(simulate));
  registry.Register("pulse.ingest", {[env = environment](const jobs::TaskContext& c) { return Ingest(env, c); }});
  registry.Register("pulse.forecast", {[env = environment](const jobs::TaskContext& c) { return Forecast(env, c); }});
  registry.Register("pulse.forecast_scores",
                    {[env = environment](const jobs::TaskContext& c) { return ForecastScores(env, c); }});
  registry.Register("pulse.forecast_chunk",
                    {[env = environment](const jobs::TaskContext& c) { return ForecastChunkTask(env, c); }});
  registry.Register("pulse.world", {[env = environment](const jobs::TaskContext& c) { return World(env, c); }});
  registry.Register("pulse.retrodict", {[env = environment](const jobs::TaskContext& c) { return Retrodict(env, c); }});
  registry.Register("pulse.trust", {[env = environment](const jobs::TaskContext& c) { return Trust(env, c); }});
  registry.Register("pulse.drift", {[env = environment](const jobs::TaskContext& c) { return Drift(env, c); }});
  registry.Register("pulse.train", {[env = environment](const jobs::TaskContext& c) { return Train(env, c); }});
}

}  // namespace pulse::pipeline
