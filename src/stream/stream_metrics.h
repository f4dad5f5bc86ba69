// StreamMetrics: the stream consumer's counters in the Prometheus text format, for
// --metrics-port (core/metrics_server.h serves them). Thread-safe: the consumer updates, the
// metrics thread renders. Kept small and separate so it can move onto a shared metrics facade.
//   pulse_stream_records_total{outcome="consumed|accepted|rejected|duplicate"}
//   pulse_stream_batches_total, pulse_stream_batch_commit_seconds_{sum,count},
//   pulse_stream_last_batch_commit_seconds, pulse_stream_lag{topic,partition} (records behind the
//   partition's high watermark), pulse_stream_dead_lettered_total.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "stream/stream_batch.h"

namespace pulse::stream {

class StreamMetrics {
 public:
  void AddConsumed(int64_t n);
  void AddBatch(const BatchOutcome& outcome, double commit_seconds);
  void AddDeadLettered(int64_t n);
  void SetLag(const TopicPartition& tp, int64_t lag);
  void ForgetPartition(const TopicPartition& tp);
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  int64_t consumed_ = 0, accepted_ = 0, rejected_ = 0, duplicates_ = 0, batches_ = 0, dead_lettered_ = 0;
  double commit_seconds_sum_ = 0, last_commit_seconds_ = 0;
  std::map<TopicPartition, int64_t> lag_;
};

}  // namespace pulse::stream
