#include "stream/stream_metrics.h"

#include <cstdio>

namespace pulse::stream {
namespace {

// A Prometheus label value: backslash, quote and newline escaped.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out;
}

}  // namespace

void StreamMetrics::AddConsumed(int64_t n) {
  std::lock_guard lock(mu_);
  consumed_ += n;
}

void StreamMetrics::AddBatch(const BatchOutcome& outcome, double commit_seconds) {
  std::lock_guard lock(mu_);
  accepted_ += outcome.rows;
  rejected_ += outcome.rejected;
  duplicates_ += outcome.duplicates;
  ++batches_;
  commit_seconds_sum_ += commit_seconds;
  last_commit_seconds_ = commit_seconds;
}

void StreamMetrics::AddDeadLettered(int64_t n) {
  std::lock_guard lock(mu_);
  dead_lettered_ += n;
}

void StreamMetrics::SetLag(const TopicPartition& tp, int64_t lag) {
  std::lock_guard lock(mu_);
  lag_[tp] = lag;
}

void StreamMetrics::ForgetPartition(const TopicPartition& tp) {
  std::lock_guard lock(mu_);
  lag_.erase(tp);
}

std::string StreamMetrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  char line[256];
  out += "# HELP pulse_stream_records_total Kafka records by outcome.\n# TYPE pulse_stream_records_total counter\n";
  for (auto [name, value] : {std::pair<const char*, int64_t>{"consumed", consumed_}, {"accepted", accepted_},
                             {"rejected", rejected_}, {"duplicate", duplicates_}}) {
    std::snprintf(line, sizeof line, "pulse_stream_records_total{outcome=\"%s\"} %lld\n", name,
                  static_cast<long long>(value));
    out += line;
  }
  std::snprintf(line, sizeof line,
                "# HELP pulse_stream_batches_total Micro-batches committed to the lake.\n"
                "# TYPE pulse_stream_batches_total counter\npulse_stream_batches_total %lld\n",
                static_cast<long long>(batches_));
  out += line;
  std::snprintf(line, sizeof line,
                "# HELP pulse_stream_batch_commit_seconds Time to commit a batch (parse + Delta commits).\n"
                "# TYPE pulse_stream_batch_commit_seconds summary\npulse_stream_batch_commit_seconds_sum %.6f\n"
                "pulse_stream_batch_commit_seconds_count %lld\n",
                commit_seconds_sum_, static_cast<long long>(batches_));
  out += line;
  std::snprintf(line, sizeof line,
                "# TYPE pulse_stream_last_batch_commit_seconds gauge\npulse_stream_last_batch_commit_seconds %.6f\n",
                last_commit_seconds_);
  out += line;
  std::snprintf(line, sizeof line,
                "# TYPE pulse_stream_dead_lettered_total counter\npulse_stream_dead_lettered_total %lld\n",
                static_cast<long long>(dead_lettered_));
  out += line;
  out += "# HELP pulse_stream_lag Records behind the partition's high watermark.\n# TYPE pulse_stream_lag gauge\n";
  for (const auto& [tp, lag] : lag_)
    out += "pulse_stream_lag{topic=\"" + Label(tp.topic) + "\",partition=\"" + std::to_string(tp.partition) + "\"} " +
           std::to_string(lag) + "\n";
  return out;
}

}  // namespace pulse::stream
