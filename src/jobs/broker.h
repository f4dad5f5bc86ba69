// The broker: the store a broker URL names (jobs::OpenBroker, jobs/backends.h), in the roles it
// plays. Each role is its own small interface, and code takes only the roles it uses:
//   TaskQueue      (jobs/task_queue.h)      publish, fetch, ack, requeue, dead-letter, restore
//   ResultBackend  (jobs/result_backend.h)  task states and results by task id
//   LeaseStore     (jobs/lease_store.h)     one owner among many (the scheduler's leader)
//   Journal        (jobs/journal.h)         append-only lists (the worker's execution log)
// The result cache of deterministic tasks is not a broker role: it may live elsewhere
// (jobs::OpenCache, jobs/result_cache.h), e.g. in Redis while the queues are in-process.
//
// What makes a Broker more than the sum of its roles: the queue and the results live in one
// store, so ending a delivery - recording its outcome and acknowledging it - can be one step
// (Finish, Retry below). On Redis each is one MULTI/EXEC transaction, so a worker killed between
// the two writes cannot leave a finished task to run again, or a retried one to run twice.
//
// Users: the worker (jobs/worker.h) takes a Broker; producers take a TaskQueue, clients a
// ResultBackend, the scheduler a TaskQueue and a LeaseStore. Implementations: InProcessBroker
// (jobs/inprocess_broker.h: embedded mode), RedisBroker (jobs/redis_broker.h: kombu's layout, so
// Python Celery shares the queues and results).
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"
#include "jobs/journal.h"
#include "jobs/lease_store.h"
#include "jobs/result_backend.h"
#include "jobs/task_queue.h"

namespace pulse::jobs {

class Broker : public TaskQueue, public ResultBackend, public LeaseStore, public Journal {
 public:
  // Stores the task's final `meta` and acknowledges the delivery: both happen or neither.
  virtual Status Finish(const Delivery& delivery, const std::string& task_id, const std::string& meta,
                        std::chrono::seconds ttl) = 0;
  // A retry: publishes the task's next attempt (`envelope`) on `queue`, stores its RETRY `meta`
  // and acknowledges this delivery - all three or none, so a crash in between cannot leave both
  // the old delivery and its retry to run.
  virtual Status Retry(const Delivery& delivery, const std::string& queue, const std::string& envelope,
                       const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) = 0;
};

}  // namespace pulse::jobs
