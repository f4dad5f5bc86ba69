#include "jobs/redis_broker.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/time.h"
#include "jobs/celery_protocol.h"
#include "jobs/safe_json.h"

namespace pulse::jobs {
namespace {

std::string SecondsText(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", seconds);
  return buf;
}

std::string NowSeconds() { return SecondsText(static_cast<double>(time::NowMicros()) / 1e6); }

Status PipelineOk(const Result<std::vector<RedisReply>>& replies, const char* what) {
  if (!replies.ok()) return replies.status();
  for (const auto& r : *replies)
    if (r.is_error()) return RedisErrorStatus(r.str, what);
  return Status::Ok();
}

// Runs `commands` as one MULTI/EXEC transaction (one round trip): all of them or none.
Status Transaction(RedisClient& c, std::vector<std::vector<std::string>> commands, const char* what) {
  commands.insert(commands.begin(), {"MULTI"});
  commands.push_back({"EXEC"});
  auto replies = c.Pipeline(commands);
  PULSE_RETURN_IF_ERROR(PipelineOk(replies, what));
  const RedisReply& exec = replies->back();
  if (exec.type != RedisReply::Type::kArray || exec.elements.size() != commands.size() - 2)
    return Status::Internal(std::string(what) + ": unexpected EXEC reply " + exec.DebugString());
  for (const auto& r : exec.elements)
    if (r.is_error()) return RedisErrorStatus(r.str, what);
  return Status::Ok();
}

// A pulse.dead_letter entry. Text that is not UTF-8 is kept with U+FFFD in place of bad bytes.
std::string DeadLetterEntry(const std::string& reason, const std::string& queue, const std::string& envelope) {
  return DumpJson(nlohmann::json{{"reason", reason},
                                 {"queue", queue},
                                 {"envelope", envelope},
                                 {"time", time::FormatTimestamp(time::NowMicros())}});
}

// Takes the oldest message of the first non-empty queue and records it as unacked, atomically.
// KEYS: the lists (earlier first: ConsumedLists), then unacked and unacked_index. ARGV: the time
// (seconds), a delivery tag for a message without one, then each list's queue (its routing key).
// Returns nil, or [list, envelope, delivery tag, task id, stored result or nil]; the delivery tag is
// the envelope's properties.delivery_tag unless that is missing or already unacked (then ARGV[2],
// so deliveries never share an unacked record). The unacked value
// embeds the envelope text as it came (kombu's [payload, exchange, routing_key], the routing key
// being the queue's name also for a priority list, as kombu records it; a message that is not a
// JSON object is embedded as a string).
constexpr const char* kTakeScript = R"lua(
local n = #KEYS - 2
for i = 1, n do
  local raw = redis.call('RPOP', KEYS[i])
  if raw then
    local tag, id, object = ARGV[2], '', false
    if string.find(raw, '^%s*{') then
      local ok, message = pcall(cjson.decode, raw)
      if ok and type(message) == 'table' then
        object = true
        local p, h = message['properties'], message['headers']
        if type(p) == 'table' and type(p['delivery_tag']) == 'string' and p['delivery_tag'] ~= '' then
          tag = p['delivery_tag']
        end
        if type(h) == 'table' and type(h['id']) == 'string' then id = h['id'] end
      end
    end
    -- A tag already held (a producer that reuses one envelope's delivery_tag): a fresh one, so
    -- that one delivery's ack never drops another's unacked record.
    if redis.call('HEXISTS', KEYS[n + 1], tag) == 1 then tag = ARGV[2] end
    local payload = raw
    if not object then payload = cjson.encode(raw) end
    redis.call('ZADD', KEYS[n + 2], ARGV[1], tag)
    redis.call('HSET', KEYS[n + 1], tag, '[' .. payload .. ', "", ' .. cjson.encode(ARGV[2 + i]) .. ']')
    local result = false
    if id ~= '' then result = redis.call('GET', 'celery-task-meta-' .. id) end
    return {KEYS[i], raw, tag, id, result}
  end
end
return false
)lua";

// Moves unacked entries that are still unacked, unchanged and older than the cutoff.
// KEYS: unacked, unacked_index, then the lists entries move to. ARGV[1]: the cutoff (seconds);
// then five per entry: delivery tag, the unacked value as read (ignored when it was missing),
// the index in KEYS of the list to push to ('0': the value was missing, drop a stale index
// entry), RPUSH (a restore) or LPUSH (a dead letter), the value to push. Returns the restores.
constexpr const char* kRestoreScript = R"lua(
local restored = 0
for i = 2, #ARGV, 5 do
  local tag = ARGV[i]
  local score = redis.call('ZSCORE', KEYS[2], tag)
  if score and tonumber(score) <= tonumber(ARGV[1]) then
    local value = redis.call('HGET', KEYS[1], tag)
    if not value then
      redis.call('ZREM', KEYS[2], tag)
    elseif ARGV[i + 2] ~= '0' and value == ARGV[i + 1] then
      redis.call(ARGV[i + 3], KEYS[tonumber(ARGV[i + 2])], ARGV[i + 4])
      redis.call('HDEL', KEYS[1], tag)
      redis.call('ZREM', KEYS[2], tag)
      if ARGV[i + 3] == 'RPUSH' then restored = restored + 1 end
    end
  end
end
return restored
)lua";

constexpr int kRestoreBatch = 256;
constexpr int kRestoreMaxBatches = 64;

// kombu's default priority steps and the separator of its priority list names.
constexpr int kPrioritySteps[] = {0, 3, 6, 9};
constexpr const char* kPrioritySeparator = "\x06\x16";

// The list a restored envelope goes back to: its queue's list for its properties.priority.
std::string RestoreList(const std::string& queue, const nlohmann::json& envelope) {
  if (!envelope.is_object()) return queue;
  auto props = envelope.find("properties");
  if (props == envelope.end() || !props->is_object()) return queue;
  auto priority = props->find("priority");
  if (priority == props->end() || !priority->is_number()) return queue;
  const double p = priority->get<double>();
  return PriorityList(queue, std::isfinite(p) ? static_cast<int64_t>(std::clamp(p, 0.0, 9.0)) : 0);
}

}  // namespace

std::string PriorityList(const std::string& queue, int64_t priority) {
  int step = 0;
  for (int s : kPrioritySteps)
    if (priority >= s) step = s;
  return step == 0 ? queue : queue + kPrioritySeparator + std::to_string(step);
}

std::vector<std::string> ConsumedLists(const std::vector<std::string>& queues) {
  std::vector<std::string> lists;
  for (int step : kPrioritySteps)
    for (const std::string& q : queues) lists.push_back(PriorityList(q, step));
  return lists;
}

Result<std::unique_ptr<RedisBroker>> RedisBroker::Connect(const std::string& url, RedisOptions options) {
  PULSE_ASSIGN_OR_RETURN(auto pool, RedisPool::Open(url, options));
  return std::unique_ptr<RedisBroker>(new RedisBroker(std::move(pool)));
}

Status RedisBroker::Publish(const std::string& queue, const std::string& envelope) {
  return pool_->WithClient([&](RedisClient& c) -> Status { return c.Command({"LPUSH", queue, envelope}).status(); });
}

Result<std::optional<Delivery>> RedisBroker::Take(RedisClient& c, const std::vector<std::string>& queues) {
  std::vector<std::string> keys = ConsumedLists(queues);
  std::vector<std::string> args = {NowSeconds(), NewUuid()};
  for (size_t i = 0; i < keys.size(); ++i) args.push_back(queues[i % queues.size()]);
  keys.push_back("unacked");
  keys.push_back("unacked_index");
  PULSE_ASSIGN_OR_RETURN(RedisReply r, pool_->RunScript(c, kTakeScript, keys, args));
  if (r.is_nil()) return std::optional<Delivery>();
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 5)
    return Status::Internal("taking a message: unexpected reply " + r.DebugString());
  Delivery d;
  d.queue = std::move(r.elements[0].str);
  d.raw = std::move(r.elements[1].str);
  d.delivery_tag = std::move(r.elements[2].str);
  d.result_checked = !r.elements[3].str.empty();  // the script looked the task's result up
  if (!r.elements[4].is_nil()) d.existing_result = std::move(r.elements[4].str);
  return std::optional<Delivery>(std::move(d));
}

Result<std::optional<Delivery>> RedisBroker::Fetch(const std::vector<std::string>& queues,
                                                   std::chrono::milliseconds timeout) {
  if (queues.empty()) return Status::InvalidArgument("fetch: no queues");
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  return pool_->WithClient([&](RedisClient& c) -> Result<std::optional<Delivery>> {
    for (size_t turn = 0;; ++turn) {
      PULSE_ASSIGN_OR_RETURN(auto taken, Take(c, queues));
      if (taken) return taken;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::optional<Delivery>();
      // Every queue was empty: wait for a message on one of them (in turn, a slice of the timeout
      // each) without taking it - moving the oldest message from the right end to the right end
      // leaves it in place - then loop to take it (unless another consumer was quicker).
      auto slice = queues.size() == 1 ? left : std::min(left, timeout / static_cast<int64_t>(queues.size()));
      slice = std::max(slice, std::chrono::milliseconds(10));
      const std::string& q = queues[turn % queues.size()];
      PULSE_ASSIGN_OR_RETURN(
          RedisReply woke,
          c.BlockingCommand(
              {"BLMOVE", q, q, "RIGHT", "RIGHT", SecondsText(static_cast<double>(slice.count()) / 1000.0)}, slice));
      if (woke.is_nil() && queues.size() == 1) return std::optional<Delivery>();
    }
  });
}

Status RedisBroker::Ack(const Delivery& delivery) {
  return pool_->WithClient([&](RedisClient& c) -> Status {
    return Transaction(
        c, {{"ZREM", "unacked_index", delivery.delivery_tag}, {"HDEL", "unacked", delivery.delivery_tag}}, "ack");
  });
}

Status RedisBroker::Requeue(const Delivery& delivery) {
  return pool_->WithClient([&](RedisClient& c) -> Status {
    return Transaction(c,
                       {{"LPUSH", delivery.queue, delivery.raw},
                        {"ZREM", "unacked_index", delivery.delivery_tag},
                        {"HDEL", "unacked", delivery.delivery_tag}},
                       "requeue");
  });
}

Status RedisBroker::DeadLetter(const Delivery& delivery, const std::string& reason) {
  const std::string entry = DeadLetterEntry(reason, delivery.queue, delivery.raw);
  return pool_->WithClient([&](RedisClient& c) -> Status {
    return Transaction(c,
                       {{"LPUSH", kDeadLetterList, entry},
                        {"ZREM", "unacked_index", delivery.delivery_tag},
                        {"HDEL", "unacked", delivery.delivery_tag}},
                       "dead-letter");
  });
}

Result<int64_t> RedisBroker::RestoreVisible(std::chrono::seconds visibility, int max_deaths) {
  const std::string cutoff =
      SecondsText(static_cast<double>(time::NowMicros()) / 1e6 - static_cast<double>(visibility.count()));
  return pool_->WithClient([&](RedisClient& c) -> Result<int64_t> {
    int64_t restored = 0;
    for (int batch = 0; batch < kRestoreMaxBatches; ++batch) {
      PULSE_ASSIGN_OR_RETURN(RedisReply tags, c.Command({"ZRANGEBYSCORE", "unacked_index", "-inf", cutoff, "LIMIT", "0",
                                                         std::to_string(kRestoreBatch)}));
      if (tags.elements.empty()) break;
      std::vector<std::string> hmget = {"HMGET", "unacked"};
      for (const RedisReply& tag : tags.elements) hmget.push_back(tag.str);
      PULSE_ASSIGN_OR_RETURN(RedisReply values, c.Command(hmget));
      if (values.elements.size() != tags.elements.size()) {
        return Status::Internal("restore: HMGET returned " + std::to_string(values.elements.size()) + " values for " +
                                std::to_string(tags.elements.size()) + " fields");
      }
      std::vector<std::string> keys = {"unacked", "unacked_index"};
      std::map<std::string, size_t> key_slot;  // list -> its 1-based index in keys
      auto slot = [&](const std::string& list) {
        auto [it, fresh] = key_slot.emplace(list, keys.size() + 1);
        if (fresh) keys.push_back(list);
        return std::to_string(it->second);
      };
      std::vector<std::string> args = {cutoff};
      for (size_t i = 0; i < tags.elements.size(); ++i) {
        const std::string& tag = tags.elements[i].str;
        const RedisReply& value = values.elements[i];
        if (value.is_nil()) {  // acked, but its index entry stayed: dropped if still so
          args.insert(args.end(), {tag, "", "0", "", ""});
          continue;
        }
        const auto parsed = ParseJson(value.str, "unacked entry");
        if (!parsed.ok() || !parsed->is_array() || parsed->size() != 3) {
          const std::string reason = "unacked entry is not [envelope, exchange, routing_key]" +
                                     (parsed.ok() ? std::string() : " (" + parsed.status().message() + ")");
          args.insert(args.end(),
                      {tag, value.str, slot(kDeadLetterList), "LPUSH", DeadLetterEntry(reason, "", value.str)});
          continue;
        }
        const nlohmann::json& entry = *parsed;
        const nlohmann::json& payload = entry[0];
        const std::string raw = payload.is_string() ? payload.get<std::string>() : DumpJson(payload);
        const std::string queue =
            entry[2].is_string() && !entry[2].get<std::string>().empty() ? entry[2].get<std::string>() : "celery";
        RestoreDecision decision = DecideRestore(raw, max_deaths);
        if (decision.dead_letter) {
          args.insert(args.end(),
                      {tag, value.str, slot(kDeadLetterList), "LPUSH", DeadLetterEntry(decision.value, queue, raw)});
        } else {
          args.insert(args.end(),
                      {tag, value.str, slot(RestoreList(queue, payload)), "RPUSH", std::move(decision.value)});
        }
      }
      PULSE_ASSIGN_OR_RETURN(RedisReply moved, pool_->RunScript(c, kRestoreScript, keys, args));
      restored += moved.integer;
      if (tags.elements.size() < static_cast<size_t>(kRestoreBatch)) break;
    }
    return restored;
  });
}

Result<int64_t> RedisBroker::QueueLength(const std::string& queue) {
  return pool_->WithClient([&](RedisClient& c) -> Result<int64_t> {
    int64_t total = 0;  // the queue's own list and its priority lists, as kombu counts it
    for (int step : kPrioritySteps) {
      PULSE_ASSIGN_OR_RETURN(RedisReply r, c.Command({"LLEN", PriorityList(queue, step)}));
      total += r.integer;
    }
    return total;
  });
}

Status RedisBroker::StoreResult(const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) {
  const std::string key = ResultKey(task_id);
  return pool_->WithClient([&](RedisClient& c) -> Status {
    return PipelineOk(
        c.Pipeline({{"SETEX", key, std::to_string(std::max<int64_t>(1, ttl.count())), meta}, {"PUBLISH", key, meta}}),
        "storing a result");
  });
}

Status RedisBroker::Finish(const Delivery& delivery, const std::string& task_id, const std::string& meta,
                           std::chrono::seconds ttl) {
  const std::string key = ResultKey(task_id);
  return pool_->WithClient([&](RedisClient& c) -> Status {
    return Transaction(c,
                       {{"SETEX", key, std::to_string(std::max<int64_t>(1, ttl.count())), meta},
                        {"PUBLISH", key, meta},
                        {"ZREM", "unacked_index", delivery.delivery_tag},
                        {"HDEL", "unacked", delivery.delivery_tag}},
                       "storing a result and acknowledging");
  });
}

Status RedisBroker::Retry(const Delivery& delivery, const std::string& queue, const std::string& envelope,
                          const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) {
  const std::string key = ResultKey(task_id);
  return pool_->WithClient([&](RedisClient& c) -> Status {
    return Transaction(c,
                       {{"LPUSH", queue, envelope},
                        {"SETEX", key, std::to_string(std::max<int64_t>(1, ttl.count())), meta},
                        {"PUBLISH", key, meta},
                        {"ZREM", "unacked_index", delivery.delivery_tag},
                        {"HDEL", "unacked", delivery.delivery_tag}},
                       "publishing a retry and acknowledging");
  });
}

Status RedisBroker::Append(const std::string& list, const std::string& entry) {
  return pool_->WithClient([&](RedisClient& c) -> Status { return c.Command({"RPUSH", list, entry}).status(); });
}

Result<bool> RedisBroker::AcquireLease(const std::string& key, const std::string& owner,
                                       std::chrono::milliseconds ttl) {
  static const char* kRenew =
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
  const std::string ms = std::to_string(std::max<int64_t>(1, ttl.count()));
  return pool_->WithClient([&](RedisClient& c) -> Result<bool> {
    PULSE_ASSIGN_OR_RETURN(RedisReply taken, c.Command({"SET", key, owner, "NX", "PX", ms}));
    if (!taken.is_nil()) return true;
    PULSE_ASSIGN_OR_RETURN(RedisReply renewed, c.Command({"EVAL", kRenew, "1", key, owner, ms}));
    return renewed.integer == 1;
  });
}

Result<std::optional<std::string>> RedisBroker::GetResult(const std::string& task_id) {
  return pool_->WithClient([&](RedisClient& c) -> Result<std::optional<std::string>> {
    PULSE_ASSIGN_OR_RETURN(RedisReply r, c.Command({"GET", ResultKey(task_id)}));
    if (r.is_nil()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(r.str));
  });
}

}  // namespace pulse::jobs
