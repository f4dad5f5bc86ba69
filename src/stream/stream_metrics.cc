#include "stream/stream_metrics.h"

#include "core/otlp_exporter.h"

namespace pulse::stream {

StreamMetrics::StreamMetrics()
    : records_(registry_.AddCounter("pulse_stream_records_total", "Kafka records by outcome.", {"outcome"})),
      batches_(registry_.AddCounter("pulse_stream_batches_total", "Micro-batches committed to the lake.").With({})),
      commit_seconds_(
          registry_
              .AddHistogram("pulse_stream_batch_commit_seconds", "Time to commit a batch (parse + Delta commits).", {})
              .With({})),
      last_commit_seconds_(
          registry_.AddGauge("pulse_stream_last_batch_commit_seconds", "Commit time of the latest batch.").With({})),
      dead_lettered_(
          registry_
              .AddCounter("pulse_stream_dead_lettered_total", "Rejected records also sent to the dead-letter topic.")
              .With({})),
      lag_(registry_.AddGauge("pulse_stream_lag", "Records behind the partition's high watermark.",
                              {"topic", "partition"})) {
  for (const char* outcome : {"consumed", "accepted", "rejected", "duplicate"}) records_.With({outcome});
  metrics::RegisterProcessMetrics(registry_);
  trace::RegisterTraceMetrics(registry_);
  lake_commits_ = lake::ExportCommitMetrics(registry_);
}

void StreamMetrics::AddConsumed(int64_t n) { records_.With({"consumed"}).Inc(static_cast<double>(n)); }

void StreamMetrics::AddBatch(const BatchOutcome& outcome, double commit_seconds) {
  records_.With({"accepted"}).Inc(static_cast<double>(outcome.rows));
  records_.With({"rejected"}).Inc(static_cast<double>(outcome.rejected));
  records_.With({"duplicate"}).Inc(static_cast<double>(outcome.duplicates));
  batches_.Inc();
  commit_seconds_.Observe(commit_seconds);
  last_commit_seconds_.Set(commit_seconds);
}

void StreamMetrics::AddDeadLettered(int64_t n) { dead_lettered_.Inc(static_cast<double>(n)); }

void StreamMetrics::SetLag(const TopicPartition& tp, int64_t lag) {
  lag_.With({tp.topic, std::to_string(tp.partition)}).Set(static_cast<double>(lag));
}

void StreamMetrics::ForgetPartition(const TopicPartition& tp) { lag_.Remove({tp.topic, std::to_string(tp.partition)}); }

}  // namespace pulse::stream
