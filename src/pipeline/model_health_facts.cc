#include "pipeline/model_health_facts.h"

#include <arrow/api.h>

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>
#include <vector>

#include "lake/table_read.h"

namespace pulse::pipeline {

using lake::ColumnAs;
using lake::ReadBatch;

namespace {}  // namespace

Result<std::map<std::string, DriftStatus>> ReadDriftStatus(lake::Lake& lake, int64_t signals_version) {
  std::map<std::string, DriftStatus> out;
  PULSE_ASSIGN_OR_RETURN(auto table, lake::OpenTableIfPresent(lake, "drift_events"));
  if (!table) return out;
  PULSE_ASSIGN_OR_RETURN(auto b, ReadBatch(*table, {.columns = {"series", "detector", "default_test", "decision",
                                                                "reference_start", "signals_version"}}));
  PULSE_ASSIGN_OR_RETURN(auto series, ColumnAs<arrow::StringArray>(*b, "series"));
  PULSE_ASSIGN_OR_RETURN(auto detector, ColumnAs<arrow::StringArray>(*b, "detector"));
  PULSE_ASSIGN_OR_RETURN(auto is_default, ColumnAs<arrow::BooleanArray>(*b, "default_test"));
  PULSE_ASSIGN_OR_RETURN(auto decision, ColumnAs<arrow::StringArray>(*b, "decision"));
  PULSE_ASSIGN_OR_RETURN(auto reference_start, ColumnAs<arrow::TimestampArray>(*b, "reference_start"));
  PULSE_ASSIGN_OR_RETURN(auto version, ColumnAs<arrow::Int64Array>(*b, "signals_version"));
  std::map<std::string, int64_t> newest;  // series -> newest checked version <= signals_version
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    if (signals_version >= 0 && version->Value(i) > signals_version) continue;
    auto [it, fresh] = newest.try_emplace(series->GetString(i), version->Value(i));
    if (!fresh) it->second = std::max(it->second, version->Value(i));
  }
  std::map<std::string, std::set<std::string>> detectors;
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    auto it = newest.find(series->GetString(i));
    if (it == newest.end() || version->Value(i) != it->second) continue;
    detectors[it->first];  // checked, maybe without drift
    const bool counts = is_default->Value(i) || reference_start->IsNull(i);
    if (counts && decision->GetView(i) == "drift") detectors[it->first].insert(detector->GetString(i));
  }
  for (const auto& [name, found] : detectors) {
    DriftStatus& s = out[name];
    s.drifted = !found.empty();
    if (!s.drifted) {
      s.status = "ok";
      continue;
    }
    s.status = "drift (";
    for (const auto& d : found) s.status += (s.status.back() == '(' ? "" : ", ") + d;
    s.status += ")";
  }
  return out;
}

Result<std::map<std::pair<std::string, int64_t>, int64_t>> ReadTrainingTimes(lake::Lake& lake) {
  std::map<std::pair<std::string, int64_t>, int64_t> out;
  PULSE_ASSIGN_OR_RETURN(auto table, lake::OpenTableIfPresent(lake, "model_events"));
  if (!table) return out;
  PULSE_ASSIGN_OR_RETURN(auto b, ReadBatch(*table, {.columns = {"time", "model_name", "version"}}));
  PULSE_ASSIGN_OR_RETURN(auto time, ColumnAs<arrow::TimestampArray>(*b, "time"));
  PULSE_ASSIGN_OR_RETURN(auto name, ColumnAs<arrow::StringArray>(*b, "model_name"));
  PULSE_ASSIGN_OR_RETURN(auto version, ColumnAs<arrow::Int64Array>(*b, "version"));
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    auto [it, fresh] = out.try_emplace({name->GetString(i), version->Value(i)}, time->Value(i));
    if (!fresh) it->second = std::min(it->second, time->Value(i));
  }
  return out;
}

double RollingCoverage::Share() const {
  return outcomes > 0 ? static_cast<double>(hits) / static_cast<double>(outcomes)
                      : std::numeric_limits<double>::quiet_NaN();
}

RollingCoverage RollingCoverage80(const report::ForecastsByVersion& forecasts, int64_t signals_version,
                                  const std::string& series, const std::map<int64_t, double>& points, int64_t window) {
  std::vector<std::tuple<int64_t, int64_t, bool>> seen;  // (target, origin, inside)
  for (const auto& [version, by_series] : forecasts) {
    if (version >= signals_version) break;
    auto f = by_series.find(series);
    if (f == by_series.end()) continue;
    for (const auto& [step, row] : f->second.steps) {
      auto observed = points.find(row.target);
      const auto band = f->second.Band(step, 0.8);
      if (observed == points.end() || !band) continue;
      seen.emplace_back(row.target, row.origin, observed->second >= band->first && observed->second <= band->second);
    }
  }
  std::sort(seen.begin(), seen.end());
  RollingCoverage out;
  const size_t keep = window > 0 ? std::min(seen.size(), static_cast<size_t>(window)) : seen.size();
  for (size_t i = seen.size() - keep; i < seen.size(); ++i) {
    out.hits += std::get<2>(seen[i]) ? 1 : 0;
    ++out.outcomes;
  }
  return out;
}

}  // namespace pulse::pipeline
