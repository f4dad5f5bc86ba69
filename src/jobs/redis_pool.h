// Connections to one Redis server shared by concurrent callers, and the Lua scripts they run: the
// common ground of RedisBroker and RedisCache. Internal to the jobs module's Redis backends.
//
// Contract:
// - Open checks the URL and that the server answers PING, so a server that wants a password the
//   URL does not give, or a port that is not Redis, is a clear error at once (kInvalidArgument
//   naming the fix, or the connection's own error with "is this a Redis server?") rather than a
//   worker that retries forever. A server still loading its dataset (LOADING, as after a
//   restart) is asked again with the connection backoff, for up to RedisOptions::loading_wait.
// - WithClient lends a connection to one call: an idle one, or a new one (RedisClient::Connect
//   with the options; its error is the call's). The connection goes back to the pool afterwards,
//   whatever happened (a RedisClient reconnects by itself on its next command).
// - RunScript runs a script by EVALSHA, loading it first when the server does not know it (a
//   fresh or restarted server answers NOSCRIPT, and nothing ran). Digests are kept per script text.
// Safe for concurrent use.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/status.h"
#include "jobs/redis_client.h"

namespace pulse::jobs {

class RedisPool {
 public:
  static Result<std::unique_ptr<RedisPool>> Open(const std::string& url, RedisOptions options = {});

  template <class Fn>
  auto WithClient(Fn&& fn) -> decltype(fn(std::declval<RedisClient&>()));

  // `script` must outlive the pool (a string literal): its address keys the digest cache.
  Result<RedisReply> RunScript(RedisClient& client, const char* script, const std::vector<std::string>& keys,
                               const std::vector<std::string>& args);

  // "redis://host:port/db" without credentials.
  const std::string& display_url() const { return display_url_; }

 private:
  RedisPool(std::string url, RedisOptions options);

  const std::string url_;
  const std::string display_url_;
  const RedisOptions options_;
  std::mutex mu_;
  std::vector<RedisClient> idle_;            // guarded by mu_
  std::map<const char*, std::string> shas_;  // guarded by mu_
};

template <class Fn>
auto RedisPool::WithClient(Fn&& fn) -> decltype(fn(std::declval<RedisClient&>())) {
  std::optional<RedisClient> client;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      client.emplace(std::move(idle_.back()));
      idle_.pop_back();
    }
  }
  if (!client) {
    auto fresh = RedisClient::Connect(url_, options_);
    if (!fresh.ok()) return fresh.status();
    client.emplace(std::move(*fresh));
  }
  auto result = fn(*client);
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(*client));
  return result;
}

}  // namespace pulse::jobs
