#include "jobs/redis_pool.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace pulse::jobs {

RedisPool::RedisPool(std::string url, RedisOptions options)
    : url_(std::move(url)), display_url_(RedisUrlForDisplay(url_)), options_(options) {}

Result<std::unique_ptr<RedisPool>> RedisPool::Open(const std::string& url, RedisOptions options) {
  auto client = RedisClient::Connect(url, options);
  if (!client.ok()) return client.status();
  // A server still loading its dataset (LOADING, as after a restart), or answering another
  // transient error reply, is asked again with the connection backoff for up to loading_wait. (A
  // lost connection - "PING failed: ..." - is not: reconnecting has its own backoff.)
  auto transient = [](const Result<RedisReply>& reply) {
    return !reply.ok() && reply.status().code() == StatusCode::kUnavailable &&
           reply.status().message().find("failed:") == std::string::npos;
  };
  auto pong = client->Command({"PING"});
  const auto give_up = std::chrono::steady_clock::now() + options.loading_wait;
  for (auto delay = options.backoff_initial; transient(pong) && std::chrono::steady_clock::now() < give_up;
       delay = std::min(delay * 2, options.backoff_max)) {
    std::this_thread::sleep_for(delay);
    pong = client->Command({"PING"});
  }
  if (!pong.ok()) {
    const std::string why = pong.status().message();
    if (why.find("NOAUTH") != std::string::npos)
      return Status::InvalidArgument(why + " (the server wants a password: redis://:PASSWORD@host:port/db)");
    return Status(pong.status().code(), why + " (is this a Redis server?)");
  }
  if (pong->str != "PONG") {
    return Status::InvalidArgument("redis " + client->endpoint().ToString() + ": PING answered " + pong->DebugString() +
                                   ", not PONG (is this a Redis server?)");
  }
  std::unique_ptr<RedisPool> pool(new RedisPool(url, options));
  pool->idle_.push_back(std::move(*client));
  return pool;
}

Result<RedisReply> RedisPool::RunScript(RedisClient& c, const char* script, const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args) {
  std::string sha;
  {
    std::lock_guard lock(mu_);
    if (auto it = shas_.find(script); it != shas_.end()) sha = it->second;
  }
  auto evalsha = [&](const std::string& digest) {
    std::vector<std::string> command = {"EVALSHA", digest, std::to_string(keys.size())};
    command.insert(command.end(), keys.begin(), keys.end());
    command.insert(command.end(), args.begin(), args.end());
    return c.Command(command);
  };
  if (!sha.empty()) {
    auto reply = evalsha(sha);
    // NOSCRIPT (kNotFound): a restarted server has forgotten it; nothing ran. Load and run it.
    if (reply.ok() || reply.status().code() != StatusCode::kNotFound) return reply;
  }
  PULSE_ASSIGN_OR_RETURN(RedisReply loaded, c.Command({"SCRIPT", "LOAD", script}));
  {
    std::lock_guard lock(mu_);
    shas_[script] = loaded.str;
  }
  return evalsha(loaded.str);
}

}  // namespace pulse::jobs
