#include "ingest/signal_scoring.h"

#include <arrow/api.h>

#include <set>

#include "signals/signal_schema.h"

namespace pulse::ingest {
namespace {

bool SameField(const arrow::Field& a, const arrow::Field& b) {
  return a.name() == b.name() && a.type()->Equals(*b.type());
}

}  // namespace

Result<std::unique_ptr<lake::DeltaTable>> OpenSignalsTable(lake::Lake& lake) {
  auto table = lake.OpenTable(signals::kSignalsTable);
  if (table.status().code() == StatusCode::kNotFound) {
    return lake.OpenOrCreateTable(signals::kSignalsTable, signals::ScoredSignalSchema(),
                                  signals::SignalPartitionColumns(), std::nullopt, signals::SignalSortColumns());
  }
  if (!table.ok()) return table.status();
  const auto have = (*table)->schema();
  const auto want = signals::ScoredSignalSchema();
  const int base = signals::SignalSchema()->num_fields();
  // The table's columns must be the scored schema's first columns, at least the unscored ones.
  bool prefix = have->num_fields() >= base && have->num_fields() <= want->num_fields();
  for (int i = 0; prefix && i < have->num_fields(); ++i) prefix = SameField(*have->field(i), *want->field(i));
  if (!prefix) {
    return Status::InvalidArgument("the signals table at " + (*table)->filesystem().RootUrl() +
                                   " has columns Pulse does not write: " + have->ToString() + "; expected " +
                                   want->ToString());
  }
  if (have->num_fields() < want->num_fields()) {
    std::vector<std::shared_ptr<arrow::Field>> missing(want->fields().begin() + have->num_fields(),
                                                       want->fields().end());
    PULSE_ASSIGN_OR_RETURN(auto commit, (*table)->AddColumns(missing));
    (void)commit;
  }
  return std::move(*table);
}

Status LoadSeriesHistory(lake::DeltaTable& table, const arrow::Table& rows, signals::SeriesHistory& history,
                         std::optional<int64_t> version) {
  PULSE_ASSIGN_OR_RETURN(auto series, signals::SeriesOf(rows));
  std::set<std::string> wanted;              // series keys to load
  std::set<std::string, std::less<>> names;  // their names: a cheap first test per stored row
  for (const auto& [source, name] : series) {
    if (!history.Contains(source, name)) {
      wanted.insert(signals::SeriesHistory::Key(source, name));
      names.insert(name);
    }
  }
  if (wanted.empty()) return Status::Ok();
  PULSE_ASSIGN_OR_RETURN(auto stored, table.Read({.version = version, .columns = {"source", "name", "ts", "value"}}));
  for (const auto& batch_or : arrow::TableBatchReader(*stored)) {
    if (!batch_or.ok()) return Status::Internal(batch_or.status().ToString());
    const auto& batch = **batch_or;
    auto source = std::static_pointer_cast<arrow::StringArray>(batch.column(0));
    auto name = std::static_pointer_cast<arrow::StringArray>(batch.column(1));
    auto ts = std::static_pointer_cast<arrow::TimestampArray>(batch.column(2));
    auto value = std::static_pointer_cast<arrow::DoubleArray>(batch.column(3));
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      if (name->IsNull(i) || source->IsNull(i) || ts->IsNull(i) || value->IsNull(i)) continue;
      if (names.find(name->GetView(i)) == names.end()) continue;
      if (!wanted.count(signals::SeriesHistory::Key(source->GetView(i), name->GetView(i)))) continue;
      history.Add(source->GetView(i), name->GetView(i), {ts->Value(i), value->Value(i)});
    }
  }
  for (const auto& [source, name] : series) history.Ensure(source, name);
  return Status::Ok();
}

Result<ScoredSignals> ScoreSignals(lake::DeltaTable& table, const arrow::Table& rows,
                                   const signals::ScoringRules& rules, signals::SeriesHistory* history,
                                   std::optional<int64_t> version) {
  signals::SeriesHistory local;
  signals::SeriesHistory& h = history != nullptr ? *history : local;
  if (rows.num_rows() > 0) PULSE_RETURN_IF_ERROR(LoadSeriesHistory(table, rows, h, version));
  h.Sort();  // ScoreBatch then reads only the part of each series that scoring needs
  ScoredSignals out;
  PULSE_ASSIGN_OR_RETURN(out.rows, signals::ScoreBatch(rows, h, rules, &out.gate));
  return out;
}

}  // namespace pulse::ingest
