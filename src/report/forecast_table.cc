#include "report/forecast_table.h"

#include <arrow/api.h>

#include <cmath>

#include "lake/table_read.h"

namespace pulse::report {

using lake::ColumnAs;
using lake::ReadBatch;

std::optional<std::pair<double, double>> SeriesForecasts::Band(int step, double level) const {
  auto s = steps.find(step);
  if (s == steps.end()) return std::nullopt;
  for (const auto& [l, band] : s->second.bands)
    if (std::abs(l - level) < 1e-9) return band;
  return std::nullopt;
}

Result<ForecastsByVersion> ReadForecasts(lake::Lake& lake) {
  PULSE_ASSIGN_OR_RETURN(auto table, lake.OpenTable("forecasts"));
  PULSE_ASSIGN_OR_RETURN(auto b, ReadBatch(*table, {.columns = {"series", "kind", "model", "origin", "target", "step",
                                                                "mean", "level", "lower", "upper", "frequency",
                                                                "model_params", "signals_version", "created"}}));
  PULSE_ASSIGN_OR_RETURN(auto series, ColumnAs<arrow::StringArray>(*b, "series"));
  PULSE_ASSIGN_OR_RETURN(auto kind, ColumnAs<arrow::StringArray>(*b, "kind"));
  PULSE_ASSIGN_OR_RETURN(auto model, ColumnAs<arrow::StringArray>(*b, "model"));
  PULSE_ASSIGN_OR_RETURN(auto origin, ColumnAs<arrow::TimestampArray>(*b, "origin"));
  PULSE_ASSIGN_OR_RETURN(auto target, ColumnAs<arrow::TimestampArray>(*b, "target"));
  PULSE_ASSIGN_OR_RETURN(auto step, ColumnAs<arrow::Int32Array>(*b, "step"));
  PULSE_ASSIGN_OR_RETURN(auto mean, ColumnAs<arrow::DoubleArray>(*b, "mean"));
  PULSE_ASSIGN_OR_RETURN(auto level, ColumnAs<arrow::DoubleArray>(*b, "level"));
  PULSE_ASSIGN_OR_RETURN(auto lower, ColumnAs<arrow::DoubleArray>(*b, "lower"));
  PULSE_ASSIGN_OR_RETURN(auto upper, ColumnAs<arrow::DoubleArray>(*b, "upper"));
  PULSE_ASSIGN_OR_RETURN(auto frequency, ColumnAs<arrow::StringArray>(*b, "frequency"));
  PULSE_ASSIGN_OR_RETURN(auto params, ColumnAs<arrow::StringArray>(*b, "model_params"));
  PULSE_ASSIGN_OR_RETURN(auto version, ColumnAs<arrow::Int64Array>(*b, "signals_version"));
  PULSE_ASSIGN_OR_RETURN(auto created, ColumnAs<arrow::TimestampArray>(*b, "created"));
  ForecastsByVersion out;
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    SeriesForecasts& s = out[version->Value(i)][series->GetString(i)];
    // A series forecast twice from one signals version (e.g. again once a champion was
    // registered): the newest forecast counts.
    if (created->Value(i) < s.created) continue;
    if (created->Value(i) > s.created) s = SeriesForecasts{}, s.created = created->Value(i);
    if (s.steps.empty()) {  // the same for every row of a series and version
      s.kind = kind->GetString(i), s.model = model->GetString(i), s.frequency = frequency->GetString(i);
      s.params = nlohmann::json::parse(params->GetView(i), nullptr, false);
      if (s.params.is_discarded()) s.params = nlohmann::json::object();
    }
    ForecastStep& r = s.steps[step->Value(i)];
    r.origin = origin->Value(i), r.target = target->Value(i), r.mean = mean->Value(i);
    r.bands[level->Value(i)] = {lower->Value(i), upper->Value(i)};
  }
  return out;
}

}  // namespace pulse::report
