// Embedded mode's broker (`inproc` / `memory`, jobs::OpenBroker): queues, results, leases and the
// journal in this process's memory, with the contracts of jobs/broker.h - late acknowledgement,
// restores after the visibility timeout, dead letters - so the worker behaves as on Redis. Every
// call takes one mutex, so Finish and Retry are atomic as the Broker contract asks. Nothing
// survives the process, and no other process can reach it. Safe for concurrent use.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "jobs/broker.h"

namespace pulse::jobs {

class InProcessBroker final : public Broker {
 public:
  // `capacity` messages per queue: a Publish beyond it is kResourceExhausted.
  explicit InProcessBroker(size_t capacity = 100000) : capacity_(capacity) {}

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
  Result<bool> AcquireLease(const std::string& key, const std::string& owner, std::chrono::milliseconds ttl) override;
  Status Append(const std::string& list, const std::string& entry) override;
  Status Finish(const Delivery& delivery, const std::string& task_id, const std::string& meta,
                std::chrono::seconds ttl) override;
  Status Retry(const Delivery& delivery, const std::string& queue, const std::string& envelope,
               const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) override;

  std::vector<std::pair<std::string, std::string>> DeadLetters() const;  // (raw, reason), oldest first
  std::vector<std::string> List(const std::string& list) const;          // what Append added, in order
  size_t UnackedCount() const;                                           // deliveries fetched and not yet ended

 private:
  struct Unacked {
    Delivery delivery;
    std::chrono::steady_clock::time_point since;
  };
  // With mu_ held: LPUSH onto `queue` (consumers take from the back: FIFO), or kResourceExhausted.
  Status PushLocked(const std::string& queue, const std::string& envelope);

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::map<std::string, std::deque<std::string>> queues_;
  std::map<std::string, Unacked> unacked_;
  std::vector<std::pair<std::string, std::string>> dead_;
  std::map<std::string, std::string> results_;
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> leases_;
  std::map<std::string, std::vector<std::string>> lists_;
};

}  // namespace pulse::jobs
