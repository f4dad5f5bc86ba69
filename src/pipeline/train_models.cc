#include "pipeline/train_models.h"

#include <arrow/api.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "core/hash.h"
#include "core/time.h"
#include "forecast/metrics.h"
#include "pipeline/internal/series_fit.h"

namespace pulse::pipeline {
namespace {

using internal::SeriesData;
using internal::SeriesForecast;

std::string Number(double v) {
  if (!std::isfinite(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// SHA-256 of a series' observations: its times and values as 8-byte words, in order.
std::string DataDigest(const SeriesData& s) {
  std::string bytes(s.ts.size() * 16, '\0');
  for (size_t i = 0; i < s.ts.size(); ++i) {
    std::memcpy(bytes.data() + 16 * i, &s.ts[i], 8);
    std::memcpy(bytes.data() + 16 * i + 8, &s.values[i], 8);
  }
  return Sha256Hex(bytes);
}

std::string Identity(const TrainOptions& o, const SeriesData& s, const std::string& digest) {
  return ContentId({{"format", registry::kModelFormat},
                    {"method", o.method},
                    {"horizon", o.forecast.horizon},
                    {"period", o.forecast.period},
                    {"levels", o.forecast.levels},
                    {"min_points", o.forecast.min_points},
                    {"kind", s.kind},
                    {"series", s.name},
                    {"data", digest}});
}

// The model a fit gives: method and weights, grid, the run's bands, backtest scores of the method.
registry::ForecastModel BuildModel(const TrainOptions& o, const SeriesData& s, const SeriesForecast& f,
                                   const internal::Calibration& calibration, size_t method, int64_t signals_version) {
  registry::ForecastModel m;
  m.kind = s.kind;
  m.series = s.name;
  m.method = o.method;
  if (method == forecast::kAllMethods.size()) {
    for (size_t k = 0; k < forecast::kAllMethods.size(); ++k) {
      if (f.result.weights.weight[k] > 0)
        m.weights[std::string(forecast::MethodName(forecast::kAllMethods[k]))] = f.result.weights.weight[k];
    }
  }
  m.period = f.period;
  m.horizon = f.horizon;
  m.frequency = f.grid.name;
  for (const auto& b : calibration.bands) m.bands.push_back({b.level, b.multiplier, b.calibrated});
  m.signals_version = signals_version;
  m.observations = static_cast<int64_t>(s.values.size());
  m.last_observation_us = s.ts.back();
  m.trained_at_us = time::NowMicros();
  const auto& scores = f.result.scores[method];
  m.backtest.mase = f.result.backtest_mase[method];
  m.backtest.naive_mase = f.result.backtest_mase[static_cast<size_t>(forecast::Method::kNaive)];
  m.backtest.points = static_cast<int64_t>(scores.size());
  m.backtest.coverage80 =
      scores.empty() ? std::nan("")
                     : static_cast<double>(std::count_if(scores.begin(), scores.end(),
                                                         [&](double z) { return z <= calibration.multiplier80; })) /
                           static_cast<double>(scores.size());
  return m;
}

// The champion's MASE on the challenger's backtest window: its model run on the data before the
// last `horizon` observations. NaN when the series is too short for that window.
Result<double> ChampionMase(const registry::ForecastModel& champion, const SeriesData& s, const SeriesForecast& f) {
  const size_t h = static_cast<size_t>(f.horizon);
  if (s.values.size() < h + 4) return std::nan("");
  std::span<const double> all(s.values);
  PULSE_ASSIGN_OR_RETURN(forecast::MethodForecast fc,
                         internal::ModelForecast(champion, all.first(all.size() - h), f.horizon));
  return forecast::Mase(all.last(h), fc.mean, f.scale);
}

Status EnsureModel(registry::Registry& reg, const std::string& name, const SeriesData& s) {
  auto got = reg.GetRegisteredModel(name);
  if (got.ok()) return Status::Ok();
  if (got.status().code() != StatusCode::kNotFound) return got.status();
  auto created = reg.CreateRegisteredModel(name, "Pulse forecasting model of " + s.kind + "/" + s.name);
  if (created.ok() || created.status().code() == StatusCode::kAlreadyExists) return Status::Ok();
  return created.status();
}

// Decides promotion of a challenger with the given scores against the current champion (if any).
struct Decision {
  bool promote = false;
  std::string reason;
  int64_t champion_version = 0;
  double champion_mase = std::nan("");
};

Result<Decision> Decide(registry::Registry& reg, const std::string& name, const TrainOptions& o,
                        const registry::ForecastModel& challenger, const SeriesData& s, const SeriesForecast& f) {
  Decision d;
  auto champion = reg.GetVersionByAlias(name, "champion");
  if (!champion.ok()) {
    if (champion.status().code() != StatusCode::kNotFound) return champion.status();
    d.promote = true;
    d.reason = "first version: no champion yet";
    return d;
  }
  d.champion_version = champion->version;
  PULSE_ASSIGN_OR_RETURN(registry::ForecastModel model, registry::LoadForecastModel(reg, *champion));
  PULSE_ASSIGN_OR_RETURN(d.champion_mase, ChampionMase(model, s, f));
  const double mase = challenger.backtest.mase;
  const double needed = d.champion_mase * (1 - o.registry.promotion_margin);
  const double min_coverage = 0.8 - o.registry.coverage_tolerance;
  if (!std::isfinite(mase) || !std::isfinite(d.champion_mase)) {
    d.reason = "no backtest window to compare on (series shorter than horizon + 4)";
  } else if (mase > needed) {
    d.reason = "backtest MASE " + Number(mase) + " does not beat champion v" + std::to_string(d.champion_version) +
               "'s " + Number(d.champion_mase) + " by the margin " + Number(o.registry.promotion_margin) +
               " (needs <= " + Number(needed) + ")";
  } else if (!(challenger.backtest.coverage80 >= min_coverage)) {
    d.reason = "calibrated 80% band covered " + Number(challenger.backtest.coverage80) + " of the backtest, below " +
               Number(min_coverage);
  } else {
    d.promote = true;
    d.reason = "backtest MASE " + Number(mase) + " beats champion v" + std::to_string(d.champion_version) + "'s " +
               Number(d.champion_mase) + " by more than the margin " + Number(o.registry.promotion_margin) +
               "; 80% coverage " + Number(challenger.backtest.coverage80);
  }
  return d;
}

// model_events rows, built as decisions are made.
class EventRows {
 public:
  Status Add(const SeriesTraining& t, const TrainOptions& o, int64_t signals_version) {
    auto opt = [](arrow::DoubleBuilder& b, double v) { return std::isfinite(v) ? b.Append(v) : b.AppendNull(); };
    const bool ok =
        time_b_.Append(time::NowMicros()).ok() && kind_b_.Append(t.kind).ok() && series_b_.Append(t.series).ok() &&
        name_b_.Append(t.model_name).ok() && version_b_.Append(t.version).ok() && event_b_.Append(t.decision).ok() &&
        (t.champion_version > 0 ? champion_b_.Append(t.champion_version) : champion_b_.AppendNull()).ok() &&
        opt(challenger_mase_b_, t.challenger_mase).ok() && opt(champion_mase_b_, t.champion_mase).ok() &&
        margin_b_.Append(o.registry.promotion_margin).ok() && opt(coverage_b_, t.coverage80).ok() &&
        min_coverage_b_.Append(0.8 - o.registry.coverage_tolerance).ok() && reason_b_.Append(t.reason).ok() &&
        trigger_b_.Append(o.reason).ok() && signals_b_.Append(signals_version).ok();
    if (!ok) return Status::Internal("building the model_events rows");
    ++rows_;
    return Status::Ok();
  }
  int64_t rows() const { return rows_; }
  Result<std::shared_ptr<arrow::Table>> Finish() {
    arrow::ArrayBuilder* builders[] = {&time_b_,          &kind_b_,    &series_b_,   &name_b_,
                                       &version_b_,       &event_b_,   &champion_b_, &challenger_mase_b_,
                                       &champion_mase_b_, &margin_b_,  &coverage_b_, &min_coverage_b_,
                                       &reason_b_,        &trigger_b_, &signals_b_};
    std::vector<std::shared_ptr<arrow::Array>> cols;
    for (auto* b : builders) {
      std::shared_ptr<arrow::Array> a;
      if (!b->Finish(&a).ok()) return Status::Internal("building the model_events table");
      cols.push_back(std::move(a));
    }
    return arrow::Table::Make(ModelEventSchema(), cols);
  }

 private:
  arrow::TimestampBuilder time_b_{arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool()};
  arrow::StringBuilder kind_b_, series_b_, name_b_, event_b_, reason_b_, trigger_b_;
  arrow::Int64Builder version_b_, champion_b_, signals_b_;
  arrow::DoubleBuilder challenger_mase_b_, champion_mase_b_, margin_b_, coverage_b_, min_coverage_b_;
  int64_t rows_ = 0;
};

// Trains one series: the no-op check, the run and version, the decision and its records.
Result<SeriesTraining> TrainSeries(registry::Registry& reg, const TrainOptions& o, const SeriesData& s,
                                   const SeriesForecast& f, const internal::Calibration& calibration, size_t method,
                                   int64_t signals_version) {
  SeriesTraining t{s.kind, s.name, SeriesModelName(o.registry.model_prefix, s.kind, s.name)};
  const std::string digest = DataDigest(s);
  const std::string identity = Identity(o, s, digest);
  PULSE_RETURN_IF_ERROR(EnsureModel(reg, t.model_name, s));
  PULSE_ASSIGN_OR_RETURN(auto versions, reg.ListModelVersions(t.model_name));
  for (const auto& v : versions) {
    auto tag = v.tags.find("pulse.identity");
    if (tag != v.tags.end() && tag->second == identity) {
      t.unchanged = true;
      t.version = v.version;
      return t;
    }
  }
  registry::ForecastModel model = BuildModel(o, s, f, calibration, method, signals_version);
  model.data_digest = digest;
  model.identity = identity;
  t.challenger_mase = model.backtest.mase;
  t.coverage80 = model.backtest.coverage80;
  PULSE_ASSIGN_OR_RETURN(Decision d, Decide(reg, t.model_name, o, model, s, f));
  t.decision = d.promote ? "promoted" : "refused";
  t.reason = d.reason;
  t.champion_version = d.champion_version;
  t.champion_mase = d.champion_mase;

  registry::RunRecord run;
  run.experiment = o.registry.experiment;
  run.run_name = t.model_name + " " + o.reason;
  std::string levels;
  for (double l : o.forecast.levels) levels += (levels.empty() ? "" : ",") + Number(l);
  run.params = {{"method", model.method},
                {"period", std::to_string(model.period)},
                {"horizon", std::to_string(model.horizon)},
                {"levels", levels},
                {"frequency", model.frequency},
                {"signals_version", std::to_string(signals_version)},
                {"reason", o.reason}};
  run.metrics = {{"backtest_mase", model.backtest.mase},
                 {"naive_mase", model.backtest.naive_mase},
                 {"coverage80", model.backtest.coverage80},
                 {"observations", static_cast<double>(model.observations)}};
  run.tags = {{"pulse.kind", s.kind}, {"pulse.series", s.name}, {"pulse.identity", identity}};
  PULSE_ASSIGN_OR_RETURN(registry::RunInfo info, reg.LogRun(run, registry::ModelArtifacts(model)));
  const registry::Tags tags = {{"pulse.identity", identity},
                               {"pulse.signals_version", std::to_string(signals_version)},
                               {"pulse.promotion", t.decision},
                               {"pulse.promotion.reason", t.reason},
                               {"pulse.promotion.challenger_mase", Number(t.challenger_mase)},
                               {"pulse.promotion.champion_mase", Number(t.champion_mase)},
                               {"pulse.promotion.champion_version", std::to_string(t.champion_version)},
                               {"pulse.promotion.coverage80", Number(t.coverage80)},
                               {"pulse.promotion.margin", Number(o.registry.promotion_margin)}};
  PULSE_ASSIGN_OR_RETURN(registry::ModelVersion version, reg.CreateModelVersion(t.model_name, info, tags));
  t.version = version.version;
  if (d.promote) {
    PULSE_RETURN_IF_ERROR(reg.SetAlias(t.model_name, "champion", t.version));
    auto challenger = reg.GetVersionByAlias(t.model_name, "challenger");
    if (challenger.ok()) PULSE_RETURN_IF_ERROR(reg.DeleteAlias(t.model_name, "challenger"));
  } else {
    PULSE_RETURN_IF_ERROR(reg.SetAlias(t.model_name, "challenger", t.version));
  }
  PULSE_RETURN_IF_ERROR(reg.SetRegisteredModelTag(t.model_name, "pulse.last_event",
                                                  t.decision + " v" + std::to_string(t.version) + ": " + t.reason));
  return t;
}

Status WriteEvents(lake::Lake& lake, EventRows& rows, TrainReport& report) {
  if (rows.rows() == 0) return Status::Ok();
  PULSE_ASSIGN_OR_RETURN(auto table, rows.Finish());
  PULSE_ASSIGN_OR_RETURN(auto events, lake.OpenOrCreateTable(kModelEventsTable, ModelEventSchema(), {}));
  lake::WriteOptions write;
  write.operation = "MODEL EVENTS";
  write.operation_parameters = {{"signals_version", std::to_string(report.signals_version)}};
  PULSE_ASSIGN_OR_RETURN(auto commit, events->Append(*table, write));
  report.events_version = commit.version;
  return Status::Ok();
}

}  // namespace

ModelRegistryOptions ModelRegistryOptionsFrom(const RegistrySettings& settings) {
  return {settings.model_prefix, settings.experiment, settings.promotion_margin, settings.coverage_tolerance};
}

std::string SeriesModelName(const std::string& prefix, const std::string& kind, const std::string& series) {
  std::string name = prefix + "." + kind + "." + series;
  bool changed = false;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    const char c = name[i];
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) name[i] = '_', changed = true;
  }
  if (changed || kind.empty() || series.empty()) name += "-" + Sha256Hex(kind + '\0' + series).substr(0, 8);
  if (name.size() > 200) name = name.substr(0, 191) + "-" + Sha256Hex(kind + '\0' + series).substr(0, 8);
  return name;
}

nlohmann::json TrainReportJson(const TrainReport& report) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json series = nlohmann::json::array();
  for (const auto& t : report.series) {
    series.push_back({{"kind", t.kind},
                      {"series", t.series},
                      {"model_name", t.model_name},
                      {"unchanged", t.unchanged},
                      {"version", t.version},
                      {"decision", t.decision},
                      {"reason", t.reason},
                      {"champion_version", t.champion_version},
                      {"challenger_mase", num(t.challenger_mase)},
                      {"champion_mase", num(t.champion_mase)},
                      {"coverage80", num(t.coverage80)}});
  }
  return {{"signals_version", report.signals_version},
          {"events_version", report.events_version},
          {"skipped", report.skipped},
          {"series", series}};
}

std::shared_ptr<arrow::Schema> ModelEventSchema() {
  auto ts = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  return arrow::schema({
      arrow::field("time", ts, false),
      arrow::field("kind", arrow::utf8(), false),
      arrow::field("series", arrow::utf8(), false),
      arrow::field("model_name", arrow::utf8(), false),
      arrow::field("version", arrow::int64(), false),
      arrow::field("event", arrow::utf8(), false),             // promoted | refused
      arrow::field("champion_version", arrow::int64(), true),  // the champion before (null: none)
      arrow::field("challenger_mase", arrow::float64(), true),
      arrow::field("champion_mase", arrow::float64(), true),
      arrow::field("margin", arrow::float64(), false),
      arrow::field("coverage80", arrow::float64(), true),
      arrow::field("min_coverage80", arrow::float64(), false),
      arrow::field("reason", arrow::utf8(), false),
      arrow::field("trigger", arrow::utf8(), false),  // why training ran: manual, drift, schedule, ...
      arrow::field("signals_version", arrow::int64(), false),
  });
}

Result<TrainReport> TrainModels(lake::Lake& lake, registry::Registry& reg, const TrainOptions& options) {
  PULSE_ASSIGN_OR_RETURN(const size_t method, internal::MethodIndex(options.method));
  if (!(options.registry.promotion_margin >= 0 && options.registry.promotion_margin < 1))
    return Status::InvalidArgument("promotion margin must lie in [0, 1)");
  if (!(options.registry.coverage_tolerance >= 0 && options.registry.coverage_tolerance <= 0.8))
    return Status::InvalidArgument("coverage tolerance must lie in [0, 0.8]");
  TrainReport report;
  ForecastReport read_report;
  PULSE_ASSIGN_OR_RETURN(auto signals, lake.OpenTable("signals"));
  PULSE_ASSIGN_OR_RETURN(report.signals_version, signals->LatestVersion());
  lake::ReadOptions read{.version = report.signals_version, .columns = {"kind", "name", "ts", "value"}};
  if (!options.forecast.kinds.empty()) read.partition_filters.push_back({"kind", options.forecast.kinds});
  PULSE_ASSIGN_OR_RETURN(std::vector<SeriesData> series,
                         internal::ReadSeries(*signals, read, options.forecast, read_report));
  report.skipped = read_report.skipped;
  if (!options.series.empty()) {
    const std::set<std::string> wanted(options.series.begin(), options.series.end());
    std::set<std::string> found;
    std::erase_if(series, [&](const SeriesData& s) {
      if (!wanted.contains(s.name)) return true;
      found.insert(s.name);
      return false;
    });
    for (const auto& name : wanted) {
      if (!found.contains(name)) report.skipped.push_back(name + ": no such series with enough points in the lake");
    }
  }
  if (series.empty()) return Status::InvalidArgument("no series to train");
  const std::vector<SeriesForecast> fits = internal::FitAll(series, options.forecast);
  const internal::Calibration calibration = internal::Calibrate(fits, options.forecast.levels);

  EventRows events;
  Status failed;
  for (size_t i = 0; i < series.size() && failed.ok(); ++i) {
    if (!fits[i].ok) {
      report.skipped.push_back(fits[i].problem);
      continue;
    }
    auto t = TrainSeries(reg, options, series[i], fits[i], calibration, method, report.signals_version);
    if (!t.ok()) {
      failed = Status(t.status().code(), series[i].kind + "/" + series[i].name + ": " + t.status().message());
      break;
    }
    if (!t->unchanged) failed = events.Add(*t, options, report.signals_version);
    report.series.push_back(std::move(*t));
  }
  const Status written = WriteEvents(lake, events, report);
  PULSE_RETURN_IF_ERROR(failed);
  PULSE_RETURN_IF_ERROR(written);
  return report;
}

}  // namespace pulse::pipeline
