// The Broker over Redis in kombu's layout (anchors.md §3.2-3.3), so Python Celery producers,
// clients and workers share its queues and results:
//   <queue>                 list: producers LPUSH envelopes, consumers BRPOP (FIFO)
//   unacked                 hash: delivery_tag -> JSON [envelope, exchange "", routing_key]
//   unacked_index           zset: delivery_tag scored by the delivery time (seconds)
//   unacked_mutex           lock (SET NX EX 300) around restoring visible messages
//   celery-task-meta-<id>   result values (SETEX with the TTL, then PUBLISH on the same key)
//   pulse.dead_letter       list of {reason, queue, envelope, time} (Pulse's own)
// A restored message goes back with properties.delivery_info.redelivered = true, as kombu does.
// Safe for concurrent use: each call borrows a connection from a small pool.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "jobs/broker.h"
#include "jobs/redis_client.h"

namespace pulse::jobs {

inline constexpr const char* kDeadLetterList = "pulse.dead_letter";

class RedisBroker final : public Broker {
 public:
  // Checks the URL and that the server answers. kInvalidArgument / kUnavailable.
  static Result<std::unique_ptr<RedisBroker>> Connect(const std::string& url, RedisOptions options = {});

  Status Publish(const std::string& queue, const std::string& envelope) override;
  Result<std::optional<Delivery>> Fetch(const std::vector<std::string>& queues,
                                        std::chrono::milliseconds timeout) override;
  Status Ack(const Delivery& delivery) override;
  Status Requeue(const Delivery& delivery) override;
  Status DeadLetter(const Delivery& delivery, const std::string& reason) override;
  Result<int64_t> RestoreVisible(std::chrono::seconds visibility) override;
  Result<int64_t> QueueLength(const std::string& queue) override;
  Status StoreResult(const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) override;
  Result<std::optional<std::string>> GetResult(const std::string& task_id) override;
  Status Finish(const Delivery& delivery, const std::string& task_id, const std::string& meta,
                std::chrono::seconds ttl) override;
  // Cache entries live under "pulse.cache:<key>" with a TTL; bound Redis's memory with its
  // maxmemory + an allkeys-lru / volatile-lru policy in cluster mode.
  Result<std::optional<std::string>> CacheGet(const std::string& key) override;
  Status CachePut(const std::string& key, const std::string& value, std::chrono::seconds ttl) override;
  // SET key owner NX PX ttl, or an atomic renew (a Lua check-and-PEXPIRE) when owner holds it.
  Result<bool> AcquireLease(const std::string& key, const std::string& owner, std::chrono::milliseconds ttl) override;

 private:
  RedisBroker(std::string url, RedisOptions options) : url_(std::move(url)), options_(options) {}
  // Runs `fn` with a pooled connection (connecting when the pool is empty).
  template <class Fn>
  auto WithClient(Fn&& fn) -> decltype(fn(std::declval<RedisClient&>()));

  std::string url_;
  RedisOptions options_;
  std::mutex mu_;
  std::vector<RedisClient> idle_;
};

}  // namespace pulse::jobs
