// StreamMetrics: the stream consumer's metrics on the shared registry (core/metrics.h), served on
// --metrics-port by core/metrics_server.h. Thread-safe: the consumer updates, the metrics thread
// renders.
//   pulse_stream_records_total{outcome="consumed|accepted|rejected|duplicate"}
//   pulse_stream_batches_total, pulse_stream_batch_commit_seconds (histogram),
//   pulse_stream_last_batch_commit_seconds, pulse_stream_lag{topic,partition} (records behind the
//   partition's high watermark), pulse_stream_dead_lettered_total, the lake's commit time and
//   conflicts while it lives (lake/commit_metrics.h) and the process's CPU/memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "lake/commit_metrics.h"
#include "stream/stream_batch.h"

namespace pulse::stream {

class StreamMetrics {
 public:
  StreamMetrics();
  void AddConsumed(int64_t n);
  void AddBatch(const BatchOutcome& outcome, double commit_seconds);
  void AddDeadLettered(int64_t n);
  void SetLag(const TopicPartition& tp, int64_t lag);
  void ForgetPartition(const TopicPartition& tp);
  const metrics::Registry& registry() const { return registry_; }
  std::string Render() const { return registry_.Render(); }

 private:
  metrics::Registry registry_;
  metrics::Family<metrics::Counter>& records_;
  metrics::Counter& batches_;
  metrics::Histogram& commit_seconds_;
  metrics::Gauge& last_commit_seconds_;
  metrics::Counter& dead_lettered_;
  metrics::Family<metrics::Gauge>& lag_;
  std::unique_ptr<lake::ScopedCommitHook> lake_commits_;  // after registry_: removed first
};

}  // namespace pulse::stream
