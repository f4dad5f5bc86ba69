// A broker for the worker's unit tests: an InProcessBroker that tells waiting tests about every
// change it makes (a message published, a result stored, a delivery ended), so a test waits for
// the condition it is about with a deadline instead of sleeping and polling; and that fails
// Append / Retry on demand (a broker that went away at the worst moment).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

#include "jobs/broker.h"
#include "jobs/celery_protocol.h"
#include "jobs/inprocess_broker.h"

namespace pulse::jobs {

class TestBroker final : public Broker {
 public:
  InProcessBroker inner;
  std::atomic<bool> fail_append{false}, fail_retry{false};

  // Waits until `done()` holds, testing it now and after every change; false after `timeout`.
  // `done` may read the broker and the worker's stats (a worker counts an outcome before it ends
  // the delivery, so the change that follows wakes the wait).
  bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, done);
  }
  // The task's result once it is in `state`; nullopt when it is not within the timeout.
  std::optional<ResultMeta> WaitForState(const std::string& id, TaskState state,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::optional<ResultMeta> found;
    WaitUntil(
        [&] {
          auto raw = inner.GetResult(id);
          if (!raw.ok() || !*raw) return false;
          auto meta = DecodeResultMeta(**raw);
          if (!meta.ok() || meta->state != state) return false;
          found = *meta;
          return true;
        },
        timeout);
    return found;
  }

  Status Publish(const std::string& q, const std::string& e) override { return Changed(inner.Publish(q, e)); }
  Result<std::optional<Delivery>> Fetch(const std::vector<std::string>& q, std::chrono::milliseconds t) override {
    return inner.Fetch(q, t);
  }
  Status Ack(const Delivery& d) override { return Changed(inner.Ack(d)); }
  Status Requeue(const Delivery& d) override { return Changed(inner.Requeue(d)); }
  Status DeadLetter(const Delivery& d, const std::string& r) override { return Changed(inner.DeadLetter(d, r)); }
  Result<int64_t> RestoreVisible(std::chrono::seconds v, int d) override {
    auto r = inner.RestoreVisible(v, d);
    (void)Changed(Status::Ok());
    return r;
  }
  Result<int64_t> QueueLength(const std::string& q) override { return inner.QueueLength(q); }
  Status StoreResult(const std::string& id, const std::string& m, std::chrono::seconds t) override {
    return Changed(inner.StoreResult(id, m, t));
  }
  Result<std::optional<std::string>> GetResult(const std::string& id) override { return inner.GetResult(id); }
  Result<bool> AcquireLease(const std::string& k, const std::string& o, std::chrono::milliseconds t) override {
    return inner.AcquireLease(k, o, t);
  }
  Status Append(const std::string& l, const std::string& e) override {
    if (fail_append) return Status::Unavailable("connection refused");
    return Changed(inner.Append(l, e));
  }
  Status Finish(const Delivery& d, const std::string& id, const std::string& m, std::chrono::seconds t) override {
    return Changed(inner.Finish(d, id, m, t));
  }
  Status Retry(const Delivery& d, const std::string& q, const std::string& e, const std::string& id,
               const std::string& m, std::chrono::seconds t) override {
    if (fail_retry) return Status::Unavailable("connection refused");
    return Changed(inner.Retry(d, q, e, id, m, t));
  }

 private:
  Status Changed(Status st) {
    { std::lock_guard lock(mu_); }  // a waiter is either before its test or waiting: never misses this
    changed_.notify_all();
    return st;
  }
  std::mutex mu_;
  std::condition_variable changed_;
};

}  // namespace pulse::jobs
