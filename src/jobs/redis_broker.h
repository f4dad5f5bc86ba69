// The Broker over Redis in kombu's layout (anchors.md §3.2-3.3), so Python Celery producers,
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
// Safe for concurrent use: each call borrows a connection from a small pool.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "jobs/broker.h"
#include "jobs/redis_client.h"

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
  // Checks the URL and that the server answers. kInvalidArgument / kUnavailable.
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
  // Cache entries live under "pulse.cache:<key>" with a TTL. With a byte bound (set_cache_limit),
  // each put also records the entry in "pulse.cache.index" (a sorted set by write time),
  // "pulse.cache.sizes" (value bytes) and "pulse.cache.bytes" (their total), and evicts the
  // oldest-written entries until the total is within the bound - one Lua script, so concurrent
  // workers keep the total consistent. (Expired entries count until evicted: the bound errs low.)
  // Without a bound, entries expire by TTL only (also bound Redis itself with maxmemory).
  void set_cache_limit(int64_t max_bytes) { cache_max_bytes_ = max_bytes; }
  Result<std::optional<std::string>> CacheGet(const std::string& key) override;
  Status CachePut(const std::string& key, const std::string& value, std::chrono::seconds ttl) override;
  // SET key owner NX PX ttl, or an atomic renew (a Lua check-and-PEXPIRE) when owner holds it.
  Result<bool> AcquireLease(const std::string& key, const std::string& owner, std::chrono::milliseconds ttl) override;
  Status Append(const std::string& list, const std::string& entry) override;  // RPUSH
  Status Retry(const Delivery& delivery, const std::string& queue, const std::string& envelope,
               const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) override;

 // The Lua scripts the broker runs (public for the file's helpers; not an API).
  enum class Script { kTake, kRestore, kCachePut };

 private:
  RedisBroker(std::string url, RedisOptions options) : url_(std::move(url)), options_(options) {}
  // Runs `fn` with a pooled connection (connecting when the pool is empty).
  template <class Fn>
  auto WithClient(Fn&& fn) -> decltype(fn(std::declval<RedisClient&>()));
  // EVALSHA of one of the scripts, loading it first when the server does not have it (a fresh or
  // restarted server).
  Result<RedisReply> RunScript(RedisClient& client, Script script, const std::vector<std::string>& keys,
                               const std::vector<std::string>& args);
  // The take script: the next message of `queues` recorded as unacked, or nullopt when all are empty.
  Result<std::optional<Delivery>> Take(RedisClient& client, const std::vector<std::string>& queues);

  std::string url_;
  RedisOptions options_;
  std::mutex mu_;
  std::vector<RedisClient> idle_;
  std::array<std::string, 3> shas_;  // per Script, guarded by mu_
  std::atomic<int64_t> cache_max_bytes_{0};
};

}  // namespace pulse::jobs
