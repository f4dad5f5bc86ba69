#include "pipeline/trust_scores.h"

#include <arrow/api.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/time.h"
#include "lake/table_read.h"
#include "pipeline/forecast_signals.h"
#include "pipeline/model_health_facts.h"
#include "report/forecast_table.h"
#include "trust/bayesian_trust.h"

namespace pulse::pipeline {

using lake::ColumnAs;
using lake::ReadBatch;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct SeriesSignal {
  int64_t last_ts = INT64_MIN;
  double last = 0, abs_sum = 0;
  int64_t count = 0;
  std::map<int64_t, double> points;
  double Level() const {
    const double level = count > 0 ? abs_sum / static_cast<double>(count) : 0;
    return level > 0 && std::isfinite(level) ? level : 1.0;
  }
};

Result<std::map<std::string, SeriesSignal>> ReadSignals(lake::Lake& lake, int64_t signals_version) {
  PULSE_ASSIGN_OR_RETURN(auto table, lake.OpenTable("signals"));
  PULSE_ASSIGN_OR_RETURN(auto batch,
                         ReadBatch(*table, {.version = signals_version, .columns = {"name", "ts", "value"}}));
  PULSE_ASSIGN_OR_RETURN(auto name, ColumnAs<arrow::StringArray>(*batch, "name"));
  PULSE_ASSIGN_OR_RETURN(auto ts, ColumnAs<arrow::TimestampArray>(*batch, "ts"));
  PULSE_ASSIGN_OR_RETURN(auto value, ColumnAs<arrow::DoubleArray>(*batch, "value"));
  std::map<std::string, SeriesSignal> out;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    const double v = value->Value(i);
    if (!std::isfinite(v)) continue;
    SeriesSignal& s = out[name->GetString(i)];
    s.abs_sum += std::abs(v), ++s.count;
    s.points[ts->Value(i)] = v;
    if (ts->Value(i) >= s.last_ts) s.last_ts = ts->Value(i), s.last = v;
  }
  return out;
}

// (world tension at the last turn, capital movement) of one simulation.
Result<std::pair<double, double>> ReadWorld(lake::Lake& lake, const std::string& sim_id) {
  PULSE_ASSIGN_OR_RETURN(auto table, lake.OpenTable("simulations"));
  PULSE_ASSIGN_OR_RETURN(auto batch, ReadBatch(*table, {.columns = {"sim_id", "step", "variable", "mean"}}));
  PULSE_ASSIGN_OR_RETURN(auto id, ColumnAs<arrow::StringArray>(*batch, "sim_id"));
  PULSE_ASSIGN_OR_RETURN(auto step, ColumnAs<arrow::Int32Array>(*batch, "step"));
  PULSE_ASSIGN_OR_RETURN(auto variable, ColumnAs<arrow::StringArray>(*batch, "variable"));
  PULSE_ASSIGN_OR_RETURN(auto mean, ColumnAs<arrow::DoubleArray>(*batch, "mean"));
  std::map<std::string, std::map<int, double>> wanted;  // variable -> step -> mean
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    if (id->GetView(i) != sim_id) continue;
    auto v = variable->GetString(i);
    if (v == "tension" || v == "nvda" || v == "msft" || v == "ibit" || v == "spy")
      wanted[v][step->Value(i)] = mean->Value(i);
  }
  if (!wanted.count("tension")) {
    return Status::InvalidArgument("the simulations table has no simulation '" + sim_id +
                                   "' (with tension): run the simulation stage first");
  }
  const double tension = wanted["tension"].rbegin()->second;
  double capital = 0;
  for (const char* asset : {"nvda", "msft", "ibit", "spy"}) {
    const auto& steps = wanted[asset];
    if (!steps.empty()) capital += std::abs(steps.rbegin()->second - steps.begin()->second);
  }
  return std::make_pair(tension, capital);
}

struct Track {
  trust::BetaTrust beta;
  int64_t hits = 0, checked = 0;
};

// series -> earlier changes, oldest first (one per earlier signals version); in `tracks` each
// series' track record as of its newest earlier row.
Result<std::map<std::string, std::vector<trust::Change>>> ReadMemory(lake::Lake& lake, int64_t signals_version,
                                                                     std::map<std::string, Track>* tracks) {
  std::map<std::string, std::vector<trust::Change>> out;
  auto table = lake.OpenTable("trust_scores");
  if (!table.ok()) {
    if (table.status().code() == StatusCode::kNotFound) return out;
    return table.status();
  }
  PULSE_ASSIGN_OR_RETURN(
      auto batch, ReadBatch(**table, {.columns = {"series", "signals_version", "change", "track_alpha", "track_beta",
                                                  "track_hits", "track_checked"}}));
  PULSE_ASSIGN_OR_RETURN(auto series, ColumnAs<arrow::StringArray>(*batch, "series"));
  PULSE_ASSIGN_OR_RETURN(auto version, ColumnAs<arrow::Int64Array>(*batch, "signals_version"));
  PULSE_ASSIGN_OR_RETURN(auto change, ColumnAs<arrow::StringArray>(*batch, "change"));
  PULSE_ASSIGN_OR_RETURN(auto alpha, ColumnAs<arrow::DoubleArray>(*batch, "track_alpha"));
  PULSE_ASSIGN_OR_RETURN(auto beta, ColumnAs<arrow::DoubleArray>(*batch, "track_beta"));
  PULSE_ASSIGN_OR_RETURN(auto hits, ColumnAs<arrow::Int64Array>(*batch, "track_hits"));
  PULSE_ASSIGN_OR_RETURN(auto checked, ColumnAs<arrow::Int64Array>(*batch, "track_checked"));
  std::map<std::string, std::map<int64_t, trust::Change>> by_version;
  std::map<std::string, int64_t> newest;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    if (version->Value(i) >= signals_version) continue;
    auto [it, fresh] = newest.try_emplace(series->GetString(i), version->Value(i));
    if (fresh || version->Value(i) > it->second) {
      it->second = version->Value(i);
      (*tracks)[it->first] = {{alpha->Value(i), beta->Value(i)}, hits->Value(i), checked->Value(i)};
    }
    auto j = nlohmann::json::parse(change->GetView(i), nullptr, false);
    if (!j.is_object()) return Status::ParseError("trust_scores: row " + std::to_string(i) + " has a malformed change");
    trust::Change c;
    for (const auto& [k, v] : j.items())
      if (v.is_number()) c[k] = v.get<double>();
    by_version[series->GetString(i)][version->Value(i)] = std::move(c);
  }
  for (auto& [name, versions] : by_version)
    for (auto& [v, c] : versions) out[name].push_back(std::move(c));
  return out;
}

double JsonNumber(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

// The trust_scores table, created when missing; one written before the model lifecycle columns
// gains them first (schema evolution).
Result<std::unique_ptr<lake::DeltaTable>> OpenTrustTable(lake::Lake& lake) {
  auto table = lake.OpenTable("trust_scores");
  if (!table.ok() && table.status().code() == StatusCode::kNotFound)
    return lake.OpenOrCreateTable("trust_scores", TrustSchema(), {});
  if (!table.ok()) return table.status();
  const auto want = TrustSchema();  // kept alive: the loop walks its fields
  std::vector<std::shared_ptr<arrow::Field>> missing;
  for (const auto& field : want->fields()) {
    if ((*table)->schema()->GetFieldByName(field->name()) == nullptr) missing.push_back(field);
  }
  if (!missing.empty()) PULSE_RETURN_IF_ERROR((*table)->AddColumns(missing).status());
  return std::move(*table);
}

// The registered model that made a forecast, from its model_params ("", 0: fitted on the spot).
std::pair<std::string, int64_t> ForecastModel(const nlohmann::json& params) {
  if (!params.is_object()) return {"", 0};
  auto name = params.find("model_name");
  auto version = params.find("model_version");
  if (name == params.end() || !name->is_string() || version == params.end() || !version->is_number_integer())
    return {"", 0};
  return {name->get<std::string>(), version->get<int64_t>()};
}

// Track record: the earlier state, decayed once per run, then one update per newly observed value
// that the previous run forecast (inside its 80% band: success).
Track UpdateTrack(Track track, const std::map<std::string, report::SeriesForecasts>& previous, const std::string& name,
                  const std::map<int64_t, double>& points) {
  auto earlier = previous.find(name);
  if (earlier == previous.end()) return track;
  track.beta.Decay();
  for (const auto& [step, row] : earlier->second.steps) {
    auto seen = points.find(row.target);
    const auto band = earlier->second.Band(step, 0.8);
    if (seen == points.end() || !band) continue;
    const bool inside = seen->second >= band->first && seen->second <= band->second;
    track.beta.Update(inside);
    track.hits += inside, ++track.checked;
  }
  return track;
}

// What the lake says about the models (pipeline/model_health_facts.h), read once per run.
struct LifecycleFacts {
  const std::map<std::string, DriftStatus>* drift;
  const std::map<std::pair<std::string, int64_t>, int64_t>* trained;
  const report::ForecastsByVersion* forecasts;
  int64_t signals_version;
  int64_t now;
};

struct SeriesLifecycle {
  std::string model_name;  // "" : fitted on the spot
  int64_t model_version = 0;
  DriftStatus drift;
  trust::ModelHealth health;
  RollingCoverage rolling;
  trust::ModelHealthAssessment assessed;
};

SeriesLifecycle Lifecycle(const std::string& name, const report::SeriesForecasts& f,
                          const std::map<int64_t, double>& points, const LifecycleFacts& facts,
                          const TrustOptions& options) {
  SeriesLifecycle out;
  std::tie(out.model_name, out.model_version) = ForecastModel(f.params);
  if (auto d = facts.drift->find(name); d != facts.drift->end()) out.drift = d->second;
  out.health.drifted = out.drift.drifted;
  if (auto t = facts.trained->find({out.model_name, out.model_version});
      !out.model_name.empty() && t != facts.trained->end())
    out.health.days_since_training = static_cast<double>(facts.now - t->second) / 86400e6;
  out.rolling = RollingCoverage80(*facts.forecasts, facts.signals_version, name, points, options.rolling_window);
  out.health.rolling_coverage80 = out.rolling.Share();
  out.health.coverage_outcomes = out.rolling.outcomes;
  out.assessed = trust::AssessModelHealth(out.health, options.health);
  return out;
}

}  // namespace

std::shared_ptr<arrow::Schema> TrustSchema() {
  const auto& f64 = arrow::float64();
  return arrow::schema({
      arrow::field("series", arrow::utf8(), false),
      arrow::field("kind", arrow::utf8(), false),
      arrow::field("model", arrow::utf8(), false),
      arrow::field("signals_version", arrow::int64(), false),
      arrow::field("sim_id", arrow::utf8(), false),
      // heuristic: the original Pulse's trust formulas
      arrow::field("confidence", f64, false),
      arrow::field("risk", f64, false),
      arrow::field("fragility", f64, false),
      arrow::field("fragility_label", arrow::utf8(), false),
      arrow::field("trust_label", arrow::utf8(), false),
      arrow::field("licence", arrow::utf8(), false),
      arrow::field("baseline", f64, false),
      arrow::field("hist", f64, false),
      arrow::field("novelty", f64, false),
      arrow::field("tension", f64, false),
      arrow::field("capital_movement", f64, false),
      arrow::field("change", arrow::utf8(), false),
      // statistical: calibrated backtest evidence
      arrow::field("coverage80", f64, true),
      arrow::field("skill", f64, true),
      arrow::field("band80_width", f64, true),
      arrow::field("backtest_mase", f64, true),
      arrow::field("naive_mase", f64, true),
      // track record: the original's Bayesian tracker fed with outcomes vs the previous run's 80% bands
      arrow::field("track_alpha", f64, false),
      arrow::field("track_beta", f64, false),
      arrow::field("track_hits", arrow::int64(), false),
      arrow::field("track_checked", arrow::int64(), false),
      arrow::field("track_record", f64, false),
      arrow::field("track_low", f64, false),
      arrow::field("track_high", f64, false),
      arrow::field("created", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), false),
      // model lifecycle (trust/model_health.h): nullable, appended for schema evolution
      arrow::field("model_name", arrow::utf8(), true),
      arrow::field("model_version", arrow::int64(), true),
      arrow::field("days_since_training", f64, true),
      arrow::field("drift_status", arrow::utf8(), true),
      arrow::field("rolling_coverage80", f64, true),
      arrow::field("rolling_outcomes", arrow::int64(), true),
      arrow::field("model_health", arrow::utf8(), true),
      arrow::field("drift_penalty", f64, true),
  });
}

Result<TrustReport> ScoreForecastTrust(lake::Lake& lake, const TrustOptions& options) {
  if (options.sim_id.empty()) return Status::InvalidArgument("trust scoring needs the world simulation's sim_id");
  TrustReport report;
  report.signals_version = options.signals_version;
  PULSE_ASSIGN_OR_RETURN(auto by_version, report::ReadForecasts(lake));
  if (report.signals_version < 0 && !by_version.empty()) report.signals_version = by_version.rbegin()->first;
  auto current = by_version.find(report.signals_version);
  if (current == by_version.end()) {
    return Status::InvalidArgument("the forecasts table has no forecasts of signals version " +
                                   std::to_string(report.signals_version) + ": run the forecast stage first");
  }
  const auto& forecasts = current->second;
  // The newest earlier version's forecasts: the bands the track record judges new observations by.
  static const std::map<std::string, report::SeriesForecasts> kNone;
  const auto& previous = current == by_version.begin() ? kNone : std::prev(current)->second;
  PULSE_ASSIGN_OR_RETURN(auto signals, ReadSignals(lake, report.signals_version));
  PULSE_ASSIGN_OR_RETURN(auto world, ReadWorld(lake, options.sim_id));
  std::map<std::string, Track> tracks;
  PULSE_ASSIGN_OR_RETURN(auto memory, ReadMemory(lake, report.signals_version, &tracks));
  PULSE_ASSIGN_OR_RETURN(auto drift, ReadDriftStatus(lake, report.signals_version));
  PULSE_ASSIGN_OR_RETURN(auto trained, ReadTrainingTimes(lake));

  auto schema = TrustSchema();
  std::unique_ptr<arrow::RecordBatchBuilder> builder;
  auto made = arrow::RecordBatchBuilder::Make(schema, arrow::default_memory_pool());
  if (!made.ok()) return Status::Internal(made.status().ToString());
  builder = std::move(*made);
  auto str = [&](int i) { return builder->GetFieldAs<arrow::StringBuilder>(i); };
  auto num = [&](int i) { return builder->GetFieldAs<arrow::DoubleBuilder>(i); };
  auto optional = [&](int i, double v) { return std::isfinite(v) ? num(i)->Append(v) : num(i)->AppendNull(); };
  const int64_t now = time::NowMicros();
  for (const auto& [name, f] : forecasts) {
    auto sig = signals.find(name);
    if (sig == signals.end()) return Status::InvalidArgument("series '" + name + "' has forecasts but no signals");
    const double level = sig->second.Level();
    trust::Evidence e;
    e.has_overlays = true;
    e.capital_movement = world.second;
    for (const auto& [step, row] : f.steps)
      e.change["h" + std::to_string(step)] = (row.mean - sig->second.last) / level;
    e.fragility = trust::FragilityIndex(world.first, e.change);
    if (auto m = memory.find(name); m != memory.end()) e.memory = m->second;
    // Model lifecycle facts -> the original's drift penalty inputs.
    const LifecycleFacts facts = {&drift, &trained, &by_version, report.signals_version, now};
    const SeriesLifecycle life = Lifecycle(name, f, sig->second.points, facts, options);
    const auto& [model_name, model_version, drift_status, health, rolling, assessed] = life;
    trust::ApplyModelHealth(assessed, &e);
    const trust::TrustScore s = trust::Score(e, options.thresholds);
    const Track track = UpdateTrack(tracks[name], previous, name, sig->second.points);
    nlohmann::json change = nlohmann::json::object();
    for (const auto& [k, v] : e.change) change[k] = v;
    const nlohmann::json backtest = f.params.value("backtest", nlohmann::json::object());
    const double mase = JsonNumber(backtest, "mase"), naive = JsonNumber(backtest, "naive_mase");
    const auto next80 = f.Band(1, 0.8);
    const double width80 = next80 ? (next80->second - next80->first) / level : kNaN;
    const double skill = std::isfinite(mase) && naive > 0 ? 1.0 - mase / naive : kNaN;
    bool ok = str(0)->Append(name).ok() && str(1)->Append(f.kind).ok() && str(2)->Append(f.model).ok() &&
              builder->GetFieldAs<arrow::Int64Builder>(3)->Append(report.signals_version).ok() &&
              str(4)->Append(options.sim_id).ok() && num(5)->Append(s.confidence).ok() && num(6)->Append(s.risk).ok() &&
              num(7)->Append(s.fragility).ok() && str(8)->Append(trust::FragilityLabel(s.fragility)).ok() &&
              str(9)->Append(s.label).ok() && str(10)->Append(s.licence).ok() && num(11)->Append(s.baseline).ok() &&
              num(12)->Append(s.hist).ok() && num(13)->Append(s.novelty).ok() && num(14)->Append(world.first).ok() &&
              num(15)->Append(world.second).ok() && str(16)->Append(change.dump()).ok() &&
              optional(17, JsonNumber(backtest, "coverage80")).ok() && optional(18, skill).ok() &&
              optional(19, width80).ok() && optional(20, mase).ok() && optional(21, naive).ok() &&
              num(22)->Append(track.beta.alpha).ok() && num(23)->Append(track.beta.beta).ok() &&
              builder->GetFieldAs<arrow::Int64Builder>(24)->Append(track.hits).ok() &&
              builder->GetFieldAs<arrow::Int64Builder>(25)->Append(track.checked).ok() &&
              num(26)->Append(track.beta.Mean()).ok() && num(27)->Append(track.beta.Interval().first).ok() &&
              num(28)->Append(track.beta.Interval().second).ok() &&
              builder->GetFieldAs<arrow::TimestampBuilder>(29)->Append(now).ok() &&
              (model_name.empty() ? str(30)->AppendNull() : str(30)->Append(model_name)).ok() &&
              (model_name.empty() ? builder->GetFieldAs<arrow::Int64Builder>(31)->AppendNull()
                                  : builder->GetFieldAs<arrow::Int64Builder>(31)->Append(model_version))
                  .ok() &&
              optional(32, health.days_since_training.value_or(kNaN)).ok() &&
              str(33)->Append(drift_status.status).ok() && optional(34, rolling.Share()).ok() &&
              builder->GetFieldAs<arrow::Int64Builder>(35)->Append(rolling.outcomes).ok() &&
              str(36)->Append(assessed.status).ok() && num(37)->Append(assessed.penalty).ok();
    if (!ok) return Status::Internal("building the trust_scores table");
    ++report.rows;
  }
  auto batch = builder->Flush();
  if (!batch.ok()) return Status::Internal(batch.status().ToString());
  auto rows = arrow::Table::FromRecordBatches({*batch});
  if (!rows.ok()) return Status::Internal(rows.status().ToString());
  PULSE_ASSIGN_OR_RETURN(auto out, OpenTrustTable(lake));
  lake::WriteOptions write;
  write.app_id = "pulse-trust:" + options.sim_id;
  write.app_version = report.signals_version;
  write.operation = "TRUST";
  write.operation_parameters = {{"signals_version", std::to_string(report.signals_version)},
                                {"sim_id", options.sim_id}};
  PULSE_ASSIGN_OR_RETURN(auto commit, out->Append(**rows, write));
  report.version = commit.version;
  report.duplicate = commit.skipped;
  return report;
}

}  // namespace pulse::pipeline
