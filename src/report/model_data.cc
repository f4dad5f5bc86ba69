// Gathers the "Models and drift" section (ReadModelCards, report_data.h) from the model_events and
// drift_events tables.
#include <arrow/api.h>

#include <algorithm>
#include <map>
#include <set>

#include "lake/table_read.h"
#include "report/report_data.h"

namespace pulse::report {

using lake::ColumnAs;
using lake::ReadBatch;

namespace {

double OrNaN(const arrow::DoubleArray& a, int64_t i) {
  return a.IsNull(i) ? std::numeric_limits<double>::quiet_NaN() : a.Value(i);
}

Status ReadEvents(lake::Lake& lake, int64_t signals_version, std::map<std::string, ModelCard>* cards) {
  PULSE_ASSIGN_OR_RETURN(auto table, lake::OpenTableIfPresent(lake, "model_events"));
  if (!table) return Status::Ok();
  PULSE_ASSIGN_OR_RETURN(auto b, ReadBatch(*table, {}));
  PULSE_ASSIGN_OR_RETURN(auto time, ColumnAs<arrow::TimestampArray>(*b, "time"));
  PULSE_ASSIGN_OR_RETURN(auto kind, ColumnAs<arrow::StringArray>(*b, "kind"));
  PULSE_ASSIGN_OR_RETURN(auto series, ColumnAs<arrow::StringArray>(*b, "series"));
  PULSE_ASSIGN_OR_RETURN(auto model_name, ColumnAs<arrow::StringArray>(*b, "model_name"));
  PULSE_ASSIGN_OR_RETURN(auto version, ColumnAs<arrow::Int64Array>(*b, "version"));
  PULSE_ASSIGN_OR_RETURN(auto event, ColumnAs<arrow::StringArray>(*b, "event"));
  PULSE_ASSIGN_OR_RETURN(auto champion, ColumnAs<arrow::Int64Array>(*b, "champion_version"));
  PULSE_ASSIGN_OR_RETURN(auto challenger_mase, ColumnAs<arrow::DoubleArray>(*b, "challenger_mase"));
  PULSE_ASSIGN_OR_RETURN(auto champion_mase, ColumnAs<arrow::DoubleArray>(*b, "champion_mase"));
  PULSE_ASSIGN_OR_RETURN(auto reason, ColumnAs<arrow::StringArray>(*b, "reason"));
  PULSE_ASSIGN_OR_RETURN(auto trigger, ColumnAs<arrow::StringArray>(*b, "trigger"));
  PULSE_ASSIGN_OR_RETURN(auto version_of_signals, ColumnAs<arrow::Int64Array>(*b, "signals_version"));
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    if (signals_version >= 0 && version_of_signals->Value(i) > signals_version) continue;
    ModelCard& card = (*cards)[series->GetString(i)];
    card.series = series->GetString(i), card.kind = kind->GetString(i), card.model_name = model_name->GetString(i);
    card.events.push_back({time->Value(i), version->Value(i), event->GetString(i),
                           champion->IsNull(i) ? 0 : champion->Value(i), OrNaN(*challenger_mase, i),
                           OrNaN(*champion_mase, i), reason->GetString(i), trigger->GetString(i)});
  }
  return Status::Ok();
}

// One DriftCheck per (series, signals version): drift when the default input test or an outcome
// detector (rows without a reference window) decided drift.
Status ReadChecks(lake::Lake& lake, int64_t signals_version, std::map<std::string, ModelCard>* cards) {
  PULSE_ASSIGN_OR_RETURN(auto table, lake::OpenTableIfPresent(lake, "drift_events"));
  if (!table) return Status::Ok();
  PULSE_ASSIGN_OR_RETURN(auto b,
                         ReadBatch(*table, {.columns = {"series", "kind", "detector", "default_test", "decision",
                                                        "reference_start", "signals_version", "detected_at"}}));
  PULSE_ASSIGN_OR_RETURN(auto series, ColumnAs<arrow::StringArray>(*b, "series"));
  PULSE_ASSIGN_OR_RETURN(auto kind, ColumnAs<arrow::StringArray>(*b, "kind"));
  PULSE_ASSIGN_OR_RETURN(auto detector, ColumnAs<arrow::StringArray>(*b, "detector"));
  PULSE_ASSIGN_OR_RETURN(auto is_default, ColumnAs<arrow::BooleanArray>(*b, "default_test"));
  PULSE_ASSIGN_OR_RETURN(auto decision, ColumnAs<arrow::StringArray>(*b, "decision"));
  PULSE_ASSIGN_OR_RETURN(auto reference_start, ColumnAs<arrow::TimestampArray>(*b, "reference_start"));
  PULSE_ASSIGN_OR_RETURN(auto version, ColumnAs<arrow::Int64Array>(*b, "signals_version"));
  PULSE_ASSIGN_OR_RETURN(auto detected_at, ColumnAs<arrow::TimestampArray>(*b, "detected_at"));
  struct Check {
    int64_t time = INT64_MAX;
    std::set<std::string> drift;
  };
  std::map<std::string, std::map<int64_t, Check>> checks;
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    if (signals_version >= 0 && version->Value(i) > signals_version) continue;
    const std::string name = series->GetString(i);
    if (!cards->count(name)) (*cards)[name].series = name, (*cards)[name].kind = kind->GetString(i);
    Check& c = checks[name][version->Value(i)];
    c.time = std::min(c.time, detected_at->Value(i));
    const bool counts = is_default->Value(i) || reference_start->IsNull(i);
    if (counts && decision->GetView(i) == "drift") c.drift.insert(detector->GetString(i));
  }
  for (auto& [name, by_version] : checks) {
    for (auto& [v, c] : by_version) {
      std::string detectors;
      for (const auto& d : c.drift) detectors += (detectors.empty() ? "" : ", ") + d;
      (*cards)[name].checks.push_back({c.time, v, !c.drift.empty(), detectors});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<ModelCard>> ReadModelCards(lake::Lake& lake, int64_t signals_version) {
  std::map<std::string, ModelCard> cards;
  PULSE_RETURN_IF_ERROR(ReadEvents(lake, signals_version, &cards));
  PULSE_RETURN_IF_ERROR(ReadChecks(lake, signals_version, &cards));
  std::vector<ModelCard> out;
  for (auto& [name, card] : cards) {
    auto by_time = [](const auto& a, const auto& b) { return a.time < b.time; };
    std::stable_sort(card.events.begin(), card.events.end(), by_time);
    std::stable_sort(card.checks.begin(), card.checks.end(), by_time);
    for (const ModelEvent& e : card.events) {
      if (e.event == "promoted") card.champion_version = e.version, card.trained = e.time;
    }
    out.push_back(std::move(card));
  }
  return out;
}

nlohmann::json ModelCardsJson(const std::vector<ModelCard>& cards) {
  nlohmann::json out = nlohmann::json::object();
  for (const ModelCard& c : cards) {
    nlohmann::json events = nlohmann::json::array();
    for (const ModelEvent& e : c.events) {
      events.push_back({{"version", e.version}, {"event", e.event}, {"reason", e.reason}, {"trigger", e.trigger}});
    }
    int64_t drifts = 0;
    for (const DriftCheck& k : c.checks) drifts += k.drift ? 1 : 0;
    out[c.series] = {
        {"model_name", c.model_name.empty() ? nlohmann::json() : nlohmann::json(c.model_name)},
        {"champion_version", c.champion_version > 0 ? nlohmann::json(c.champion_version) : nlohmann::json()},
        {"events", events},
        {"drift_checks", c.checks.size()},
        {"drift_detections", drifts}};
  }
  return out;
}

}  // namespace pulse::report
