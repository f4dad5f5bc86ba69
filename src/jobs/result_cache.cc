#include "jobs/result_cache.h"

namespace pulse::jobs {

Result<std::optional<std::string>> MemoryCache::Get(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::optional<std::string>();
  if (std::chrono::steady_clock::now() >= it->second.expires) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
    return std::optional<std::string>();
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return std::optional<std::string>(it->second.value);
}

Status MemoryCache::Put(const std::string& key, const std::string& value, std::chrono::seconds ttl) {
  std::lock_guard lock(mu_);
  if (capacity_ == 0) return Status::Ok();
  if (auto it = entries_.find(key); it != entries_.end()) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  while (entries_.size() >= capacity_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  entries_[key] = {value, std::chrono::steady_clock::now() + ttl, lru_.begin()};
  return Status::Ok();
}

size_t MemoryCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace pulse::jobs
