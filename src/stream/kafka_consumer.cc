#include "stream/kafka_consumer.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <set>
#include <thread>

#include "core/log.h"
#include "core/metrics_server.h"
#include "core/printable.h"
#include "core/trace.h"
#include "stream/kafka_client.h"
#include "stream/stream_metrics.h"
#include "stream/topics.h"

namespace pulse::stream {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class Consumer {
 public:
  Consumer(lake::Lake& lake, const StreamOptions& options) : lake_(lake), options_(options), batch_(options.batch) {}

  Result<StreamReport> Run(const std::atomic<bool>& stop) {
    const auto started = Clock::now();
    PULSE_RETURN_IF_ERROR(Setup());
    Clock::time_point batch_started{}, last_record = Clock::now();
    Status failure;
    while (!stop.load() && failure.ok()) {
      const bool enough = options_.max_records > 0 && report_.records >= options_.max_records;
      KafkaMessage msg(rd_kafka_consumer_poll(rk_.get(), enough ? 10 : 100));
      const auto now = Clock::now();  // once per record: reading the clock shows in profiles
      if (!rebalance_error_.ok()) failure = std::exchange(rebalance_error_, Status::Ok());
      if (msg && !enough) {  // past max_records a record is left in Kafka (its offset is not committed)
        if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          if (batch_.empty()) batch_started = now;
          last_record = now;
          Add(*msg);
        } else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          char fatal[512];
          if (rd_kafka_fatal_error(rk_.get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            failure = Status::Unavailable("Kafka consumer: fatal error: " + Printable(fatal));
            break;
          }
          // Transient (broker down, topic not there yet): librdkafka recovers by itself.
          log::Warn("stream", "consumer error", {{"error", Printable(rd_kafka_message_errstr(msg.get()), 512)}});
        }
      }
      if (failure.ok()) failure = Collect(/*wait=*/false);
      const bool full = batch_.records() >= options_.batch_max_records || batch_.bytes() >= options_.batch_max_bytes ||
                        (options_.max_records > 0 && report_.records >= options_.max_records);
      const bool due =
          !batch_.empty() && now - batch_started >= std::chrono::milliseconds(options_.batch_max_latency_ms);
      // A full batch waits for the one in flight (the records behind it stay in librdkafka's
      // bounded fetch queue and in Kafka); a batch due by time goes once the one in flight is done.
      if (failure.ok() && !batch_.empty() && (full || (due && !inflight_.valid()))) failure = StartCommit();
      const bool done = options_.max_records > 0 && report_.records >= options_.max_records;
      if (done && batch_.empty() && !inflight_.valid()) break;
      if (assigned_ == 0) last_record = now;  // idle counts only while holding partitions
      const bool idle = now - last_record >= std::chrono::milliseconds(options_.idle_exit_ms);
      if (options_.idle_exit_ms > 0 && idle && batch_.empty() && !inflight_.valid()) break;
    }
    if (failure.ok()) failure = Flush();
    if (!failure.ok()) {
      // Not committed: whoever reads these partitions next re-reads them from the table.
      if (inflight_.valid()) inflight_.wait();
      inflight_ = {};
      inflight_batch_.reset();
      batch_.Clear();
    }
    // Leave the group (the revoke callback flushes, now with an empty batch) and stop.
    rd_kafka_resp_err_t closed = rd_kafka_consumer_close(rk_.get());
    if (closed != RD_KAFKA_RESP_ERR_NO_ERROR)
      log::Warn("stream", "leaving the group failed", {{"error", rd_kafka_err2str(closed)}});
    if (dlq_) rd_kafka_flush(dlq_.get(), 10000);
    report_.seconds = SecondsSince(started);
    if (!failure.ok()) return failure;
    return report_;
  }

 private:
  Status Setup() {
    PULSE_ASSIGN_OR_RETURN(url_, ParseKafkaUrl(options_.url));
    PULSE_ASSIGN_OR_RETURN(sink_, ingest::SignalSink::Open(lake_, options_.scoring, /*keep_history=*/true));
    std::map<std::string, std::string> settings = {
        {"bootstrap.servers", url_.brokers},
        {"group.id", options_.group},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", options_.start == "latest" ? "latest" : "earliest"},
        {"queued.max.messages.kbytes", std::to_string(options_.queue_kbytes)},
        {"enable.partition.eof", "false"},
        {"partition.assignment.strategy", "range,roundrobin"},  // eager: a revoke precedes every assign
        {"topic.metadata.refresh.interval.ms", "5000"},         // new topics matching a pattern
        {"allow.auto.create.topics", "false"},
        {"session.timeout.ms", std::to_string(options_.session_timeout_ms)},
    };
    for (const auto& [k, v] : options_.kafka) settings[k] = v;
    PULSE_ASSIGN_OR_RETURN(auto conf, NewKafkaConf(settings));
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::OnRebalance);
    PULSE_ASSIGN_OR_RETURN(rk_, NewKafkaClient(RD_KAFKA_CONSUMER, std::move(conf)));
    rd_kafka_poll_set_consumer(rk_.get());
    PartitionList topics(rd_kafka_topic_partition_list_new(static_cast<int>(url_.topics.size())));
    for (const auto& t : url_.topics) rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(rk_.get(), topics.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return KafkaError(err, "subscribing to " + url_.text);
    if (!options_.dead_letter_topic.empty()) {
      std::map<std::string, std::string> producer = {
          {"bootstrap.servers", url_.brokers}, {"enable.idempotence", "true"}, {"linger.ms", "20"}};
      for (const auto& [k, v] : options_.kafka)
        if (k.starts_with("security.") || k.starts_with("sasl.") || k.starts_with("ssl.")) producer[k] = v;
      PULSE_ASSIGN_OR_RETURN(auto pconf, NewKafkaConf(producer));
      PULSE_ASSIGN_OR_RETURN(dlq_, NewKafkaClient(RD_KAFKA_PRODUCER, std::move(pconf)));
    }
    if (options_.metrics_port >= 0) {
      PULSE_ASSIGN_OR_RETURN(metrics_server_,
                             MetricsServer::Start(options_.metrics_host, options_.metrics_port, metrics_.registry()));
      log::Info(
          "stream", "metrics",
          {{"url", "http://" + options_.metrics_host + ":" + std::to_string(metrics_server_->port()) + "/metrics"}});
    }
    log::Info("stream", "consuming", {{"url", url_.text}, {"group", options_.group}, {"lake", lake_.url()}});
    return Status::Ok();
  }

  void Add(const rd_kafka_message_t& msg) {
    ++report_.records;
    metrics_.AddConsumed(1);
    if (msg.rkt != last_rkt_ || msg.partition != last_tp_.partition || last_next_ == nullptr) {
      // Records come in runs of one partition: names and map slots are looked up once per run.
      last_rkt_ = msg.rkt;
      last_tp_ = {rd_kafka_topic_name(msg.rkt), msg.partition};
      last_next_ = &next_offset_[last_tp_];
    }
    const TopicPartition& tp = last_tp_;
    std::optional<std::string_view> format;
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(&msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
      const void* value = nullptr;
      size_t size = 0;
      if (rd_kafka_header_get_last(headers, kFormatHeader, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR)
        format = value != nullptr ? std::string_view(static_cast<const char*>(value), size) : std::string_view();
      if (trace::Recording() && pending_links_.size() < kMaxBatchLinks &&
          rd_kafka_header_get_last(headers, kTraceparentHeader, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          value != nullptr) {
        auto context = trace::ParseTraceparent(std::string_view(static_cast<const char*>(value), size));
        if (context.ok() && (pending_links_.empty() || pending_links_.back().span_id != context->span_id))
          pending_links_.push_back(*context);
      }
    }
    std::string_view key =
        msg.key != nullptr ? std::string_view(static_cast<const char*>(msg.key), msg.key_len) : std::string_view();
    batch_.Add(tp, msg.offset, static_cast<const char*>(msg.payload), msg.len, key, format);
    *last_next_ = msg.offset + 1;
  }

  // One batch into the lake, retrying lake errors. Runs on the commit thread, which owns sink_
  // while a batch is in flight.
  struct Committed {
    Result<BatchOutcome> outcome = Status::Internal("not run");
    double seconds = 0;
  };
  Committed CommitToLake(const StreamBatch& batch, const std::vector<trace::SpanContext>& links) {
    // A batch holds records of many producers: its span is a root linked to their traces (up to
    // kMaxBatchLinks distinct producer spans), and the lake commits below are its children.
    trace::Span span = trace::Span::Start("stream.batch", trace::SpanKind::kConsumer, {});
    for (const auto& link : links) span.AddLink(link);
    const auto started = Clock::now();
    const int64_t number = ++batches_started_;
    CrashForTestAt("before-lake", number);
    Committed out;
    for (int attempt = 0; attempt <= options_.lake_retries; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 << std::min(attempt, 5)));
      out.outcome = CommitStreamBatch(*sink_, batch, {.group = options_.group});
      if (out.outcome.ok()) break;
      log::Warn("stream", "batch commit failed", {{"attempt", attempt + 1}, {"error", out.outcome.status().message()}});
    }
    out.seconds = SecondsSince(started);
    if (out.outcome.ok()) {
      CrashForTestAt("after-lake", number);
    } else {
      span.SetError(out.outcome.status().message());
    }
    return out;
  }

  void CrashForTestAt(std::string_view point, int64_t batch_number) const {
    if (options_.test_crash_at != point || batch_number != options_.test_crash_batch) return;
    std::fprintf(stderr, "pulse ingest --stream: crashing on purpose %.*s of batch %lld (--test-crash-at)\n",
                 static_cast<int>(point.size()), point.data(), static_cast<long long>(batch_number));
    std::abort();
  }

  // Hands the pending batch to the commit thread (after the batch in flight, if any, is done:
  // at most one batch is in flight, so memory stays bounded) and starts a new pending batch.
  Status StartCommit() {
    if (batch_.empty()) return Status::Ok();
    PULSE_RETURN_IF_ERROR(Collect(/*wait=*/true));
    inflight_batch_ = std::make_unique<StreamBatch>(std::move(batch_));
    batch_ = StreamBatch(options_.batch);
    inflight_links_ = std::move(pending_links_);
    pending_links_.clear();
    try {
      inflight_ = std::async(std::launch::async, [this, batch = inflight_batch_.get()]() noexcept {
        try {
          return CommitToLake(*batch, inflight_links_);
        } catch (const std::exception& e) {
          return Committed{Status::Internal(std::string("committing a stream batch: ") + e.what()), 0};
        }
      });
    } catch (const std::system_error& e) {  // no thread to run it: commit here
      inflight_ = {};
      std::promise<Committed> now;
      now.set_value(CommitToLake(*inflight_batch_, inflight_links_));
      inflight_ = now.get_future();
      log::Warn("stream", "no commit thread; committing on the consumer thread", {{"error", e.what()}});
    }
    return Status::Ok();
  }

  // Takes the result of the batch in flight (waiting for it, or only if it is done): records it
  // and, once it is in the lake, commits its Kafka offsets (never before the Delta commit).
  Status Collect(bool wait) {
    if (!inflight_.valid()) return Status::Ok();
    if (!wait && inflight_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return Status::Ok();
    Committed done = inflight_.get();
    inflight_batch_.reset();
    if (!done.outcome.ok()) return done.outcome.status().WithContext("committing a stream batch");
    const BatchOutcome& outcome = *done.outcome;
    metrics_.AddBatch(outcome, done.seconds);
    report_.rows += outcome.rows;
    report_.rejected += outcome.rejected;
    report_.duplicates += outcome.duplicates;
    report_.gate.accept += outcome.gate.accept;
    report_.gate.escalate += outcome.gate.escalate;
    report_.gate.suppress += outcome.gate.suppress;
    ++report_.batches;
    log::Debug("stream", "batch committed",
               {{"version", outcome.signals_version},
                {"rows", outcome.rows},
                {"rejected", outcome.rejected},
                {"duplicates", outcome.duplicates},
                {"seconds", done.seconds}});
    DeadLetter(outcome.rejects);
    CommitOffsets(outcome.next_offsets);
    UpdateLag();
    return Status::Ok();
  }

  // Commits everything read: the batch in flight and the pending one, then returns.
  Status Flush() {
    PULSE_RETURN_IF_ERROR(StartCommit());
    return Collect(/*wait=*/true);
  }

  void DeadLetter(const std::vector<StreamReject>& rejects) {
    if (!dlq_ || rejects.empty()) return;
    for (const auto& r : rejects) {
      const std::string partition = std::to_string(r.tp.partition), offset = std::to_string(r.offset);
      const std::string key = r.tp.topic + "/" + partition + "/" + offset;
      for (int tries = 0; tries < 100; ++tries) {
        rd_kafka_resp_err_t err = Produce(dlq_.get(), options_.dead_letter_topic.c_str(), key, r.raw,
                                          {{"pulse-reject-reason", r.reason},
                                           {"pulse-source-topic", r.tp.topic},
                                           {"pulse-source-partition", partition},
                                           {"pulse-source-offset", offset}});
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(dlq_.get(), 100);
          continue;
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          log::Warn("stream", "dead-letter produce failed", {{"error", rd_kafka_err2str(err)}, {"record", key}});
        } else {
          ++report_.dead_lettered;
        }
        break;
      }
    }
    metrics_.AddDeadLettered(static_cast<int64_t>(rejects.size()));
    if (rd_kafka_flush(dlq_.get(), 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log::Warn("stream", "dead-letter topic: records still unsent after 10 s",
                {{"topic", options_.dead_letter_topic}});
    }
  }

  // Kafka's committed offsets follow the table (for lag tools); the table is what resumes.
  void CommitOffsets(const std::map<TopicPartition, int64_t>& next) {
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(next.size())));
    for (const auto& [tp, offset] : next)
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
    if (auto err = rd_kafka_commit(rk_.get(), list.get(), 1); err != RD_KAFKA_RESP_ERR_NO_ERROR)
      log::Debug("stream", "offset commit not sent", {{"error", rd_kafka_err2str(err)}});
  }

  void UpdateLag() {
    for (const auto& [tp, next] : next_offset_) {
      int64_t low = 0, high = 0;
      if (rd_kafka_get_watermark_offsets(rk_.get(), tp.topic.c_str(), tp.partition, &low, &high) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0)
        metrics_.SetLag(tp, std::max<int64_t>(0, high - next));
    }
  }

  // Where each assigned partition starts: the table's offset; else `start`. The lake unreadable:
  // Kafka's committed offset, which never runs ahead of the table (it is committed after it).
  void Assign(rd_kafka_topic_partition_list_t* partitions) {
    // The sink is the commit thread's while a batch is in flight (none is after a revoke).
    if (Status done = Collect(/*wait=*/true); !done.ok()) rebalance_error_ = done;
    sink_->ResetHistory();  // series of the new partitions may have been written by their last owner
    std::map<TopicPartition, int64_t> table;
    auto snapshot = sink_->signals().LoadSnapshot();
    if (snapshot.ok()) {
      table = TableOffsets(snapshot->app_versions);
    } else {
      log::Warn("stream", "reading the table's offsets failed; starting from Kafka's committed offsets",
                {{"error", snapshot.status().message()}});
    }
    nlohmann::json shown = nlohmann::json::array();
    for (int i = 0; i < partitions->cnt; ++i) {
      auto& p = partitions->elems[i];
      TopicPartition tp{p.topic, p.partition};
      auto it = table.find(tp);
      if (!snapshot.ok()) {
        p.offset = RD_KAFKA_OFFSET_STORED;
      } else if (it != table.end()) {
        p.offset = it->second;
      } else {
        p.offset = options_.start == "latest" ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
      }
      shown.push_back(tp.topic + "/" + std::to_string(tp.partition) + "@" + std::to_string(p.offset));
    }
    log::Info("stream", "partitions assigned", {{"partitions", shown}});
    assigned_ = partitions->cnt;
    if (auto err = rd_kafka_assign(rk_.get(), partitions); err != RD_KAFKA_RESP_ERR_NO_ERROR)
      rebalance_error_ = KafkaError(err, "assigning partitions");
  }

  void Revoke(rd_kafka_topic_partition_list_t* partitions) {
    // Commit what was read from them while we still own them; on failure the records are dropped
    // here and the next owner reads them again from the table's offsets.
    Status flushed = Flush();
    if (!flushed.ok()) {
      log::Warn("stream", "could not commit the batch of revoked partitions; their next owner re-reads it",
                {{"error", flushed.message()}});
      if (inflight_.valid()) inflight_.wait();
      inflight_ = {};
      inflight_batch_.reset();
      batch_.Clear();
    }
    last_next_ = nullptr;  // its slot may go
    for (int i = 0; i < partitions->cnt; ++i) {
      TopicPartition tp{partitions->elems[i].topic, partitions->elems[i].partition};
      next_offset_.erase(tp);
      metrics_.ForgetPartition(tp);
    }
    rd_kafka_assign(rk_.get(), nullptr);
    assigned_ = 0;
  }

  static void OnRebalance(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                          void* opaque) noexcept {
    auto* self = static_cast<Consumer*>(opaque);
    try {
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        self->Assign(partitions);
      } else {
        self->Revoke(partitions);
      }
    } catch (const std::exception& e) {
      self->rebalance_error_ = Status::Internal(std::string("rebalance: ") + e.what());
      rd_kafka_assign(self->rk_.get(), nullptr);
    } catch (...) {
      self->rebalance_error_ = Status::Internal("rebalance: unknown error");
      rd_kafka_assign(self->rk_.get(), nullptr);
    }
  }

  lake::Lake& lake_;
  const StreamOptions& options_;
  KafkaUrl url_;
  std::unique_ptr<ingest::SignalSink> sink_;
  KafkaHandle rk_;
  KafkaHandle dlq_;
  StreamBatch batch_;                            // pending: being filled by the consumer thread
  std::unique_ptr<StreamBatch> inflight_batch_;  // being committed by the commit thread
  std::future<Committed> inflight_;              // valid while a batch is in flight
  int64_t batches_started_ = 0;                  // by the commit thread (one batch at a time)
  static constexpr size_t kMaxBatchLinks = 32;
  std::vector<trace::SpanContext> pending_links_;   // producer spans of batch_'s records (traceparent headers)
  std::vector<trace::SpanContext> inflight_links_;  // ... of the batch in flight
  std::map<TopicPartition, int64_t> next_offset_;
  rd_kafka_topic_t* last_rkt_ = nullptr;  // the partition of the last record and its next_offset_ slot
  TopicPartition last_tp_;
  int64_t* last_next_ = nullptr;
  StreamMetrics metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;
  StreamReport report_;
  Status rebalance_error_;
  int assigned_ = 0;  // partitions held now
};

}  // namespace

Status ValidateStreamOptions(const StreamOptions& options) {
  PULSE_ASSIGN_OR_RETURN(auto url, ParseKafkaUrl(options.url));
  if (url.topics.empty())
    return Status::InvalidArgument("'" + url.text + "' names no topic: kafka://BROKERS/TOPICS (e.g. pulse.signals.*)");
  if (options.group.empty()) return Status::InvalidArgument("stream.group must not be empty");
  if (!options.test_crash_at.empty() && options.test_crash_at != "before-lake" &&
      options.test_crash_at != "after-lake") {
    return Status::InvalidArgument("--test-crash-at must be before-lake or after-lake, got '" +
                                   Printable(options.test_crash_at, 64) + "'");
  }
  if (options.start != "earliest" && options.start != "latest") {
    return Status::InvalidArgument("stream.start must be earliest or latest, got '" + Printable(options.start, 64) +
                                   "'");
  }
  if (options.batch_max_records <= 0 || options.batch_max_bytes <= 0 || options.batch_max_latency_ms <= 0)
    return Status::InvalidArgument("stream batch bounds (records, bytes, latency) must be > 0");
  if (options.batch.format == RecordFormat::kCsv && options.batch.csv_header.empty())
    return Status::InvalidArgument("stream.format csv needs stream.csv_header (the CSV header line)");
  if (!options.batch.csv_header.empty()) {
    // The header alone must name the columns the parser needs.
    ingest::IngestOptions parse = options.batch.parse;
    parse.format = ingest::FileFormat::kCsv;
    ingest::IngestReport report;
    auto parsed = ingest::ParseSignalsBytes(options.batch.csv_header + "\n", "stream.csv_header", false, parse, report);
    if (!parsed.ok()) return parsed.status();
  }
  return Status::Ok();
}

Result<StreamReport> RunStreamIngest(lake::Lake& lake, const StreamOptions& options, const std::atomic<bool>& stop) {
  PULSE_RETURN_IF_ERROR(ValidateStreamOptions(options));
  Consumer consumer(lake, options);
  return consumer.Run(stop);
}

}  // namespace pulse::stream
