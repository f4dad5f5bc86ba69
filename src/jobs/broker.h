// The broker interface the worker and clients use, with Celery's semantics (late acknowledgement,
// visibility timeout, results keyed by task id), and the in-process implementation that embedded
// mode uses (a bounded queue in memory). The Redis implementation (redis_broker.h) speaks kombu's
// wire layout so Python Celery clients and workers share its queues.
//
// Delivery contract (late ack): Fetch moves a message to the "unacked" set with the time of
// delivery; Ack removes it; Requeue puts it back at the end of its queue, behind the messages
// waiting (a task not yet due must not block those that are); RestoreVisible puts
// back every message unacked for longer than the visibility timeout (a worker that died holding
// it). So a message is never lost, and may run more than once: tasks are idempotent and the
// worker skips a task whose SUCCESS result already exists.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace pulse::jobs {

struct Delivery {
  std::string raw;           // the envelope as queued
  std::string queue;         // where it came from
  std::string delivery_tag;  // the ack handle (the envelope's properties.delivery_tag)
  // A broker may look the task's stored result up in the same round trip as the delivery (the
  // worker's duplicate check): `result_checked` says it did, `existing_result` what it found.
  bool result_checked = false;
  std::optional<std::string> existing_result;
};

class Broker {
 public:
  virtual ~Broker() = default;
  // Appends an encoded envelope (jobs::EncodeMessage) to `queue`. kUnavailable when a bounded
  // queue is full or the broker cannot be reached.
  virtual Status Publish(const std::string& queue, const std::string& envelope) = 0;
  // The next message of any of `queues` (earlier queues first), or nullopt after `timeout`.
  virtual Result<std::optional<Delivery>> Fetch(const std::vector<std::string>& queues,
                                                std::chrono::milliseconds timeout) = 0;
  virtual Status Ack(const Delivery& delivery) = 0;
  virtual Status Requeue(const Delivery& delivery) = 0;
  // Removes the delivery from the unacked set and records it with the reason on the dead-letter
  // list (malformed or unknown messages: never lost silently, never retried forever).
  virtual Status DeadLetter(const Delivery& delivery, const std::string& reason) = 0;
  // Re-queues messages unacked for longer than `visibility` (their worker died, or overran the
  // timeout) with properties.delivery_info.redelivered = true and a count of such ends
  // (DecideRestore); returns how many were re-queued. A message whose count reaches `max_deaths`
  // (> 0; 0: no bound) goes to the dead-letter list instead, with the reason "worker died N times
  // while running it", so one poison message cannot take down worker after worker.
  virtual Result<int64_t> RestoreVisible(std::chrono::seconds visibility, int max_deaths) = 0;
  virtual Result<int64_t> QueueLength(const std::string& queue) = 0;

  // Result backend: the JSON value Celery stores under celery-task-meta-<id>, with a TTL.
  virtual Status StoreResult(const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) = 0;
  virtual Result<std::optional<std::string>> GetResult(const std::string& task_id) = 0;
  // Result cache for deterministic tasks, keyed by a content hash: the cached result JSON, or
  // nullopt on a miss. Entries expire after `ttl` (Redis also evicts under its maxmemory policy;
  // the in-process cache keeps the most recently used `cache_capacity` entries).
  virtual Result<std::optional<std::string>> CacheGet(const std::string& key) = 0;
  virtual Status CachePut(const std::string& key, const std::string& value, std::chrono::seconds ttl) = 0;
  // A lease for one holder among many processes (the periodic scheduler's leader lock): true when
  // `owner` holds `key` for the next `ttl` after the call - newly taken, or renewed because it
  // already held it; false when another owner holds it.
  virtual Result<bool> AcquireLease(const std::string& key, const std::string& owner, std::chrono::milliseconds ttl) = 0;
  // Appends `entry` to the list `list` (not a queue: nothing consumes it). The worker's execution
  // journal (WorkerOptions::execution_log) is one.
  virtual Status Append(const std::string& list, const std::string& entry) = 0;
  // Stores the result, then acknowledges the delivery (one round trip where the broker can; one
  // transaction on Redis: both happen or neither).
  virtual Status Finish(const Delivery& delivery, const std::string& task_id, const std::string& meta,
                        std::chrono::seconds ttl) {
    PULSE_RETURN_IF_ERROR(StoreResult(task_id, meta, ttl));
    return Ack(delivery);
  }
  // A retry: publishes the task's next attempt (`envelope`) on `queue`, stores its RETRY `meta` and
  // acknowledges this delivery (one transaction on Redis, so a crash in between cannot leave both
  // the old delivery and its retry to run).
  virtual Status Retry(const Delivery& delivery, const std::string& queue, const std::string& envelope,
                       const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) {
    PULSE_RETURN_IF_ERROR(Publish(queue, envelope));
    PULSE_RETURN_IF_ERROR(StoreResult(task_id, meta, ttl));
    return Ack(delivery);
  }
};

// Embedded mode: everything in memory, safe for concurrent use, `capacity` messages per queue.
class InProcessBroker final : public Broker {
 public:
  explicit InProcessBroker(size_t capacity = 100000, size_t cache_capacity = 10000)
      : capacity_(capacity), cache_capacity_(cache_capacity) {}
  Status Publish(const std::string& queue, const std::string& envelope) override;
  Result<std::optional<Delivery>> Fetch(const std::vector<std::string>& queues,
                                        std::chrono::milliseconds timeout) override;
  Status Ack(const Delivery& delivery) override;
  Status Requeue(const Delivery& delivery) override;
  Status DeadLetter(const Delivery& delivery, const std::string& reason) override;
  Result<int64_t> RestoreVisible(std::chrono::seconds visibility, int max_deaths) override;
  Result<int64_t> QueueLength(const std::string& queue) override;
  Status StoreResult(const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) override;
  Result<std::optional<std::string>> GetResult(const std::string& task_id) override;
  Result<std::optional<std::string>> CacheGet(const std::string& key) override;
  Status CachePut(const std::string& key, const std::string& value, std::chrono::seconds ttl) override;
  Result<bool> AcquireLease(const std::string& key, const std::string& owner, std::chrono::milliseconds ttl) override;
  Status Append(const std::string& list, const std::string& entry) override;

  std::vector<std::pair<std::string, std::string>> DeadLetters() const;  // (raw, reason)
  std::vector<std::string> List(const std::string& list) const;          // what Append added, in order

 private:
  struct Unacked {
    Delivery delivery;
    std::chrono::steady_clock::time_point since;
  };
  const size_t capacity_, cache_capacity_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::map<std::string, std::deque<std::string>> queues_;
  std::map<std::string, Unacked> unacked_;
  std::vector<std::pair<std::string, std::string>> dead_;
  std::map<std::string, std::string> results_;
  struct CacheEntry {
    std::string value;
    std::chrono::steady_clock::time_point expires;
    std::list<std::string>::iterator lru;
  };
  std::map<std::string, CacheEntry> cache_;
  std::list<std::string> lru_;  // most recently used first
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> leases_;
  std::map<std::string, std::vector<std::string>> lists_;
};

// The envelope's delivery tag (properties.delivery_tag), or empty when it has none / is not JSON.
std::string DeliveryTagOf(const std::string& envelope);
// The envelope with properties.delivery_info.redelivered = true, as kombu marks a restored message;
// an envelope that is not a JSON object, or whose properties / delivery_info are not objects, is
// returned as it was.
std::string MarkRedelivered(const std::string& envelope);

// Where a restore counts the deliveries of a message that ended without an acknowledgement:
// properties.delivery_info.pulse_deaths (kombu keeps delivery_info as it is; Celery ignores the key).
inline constexpr const char* kDeathsField = "pulse_deaths";
// What to do with an envelope held by a worker that died: re-queue `value` (the envelope marked
// redelivered, its death count raised to `deaths`), or dead-letter it with the reason `value` when
// the count reaches `max_deaths` (> 0) or the envelope is not a JSON object whose properties and
// delivery_info are objects (no place to count in, and no worker would run it).
struct RestoreDecision {
  bool dead_letter = false;
  std::string value;
  int deaths = 0;
};
RestoreDecision DecideRestore(const std::string& envelope, int max_deaths);

}  // namespace pulse::jobs
