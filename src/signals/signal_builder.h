// SignalBatchBuilder: accumulates validated signals column by column and produces an Arrow table
// with SignalSchema() (the "date" partition column is derived from ts).
//
// Append() takes a signal that the caller has validated (finite value, non-empty name, source and
// kind); it does not re-check. Memory is one copy of the columns; no per-row heap object is kept.
#pragma once

#include <arrow/api.h>

#include <memory>

#include "core/status.h"
#include "signals/signal_schema.h"

namespace pulse::signals {

class SignalBatchBuilder {
 public:
  SignalBatchBuilder();
  Status Append(std::string_view name, std::string_view source, std::string_view kind, int64_t ts_us, double value,
                std::string_view unit, std::string_view metadata, int64_t ingest_time_us);
  int64_t size() const { return rows_; }
  // Returns the rows appended so far and resets the builder.
  Result<std::shared_ptr<arrow::Table>> Finish();

 private:
  arrow::StringBuilder name_, source_, kind_, unit_, metadata_, date_;
  arrow::TimestampBuilder ts_, ingest_time_;
  arrow::DoubleBuilder value_;
  int64_t rows_ = 0;
  int64_t last_day_ = INT64_MIN;  // cache: consecutive signals often share a date
  std::string last_date_;
};

}  // namespace pulse::signals
