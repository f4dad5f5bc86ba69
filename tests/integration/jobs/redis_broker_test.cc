// RedisBroker and RedisCache against the real redis-server scripts/test starts
// (PULSE_TEST_REDIS_URL; every test fails without it, like the S3 tests): opened from their URLs by the
// factories (jobs/backends.h), then each role - queue (publish, fetch, ack, requeue, dead letter,
// restore with death counts, priority lists), results, Finish / Retry transactions, cache (TTL
// and byte bound), lease, journal - checked in kombu's key layout with a raw client, and a Worker
// running a task end to end over both. The tests use their own database (13) of the shared server
// and empty it first: kombu's keys (unacked, unacked_index) are fixed names.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "jobs/backends.h"
#include "jobs/celery_protocol.h"
#include "jobs/redis_broker.h"
#include "jobs/redis_cache.h"
#include "jobs/redis_client.h"
#include "jobs/task_client.h"
#include "jobs/worker.h"

namespace pulse::jobs {
namespace {

using namespace std::chrono_literals;

// The shared server's URL with database 13 in place of the one it names; "" without a server.
std::string TestUrl() {
  const char* shared = std::getenv("PULSE_TEST_REDIS_URL");
  if (shared == nullptr || *shared == 0) return "";
  auto endpoint = ParseRedisUrl(shared);
  if (!endpoint.ok()) return "";
  endpoint->db = 13;
  return endpoint->ToString();
}

class RedisBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = TestUrl();
    if (url_.empty()) {
      FAIL() << "PULSE_TEST_REDIS_URL is not set: run the integration tier through scripts/test";
    }
    auto client = RedisClient::Connect(url_);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    raw_.emplace(std::move(*client));
    ASSERT_TRUE(raw_->Command({"FLUSHDB"}).ok());
    auto broker = OpenBroker(url_);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
  }

  RedisReply Raw(const std::vector<std::string>& args) {
    auto r = raw_->Command(args);
    EXPECT_TRUE(r.ok()) << args[0] << ": " << r.status().ToString();
    return r.ok() ? *r : RedisReply();
  }
  int64_t Int(const std::vector<std::string>& args) { return Raw(args).integer; }

  static std::string Envelope(const std::string& id, const std::string& task = "t.add") {
    TaskMessage m;
    m.task = task, m.id = id, m.args = {2, 3};
    return EncodeMessage(m);
  }
  Delivery Take(const std::string& queue = "celery") {
    auto d = broker_->Fetch({queue}, 200ms);
    EXPECT_TRUE(d.ok() && *d) << (d.ok() ? "nothing to fetch" : d.status().ToString());
    return d.ok() && *d ? **d : Delivery{};
  }

  std::string url_;
  std::optional<RedisClient> raw_;
  std::unique_ptr<Broker> broker_;
};

TEST_F(RedisBrokerTest, TheFactoriesOpenRedisBackendsFromTheirUrls) {
  EXPECT_NE(dynamic_cast<RedisBroker*>(broker_.get()), nullptr);
  auto cache = OpenCache(url_);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  EXPECT_NE(dynamic_cast<RedisCache*>(cache->get()), nullptr);
  ASSERT_TRUE((*cache)->Put("k", "v", 60s).ok());
  EXPECT_EQ(Raw({"GET", "pulse.cache:k"}).str, "v");
  EXPECT_EQ(**(*cache)->Get("k"), "v");
  // A server that is not there: kUnavailable, from both factories (no blind retry forever).
  RedisOptions quick;
  quick.connect_attempts = 1;
  EXPECT_EQ(OpenBroker("redis://127.0.0.1:1/0", {.redis = quick}).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(OpenCache("redis://127.0.0.1:1/0", {.redis = quick}).status().code(), StatusCode::kUnavailable);
  // Shared-only commands accept Redis.
  EXPECT_TRUE(OpenBroker(url_, {.shared_only = true}).ok());
}

TEST_F(RedisBrokerTest, PublishFetchAckInKombusLayout) {
  ASSERT_TRUE(broker_->Publish("celery", Envelope("a1")).ok());
  EXPECT_EQ(Int({"LLEN", "celery"}), 1);
  EXPECT_EQ(*broker_->QueueLength("celery"), 1);
  const Delivery d = Take();
  EXPECT_EQ(d.queue, "celery");
  EXPECT_EQ(DecodeMessage(d.raw)->id, "a1");
  EXPECT_FALSE(d.delivery_tag.empty());
  EXPECT_TRUE(d.result_checked);  // looked up in the same script
  EXPECT_FALSE(d.existing_result);
  EXPECT_EQ(Int({"LLEN", "celery"}), 0);
  // Recorded as unacked, as kombu records it: [envelope, exchange, routing key].
  const auto entry = nlohmann::json::parse(Raw({"HGET", "unacked", d.delivery_tag}).str);
  EXPECT_EQ(entry[1], "");
  EXPECT_EQ(entry[2], "celery");
  EXPECT_EQ(entry[0]["headers"]["id"], "a1");
  EXPECT_EQ(Int({"ZCARD", "unacked_index"}), 1);
  ASSERT_TRUE(broker_->Ack(d).ok());
  EXPECT_EQ(Int({"HLEN", "unacked"}), 0);
  EXPECT_EQ(Int({"ZCARD", "unacked_index"}), 0);
  auto none = broker_->Fetch({"celery"}, 50ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

TEST_F(RedisBrokerTest, AFetchSeesAStoredResultAndPriorityListsCount) {
  ASSERT_TRUE(broker_->StoreResult("a1", EncodeResultMeta("a1", TaskState::kSuccess, 5), 60s).ok());
  ASSERT_TRUE(broker_->Publish("celery", Envelope("a1")).ok());
  const Delivery d = Take();
  ASSERT_TRUE(d.existing_result);
  EXPECT_EQ(DecodeResultMeta(*d.existing_result)->result, 5);
  ASSERT_TRUE(broker_->Ack(d).ok());
  // kombu's priority lists: counted in the queue's length and fetched after the plain list.
  ASSERT_TRUE(Raw({"LPUSH", PriorityList("celery", 9), Envelope("p9")}).integer == 1);
  ASSERT_TRUE(broker_->Publish("celery", Envelope("p0")).ok());
  EXPECT_EQ(*broker_->QueueLength("celery"), 2);
  const Delivery first = Take(), second = Take();
  EXPECT_EQ(DecodeMessage(first.raw)->id, "p0");
  EXPECT_EQ(DecodeMessage(second.raw)->id, "p9");
  ASSERT_TRUE(broker_->Ack(first).ok());
  ASSERT_TRUE(broker_->Ack(second).ok());
}

TEST_F(RedisBrokerTest, RequeuePutsADeliveryBehindTheWaitingOnes) {
  ASSERT_TRUE(broker_->Publish("celery", Envelope("first")).ok());
  ASSERT_TRUE(broker_->Publish("celery", Envelope("second")).ok());
  const Delivery first = Take();
  ASSERT_TRUE(broker_->Requeue(first).ok());
  EXPECT_EQ(Int({"HLEN", "unacked"}), 0);
  const Delivery a = Take(), b = Take();
  EXPECT_EQ(DecodeMessage(a.raw)->id, "second");
  EXPECT_EQ(DecodeMessage(b.raw)->id, "first");
}

TEST_F(RedisBrokerTest, DeadLetterRecordsTheReasonAndEndsTheDelivery) {
  ASSERT_TRUE(broker_->Publish("celery", "{not json").ok());
  const Delivery d = Take();
  ASSERT_TRUE(broker_->DeadLetter(d, "not JSON").ok());
  EXPECT_EQ(Int({"HLEN", "unacked"}), 0);
  ASSERT_EQ(Int({"LLEN", kDeadLetterList}), 1);
  const auto entry = nlohmann::json::parse(Raw({"LINDEX", kDeadLetterList, "0"}).str);
  EXPECT_EQ(entry["reason"], "not JSON");
  EXPECT_EQ(entry["queue"], "celery");
  EXPECT_EQ(entry["envelope"], "{not json");
  EXPECT_TRUE(entry["time"].is_string());
}

TEST_F(RedisBrokerTest, RestoreRedeliversWithADeathCountThenDeadLetters) {
  ASSERT_TRUE(broker_->Publish("celery", Envelope("dies")).ok());
  Delivery d = Take();                               // its worker "dies": never acked
  EXPECT_EQ(*broker_->RestoreVisible(3600s, 2), 0);  // within the visibility timeout
  EXPECT_EQ(*broker_->RestoreVisible(0s, 2), 1);
  EXPECT_EQ(Int({"HLEN", "unacked"}), 0);
  d = Take();
  auto again = DecodeMessage(d.raw);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->redelivered);
  EXPECT_EQ(nlohmann::json::parse(d.raw)["properties"]["delivery_info"][kDeathsField], 1);
  EXPECT_EQ(*broker_->RestoreVisible(0s, 2), 0);  // the second death: dead-lettered, not restored
  EXPECT_EQ(*broker_->QueueLength("celery"), 0);
  ASSERT_EQ(Int({"LLEN", kDeadLetterList}), 1);
  EXPECT_EQ(nlohmann::json::parse(Raw({"LINDEX", kDeadLetterList, "0"}).str)["reason"],
            "worker died 2 times while running it");
}

TEST_F(RedisBrokerTest, ResultsFinishAndRetryAreWhereCeleryLooks) {
  ASSERT_TRUE(broker_->StoreResult("r1", EncodeResultMeta("r1", TaskState::kStarted, nullptr), 100s).ok());
  EXPECT_GT(Int({"TTL", ResultKey("r1")}), 0);
  EXPECT_EQ(DecodeResultMeta(**broker_->GetResult("r1"))->state, TaskState::kStarted);
  EXPECT_FALSE(*broker_->GetResult("absent"));
  // Finish: the result and the ack in one transaction.
  ASSERT_TRUE(broker_->Publish("celery", Envelope("r1")).ok());
  const Delivery d = Take();
  ASSERT_TRUE(broker_->Finish(d, "r1", EncodeResultMeta("r1", TaskState::kSuccess, 5), 100s).ok());
  EXPECT_EQ(DecodeResultMeta(Raw({"GET", ResultKey("r1")}).str)->result, 5);
  EXPECT_EQ(Int({"HLEN", "unacked"}), 0);
  // Retry: the next attempt, the RETRY state and the ack together.
  ASSERT_TRUE(broker_->Publish("celery", Envelope("r2")).ok());
  const Delivery r = Take();
  const std::string retry_meta =
      EncodeResultMeta("r2", TaskState::kRetry, FailureResult("Retry", "later", "celery.exceptions"));
  ASSERT_TRUE(broker_->Retry(r, "celery", Envelope("r2"), "r2", retry_meta, 100s).ok());
  EXPECT_EQ(DecodeResultMeta(Raw({"GET", ResultKey("r2")}).str)->state, TaskState::kRetry);
  EXPECT_EQ(Int({"HLEN", "unacked"}), 0);
  EXPECT_EQ(Int({"LLEN", "celery"}), 1);
}

TEST_F(RedisBrokerTest, LeasesHaveOneHolderAndTheJournalKeepsOrder) {
  EXPECT_TRUE(*broker_->AcquireLease("beat.lock", "a", 60000ms));
  EXPECT_FALSE(*broker_->AcquireLease("beat.lock", "b", 60000ms));
  EXPECT_TRUE(*broker_->AcquireLease("beat.lock", "a", 60000ms));  // renewed
  EXPECT_EQ(Raw({"GET", "beat.lock"}).str, "a");
  EXPECT_GT(Int({"PTTL", "beat.lock"}), 0);
  ASSERT_TRUE(Raw({"DEL", "beat.lock"}).integer == 1);  // as if it expired
  EXPECT_TRUE(*broker_->AcquireLease("beat.lock", "b", 60000ms));
  ASSERT_TRUE(broker_->Append("journal", "1").ok());
  ASSERT_TRUE(broker_->Append("journal", "2").ok());
  const RedisReply list = Raw({"LRANGE", "journal", "0", "-1"});
  ASSERT_EQ(list.elements.size(), 2u);
  EXPECT_EQ(list.elements[0].str, "1");
  EXPECT_EQ(list.elements[1].str, "2");
}

TEST_F(RedisBrokerTest, ABoundedCacheEvictsTheOldestEntries) {
  auto cache = OpenCache(url_, {.max_bytes = 10});
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  ASSERT_TRUE((*cache)->Put("a", "12345", 60s).ok());
  ASSERT_TRUE((*cache)->Put("b", "12345", 60s).ok());
  EXPECT_EQ(Raw({"GET", "pulse.cache.bytes"}).str, "10");
  ASSERT_TRUE((*cache)->Put("c", "123", 60s).ok());  // 13 bytes: the oldest goes
  EXPECT_FALSE(*(*cache)->Get("a"));
  EXPECT_EQ(**(*cache)->Get("b"), "12345");
  EXPECT_EQ(**(*cache)->Get("c"), "123");
  EXPECT_EQ(Raw({"GET", "pulse.cache.bytes"}).str, "8");
  EXPECT_GT(Int({"TTL", "pulse.cache:c"}), 0);
}

TEST_F(RedisBrokerTest, AWorkerRunsATaskOverRedisAndCachesItsResult) {
  auto cache = OpenCache(url_);
  ASSERT_TRUE(cache.ok());
  TaskRegistry registry;
  std::atomic<int> calls{0};
  TaskSpec spec;
  spec.fn = [&](const TaskContext& c) -> Result<nlohmann::json> {
    ++calls;
    return nlohmann::json(c.message.args[0].get<int>() + c.message.args[1].get<int>());
  };
  spec.cache_key = [](const TaskMessage& m) { return m.task + m.args.dump(); };
  registry.Register("t.add", spec);
  Worker worker(*broker_, registry, {.concurrency = 1, .poll = 50ms, .execution_log = "executions"}, cache->get());
  worker.Start();
  for (const char* id : {"w1", "w2"}) {
    TaskMessage m;
    m.task = "t.add", m.id = id, m.args = {2, 3};
    ASSERT_TRUE(SubmitTask(*broker_, m).ok());
    auto result = AwaitResult(*broker_, id, 20s);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(*result, 5);
  }
  worker.Stop();
  EXPECT_EQ(calls, 1);  // the second was served from the Redis cache
  EXPECT_EQ(worker.stats().cache_hits, 1);
  EXPECT_EQ(Int({"LLEN", "executions"}), 1);
  EXPECT_EQ(Int({"HLEN", "unacked"}), 0);
  // A result that never comes: a deadline, not an outage.
  EXPECT_EQ(AwaitResult(*broker_, "never", 0.05s).status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(RedisBrokerTest, TheCacheCanLiveInRedisWhileTheQueueIsInProcess) {
  auto local = OpenBroker("inproc");
  ASSERT_TRUE(local.ok());
  auto shared = OpenCache(CacheUrlFor(url_, "inproc"));  // jobs.cache = redis://…, jobs.broker = inproc
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  TaskRegistry registry;
  std::atomic<int> calls{0};
  TaskSpec spec;
  spec.fn = [&](const TaskContext&) -> Result<nlohmann::json> { return nlohmann::json(++calls); };
  spec.cache_key = [](const TaskMessage& m) { return "in-process:" + m.task; };
  registry.Register("t.once", spec);
  for (const char* id : {"l1", "l2"}) {  // two workers, as two processes would have
    Worker worker(**local, registry, {}, shared->get());
    TaskMessage m;
    m.task = "t.once", m.id = id;
    ASSERT_TRUE(SubmitTask(**local, m).ok());
    auto d = (*local)->Fetch({"celery"}, 100ms);
    ASSERT_TRUE(d.ok() && *d);
    worker.Process(**d);
    EXPECT_EQ(*AwaitResult(**local, id, 1s), 1);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(Raw({"GET", "pulse.cache:in-process:t.once"}).str, "1");
  EXPECT_EQ(Int({"EXISTS", "celery"}), 0);  // the queue never touched Redis
}

}  // namespace
}  // namespace pulse::jobs
