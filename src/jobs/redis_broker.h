// The Broker (jobs/broker.h) over Redis in kombu's layout (anchors.md §3.2-3.3), so Python Celery producers,
// clients and workers share its queues and results:
//   <queue>                 list: producers LPUSH envelopes, consumers take from the right (FIFO)
//   <queue>\x06\x16<3|6|9>   kombu's priority lists: a message with properties.priority 3-5,
//                           6-8 or 9 goes there (kombu's default priority_steps 0, 3, 6, 9);
//                           Fetch takes from every queue's list 0 first, then 3, 6 and 9, as
//                           kombu's BRPOP does, and restores go back to the message's list
//   unacked                 hash: delivery_tag -> JSON [envelope, exchange "", routing_key]
//   unacked_index           zset: delivery_tag scored by the delivery time (seconds)
//   celery-task-meta-<id>   result values (SETEX with the TTL, then PUBLISH on the same key)
//   pulse.dead_letter       list of {reason, queue, envelope, time} (Pulse's own)
//   <lease key>             a lease: SET key owner NX PX ttl, renewed by a Lua check-and-PEXPIRE
//   <journal list>          Append: RPUSH
// (The result cache is RedisCache, jobs/redis_cache.h: it may share the server or not.)
// A restored message goes back with properties.delivery_info.redelivered = true, as kombu does.
//
// Crash safety (a worker killed with -9 at any instant, or Redis restarted with an append-only
// file, loses no message and never puts one back twice):
// - Fetch takes a message in one Lua script: it pops the oldest message of the first non-empty
//   queue, records it in unacked / unacked_index and reads its stored result, atomically. (kombu's
//   BRPOP, then recording, loses the message when the worker dies between the two.) When every
//   queue is empty it waits with BLMOVE q q RIGHT RIGHT (Redis 6.2 or later), which wakes when a
//   message arrives and leaves it where it is, then takes it with the script. (It waits on the
//   queues' own lists only: a message on a priority list of an idle worker is taken when the
//   wait's slice ends, within the poll interval.)
// - Ack, Finish (result + ack), Retry (next attempt + RETRY result + ack), Requeue and DeadLetter
//   are MULTI/EXEC transactions: all of their writes happen or none does.
// - RestoreVisible reads the entries unacked past the visibility timeout, then moves them back in
//   one compare-and-set script: an entry is restored only if it is still unacked, unchanged and
//   still older than the cutoff, so concurrent restorers (other Pulse workers, or kombu's restore,
//   which takes each entry atomically) and acks racing the restore cannot duplicate a message.
//   No unacked_mutex is taken: a restorer killed mid-sweep blocks no one. An unacked entry that
//   is not kombu's [envelope, exchange, routing_key] goes to the dead-letter list.
// - No crash loops: each restore raises the envelope's death count (DecideRestore, in
//   properties.delivery_info, carried by the envelope through queue and unacked record alike and
//   written by the same compare-and-set script); at max_deaths the message goes to the
//   dead-letter list ("worker died N times while running it") instead of back to its queue.
// A reply lost with the connection (Redis killed after the write) leaves the work undone or done
// whole; an undone ack is redone by the restore: the message runs again or, if its SUCCESS result
// was stored, is skipped as a duplicate.
// Safe for concurrent use: each call borrows a connection from a small pool (jobs/redis_pool.h).
// Opened by jobs::OpenBroker("redis://…") (jobs/backends.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jobs/broker.h"
#include "jobs/redis_client.h"
#include "jobs/redis_pool.h"

namespace pulse::jobs {

inline constexpr const char* kDeadLetterList = "pulse.dead_letter";

// The Redis list kombu puts a message of `queue` with properties.priority `priority` on: the queue
// itself for 0-2 (and for no or a non-numeric priority), "<queue>\x06\x16<step>" for the steps
// 3, 6 and 9 (priorities above 9 count as 9). `ConsumedLists` is what a consumer of `queues`
// reads, in kombu's order: every queue's own list, then every queue's step 3, 6 and 9 lists.
std::string PriorityList(const std::string& queue, int64_t priority);
std::vector<std::string> ConsumedLists(const std::vector<std::string>& queues);

class RedisBroker final : public Broker {
 public:
  // Checks the URL and that the server answers (RedisPool::Open). kInvalidArgument / kUnavailable.
  static Result<std::unique_ptr<RedisBroker>> Connect(const std::string& url, RedisOptions options = {});

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
  Status Finish(const Delivery& delivery, const std::string& task_id, const std::string& meta,
                std::chrono::seconds ttl) override;
  Status Retry(const Delivery& delivery, const std::string& queue, const std::string& envelope,
               const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) override;
  // SET key owner NX PX ttl, or an atomic renew (a Lua check-and-PEXPIRE) when owner holds it.
  Result<bool> AcquireLease(const std::string& key, const std::string& owner, std::chrono::milliseconds ttl) override;
  Status Append(const std::string& list, const std::string& entry) override;  // RPUSH

  // "redis://host:port/db" without credentials.
  const std::string& display_url() const { return pool_->display_url(); }

 private:
  explicit RedisBroker(std::unique_ptr<RedisPool> pool) : pool_(std::move(pool)) {}
  // The take script: the next message of `queues` recorded as unacked, or nullopt when all are empty.
  Result<std::optional<Delivery>> Take(RedisClient& client, const std::vector<std::string>& queues);

  std::unique_ptr<RedisPool> pool_;
};

}  // namespace pulse::jobs
