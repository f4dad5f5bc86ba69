// RunStreamIngest: a Kafka consumer-group member (librdkafka's C API) that appends signal records
// to the lake's signals table in micro-batches, exactly once (see stream_batch.h for the records
// it accepts and how a batch is committed).
//
// Contract:
//  - Subscribes to the URL's topics (names, globs or a ^regex) in consumer group `group`. On every
//    partition assignment it reads the signals table's txn versions and starts each partition
//    there (the next offset not yet in the table, by any group); Kafka's committed offsets are only
//    a fallback when the lake cannot be read, and a partition the table has never seen starts at
//    `start` ("earliest" or "latest").
//  - A batch is committed when it holds max_records records or max_bytes value bytes, or
//    max_latency_ms after its first record; then Kafka offsets are committed (after the Delta
//    commit, never before). Batches commit on a second thread while the consumer fills the next
//    one; at most one batch is in flight: a full batch waits for it (a batch due by time goes once
//    it is done), and its Kafka offsets are committed by the consumer thread once its Delta commit
//    succeeded. When partitions are revoked (a rebalance) or on stop, the batch in flight and the
//    pending one are committed first. Memory is bounded: two batches by their bounds, librdkafka's
//    fetch queue by queue_kbytes (records behind a waiting batch stay in that queue and in Kafka).
//  - Bad records never stop it: each goes to signal_rejects (topic, partition, offset, reason) and,
//    when dead_letter_topic is set, to that topic (best effort, after the Delta commit; the table is
//    the record of truth). A lake error is retried with backoff; after `lake_retries` failures in a
//    row the call returns the error (nothing of the failed batch is in the table; a restart
//    re-reads it).
//  - Returns when `stop` becomes true (SIGTERM/SIGINT in the CLI): the current batch is committed,
//    the consumer leaves the group, and the report is returned. Also returns after idle_exit_ms
//    without a record while it holds partitions (0 = never), and once max_records records
//    (0 = no limit) are committed (records polled beyond them are not added: they stay in Kafka
//    for the next run, their offsets not committed).
//  - Rows are scored and gated like file rows (ingest::SignalSink, signals/scoring.h) with
//    `scoring` (null: the defaults); the consumer keeps one series-history cache, dropped on every
//    partition assignment (see signal_sink.h).
//  - No exception or librdkafka callback error escapes: Status at the boundary.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "lake/lake.h"
#include "signals/scoring.h"
#include "stream/stream_batch.h"

namespace pulse::stream {

struct StreamOptions {
  std::string url;                 // kafka://BROKERS/TOPICS (topics.h)
  std::string group = "pulse";     // consumer group id
  std::string start = "earliest";  // earliest | latest: partitions the table has not seen
  int64_t batch_max_records = 100000;
  int64_t batch_max_bytes = 64 << 20;
  int64_t batch_max_latency_ms = 1000;
  int64_t queue_kbytes = 16384;        // librdkafka queued.max.messages.kbytes (fetch queue bound)
  int64_t session_timeout_ms = 10000;  // a member silent this long (killed) leaves the group
  std::string dead_letter_topic;       // "" = rejects go to signal_rejects only
  int metrics_port = -1;               // -1 = none, 0 = any free port (logged)
  std::string metrics_host = "127.0.0.1";
  int lake_retries = 5;
  int64_t idle_exit_ms = 0;                              // return after this long without records (0 = never)
  int64_t max_records = 0;                               // return after this many records (0 = never)
  std::map<std::string, std::string> kafka;              // extra librdkafka properties
  BatchConfig batch;                                     // record format, CSV header, limits, parser defaults
  std::shared_ptr<const signals::ScoringRules> scoring;  // null = the default rules
  // Tests only (the hidden `--test-crash-at`): abort() the process at a commit point of batch
  // number test_crash_batch (1 = the first), to show that a crash there neither loses nor
  // duplicates a record. "" = never; "before-lake": before its Delta commit; "after-lake": after
  // its Delta commit, before its Kafka offsets are committed.
  std::string test_crash_at;
  int64_t test_crash_batch = 1;
};

struct StreamReport {
  int64_t records = 0;     // consumed
  int64_t rows = 0;        // appended to signals
  int64_t rejected = 0;    // appended to signal_rejects
  int64_t duplicates = 0;  // already in the table (a replay, or another consumer got there first)
  int64_t batches = 0;     // batches committed
  int64_t dead_lettered = 0;
  signals::GateCounts gate;  // gate decisions of the appended rows
  double seconds = 0;
};

// Checks the options (URL, group, start, bounds, CSV header) without connecting.
Status ValidateStreamOptions(const StreamOptions& options);

Result<StreamReport> RunStreamIngest(lake::Lake& lake, const StreamOptions& options, const std::atomic<bool>& stop);

}  // namespace pulse::stream
