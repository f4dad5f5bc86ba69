#include "service/rate_limiter.h"

#include <algorithm>

namespace pulse::service {

RateLimiter::RateLimiter(double rate_per_second, double burst, size_t max_keys)
    : rate_(rate_per_second > 0 ? rate_per_second : 1), burst_(burst >= 1 ? burst : 1), max_keys_(max_keys) {}

void RateLimiter::Sweep(double now_seconds) {
  const double full_after = burst_ / rate_;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (now_seconds - it->second.updated >= full_after) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

RateLimiter::Decision RateLimiter::Take(const std::string& key, double now_seconds) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) Sweep(now_seconds);
    it = buckets_.emplace(key, Bucket{burst_, now_seconds}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::max(0.0, now_seconds - b.updated);
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.updated = std::max(b.updated, now_seconds);
  Decision d;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    d.allowed = true;
    d.remaining = b.tokens;
  } else {
    d.retry_after_seconds = (1 - b.tokens) / rate_;
  }
  return d;
}

}  // namespace pulse::service
