#include "pipeline/drift_job.h"

#include <arrow/api.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "core/time.h"
#include "drift/coverage.h"
#include "drift/input_drift.h"
#include "drift/streaming.h"
#include "jobs/task_client.h"
#include "lake/table_read.h"
#include "pipeline/usable_signals.h"
#include "report/forecast_table.h"

namespace pulse::pipeline {
namespace {

using lake::ColumnAs;
using lake::ReadBatch;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kZ80 = 1.2815515655446004;  // the standard normal's 90% quantile: half an 80% band

struct Series {
  std::string kind, name;
  std::vector<int64_t> ts;
  std::vector<double> values;
};

// One forecast step whose target has been observed.
struct Outcome {
  int64_t target = 0, origin = 0;
  double z = 0;        // standardised error
  bool hit80 = false;  // inside the 80% band
  int hit95 = -1;      // inside the 95% band (1 / 0), -1 without one
};

struct EventRow {
  std::string series, kind, detector;
  bool default_test = false;
  double statistic = kNaN, p_value = kNaN, threshold = 0;
  int64_t reference_start = -1, reference_end = -1, window_start = 0, window_end = 0;
  int64_t points = 0;
  std::string decision, detail;
};

Result<std::vector<Series>> ReadSeries(lake::Lake& lake, const DriftOptions& options, int64_t& version) {
  PULSE_ASSIGN_OR_RETURN(auto signals, lake.OpenTable("signals"));
  PULSE_ASSIGN_OR_RETURN(version, signals->LatestVersion());
  lake::ReadOptions read{.version = version, .columns = {"kind", "name", "ts", "value"}};
  PULSE_ASSIGN_OR_RETURN(auto usable, UsableSignals::Prepare(*signals, read));
  PULSE_ASSIGN_OR_RETURN(auto batch, ReadBatch(*signals, read));
  PULSE_ASSIGN_OR_RETURN(auto kind, ColumnAs<arrow::StringArray>(*batch, "kind"));
  PULSE_ASSIGN_OR_RETURN(auto name, ColumnAs<arrow::StringArray>(*batch, "name"));
  PULSE_ASSIGN_OR_RETURN(auto ts, ColumnAs<arrow::TimestampArray>(*batch, "ts"));
  PULSE_ASSIGN_OR_RETURN(auto value, ColumnAs<arrow::DoubleArray>(*batch, "value"));
  PULSE_RETURN_IF_ERROR(usable.Bind(*batch));
  const std::set<std::string> kinds(options.kinds.begin(), options.kinds.end());
  std::map<std::pair<std::string, std::string>, std::map<int64_t, double>> grouped;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    if (!usable.Usable(i) || value->IsNull(i) || !std::isfinite(value->Value(i))) continue;
    if (!kinds.empty() && !kinds.count(kind->GetString(i))) continue;
    grouped[{kind->GetString(i), name->GetString(i)}][ts->Value(i)] = value->Value(i);
  }
  std::vector<Series> out;
  for (auto& [key, points] : grouped) {
    Series s{key.first, key.second, {}, {}};
    for (const auto& [t, v] : points) s.ts.push_back(t), s.values.push_back(v);
    out.push_back(std::move(s));
  }
  return out;
}

// Every forecast step of `forecasts` for this series whose target is observed in `series`.
std::vector<Outcome> Outcomes(const Series& series, const report::ForecastsByVersion& forecasts) {
  std::map<int64_t, double> observed;
  for (size_t i = 0; i < series.ts.size(); ++i) observed[series.ts[i]] = series.values[i];
  std::vector<Outcome> out;
  for (const auto& [version, by_series] : forecasts) {
    auto f = by_series.find(series.name);
    if (f == by_series.end() || f->second.kind != series.kind) continue;
    for (const auto& [step, row] : f->second.steps) {
      auto seen = observed.find(row.target);
      const auto band80 = f->second.Band(step, 0.8);
      if (seen == observed.end() || !band80 || row.target <= row.origin) continue;
      const double sd = (band80->second - band80->first) / (2 * kZ80);
      if (!(sd > 0) || !std::isfinite(sd)) continue;
      Outcome o;
      o.target = row.target;
      o.origin = row.origin;
      o.z = (seen->second - row.mean) / sd;
      o.hit80 = seen->second >= band80->first && seen->second <= band80->second;
      if (const auto band95 = f->second.Band(step, 0.95)) {
        o.hit95 = seen->second >= band95->first && seen->second <= band95->second ? 1 : 0;
      }
      out.push_back(o);
    }
  }
  std::sort(out.begin(), out.end(), [](const Outcome& a, const Outcome& b) {
    return std::tie(a.target, a.origin) < std::tie(b.target, b.origin);
  });
  return out;
}

std::string Statistic(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Input drift rows of one series (reference window, then current window); empty with `why` when short.
Result<std::vector<EventRow>> InputRows(const Series& s, const DriftOptions& options, std::string* why) {
  const auto need = static_cast<size_t>(options.reference_points + options.current_points);
  if (s.values.size() < need) {
    *why = std::to_string(s.values.size()) +
           " points, fewer than reference_points + current_points = " + std::to_string(need);
    return std::vector<EventRow>{};
  }
  const size_t cur_begin = s.values.size() - static_cast<size_t>(options.current_points);
  const size_t ref_begin = cur_begin - static_cast<size_t>(options.reference_points);
  const std::span<const double> all(s.values);
  const auto reference = all.subspan(ref_begin, cur_begin - ref_begin);
  const auto current = all.subspan(cur_begin);
  auto report = drift::CompareWindows(reference, current);
  if (!report.ok()) return report.status().WithContext(s.kind + "/" + s.name);
  std::vector<EventRow> rows;
  for (const auto& m : report->measures) {
    EventRow r;
    r.series = s.name, r.kind = s.kind, r.detector = m.detector;
    r.default_test = m.detector == report->default_test;
    r.statistic = m.statistic;
    r.p_value = m.p_value >= 0 ? m.p_value : kNaN;
    r.threshold = m.threshold;
    r.reference_start = s.ts[ref_begin], r.reference_end = s.ts[cur_begin - 1];
    r.window_start = s.ts[cur_begin], r.window_end = s.ts.back();
    r.points = options.current_points;
    r.decision = m.drift ? "drift" : "ok";
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<EventRow> OutcomeRows(const Series& s, const std::vector<Outcome>& outcomes, const DriftOptions& options) {
  std::vector<EventRow> rows;
  if (outcomes.empty()) return rows;
  auto base = [&](const std::string& detector) {
    EventRow r;
    r.series = s.name, r.kind = s.kind, r.detector = detector;
    r.window_start = outcomes.front().target, r.window_end = outcomes.back().target;
    r.points = static_cast<int64_t>(outcomes.size());
    return r;
  };
  std::vector<double> z, miss;
  for (const auto& o : outcomes) z.push_back(o.z), miss.push_back(o.hit80 ? 0.0 : 1.0);
  const auto recent_from = static_cast<int64_t>(outcomes.size()) - options.current_points;
  auto streaming = [&](const std::string& detector, const std::vector<int64_t>& hits, double threshold) {
    EventRow r = base(detector);
    r.statistic = static_cast<double>(hits.size());
    r.threshold = threshold;
    nlohmann::json times = nlohmann::json::array();
    bool recent = false;
    for (int64_t i : hits) {
      times.push_back(time::FormatTimestamp(outcomes[static_cast<size_t>(i)].target));
      recent = recent || i >= recent_from;
    }
    r.decision = recent ? "drift" : "ok";
    r.detail = nlohmann::json{{"detections", times}}.dump();
    rows.push_back(std::move(r));
  };
  // z and miss are finite and binary by construction, so the detectors cannot fail here.
  const drift::AdwinOptions adwin;
  const drift::PageHinkleyOptions ph;
  const drift::DdmOptions ddm;
  streaming("adwin", drift::AdwinDetections(z, adwin).value_or({}), adwin.delta);
  streaming("page_hinkley", drift::PageHinkleyDetections(z, ph).value_or({}), ph.threshold);
  streaming("ddm", drift::DdmDetections(miss, ddm).value_or({}), ddm.drift_threshold);
  int64_t hits80 = 0, hits95 = 0, trials95 = 0;
  for (const auto& o : outcomes) {
    hits80 += o.hit80 ? 1 : 0;
    if (o.hit95 >= 0) hits95 += o.hit95, ++trials95;
  }
  auto coverage = [&](const std::string& detector, int64_t hits, int64_t trials, double nominal) {
    if (trials < options.min_coverage_outcomes) return;
    auto t = drift::BinomialCoverageTest(hits, trials, nominal);
    if (!t.ok()) return;
    EventRow r = base(detector);
    r.statistic = t->hit_rate;
    r.p_value = t->p_value;
    r.threshold = drift::kCoveragePValueThreshold;
    r.points = trials;
    r.decision = t->miscalibrated ? "drift" : "ok";
    r.detail = nlohmann::json{{"hits", hits}, {"trials", trials}, {"nominal", nominal}}.dump();
    rows.push_back(std::move(r));
  };
  coverage("coverage80", hits80, static_cast<int64_t>(outcomes.size()), 0.8);
  coverage("coverage95", hits95, trials95, 0.95);
  return rows;
}

// series -> default-test decisions of earlier signals versions, newest first.
Result<std::map<std::string, std::vector<bool>>> EarlierDecisions(lake::Lake& lake, int64_t signals_version) {
  std::map<std::string, std::vector<bool>> out;
  auto table = lake.OpenTable("drift_events");
  if (!table.ok()) {
    if (table.status().code() == StatusCode::kNotFound) return out;
    return table.status();
  }
  PULSE_ASSIGN_OR_RETURN(
      auto batch, ReadBatch(**table, {.columns = {"series", "kind", "default_test", "decision", "signals_version"}}));
  PULSE_ASSIGN_OR_RETURN(auto series, ColumnAs<arrow::StringArray>(*batch, "series"));
  PULSE_ASSIGN_OR_RETURN(auto kind, ColumnAs<arrow::StringArray>(*batch, "kind"));
  PULSE_ASSIGN_OR_RETURN(auto is_default, ColumnAs<arrow::BooleanArray>(*batch, "default_test"));
  PULSE_ASSIGN_OR_RETURN(auto decision, ColumnAs<arrow::StringArray>(*batch, "decision"));
  PULSE_ASSIGN_OR_RETURN(auto version, ColumnAs<arrow::Int64Array>(*batch, "signals_version"));
  std::map<std::string, std::map<int64_t, bool, std::greater<>>> by_version;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    if (!is_default->Value(i) || version->Value(i) >= signals_version) continue;
    by_version[kind->GetString(i) + "/" + series->GetString(i)][version->Value(i)] = decision->GetView(i) == "drift";
  }
  for (auto& [key, versions] : by_version) {
    for (const auto& [v, d] : versions) out[key].push_back(d);
  }
  return out;
}

Result<std::shared_ptr<arrow::Table>> BuildTable(const std::vector<EventRow>& rows, int64_t signals_version) {
  auto schema = DriftEventsSchema();
  auto made = arrow::RecordBatchBuilder::Make(schema, arrow::default_memory_pool());
  if (!made.ok()) return Status::Internal(made.status().ToString());
  auto& b = **made;
  auto str = [&](int i) { return b.GetFieldAs<arrow::StringBuilder>(i); };
  auto num = [&](int i) { return b.GetFieldAs<arrow::DoubleBuilder>(i); };
  auto ts = [&](int i) { return b.GetFieldAs<arrow::TimestampBuilder>(i); };
  auto optional_num = [&](int i, double v) { return std::isfinite(v) ? num(i)->Append(v) : num(i)->AppendNull(); };
  auto optional_ts = [&](int i, int64_t v) { return v >= 0 ? ts(i)->Append(v) : ts(i)->AppendNull(); };
  const int64_t now = time::NowMicros();
  for (const EventRow& r : rows) {
    // A statistic may be +inf (chi-square with a category the reference never had): kept as null.
    const bool ok = str(0)->Append(r.series).ok() && str(1)->Append(r.kind).ok() && str(2)->Append(r.detector).ok() &&
                    b.GetFieldAs<arrow::BooleanBuilder>(3)->Append(r.default_test).ok() &&
                    optional_num(4, r.statistic).ok() && optional_num(5, r.p_value).ok() &&
                    num(6)->Append(r.threshold).ok() && optional_ts(7, r.reference_start).ok() &&
                    optional_ts(8, r.reference_end).ok() && ts(9)->Append(r.window_start).ok() &&
                    ts(10)->Append(r.window_end).ok() && b.GetFieldAs<arrow::Int64Builder>(11)->Append(r.points).ok() &&
                    str(12)->Append(r.decision).ok() && str(13)->Append(r.detail).ok() &&
                    b.GetFieldAs<arrow::Int64Builder>(14)->Append(signals_version).ok() && ts(15)->Append(now).ok();
    if (!ok) return Status::Internal("building the drift_events table");
  }
  auto batch = b.Flush();
  if (!batch.ok()) return Status::Internal(batch.status().ToString());
  auto table = arrow::Table::FromRecordBatches(schema, {*batch});
  if (!table.ok()) return Status::Internal(table.status().ToString());
  return *table;
}

}  // namespace

std::shared_ptr<arrow::Schema> DriftEventsSchema() {
  const auto ts = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  return arrow::schema({
      arrow::field("series", arrow::utf8(), false),
      arrow::field("kind", arrow::utf8(), false),
      arrow::field("detector", arrow::utf8(), false),
      arrow::field("default_test", arrow::boolean(), false),
      arrow::field("statistic", arrow::float64(), true),
      arrow::field("p_value", arrow::float64(), true),
      arrow::field("threshold", arrow::float64(), false),
      arrow::field("reference_start", ts, true),
      arrow::field("reference_end", ts, true),
      arrow::field("window_start", ts, false),
      arrow::field("window_end", ts, false),
      arrow::field("points", arrow::int64(), false),
      arrow::field("decision", arrow::utf8(), false),
      arrow::field("detail", arrow::utf8(), false),
      arrow::field("signals_version", arrow::int64(), false),
      arrow::field("detected_at", ts, false),
  });
}

Result<DriftReport> DetectDrift(lake::Lake& lake, const DriftOptions& options, jobs::TaskQueue* queue) {
  if (options.reference_points < 1 || options.current_points < 1) {
    return Status::InvalidArgument("drift windows need at least 1 point each (reference_points, current_points)");
  }
  DriftReport report;
  PULSE_ASSIGN_OR_RETURN(auto series, ReadSeries(lake, options, report.signals_version));
  report::ForecastsByVersion forecasts;
  if (auto read = report::ReadForecasts(lake); read.ok()) {
    forecasts = std::move(*read);
  } else if (read.status().code() != StatusCode::kNotFound) {
    return read.status();
  }
  PULSE_ASSIGN_OR_RETURN(auto earlier, EarlierDecisions(lake, report.signals_version));

  std::vector<EventRow> rows;
  for (const Series& s : series) {
    std::string why;
    PULSE_ASSIGN_OR_RETURN(auto input, InputRows(s, options, &why));
    const auto outcome_rows = OutcomeRows(s, Outcomes(s, forecasts), options);
    if (input.empty() && outcome_rows.empty()) {
      report.skipped.push_back(s.kind + "/" + s.name + ": " + why);
      continue;
    }
    if (input.empty()) report.skipped.push_back(s.kind + "/" + s.name + " (input drift): " + why);
    ++report.series_checked;
    std::string reason;
    for (const EventRow& r : input) {
      if (!r.default_test || r.decision != "drift") continue;
      report.input_drift.push_back(s.name);
      // This version and the earlier ones in a row.
      int run = 1;
      for (bool d : earlier[s.kind + "/" + s.name]) {
        if (!d) break;
        ++run;
      }
      if (options.trigger_consecutive > 0 && run >= options.trigger_consecutive) {
        reason = r.detector + ": " + Statistic(r.statistic);
      }
    }
    for (const EventRow& r : outcome_rows) {
      if (r.decision != "drift" || !reason.empty()) continue;
      const bool is_coverage = r.detector.rfind("coverage", 0) == 0;
      if ((is_coverage && options.trigger_coverage) || (!is_coverage && options.trigger_streaming)) {
        reason = r.detector + ": " + Statistic(r.statistic);
      }
    }
    if (!reason.empty()) report.retrain.push_back({s.name, reason, ""});
    auto keep = [&](const std::vector<EventRow>& part) {
      for (const EventRow& r : part) {
        if (r.decision == "drift") ++report.detections[r.detector];
        rows.push_back(r);
      }
    };
    keep(input);
    keep(outcome_rows);
  }
  report.rows = static_cast<int64_t>(rows.size());
  if (rows.empty()) return report;  // nothing to record: no table version is written

  PULSE_ASSIGN_OR_RETURN(auto table, BuildTable(rows, report.signals_version));
  PULSE_ASSIGN_OR_RETURN(auto out, lake.OpenOrCreateTable("drift_events", DriftEventsSchema(), {}));
  lake::WriteOptions write;
  write.app_id =
      "pulse-drift:" + std::to_string(options.reference_points) + ":" + std::to_string(options.current_points);
  write.app_version = report.signals_version;
  write.operation = "DRIFT";
  write.operation_parameters = {{"signals_version", std::to_string(report.signals_version)},
                                {"reference_points", std::to_string(options.reference_points)},
                                {"current_points", std::to_string(options.current_points)}};
  PULSE_ASSIGN_OR_RETURN(auto commit, out->Append(*table, write));
  report.version = commit.version;
  report.duplicate = commit.skipped;
  if (report.duplicate || queue == nullptr) return report;
  for (RetrainRequest& r : report.retrain) {
    jobs::TaskMessage message;
    message.task = "pulse.train";
    message.queue = options.train_queue;
    message.kwargs = {{"series", nlohmann::json::array({r.series})}, {"reason", r.reason}};
    auto id = jobs::SubmitTask(*queue, std::move(message));
    if (!id.ok()) {
      return id.status().WithContext("drift_events version " + std::to_string(report.version) +
                                     " written, but enqueuing pulse.train for '" + r.series + "' failed");
    }
    r.task_id = *id;
  }
  return report;
}

void RecordDriftMetrics(const DriftReport& report, PipelineStats& stats) {
  stats.drift_last_micros = time::NowMicros();
  if (report.duplicate || report.rows == 0) return;
  stats.drift_series = report.series_checked;
  stats.drift_rows += report.rows;
  for (size_t i = 0; i < kDriftDetectors.size(); ++i) {
    auto it = report.detections.find(std::string(kDriftDetectors[i]));
    if (it != report.detections.end()) stats.drift_detections[i] += it->second;
  }
  for (const RetrainRequest& r : report.retrain) {
    if (!r.task_id.empty()) ++stats.drift_retrain_enqueued;
  }
}

}  // namespace pulse::pipeline
