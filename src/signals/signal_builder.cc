#include "signals/signal_builder.h"

#include "core/time.h"

namespace pulse::signals {
namespace {
Status FromArrow(const arrow::Status& st) { return st.ok() ? Status::Ok() : Status::Internal(st.ToString()); }
constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
}  // namespace

SignalBatchBuilder::SignalBatchBuilder()
    : ts_(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool()),
      ingest_time_(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool()) {}

Status SignalBatchBuilder::Append(std::string_view name, std::string_view source, std::string_view kind, int64_t ts_us,
                                  double value, std::string_view unit, std::string_view metadata,
                                  int64_t ingest_time_us) {
  int64_t day = ts_us >= 0 ? ts_us / kMicrosPerDay : -((-ts_us + kMicrosPerDay - 1) / kMicrosPerDay);
  if (day != last_day_) {
    last_day_ = day;
    last_date_ = time::FormatDate(ts_us);
  }
  PULSE_RETURN_IF_ERROR(FromArrow(name_.Append(name)));
  PULSE_RETURN_IF_ERROR(FromArrow(source_.Append(source)));
  PULSE_RETURN_IF_ERROR(FromArrow(kind_.Append(kind)));
  PULSE_RETURN_IF_ERROR(FromArrow(ts_.Append(ts_us)));
  PULSE_RETURN_IF_ERROR(FromArrow(value_.Append(value)));
  PULSE_RETURN_IF_ERROR(FromArrow(unit_.Append(unit)));
  PULSE_RETURN_IF_ERROR(FromArrow(metadata_.Append(metadata.empty() ? std::string_view("{}") : metadata)));
  PULSE_RETURN_IF_ERROR(FromArrow(ingest_time_.Append(ingest_time_us)));
  PULSE_RETURN_IF_ERROR(FromArrow(date_.Append(last_date_)));
  ++rows_;
  return Status::Ok();
}

Result<std::shared_ptr<arrow::Table>> SignalBatchBuilder::Finish() {
  std::vector<std::shared_ptr<arrow::Array>> cols(9);
  PULSE_RETURN_IF_ERROR(FromArrow(name_.Finish(&cols[0])));
  PULSE_RETURN_IF_ERROR(FromArrow(source_.Finish(&cols[1])));
  PULSE_RETURN_IF_ERROR(FromArrow(kind_.Finish(&cols[2])));
  PULSE_RETURN_IF_ERROR(FromArrow(ts_.Finish(&cols[3])));
  PULSE_RETURN_IF_ERROR(FromArrow(value_.Finish(&cols[4])));
  PULSE_RETURN_IF_ERROR(FromArrow(unit_.Finish(&cols[5])));
  PULSE_RETURN_IF_ERROR(FromArrow(metadata_.Finish(&cols[6])));
  PULSE_RETURN_IF_ERROR(FromArrow(ingest_time_.Finish(&cols[7])));
  PULSE_RETURN_IF_ERROR(FromArrow(date_.Finish(&cols[8])));
  rows_ = 0;
  return arrow::Table::Make(SignalSchema(), cols);
}

}  // namespace pulse::signals
