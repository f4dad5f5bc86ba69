#include "jobs/redis_broker.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/time.h"
#include "jobs/celery_protocol.h"

namespace pulse::jobs {
namespace {

std::string NowSeconds() {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(time::NowMicros()) / 1e6);
  return buf;
}

// kombu's unacked value: [payload object, exchange, routing_key] (the raw text when not JSON).
std::string UnackedValue(const Delivery& d, const nlohmann::json& payload) {
  return nlohmann::json::array({payload.is_object() ? payload : nlohmann::json(d.raw), "", d.queue}).dump();
}

// The delivery tag and task id of an envelope, from one parse.
struct EnvelopeIds {
  std::string delivery_tag, task_id;
};
EnvelopeIds IdsOf(const nlohmann::json& payload) {
  EnvelopeIds ids;
  if (!payload.is_object()) return ids;
  if (auto p = payload.find("properties"); p != payload.end() && p->is_object())
    if (auto t = p->find("delivery_tag"); t != p->end() && t->is_string()) ids.delivery_tag = t->get<std::string>();
  if (auto h = payload.find("headers"); h != payload.end() && h->is_object())
    if (auto i = h->find("id"); i != h->end() && i->is_string()) ids.task_id = i->get<std::string>();
  return ids;
}

Status PipelineOk(const Result<std::vector<RedisReply>>& replies, const char* what) {
  if (!replies.ok()) return replies.status();
  for (const auto& r : *replies)
    if (r.is_error()) return RedisErrorStatus(r.str, what);
  return Status::Ok();
}

}  // namespace

template <class Fn>
auto RedisBroker::WithClient(Fn&& fn) -> decltype(fn(std::declval<RedisClient&>())) {
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

Result<std::unique_ptr<RedisBroker>> RedisBroker::Connect(const std::string& url, RedisOptions options) {
  auto client = RedisClient::Connect(url, options);
  if (!client.ok()) return client.status();
  std::unique_ptr<RedisBroker> broker(new RedisBroker(url, options));
  broker->idle_.push_back(std::move(*client));
  return broker;
}

Status RedisBroker::Publish(const std::string& queue, const std::string& envelope) {
  return WithClient([&](RedisClient& c) -> Status { return c.Command({"LPUSH", queue, envelope}).status(); });
}

Result<std::optional<Delivery>> RedisBroker::Fetch(const std::vector<std::string>& queues,
                                                   std::chrono::milliseconds timeout) {
  return WithClient([&](RedisClient& c) -> Result<std::optional<Delivery>> {
    std::vector<std::string> args = {"BRPOP"};
    args.insert(args.end(), queues.begin(), queues.end());
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(timeout.count()) / 1000.0);
    args.push_back(seconds);
    PULSE_ASSIGN_OR_RETURN(RedisReply reply, c.BlockingCommand(args, timeout));
    if (reply.is_nil()) return std::optional<Delivery>();
    if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2)
      return Status::Internal("BRPOP: unexpected reply " + reply.DebugString());
    Delivery d{std::move(reply.elements[1].str), std::move(reply.elements[0].str), "", false, std::nullopt};
    const auto payload = nlohmann::json::parse(d.raw, nullptr, false);
    const EnvelopeIds ids = IdsOf(payload);
    d.delivery_tag = ids.delivery_tag.empty() ? NewUuid() : ids.delivery_tag;
    std::vector<std::vector<std::string>> commands = {{"ZADD", "unacked_index", NowSeconds(), d.delivery_tag},
                                                      {"HSET", "unacked", d.delivery_tag, UnackedValue(d, payload)}};
    const std::string& task_id = ids.task_id;  // look its result up in the same round trip
    if (!task_id.empty()) commands.push_back({"GET", ResultKey(task_id)});
    auto replies = c.Pipeline(commands);
    PULSE_RETURN_IF_ERROR(PipelineOk(replies, "recording an unacked delivery"));
    if (!task_id.empty()) {
      d.result_checked = true;
      if (!(*replies)[2].is_nil()) d.existing_result = std::move((*replies)[2].str);
    }
    return std::optional<Delivery>(std::move(d));
  });
}

Status RedisBroker::Ack(const Delivery& delivery) {
  return WithClient([&](RedisClient& c) -> Status {
    return PipelineOk(c.Pipeline({{"ZREM", "unacked_index", delivery.delivery_tag}, {"HDEL", "unacked", delivery.delivery_tag}}),
                      "ack");
  });
}

Status RedisBroker::Requeue(const Delivery& delivery) {
  return WithClient([&](RedisClient& c) -> Status {
    return PipelineOk(c.Pipeline({{"RPUSH", delivery.queue, delivery.raw},
                                  {"ZREM", "unacked_index", delivery.delivery_tag},
                                  {"HDEL", "unacked", delivery.delivery_tag}}),
                      "requeue");
  });
}

Status RedisBroker::DeadLetter(const Delivery& delivery, const std::string& reason) {
  const std::string entry = nlohmann::json{{"reason", reason},
                                           {"queue", delivery.queue},
                                           {"envelope", delivery.raw},
                                           {"time", time::FormatTimestamp(time::NowMicros())}}
                                .dump();
  return WithClient([&](RedisClient& c) -> Status {
    return PipelineOk(c.Pipeline({{"LPUSH", kDeadLetterList, entry},
                                  {"ZREM", "unacked_index", delivery.delivery_tag},
                                  {"HDEL", "unacked", delivery.delivery_tag}}),
                      "dead-letter");
  });
}

Result<int64_t> RedisBroker::RestoreVisible(std::chrono::seconds visibility) {
  return WithClient([&](RedisClient& c) -> Result<int64_t> {
    const std::string token = NewUuid();
    PULSE_ASSIGN_OR_RETURN(RedisReply lock, c.Command({"SET", "unacked_mutex", token, "NX", "EX", "300"}));
    if (lock.is_nil()) return int64_t{0};  // another restorer is at it
    char cutoff[64];
    std::snprintf(cutoff, sizeof cutoff, "%.6f",
                  static_cast<double>(time::NowMicros()) / 1e6 - static_cast<double>(visibility.count()));
    int64_t restored = 0;
    auto tags = c.Command({"ZRANGEBYSCORE", "unacked_index", "-inf", cutoff});
    if (tags.ok()) {
      for (const RedisReply& tag : tags->elements) {
        auto value = c.Command({"HGET", "unacked", tag.str});
        if (!value.ok()) break;
        if (value->is_nil()) {  // acked meanwhile
          (void)c.Command({"ZREM", "unacked_index", tag.str});
          continue;
        }
        auto entry = nlohmann::json::parse(value->str, nullptr, false);
        if (entry.is_discarded() || !entry.is_array() || entry.size() != 3) continue;
        nlohmann::json payload = entry[0];
        std::string raw;
        if (payload.is_object()) {
          payload["properties"]["delivery_info"]["redelivered"] = true;
          raw = payload.dump();
        } else {
          raw = payload.is_string() ? payload.get<std::string>() : payload.dump();
        }
        const std::string queue = entry[2].is_string() ? entry[2].get<std::string>() : "celery";
        auto done = c.Pipeline({{"RPUSH", queue, raw}, {"HDEL", "unacked", tag.str}, {"ZREM", "unacked_index", tag.str}});
        if (!PipelineOk(done, "restore").ok()) break;
        ++restored;
      }
    }
    auto holder = c.Command({"GET", "unacked_mutex"});
    if (holder.ok() && holder->str == token) (void)c.Command({"DEL", "unacked_mutex"});
    if (!tags.ok()) return tags.status();
    return restored;
  });
}

Result<int64_t> RedisBroker::QueueLength(const std::string& queue) {
  return WithClient([&](RedisClient& c) -> Result<int64_t> {
    PULSE_ASSIGN_OR_RETURN(RedisReply r, c.Command({"LLEN", queue}));
    return r.integer;
  });
}

Status RedisBroker::StoreResult(const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) {
  const std::string key = ResultKey(task_id);
  return WithClient([&](RedisClient& c) -> Status {
    return PipelineOk(c.Pipeline({{"SETEX", key, std::to_string(std::max<int64_t>(1, ttl.count())), meta},
                                  {"PUBLISH", key, meta}}),
                      "storing a result");
  });
}

Status RedisBroker::Finish(const Delivery& delivery, const std::string& task_id, const std::string& meta,
                           std::chrono::seconds ttl) {
  const std::string key = ResultKey(task_id);
  return WithClient([&](RedisClient& c) -> Status {
    return PipelineOk(c.Pipeline({{"SETEX", key, std::to_string(std::max<int64_t>(1, ttl.count())), meta},
                                  {"PUBLISH", key, meta},
                                  {"ZREM", "unacked_index", delivery.delivery_tag},
                                  {"HDEL", "unacked", delivery.delivery_tag}}),
                      "storing a result and acknowledging");
  });
}

Result<std::optional<std::string>> RedisBroker::CacheGet(const std::string& key) {
  return WithClient([&](RedisClient& c) -> Result<std::optional<std::string>> {
    PULSE_ASSIGN_OR_RETURN(RedisReply r, c.Command({"GET", "pulse.cache:" + key}));
    if (r.is_nil()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(r.str));
  });
}

Status RedisBroker::CachePut(const std::string& key, const std::string& value, std::chrono::seconds ttl) {
  return WithClient([&](RedisClient& c) -> Status {
    return c.Command({"SET", "pulse.cache:" + key, value, "EX", std::to_string(std::max<int64_t>(1, ttl.count()))}).status();
  });
}

Result<bool> RedisBroker::AcquireLease(const std::string& key, const std::string& owner, std::chrono::milliseconds ttl) {
  static const char* kRenew =
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
  const std::string ms = std::to_string(std::max<int64_t>(1, ttl.count()));
  return WithClient([&](RedisClient& c) -> Result<bool> {
    PULSE_ASSIGN_OR_RETURN(RedisReply taken, c.Command({"SET", key, owner, "NX", "PX", ms}));
    if (!taken.is_nil()) return true;
    PULSE_ASSIGN_OR_RETURN(RedisReply renewed, c.Command({"EVAL", kRenew, "1", key, owner, ms}));
    return renewed.integer == 1;
  });
}

Result<std::optional<std::string>> RedisBroker::GetResult(const std::string& task_id) {
  return WithClient([&](RedisClient& c) -> Result<std::optional<std::string>> {
    PULSE_ASSIGN_OR_RETURN(RedisReply r, c.Command({"GET", ResultKey(task_id)}));
    if (r.is_nil()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(r.str));
  });
}

}  // namespace pulse::jobs
