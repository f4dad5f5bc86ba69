// The task queue: named FIFO queues of encoded Celery envelopes with Celery's delivery semantics
// (late acknowledgement, visibility timeout, a dead-letter list). One of the roles a broker plays
// (jobs/broker.h); producers (SubmitTask, the scheduler) and consumers (the worker) take only this.
//
// Delivery contract (late ack): Fetch moves a message to the "unacked" set with the time of
// delivery; Ack removes it; Requeue puts it back at the end of its queue, behind the messages
// waiting (a task not yet due must not block those that are); RestoreVisible puts back every
// message unacked for longer than the visibility timeout (a worker that died holding it). So a
// message is never lost, and may run more than once: tasks are idempotent and the worker skips a
// task whose SUCCESS result already exists.
//
// Implementations: InProcessBroker (jobs/inprocess_broker.h), RedisBroker (jobs/redis_broker.h).
// Every method is safe to call from several threads at once.
#pragma once

#include <chrono>
#include <cstdint>
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

class TaskQueue {
 public:
  virtual ~TaskQueue() = default;
  // Appends an encoded envelope (jobs::EncodeMessage) to `queue`. kResourceExhausted when a
  // bounded queue is full; kUnavailable when the store cannot be reached.
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
  // Messages waiting in `queue` (not those delivered and unacked).
  virtual Result<int64_t> QueueLength(const std::string& queue) = 0;
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
