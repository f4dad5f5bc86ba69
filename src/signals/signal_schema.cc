#include "signals/signal_schema.h"

#include <arrow/api.h>

namespace pulse::signals {

std::shared_ptr<arrow::Schema> SignalSchema() {
  auto ts = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  return arrow::schema({
      arrow::field("name", arrow::utf8(), false),
      arrow::field("source", arrow::utf8(), false),
      arrow::field("kind", arrow::utf8(), false),
      arrow::field("ts", ts, false),
      arrow::field("value", arrow::float64(), false),
      arrow::field("unit", arrow::utf8(), true),
      arrow::field("metadata", arrow::utf8(), true),
      arrow::field("ingest_time", ts, false),
      arrow::field("date", arrow::utf8(), false),
  });
}

std::vector<std::shared_ptr<arrow::Field>> ScoreFields() {
  return {
      arrow::field("recency", arrow::float64(), true),  arrow::field("anomaly_z", arrow::float64(), true),
      arrow::field("anomaly", arrow::boolean(), true),  arrow::field("sti", arrow::float64(), true),
      arrow::field("tag", arrow::utf8(), true),         arrow::field("gate", arrow::utf8(), true),
      arrow::field("gate_reason", arrow::utf8(), true),
  };
}

std::shared_ptr<arrow::Schema> ScoredSignalSchema() {
  auto fields = SignalSchema()->fields();
  for (auto& f : ScoreFields()) fields.push_back(f);
  return arrow::schema(fields);
}

std::vector<std::string> SignalPartitionColumns() { return {"kind"}; }
std::vector<std::string> SignalSortColumns() { return {"name", "ts"}; }

std::shared_ptr<arrow::Schema> RejectSchema() {
  auto ts = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  return arrow::schema({
      arrow::field("file", arrow::utf8(), false),
      arrow::field("line", arrow::int64(), false),
      arrow::field("reason", arrow::utf8(), false),
      arrow::field("raw", arrow::utf8(), true),
      arrow::field("ingest_time", ts, false),
  });
}

}  // namespace pulse::signals
