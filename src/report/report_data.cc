#include "report/report_data.h"

#include <arrow/api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/files.h"
#include "core/time.h"
#include "lake/table_read.h"
#include "report/forecast_table.h"

namespace pulse::report {

using lake::ColumnAs;
using lake::ReadBatch;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// series -> time -> value, for one version and kind (every kind when empty).
Result<std::map<std::string, std::map<int64_t, double>>> ReadSignalHistory(lake::Lake& lake, int64_t version,
                                                                           const std::string& kind) {
  PULSE_ASSIGN_OR_RETURN(auto table, lake.OpenTable("signals"));
  lake::ReadOptions read{.version = version, .columns = {"name", "ts", "value"}};
  if (!kind.empty()) read.partition_filters.push_back({"kind", {kind}});
  PULSE_ASSIGN_OR_RETURN(auto b, ReadBatch(*table, read));
  PULSE_ASSIGN_OR_RETURN(auto name, ColumnAs<arrow::StringArray>(*b, "name"));
  PULSE_ASSIGN_OR_RETURN(auto ts, ColumnAs<arrow::TimestampArray>(*b, "ts"));
  PULSE_ASSIGN_OR_RETURN(auto value, ColumnAs<arrow::DoubleArray>(*b, "value"));
  std::map<std::string, std::map<int64_t, double>> out;
  for (int64_t i = 0; i < b->num_rows(); ++i) out[name->GetString(i)][ts->Value(i)] = value->Value(i);
  return out;
}

Result<std::vector<SimulationChart>> ReadSimulation(lake::Lake& lake, const std::string& sim_id,
                                                    const std::vector<std::string>& variables, uint64_t* runs,
                                                    uint32_t* turns) {
  PULSE_ASSIGN_OR_RETURN(auto table, lake.OpenTable("simulations"));
  PULSE_ASSIGN_OR_RETURN(auto b, ReadBatch(*table, {.columns = {"sim_id", "step", "variable", "mean", "quantile_levels",
                                                                "quantiles", "runs", "turns"}}));
  PULSE_ASSIGN_OR_RETURN(auto id, ColumnAs<arrow::StringArray>(*b, "sim_id"));
  PULSE_ASSIGN_OR_RETURN(auto step, ColumnAs<arrow::Int32Array>(*b, "step"));
  PULSE_ASSIGN_OR_RETURN(auto variable, ColumnAs<arrow::StringArray>(*b, "variable"));
  PULSE_ASSIGN_OR_RETURN(auto mean, ColumnAs<arrow::DoubleArray>(*b, "mean"));
  PULSE_ASSIGN_OR_RETURN(auto levels, ColumnAs<arrow::ListArray>(*b, "quantile_levels"));
  PULSE_ASSIGN_OR_RETURN(auto quantiles, ColumnAs<arrow::ListArray>(*b, "quantiles"));
  PULSE_ASSIGN_OR_RETURN(auto runs_col, ColumnAs<arrow::Int64Array>(*b, "runs"));
  PULSE_ASSIGN_OR_RETURN(auto turns_col, ColumnAs<arrow::Int32Array>(*b, "turns"));
  auto doubles = [](const arrow::ListArray& list, int64_t row) {
    auto values = std::static_pointer_cast<arrow::DoubleArray>(list.value_slice(row));
    return std::vector<double>(values->raw_values(), values->raw_values() + values->length());
  };
  std::map<std::string, std::map<int, std::pair<double, std::pair<std::vector<double>, std::vector<double>>>>> found;
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    if (id->GetView(i) != sim_id) continue;
    *runs = static_cast<uint64_t>(runs_col->Value(i)), *turns = static_cast<uint32_t>(turns_col->Value(i));
    auto name = variable->GetString(i);
    if (std::find(variables.begin(), variables.end(), name) == variables.end()) continue;
    found[name][step->Value(i)] = {mean->Value(i), {doubles(*levels, i), doubles(*quantiles, i)}};
  }
  if (found.empty()) return Status::InvalidArgument("the simulations table has no simulation '" + sim_id + "'");
  std::vector<SimulationChart> out;
  for (const auto& name : variables) {
    auto it = found.find(name);
    if (it == found.end()) return Status::InvalidArgument("simulation '" + sim_id + "' has no variable '" + name + "'");
    SimulationChart chart{name, {}, {}};
    const auto& first_levels = it->second.begin()->second.second.first;
    const size_t n = first_levels.size();
    for (size_t k = 0; k < n / 2; ++k) chart.bands.push_back({first_levels[k], first_levels[n - 1 - k], {}, {}});
    for (const auto& [s, row] : it->second) {
      chart.mean.push_back(row.first);
      for (size_t k = 0; k < n / 2; ++k) {
        chart.bands[k].lower.push_back(row.second.second[k]);
        chart.bands[k].upper.push_back(row.second.second[n - 1 - k]);
      }
    }
    out.push_back(std::move(chart));
  }
  return out;
}

Result<std::map<std::string, TrustRow>> ReadTrust(lake::Lake& lake, int64_t version, const std::string& sim_id) {
  std::map<std::string, TrustRow> out;
  PULSE_ASSIGN_OR_RETURN(auto table, lake.OpenTable("trust_scores"));
  PULSE_ASSIGN_OR_RETURN(auto b, ReadBatch(*table, {}));
  PULSE_ASSIGN_OR_RETURN(auto series, ColumnAs<arrow::StringArray>(*b, "series"));
  PULSE_ASSIGN_OR_RETURN(auto v, ColumnAs<arrow::Int64Array>(*b, "signals_version"));
  PULSE_ASSIGN_OR_RETURN(auto id, ColumnAs<arrow::StringArray>(*b, "sim_id"));
  PULSE_ASSIGN_OR_RETURN(auto conf, ColumnAs<arrow::DoubleArray>(*b, "confidence"));
  PULSE_ASSIGN_OR_RETURN(auto frag, ColumnAs<arrow::DoubleArray>(*b, "fragility"));
  PULSE_ASSIGN_OR_RETURN(auto risk, ColumnAs<arrow::DoubleArray>(*b, "risk"));
  PULSE_ASSIGN_OR_RETURN(auto label, ColumnAs<arrow::StringArray>(*b, "trust_label"));
  PULSE_ASSIGN_OR_RETURN(auto licence, ColumnAs<arrow::StringArray>(*b, "licence"));
  PULSE_ASSIGN_OR_RETURN(auto coverage, ColumnAs<arrow::DoubleArray>(*b, "coverage80"));
  PULSE_ASSIGN_OR_RETURN(auto skill, ColumnAs<arrow::DoubleArray>(*b, "skill"));
  PULSE_ASSIGN_OR_RETURN(auto width, ColumnAs<arrow::DoubleArray>(*b, "band80_width"));
  PULSE_ASSIGN_OR_RETURN(auto track, ColumnAs<arrow::DoubleArray>(*b, "track_record"));
  PULSE_ASSIGN_OR_RETURN(auto track_low, ColumnAs<arrow::DoubleArray>(*b, "track_low"));
  PULSE_ASSIGN_OR_RETURN(auto track_high, ColumnAs<arrow::DoubleArray>(*b, "track_high"));
  PULSE_ASSIGN_OR_RETURN(auto hits, ColumnAs<arrow::Int64Array>(*b, "track_hits"));
  PULSE_ASSIGN_OR_RETURN(auto checked, ColumnAs<arrow::Int64Array>(*b, "track_checked"));
  auto opt = [](const arrow::DoubleArray& a, int64_t i) { return a.IsNull(i) ? kNaN : a.Value(i); };
  // The model lifecycle columns, when the table has them (tables written earlier do not).
  std::shared_ptr<arrow::StringArray> health, drift;
  std::shared_ptr<arrow::Int64Array> model_version, outcomes;
  std::shared_ptr<arrow::DoubleArray> days, rolling;
  if (b->schema()->GetFieldIndex("model_health") >= 0) {
    PULSE_ASSIGN_OR_RETURN(health, ColumnAs<arrow::StringArray>(*b, "model_health"));
    PULSE_ASSIGN_OR_RETURN(drift, ColumnAs<arrow::StringArray>(*b, "drift_status"));
    PULSE_ASSIGN_OR_RETURN(model_version, ColumnAs<arrow::Int64Array>(*b, "model_version"));
    PULSE_ASSIGN_OR_RETURN(outcomes, ColumnAs<arrow::Int64Array>(*b, "rolling_outcomes"));
    PULSE_ASSIGN_OR_RETURN(days, ColumnAs<arrow::DoubleArray>(*b, "days_since_training"));
    PULSE_ASSIGN_OR_RETURN(rolling, ColumnAs<arrow::DoubleArray>(*b, "rolling_coverage80"));
  }
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    if (v->Value(i) != version || (!sim_id.empty() && id->GetView(i) != sim_id)) continue;
    out[series->GetString(i)] = {series->GetString(i), conf->Value(i),        frag->Value(i),      risk->Value(i),
                                 label->GetString(i),  licence->GetString(i), opt(*coverage, i),   opt(*skill, i),
                                 opt(*width, i),       track->Value(i),       track_low->Value(i), track_high->Value(i),
                                 hits->Value(i),       checked->Value(i)};
    if (health) {
      TrustRow& r = out[series->GetString(i)];
      r.model_health = health->IsNull(i) ? "" : health->GetString(i);
      r.drift_status = drift->IsNull(i) ? "" : drift->GetString(i);
      r.model_version = model_version->IsNull(i) ? 0 : model_version->Value(i);
      r.rolling_outcomes = outcomes->IsNull(i) ? 0 : outcomes->Value(i);
      r.days_since_training = opt(*days, i);
      r.rolling_coverage80 = opt(*rolling, i);
    }
  }
  return out;
}

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

// One series' trust entry of summary.json.
nlohmann::json TrustJson(const TrustRow& r) {
  return {
      {"heuristic",
       {{"confidence", r.confidence},
        {"fragility", r.fragility},
        {"risk", r.risk},
        {"trust_label", r.trust_label},
        {"licence", r.licence}}},
      {"statistical",
       {{"coverage80", Number(r.coverage80)}, {"skill", Number(r.skill)}, {"band80_width", Number(r.band80_width)}}},
      {"track_record",
       {{"trust", r.track_record},
        {"low", r.track_low},
        {"high", r.track_high},
        {"hits", r.track_hits},
        {"checked", r.track_checked}}},
      {"lifecycle",
       {{"model_version", r.model_version > 0 ? nlohmann::json(r.model_version) : nlohmann::json()},
        {"days_since_training", Number(r.days_since_training)},
        {"drift_status", r.drift_status},
        {"model_health", r.model_health},
        {"rolling_coverage80", Number(r.rolling_coverage80)},
        {"rolling_outcomes", r.rolling_outcomes}}}};
}

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", 100 * v);
  return buf;
}

std::string Short(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// The "what changed" sentences against the newest earlier signals version with forecasts.
Result<std::vector<std::string>> Changes(lake::Lake& lake, const ReportRequest& request,
                                         const ForecastsByVersion& forecasts,
                                         const std::map<std::string, std::map<int64_t, double>>& history,
                                         const std::map<std::string, TrustRow>& trust) {
  std::vector<std::string> out;
  if (request.previous && request.previous->value("signals_version", int64_t{-2}) == request.signals_version) {
    out.push_back("No new data since the last run (" + request.previous->value("generated", std::string("earlier")) +
                  "): signals version " + std::to_string(request.signals_version) +
                  "; forecasts, simulation and trust scores are unchanged.");
    return out;
  }
  auto now = forecasts.find(request.signals_version);
  auto prev = now == forecasts.begin() ? forecasts.end() : std::prev(now);
  if (prev == forecasts.end()) {
    out.push_back("First run on this lake: " + std::to_string(now->second.size()) +
                  " series forecast from signals version " + std::to_string(request.signals_version) + ".");
    return out;
  }
  PULSE_ASSIGN_OR_RETURN(auto before, ReadSignalHistory(lake, prev->first, request.kind));
  size_t added = 0, inside = 0, checked = 0;
  int64_t latest_before = INT64_MIN, latest_now = INT64_MIN;
  std::vector<std::pair<double, std::string>> misses;
  for (const auto& [name, points] : history) {
    const auto& old = before[name];
    if (!old.empty()) latest_before = std::max(latest_before, old.rbegin()->first);
    if (!points.empty()) latest_now = std::max(latest_now, points.rbegin()->first);
    for (const auto& [t, value] : points) {
      if (old.count(t)) continue;
      ++added;
      auto pf = prev->second.find(name);
      if (pf == prev->second.end()) continue;
      for (const auto& [step, row] : pf->second.steps) {
        auto band = row.bands.find(0.8);
        if (row.target != t || band == row.bands.end()) continue;
        ++checked;
        if (value >= band->second.first && value <= band->second.second) {
          ++inside;
        } else {
          misses.push_back({std::abs(value - row.mean), name + " " + time::FormatDate(t) + ": observed " +
                                                            Short(value) + ", outside the earlier 80% band [" +
                                                            Short(band->second.first) + ", " +
                                                            Short(band->second.second) + "]"});
        }
      }
    }
  }
  out.push_back(std::to_string(added) + " new observations since signals version " + std::to_string(prev->first) +
                (latest_now > latest_before && latest_before != INT64_MIN
                     ? " (latest " + time::FormatDate(latest_before) + " -> " + time::FormatDate(latest_now) + ")"
                     : std::string()) +
                ".");
  if (checked > 0) {
    out.push_back(std::to_string(inside) + " of " + std::to_string(checked) +
                  " new observations fell inside the previous run's 80% bands.");
  }
  for (const auto& [gap, text] : misses) out.push_back(text + ".");
  // Next-step forecasts for the same target that moved the most.
  std::vector<std::pair<double, std::string>> moves;
  for (const auto& [name, s] : now->second) {
    auto pf = prev->second.find(name);
    if (pf == prev->second.end() || s.steps.empty()) continue;
    const ForecastStep& next = s.steps.begin()->second;
    for (const auto& [step, row] : pf->second.steps) {
      if (row.target != next.target || row.mean == 0) continue;
      const double rel = (next.mean - row.mean) / std::abs(row.mean);
      moves.push_back({std::abs(rel), name + ": the forecast for " + time::FormatDate(next.target) + " moved " +
                                          Percent(rel) + " (" + Short(row.mean) + " -> " + Short(next.mean) + ")"});
    }
  }
  std::sort(moves.rbegin(), moves.rend());
  for (size_t i = 0; i < std::min<size_t>(3, moves.size()); ++i) out.push_back(moves[i].second + ".");
  // Trust labels that changed.
  auto old_trust = ReadTrust(lake, prev->first, "");
  if (old_trust.ok()) {
    for (const auto& [name, row] : trust) {
      auto it = old_trust->find(name);
      if (it != old_trust->end() && it->second.trust_label != row.trust_label)
        out.push_back(name + ": trust label " + it->second.trust_label + " -> " + row.trust_label + ".");
    }
  }
  return out;
}

Status WriteAtomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status::IoError("cannot write '" + tmp.string() + "'");
    f << text;
    f.flush();
    if (!f) return Status::IoError("cannot write '" + tmp.string() + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Status::IoError("cannot write '" + path.string() + "'");
  }
  return Status::Ok();
}

}  // namespace

Result<Report> GatherReport(lake::Lake& lake, const ReportRequest& request) {
  Report report;
  ReportData& d = report.data;
  d.generated = time::FormatTimestamp(time::NowMicros());
  d.dataset = request.dataset;
  d.lake_url = lake.url();
  d.signals_version = request.signals_version;
  d.sim_id = request.sim_id;
  PULSE_ASSIGN_OR_RETURN(auto forecasts_table, lake.OpenTable("forecasts"));
  PULSE_ASSIGN_OR_RETURN(d.forecasts_version, forecasts_table->LatestVersion());
  PULSE_ASSIGN_OR_RETURN(auto forecasts, ReadForecasts(lake));
  auto current = forecasts.find(request.signals_version);
  if (current == forecasts.end())
    return Status::InvalidArgument("no forecasts of signals version " + std::to_string(request.signals_version));
  PULSE_ASSIGN_OR_RETURN(auto history, ReadSignalHistory(lake, request.signals_version, request.kind));
  PULSE_ASSIGN_OR_RETURN(d.simulation,
                         ReadSimulation(lake, request.sim_id, request.key_variables, &d.sim_runs, &d.sim_turns));
  PULSE_ASSIGN_OR_RETURN(auto trust, ReadTrust(lake, request.signals_version, request.sim_id));

  nlohmann::json series_json = nlohmann::json::object();
  for (const auto& [name, s] : current->second) {
    SeriesChart chart{name, s.kind, s.frequency, s.model, {}, {}, {}, {}, {}};
    const auto& points = history[name];
    size_t skip = points.size() > request.history_points ? points.size() - request.history_points : 0;
    for (const auto& [t, v] : points) {
      if (skip > 0) {
        --skip;
      } else {
        chart.history_ts.push_back(t), chart.history.push_back(v);
      }
    }
    std::map<double, IntervalBand> bands;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& [step, row] : s.steps) {
      chart.target_ts.push_back(row.target);
      chart.mean.push_back(row.mean);
      nlohmann::json b = nlohmann::json::object();
      for (const auto& [level, lu] : row.bands) {
        IntervalBand& band = bands[level];
        band.level = level;
        band.lower.push_back(lu.first), band.upper.push_back(lu.second);
        b[Short(level)] = {lu.first, lu.second};
      }
      steps.push_back({{"step", step}, {"target", time::FormatDate(row.target)}, {"mean", row.mean}, {"bands", b}});
    }
    for (auto& [level, band] : bands) chart.bands.push_back(std::move(band));
    nlohmann::json entry = {
        {"kind", s.kind},
        {"model", s.model},
        {"frequency", s.frequency},
        {"last_observed", points.empty() ? nlohmann::json() : nlohmann::json(time::FormatDate(points.rbegin()->first))},
        {"forecast", steps}};
    if (auto t = trust.find(name); t != trust.end()) {
      const TrustRow& r = t->second;
      entry["trust"] = TrustJson(r);
      d.trust.push_back(r);
    }
    series_json[name] = entry;
    d.series.push_back(std::move(chart));
  }
  PULSE_ASSIGN_OR_RETURN(d.changes, Changes(lake, request, forecasts, history, trust));
  PULSE_ASSIGN_OR_RETURN(d.models, ReadModelCards(lake, request.signals_version));

  nlohmann::json sim_json = nlohmann::json::object();
  for (const auto& c : d.simulation) {
    nlohmann::json final_turn = {{"mean", c.mean.empty() ? nlohmann::json() : nlohmann::json(c.mean.back())}};
    for (const auto& band : c.bands) {
      if (!band.lower.empty())
        final_turn["q" + Short(band.low)] = band.lower.back(), final_turn["q" + Short(band.high)] = band.upper.back();
    }
    sim_json[c.variable] = final_turn;
  }
  report.summary = {
      {"generated", d.generated},
      {"dataset", d.dataset},
      {"lake", d.lake_url},
      {"signals_version", d.signals_version},
      {"forecasts_version", d.forecasts_version},
      {"simulation", {{"sim_id", d.sim_id}, {"runs", d.sim_runs}, {"turns", d.sim_turns}, {"final_turn", sim_json}}},
      {"series", series_json},
      {"changes", d.changes},
      {"models", ModelCardsJson(d.models)}};
  return report;
}

std::optional<nlohmann::json> ReadPreviousSummary(const std::string& out_dir) {
  auto text = ReadTextFile((std::filesystem::path(out_dir) / "summary.json").string());
  if (!text.ok()) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

Status WriteReport(const std::string& out_dir, const Report& report) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec || !std::filesystem::is_directory(out_dir)) {
    return Status::IoError("cannot create the output folder '" + out_dir +
                           "': " + (ec ? ec.message() : std::string("a file of that name exists")));
  }
  const std::filesystem::path dir(out_dir);
  PULSE_RETURN_IF_ERROR(WriteAtomically(dir / "report.html", RenderReportHtml(report.data)));
  return WriteAtomically(dir / "summary.json", report.summary.dump(1) + "\n");
}

}  // namespace pulse::report
