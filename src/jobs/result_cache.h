// The result cache of deterministic tasks: results keyed by a content hash of what determines them
// (TaskSpec::cache_key), so a task asked again with the same content is answered without running.
// Not a broker role: it may live apart from the queues (jobs::OpenCache, jobs/backends.h: "memory"
// or redis://…), e.g. shared in Redis by in-process workers of several processes. A cache may
// forget any entry at any time (expiry, eviction): a miss only costs a run. Safe for concurrent use.
// Implementations: MemoryCache (below), RedisCache (jobs/redis_cache.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/status.h"

namespace pulse::jobs {

class ResultCache {
 public:
  virtual ~ResultCache() = default;
  // The cached result JSON, or nullopt on a miss (never stored, expired or evicted).
  virtual Result<std::optional<std::string>> Get(const std::string& key) = 0;
  // Caches `value` under `key` (replacing an entry there) for `ttl`.
  virtual Status Put(const std::string& key, const std::string& value, std::chrono::seconds ttl) = 0;
};

// In this process's memory: the `capacity` most recently used entries (0: caches nothing), each
// until its TTL passes.
class MemoryCache final : public ResultCache {
 public:
  explicit MemoryCache(size_t capacity = 10000) : capacity_(capacity) {}
  Result<std::optional<std::string>> Get(const std::string& key) override;
  Status Put(const std::string& key, const std::string& value, std::chrono::seconds ttl) override;
  size_t size() const;

 private:
  struct Entry {
    std::string value;
    std::chrono::steady_clock::time_point expires;
    std::list<std::string>::iterator lru;
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
};

}  // namespace pulse::jobs
