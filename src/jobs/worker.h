// Task registry and the worker loop: Celery's execution semantics over any Broker (jobs/broker.h:
// queue, results, journal), with an optional result cache (jobs/result_cache.h) for tasks that
// have a cache key.
//
// For each delivery, in order:
//   1. decode (jobs::DecodeMessage); malformed -> dead-letter list with the reason, acked;
//   2. look the task up; unknown -> dead-letter with "unknown task 'name'";
//   3. expired (headers.expires in the past) -> REVOKED result, acked;
//   4. a SUCCESS result already stored under the task id -> skip (counted as a duplicate
//      delivery; tasks are idempotent, so redelivery after a crash is harmless), acked;
//      a REVOKED result stored under it (a client revoked the task before it ran, e.g. pulse
//      serve's DELETE /v1/jobs/{id}) -> not run (counted as revoked), acked;
//   5. a task with a cache key whose result is cached -> SUCCESS with it, without running (only
//      when the worker has a cache);
//   6. (STARTED result when track_started; an execution-log entry when execution_log is set) run
//      the task; SUCCESS with its JSON result (cached when the task has a cache key), or on error:
//      retryable (kUnavailable, kIoError) and retries < max_retries -> a copy is published with
//      retries + 1 and an ETA of backoff x 2^retries (RETRY result; the copy, the result and the
//      ack in one broker transaction); otherwise FAILURE with
//      {exc_type, exc_message, exc_module} (ValueError for bad arguments, TimeLimitExceeded,
//      else RuntimeError: types Python re-raises); then acked (late acknowledgement: only now).
// A delivery with an ETA within the poll interval is held by the worker thread until due; one
// further off is re-queued behind the waiting messages at once (a thread that meets the same one
// again, having found nothing due, first waits a poll interval), so tasks not yet due never starve
// the ones that are. Time limits: the soft limit sets the
// task's cancellation flag (tasks check it, and may return kCancelled: SoftTimeLimitExceeded); the
// hard limit turns the result into kDeadlineExceeded, a FAILURE (TimeLimitExceeded), once the task
// returns - threads are not killed.
// One thread per concurrency slot, plus one that re-queues deliveries unacked for longer than
// the visibility timeout (workers that died holding them) - or dead-letters one restored
// max_deaths times. Stop() finishes in-flight tasks within the grace period; what is not
// finished stays unacked and is restored later.
// No exception leaves a worker thread: decoding reports errors as Status (dead letter with the
// reason), a task's exception of any type becomes a FAILURE result, and anything else that throws
// while a delivery is handled dead-letters that delivery; the thread goes on serving.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "core/status.h"
#include "jobs/broker.h"
#include "jobs/celery_protocol.h"
#include "jobs/result_cache.h"

namespace pulse::jobs {

struct TaskContext {
  const TaskMessage& message;
  const std::atomic<bool>& cancelled;  // set at the soft time limit or on shutdown
};

using TaskFn = std::function<Result<nlohmann::json>(const TaskContext& context)>;

struct TaskSpec {
  TaskFn fn;
  int max_retries = 3;
  double retry_backoff_seconds = 1.0;
  // Deterministic tasks: a content hash of (task, canonical arguments, data version, model
  // version); results are then cached under it and a hit skips the run. Empty: never cached.
  std::function<std::string(const TaskMessage&)> cache_key;
};

class TaskRegistry {
 public:
  void Register(const std::string& name, TaskSpec spec) { tasks_[name] = std::move(spec); }
  const TaskSpec* Find(const std::string& name) const {
    auto it = tasks_.find(name);
    return it == tasks_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, TaskSpec> tasks_;
};

struct WorkerOptions {
  std::vector<std::string> queues = {"celery"};
  int concurrency = 2;
  std::chrono::seconds visibility_timeout{3600};
  std::chrono::seconds restore_interval{10};
  std::chrono::seconds result_ttl{86400};
  std::chrono::milliseconds poll{1000};
  std::chrono::seconds shutdown_grace{30};
  bool track_started = false;  // store a STARTED state before running (Celery's task_track_started)
  std::chrono::seconds cache_ttl{86400};
  // When set, the journal list (Broker's Journal role; a Redis list) on which the worker records every task execution
  // as it starts: {"id", "task", "retries", "redelivered", "worker", "time"}, one JSON entry each. An audit of
  // at-least-once delivery: a task id listed twice ran twice. A task runs only after its entry is written; when that
  // fails, the delivery stays unacked and comes back after the visibility timeout. Nothing trims the list: use it for
  // audits and tests, not forever.
  std::string execution_log;
  std::string name;  // this worker in the execution log; empty: "<pid>@<host>"
  // A delivery restored this many times (its worker died, or it overran the visibility timeout,
  // each time) goes to the dead-letter list instead ("worker died N times while running it").
  // 0: restored forever (a message that kills its worker then kills every worker in turn).
  int max_deaths = 3;
};

struct WorkerStats {
  std::atomic<int64_t> received{0}, succeeded{0}, failed{0}, retried{0}, dead_lettered{0}, duplicates{0}, revoked{0},
      restored{0}, broker_errors{0}, cache_hits{0}, cache_misses{0};
  std::atomic<int64_t> executed{0};     // task functions run (a task run twice counts twice)
  std::atomic<int64_t> task_micros{0};  // time spent running tasks
};

class Worker {
 public:
  // `cache` (may be null: nothing is cached) and `broker` must outlive the worker.
  Worker(Broker& broker, const TaskRegistry& registry, WorkerOptions options, ResultCache* cache = nullptr);
  ~Worker();
  // Declares the worker's metrics on `registry` (call before Start; the worker must outlive the
  // registry's renders): pulse_worker_tasks_total{outcome}, pulse_worker_cache_total{result},
  // pulse_worker_task_seconds_total, pulse_worker_restored_total, pulse_worker_broker_errors_total
  // (read from stats()), pulse_worker_task_duration_seconds{task,outcome} (a histogram of each
  // run, outcome succeeded | failed | retried), and pulse_queue_length{queue} for the worker's
  // queues (asked of the broker at each scrape; left out when the broker does not answer).
  void ExportMetrics(metrics::Registry& registry);
  void Start();
  // Asks every thread to stop after its current task and waits up to the grace period.
  void Stop();
  // Handles one delivery (steps 1-5 above); exposed for tests and for in-process use.
  void Process(const Delivery& delivery);
  const WorkerStats& stats() const { return stats_; }

 private:
  void Loop();
  void RestoreLoop();
  void Handle(const Delivery& delivery);                            // Process without the exception barrier
  void Contain(const Delivery& delivery, const std::string& what);  // dead-letters after an exception
  void Store(const std::string& task_id, TaskState state, const nlohmann::json& result,
             const std::string& traceback = "");
  void ObserveRun(const std::string& task, const char* outcome, double seconds);

  // Handle's steps (the numbered list above). Each Revoke/Defer/Skip/Answer step returns true
  // when it has settled the delivery (acked, re-queued or answered), and Handle stops there.
  bool RevokeIfExpired(const Delivery& delivery, const TaskMessage& m);           // 3
  bool DeferIfNotDue(const Delivery& delivery, const TaskMessage& m);             // ETA not yet reached
  bool SkipIfSucceededOrRevoked(const Delivery& delivery, const TaskMessage& m);  // 4
  bool AnswerFromCache(const Delivery& delivery, const TaskMessage& m, const std::string& cache_key);  // 5
  // 6: the execution-log entry; false when it could not be written (the delivery is left unacked).
  bool RecordExecution(const TaskMessage& m);
  struct TaskRun {
    Result<nlohmann::json> result;  // kDeadlineExceeded when it returned past the hard limit
    double seconds = 0;
  };
  // 6: runs the task under its soft (cancellation flag) and hard time limits; never throws.
  TaskRun RunTask(const TaskSpec& spec, const TaskMessage& m);
  // The outcomes of a run: SUCCESS (and the cache), a retry copy, or a result stored by Finish.
  void Succeed(const Delivery& delivery, const TaskMessage& m, const std::string& cache_key, const TaskRun& run);
  void ScheduleRetry(const Delivery& delivery, const TaskMessage& m, const TaskSpec& spec, const TaskRun& run);
  // Stores the result and acks in one broker call (only acks under ignore_result).
  void Finish(const Delivery& delivery, const TaskMessage& m, TaskState state, const nlohmann::json& value,
              const std::string& traceback);

  Broker& broker_;
  const TaskRegistry& registry_;
  WorkerOptions options_;
  ResultCache* cache_;
  metrics::Family<metrics::Histogram>* durations_ = nullptr;  // set by ExportMetrics
  WorkerStats stats_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace pulse::jobs
