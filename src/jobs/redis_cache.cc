#include "jobs/redis_cache.h"

#include <algorithm>
#include <cstdio>

#include "core/time.h"

namespace pulse::jobs {
namespace {

// Puts a cache entry and evicts the oldest-written ones while the values' total exceeds the bound.
// KEYS: entry, index (zset by write time), sizes (hash), total (counter); ARGV: value, ttl seconds,
// now, bound in bytes. Returns the number of entries evicted.
constexpr const char* kCachePutScript = R"lua(
local old = redis.call('HGET', KEYS[3], KEYS[1])
if old then redis.call('DECRBY', KEYS[4], old) end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], #ARGV[1])
local total = redis.call('INCRBY', KEYS[4], #ARGV[1])
local bound, evicted = tonumber(ARGV[4]), 0
while total > bound do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest then break end
  local size = tonumber(redis.call('HGET', KEYS[3], oldest) or '0')
  redis.call('DEL', oldest)
  redis.call('ZREM', KEYS[2], oldest)
  redis.call('HDEL', KEYS[3], oldest)
  total = redis.call('DECRBY', KEYS[4], size)
  evicted = evicted + 1
end
return evicted
)lua";

constexpr const char* kEntryPrefix = "pulse.cache:";

std::string NowSeconds() {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(time::NowMicros()) / 1e6);
  return buf;
}

}  // namespace

Result<std::unique_ptr<RedisCache>> RedisCache::Connect(const std::string& url, int64_t max_bytes,
                                                        RedisOptions options) {
  PULSE_ASSIGN_OR_RETURN(auto pool, RedisPool::Open(url, options));
  return std::unique_ptr<RedisCache>(new RedisCache(std::move(pool), std::max<int64_t>(0, max_bytes)));
}

Result<std::optional<std::string>> RedisCache::Get(const std::string& key) {
  return pool_->WithClient([&](RedisClient& c) -> Result<std::optional<std::string>> {
    PULSE_ASSIGN_OR_RETURN(RedisReply r, c.Command({"GET", kEntryPrefix + key}));
    if (r.is_nil()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(r.str));
  });
}

Status RedisCache::Put(const std::string& key, const std::string& value, std::chrono::seconds ttl) {
  const std::string seconds = std::to_string(std::max<int64_t>(1, ttl.count()));
  return pool_->WithClient([&](RedisClient& c) -> Status {
    if (max_bytes_ <= 0) return c.Command({"SET", kEntryPrefix + key, value, "EX", seconds}).status();
    return pool_
        ->RunScript(c, kCachePutScript,
                    {kEntryPrefix + key, "pulse.cache.index", "pulse.cache.sizes", "pulse.cache.bytes"},
                    {value, seconds, NowSeconds(), std::to_string(max_bytes_)})
        .status();
  });
}

}  // namespace pulse::jobs
