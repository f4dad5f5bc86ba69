#include "jobs/redis_pool.h"

namespace pulse::jobs {

RedisPool::RedisPool(std::string url, RedisOptions options)
    : url_(std::move(url)), display_url_(RedisUrlForDisplay(url_)), options_(options) {}

Result<std::unique_ptr<RedisPool>> RedisPool::Open(const std::string& url, RedisOptions options) {
  auto client = RedisClient::Connect(url, options);
  if (!client.ok()) return client.status();
  auto pong = client->Command({"PING"});
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
