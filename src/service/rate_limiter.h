// RateLimiter: a token bucket per key (an API token's name, or a client address for requests
// without one). Each bucket holds up to `burst` tokens, refills at `rate_per_second`, and a
// request takes one; an empty bucket refuses and says how long until the next token.
//
// Contract: thread-safe; time comes from the caller (steady clock seconds), so tests drive it.
// Buckets idle long enough to have refilled completely are dropped when the table passes
// `max_keys`, so a stream of distinct client addresses cannot grow it without bound.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pulse::service {

class RateLimiter {
 public:
  RateLimiter(double rate_per_second, double burst, size_t max_keys = 100000);

  struct Decision {
    bool allowed = false;
    double retry_after_seconds = 0;  // when refused: until one token is back
    double remaining = 0;            // tokens left after this request
  };
  Decision Take(const std::string& key, double now_seconds);

 private:
  struct Bucket {
    double tokens = 0;
    double updated = 0;
  };
  void Sweep(double now_seconds);  // mu_ held

  const double rate_, burst_;
  const size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace pulse::service
