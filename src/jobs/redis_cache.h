// The result cache (jobs/result_cache.h) in Redis, shared by every worker that opens the same
// server: entries live under "pulse.cache:<key>" with a TTL (SET EX), so Redis expires them, and
// Redis evicts under its maxmemory policy too. Opened by jobs::OpenCache("redis://…").
//
// With a byte bound (CacheOptions::max_bytes > 0), each put also records the entry in
// "pulse.cache.index" (a sorted set by write time), "pulse.cache.sizes" (value bytes) and
// "pulse.cache.bytes" (their total), and evicts the oldest-written entries until the total is
// within the bound - one Lua script, so concurrent workers keep the total consistent. (Expired
// entries count until evicted: the bound errs low.) Without a bound, entries expire by TTL only
// (bound Redis itself with maxmemory). Safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "jobs/redis_client.h"
#include "jobs/redis_pool.h"
#include "jobs/result_cache.h"

namespace pulse::jobs {

class RedisCache final : public ResultCache {
 public:
  // Checks the URL and that the server answers (RedisPool::Open). `max_bytes` <= 0: no byte bound.
  static Result<std::unique_ptr<RedisCache>> Connect(const std::string& url, int64_t max_bytes = 0,
                                                     RedisOptions options = {});
  Result<std::optional<std::string>> Get(const std::string& key) override;
  Status Put(const std::string& key, const std::string& value, std::chrono::seconds ttl) override;

 private:
  RedisCache(std::unique_ptr<RedisPool> pool, int64_t max_bytes) : pool_(std::move(pool)), max_bytes_(max_bytes) {}
  std::unique_ptr<RedisPool> pool_;
  const int64_t max_bytes_;
};

}  // namespace pulse::jobs
