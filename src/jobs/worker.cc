#include "jobs/worker.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "core/log.h"
#include "core/time.h"
#include "core/trace.h"
#include "jobs/safe_json.h"
#include "jobs/task_errors.h"

namespace pulse::jobs {
namespace {

using Clock = std::chrono::steady_clock;

// Seconds from now until an ISO-8601 time (negative when past); nullopt when unparseable.
std::optional<double> SecondsUntil(const std::string& iso) {
  auto t = time::ParseTimestamp(iso);
  if (!t.ok()) return std::nullopt;
  return static_cast<double>(*t - time::NowMicros()) / 1e6;
}

std::string DefaultWorkerName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return std::to_string(getpid()) + "@" + host;
}

}  // namespace

std::vector<std::string> TaskRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, spec] : tasks_) out.push_back(name);
  return out;
}

Worker::Worker(Broker& broker, const TaskRegistry& registry, WorkerOptions options, ResultCache* cache)
    : broker_(broker), registry_(registry), options_(std::move(options)), cache_(cache) {
  if (options_.name.empty()) options_.name = DefaultWorkerName();
}

void Worker::ExportMetrics(metrics::Registry& registry) {
  auto read = [](const std::atomic<int64_t>& v) {
    return [&v]() -> std::optional<double> { return static_cast<double>(v.load()); };
  };
  auto& tasks = registry.AddCounter("pulse_worker_tasks_total", "Task deliveries handled by this worker, by outcome.",
                                    {"outcome"});
  const std::pair<const char*, const std::atomic<int64_t>*> outcomes[] = {
      {"received", &stats_.received}, {"succeeded", &stats_.succeeded},         {"failed", &stats_.failed},
      {"retried", &stats_.retried},   {"dead_lettered", &stats_.dead_lettered}, {"duplicate", &stats_.duplicates},
      {"revoked", &stats_.revoked}};
  for (const auto& [outcome, value] : outcomes) tasks.Bind({outcome}, read(*value));
  auto& cache =
      registry.AddCounter("pulse_worker_cache_total", "Result cache lookups of deterministic tasks.", {"result"});
  cache.Bind({"hit"}, read(stats_.cache_hits));
  cache.Bind({"miss"}, read(stats_.cache_misses));
  registry.AddCounter("pulse_worker_task_seconds_total", "Time spent running tasks.")
      .Bind({}, [this]() -> std::optional<double> { return static_cast<double>(stats_.task_micros.load()) / 1e6; });
  registry.AddCounter("pulse_worker_restored_total", "Deliveries redelivered after the visibility timeout.")
      .Bind({}, read(stats_.restored));
  registry.AddCounter("pulse_worker_broker_errors_total", "Failed broker calls.").Bind({}, read(stats_.broker_errors));
  durations_ = &registry.AddHistogram("pulse_worker_task_duration_seconds",
                                      "Time each task run took, by task and outcome (succeeded, failed, retried).",
                                      {"task", "outcome"});
  auto& lengths = registry.AddGauge("pulse_queue_length",
                                    "Messages waiting in a queue (the signal to autoscale workers on).", {"queue"});
  for (const std::string& queue : options_.queues) {
    lengths.Bind({queue}, [this, queue]() -> std::optional<double> {
      auto n = broker_.QueueLength(queue);
      if (!n.ok()) return std::nullopt;
      return static_cast<double>(*n);
    });
  }
}

void Worker::ObserveRun(const std::string& task, const char* outcome, double seconds) {
  if (durations_) durations_->With({task, outcome}).Observe(seconds);
}

Worker::~Worker() { Stop(); }

void Worker::Start() {
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.concurrency); ++i) threads_.emplace_back([this] { Loop(); });
  threads_.emplace_back([this] { RestoreLoop(); });
}

void Worker::Stop() {
  stopping_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void Worker::Store(const std::string& task_id, TaskState state, const nlohmann::json& result,
                   const std::string& traceback) {
  Status st = broker_.StoreResult(task_id, EncodeResultMeta(task_id, state, result, traceback), options_.result_ttl);
  if (!st.ok()) {
    ++stats_.broker_errors;
    log::Warn("jobs", "storing a result failed", {{"task_id", task_id}, {"error", st.ToString()}});
  }
}

void Worker::Process(const Delivery& delivery) {
  // No exception leaves a worker thread: the steps below report errors as Status, and the task
  // function's own exceptions become FAILURE results (Run); whatever else throws - a bug, an
  // allocation failure - dead-letters the delivery with the reason instead of aborting the worker.
  try {
    Handle(delivery);
  } catch (const std::exception& e) {
    Contain(delivery, e.what());
  } catch (...) {
    Contain(delivery, "an exception of unknown type");
  }
}

void Worker::Contain(const Delivery& delivery, const std::string& what) {
  try {
    ++stats_.dead_lettered;
    log::Warn("jobs", "handling a delivery raised; dead-lettering it", {{"error", what}});
    if (Status st = broker_.DeadLetter(delivery, "internal error while handling the message: " + what); !st.ok())
      ++stats_.broker_errors;  // stays unacked: restored, counted, dead-lettered by a restore at worst
  } catch (...) {
    ++stats_.broker_errors;
  }
}

void Worker::Handle(const Delivery& delivery) {
  ++stats_.received;
  auto decoded = DecodeMessage(delivery.raw);
  if (!decoded.ok()) {
    ++stats_.dead_lettered;
    (void)broker_.DeadLetter(delivery, decoded.status().message());
    return;
  }
  const TaskMessage& m = *decoded;
  // The task's span continues the sender's trace (headers.traceparent) or starts one; never the
  // worker thread's leftovers. Named as opentelemetry-instrumentation-celery names its run spans.
  trace::Span span = trace::Span::StartFromTraceparent("run/" + m.task, m.traceparent, trace::SpanKind::kConsumer);
  span.SetAttribute("celery.task_name", m.task);
  span.SetAttribute("messaging.message.id", m.id);
  span.SetAttribute("celery.retries", m.retries);
  const TaskSpec* spec = registry_.Find(m.task);
  if (!spec) {
    ++stats_.dead_lettered;
    (void)broker_.DeadLetter(delivery, "unknown task '" + m.task + "'");
    return;
  }
  if (RevokeIfExpired(delivery, m) || DeferIfNotDue(delivery, m) || SkipIfSucceededOrRevoked(delivery, m)) return;
  std::string cache_key;
  if (spec->cache_key && cache_) {
    cache_key = spec->cache_key(m);
    if (AnswerFromCache(delivery, m, cache_key)) return;
  }
  if (!RecordExecution(m)) return;
  if (options_.track_started && !m.ignore_result) Store(m.id, TaskState::kStarted, nullptr);
  TaskRun run = RunTask(*spec, m);
  if (!run.result.ok()) span.SetError(run.result.status().message());
  if (run.result.ok()) {
    Succeed(delivery, m, cache_key, run);
  } else if (IsRetryable(run.result.status().code()) && m.retries < spec->max_retries) {
    ScheduleRetry(delivery, m, *spec, run);
  } else {
    ++stats_.failed;
    ObserveRun(m.task, "failed", run.seconds);
    // Exception types Python knows, so Celery's AsyncResult.get() re-raises them as such.
    const CeleryException exc = CeleryExceptionFor(run.result.status().code());
    Finish(delivery, m, TaskState::kFailure,
           FailureResult(std::string(exc.type), run.result.status().message(), std::string(exc.module)),
           run.result.status().ToString());
  }
}

bool Worker::RevokeIfExpired(const Delivery& delivery, const TaskMessage& m) {
  if (!m.expires) return false;
  auto left = SecondsUntil(*m.expires);
  if (!left || *left >= 0) return false;
  ++stats_.revoked;
  Store(m.id, TaskState::kRevoked, FailureResult("TaskRevokedError", "expired", "celery.exceptions"));
  (void)broker_.Ack(delivery);
  return true;
}

bool Worker::DeferIfNotDue(const Delivery& delivery, const TaskMessage& m) {
  // Ids of messages not yet due that this thread has put back since it last handled a due one.
  thread_local std::unordered_set<std::string> deferred;
  if (m.eta) {
    if (auto wait = SecondsUntil(*m.eta); wait && *wait > 0) {
      const double poll = std::chrono::duration<double>(options_.poll).count();
      // Due within a poll interval: held until due. Further off: put back behind the waiting
      // messages at once, so messages not yet due never keep a thread from the ones that are;
      // only when this thread meets the same one again (it went round the queue and found nothing
      // due) does it wait a poll interval first, so a queue of future tasks is no busy loop.
      double held = 0;
      if (*wait <= poll || deferred.count(m.id) > 0) {
        held = std::min(*wait, poll);
        deferred.clear();
        std::this_thread::sleep_for(std::chrono::duration<double>(held));
      }
      if (*wait > held) {
        deferred.insert(m.id);
        (void)broker_.Requeue(delivery);
        return true;
      }
    }
  }
  deferred.clear();
  return false;
}

bool Worker::SkipIfSucceededOrRevoked(const Delivery& delivery, const TaskMessage& m) {
  std::optional<std::string> existing = delivery.existing_result;
  if (!delivery.result_checked) {
    auto got = broker_.GetResult(m.id);
    if (got.ok()) existing = *got;
  }
  if (!existing) return false;
  auto meta = DecodeResultMeta(*existing);
  if (!meta.ok()) return false;
  if (meta->state == TaskState::kSuccess) {
    ++stats_.duplicates;
    (void)broker_.Ack(delivery);
    return true;
  }
  // Revoked before it ran (pulse serve's DELETE /v1/jobs/{id} stores REVOKED): not run.
  if (meta->state == TaskState::kRevoked) {
    ++stats_.revoked;
    (void)broker_.Ack(delivery);
    return true;
  }
  return false;
}

bool Worker::AnswerFromCache(const Delivery& delivery, const TaskMessage& m, const std::string& cache_key) {
  auto cached = cache_->Get(cache_key);
  if (cached.ok() && *cached) {
    auto value = ParseJson(**cached, "cached result");
    if (value.ok()) {
      ++stats_.cache_hits, ++stats_.succeeded;
      const Status st = m.ignore_result
                            ? broker_.Ack(delivery)
                            : broker_.Finish(delivery, m.id, EncodeResultMeta(m.id, TaskState::kSuccess, *value),
                                             options_.result_ttl);
      if (!st.ok()) ++stats_.broker_errors;
      return true;
    }
  }
  ++stats_.cache_misses;
  return false;
}

bool Worker::RecordExecution(const TaskMessage& m) {
  if (options_.execution_log.empty()) return true;
  const std::string entry = DumpJson(nlohmann::json{{"id", m.id},
                                                    {"task", m.task},
                                                    {"retries", m.retries},
                                                    {"redelivered", m.redelivered},
                                                    {"worker", options_.name},
                                                    {"time", time::FormatTimestamp(time::NowMicros())}});
  Status st = broker_.Append(options_.execution_log, entry);
  if (st.ok()) return true;
  // Not run unrecorded: the delivery stays unacked and is restored after the visibility timeout.
  ++stats_.broker_errors;
  log::Warn("jobs", "recording a task execution failed; the task is left for redelivery",
            {{"task_id", m.id}, {"error", st.ToString()}});
  return false;
}

Worker::TaskRun Worker::RunTask(const TaskSpec& spec, const TaskMessage& m) {
  ++stats_.executed;
  std::atomic<bool> cancelled{false};
  const auto started = Clock::now();
  std::atomic<bool> done{false};
  std::thread watchdog;
  if (m.soft_time_limit) {
    watchdog = std::thread([&] {
      const auto limit =
          started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*m.soft_time_limit));
      while (!done && Clock::now() < limit) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (!done) cancelled = true;
    });
  }
  TaskRun run{Status::Internal("task did not run"), 0};
  try {
    run.result = spec.fn(TaskContext{m, cancelled});
  } catch (const std::exception& e) {
    run.result = Status::Internal(std::string("task raised: ") + e.what());
  } catch (...) {
    run.result = Status::Internal("task raised an exception of unknown type");
  }
  done = true;
  if (watchdog.joinable()) watchdog.join();
  run.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  stats_.task_micros += static_cast<int64_t>(run.seconds * 1e6);
  if (run.result.ok() && m.time_limit && run.seconds > *m.time_limit) {
    run.result = Status::DeadlineExceeded("hard time limit of " + std::to_string(*m.time_limit) + " s exceeded (" +
                                          std::to_string(run.seconds) + " s)");
  }
  return run;
}

void Worker::Succeed(const Delivery& delivery, const TaskMessage& m, const std::string& cache_key, const TaskRun& run) {
  ++stats_.succeeded;
  ObserveRun(m.task, "succeeded", run.seconds);
  if (!cache_key.empty() && !cache_->Put(cache_key, DumpJson(*run.result), options_.cache_ttl).ok()) {
    ++stats_.broker_errors;
  }
  Finish(delivery, m, TaskState::kSuccess, *run.result, "");
}

void Worker::ScheduleRetry(const Delivery& delivery, const TaskMessage& m, const TaskSpec& spec, const TaskRun& run) {
  ObserveRun(m.task, "retried", run.seconds);
  TaskMessage again = m;
  again.retries = m.retries + 1;
  again.delivery_tag.clear();
  const double backoff = spec.retry_backoff_seconds * std::pow(2.0, m.retries);
  again.eta = time::FormatTimestamp(time::NowMicros() + static_cast<int64_t>(backoff * 1e6));
  const std::string meta = EncodeResultMeta(m.id, TaskState::kRetry,
                                            FailureResult("Retry", run.result.status().message(), "celery.exceptions"));
  const Status st = broker_.Retry(delivery, m.queue, EncodeMessage(again), m.id, meta, options_.result_ttl);
  if (st.ok()) {
    ++stats_.retried;
  } else {  // stays unacked: redelivered after the visibility timeout and run again
    ++stats_.broker_errors;
    log::Warn("jobs", "publishing a retry failed", {{"task_id", m.id}, {"error", st.ToString()}});
  }
}

void Worker::Finish(const Delivery& delivery, const TaskMessage& m, TaskState state, const nlohmann::json& value,
                    const std::string& traceback) {
  // ignore_result (Celery's header, or task option): as a Celery worker does, no state is stored,
  // neither the outcome nor STARTED; the delivery is only acknowledged.
  const Status st = m.ignore_result ? broker_.Ack(delivery)
                                    : broker_.Finish(delivery, m.id, EncodeResultMeta(m.id, state, value, traceback),
                                                     options_.result_ttl);
  if (!st.ok()) {  // stays unacked: redelivered after the visibility timeout, then skipped or rerun
    ++stats_.broker_errors;
    log::Warn("jobs", "storing a result failed", {{"task_id", m.id}, {"error", st.ToString()}});
  }
}

void Worker::Loop() {
  int backoff_ms = 100;
  while (!stopping_) {
    Result<std::optional<Delivery>> next = Status::Internal("fetch did not run");
    try {
      next = broker_.Fetch(options_.queues, options_.poll);
    } catch (const std::exception& e) {  // a reply the client could not handle: treated as a broker error
      next = Status::Internal(std::string("fetch raised: ") + e.what());
    }
    if (!next.ok()) {
      ++stats_.broker_errors;
      log::Warn("jobs", "broker fetch failed; retrying",
                {{"error", next.status().ToString()}, {"backoff_ms", backoff_ms}});
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min(backoff_ms * 2, 10000);
      continue;
    }
    backoff_ms = 100;
    if (*next) Process(**next);
  }
}

void Worker::RestoreLoop() {
  auto last = Clock::now();
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (Clock::now() - last < options_.restore_interval) continue;
    last = Clock::now();
    try {
      auto restored = broker_.RestoreVisible(options_.visibility_timeout, options_.max_deaths);
      if (restored.ok()) {
        stats_.restored += *restored;
      } else {
        ++stats_.broker_errors;
      }
    } catch (const std::exception& e) {  // never leaves the thread: the next sweep tries again
      ++stats_.broker_errors;
      log::Warn("jobs", "restoring deliveries raised", {{"error", std::string(e.what())}});
    }
  }
}

}  // namespace pulse::jobs
