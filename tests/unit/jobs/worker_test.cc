// The worker's Celery semantics over the in-process broker: results in Celery's format, late ack,
// retries with backoff, failures, dead letters for malformed and unknown messages, duplicate
// deliveries skipped, expired tasks revoked, unacked deliveries restored after the visibility
// timeout, and the soft time limit reaching the task.
#include <gtest/gtest.h>

#include <thread>
#include <utility>

#include "core/time.h"
#include "jobs/broker.h"
#include "jobs/worker.h"

namespace pulse::jobs {
namespace {

std::string Send(Broker& broker, const std::string& task, nlohmann::json args, const std::string& id,
                 std::optional<double> soft = std::nullopt) {
  TaskMessage m;
  m.task = task, m.id = id, m.args = std::move(args), m.soft_time_limit = soft;
  EXPECT_TRUE(broker.Publish("celery", EncodeMessage(m)).ok());
  return id;
}

std::optional<ResultMeta> WaitFor(Broker& broker, const std::string& id, TaskState state) {
  for (int i = 0; i < 500; ++i) {
    auto raw = broker.GetResult(id);
    if (raw.ok() && *raw) {
      auto meta = DecodeResultMeta(**raw);
      if (meta.ok() && meta->state == state) return *meta;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

TEST(Worker, RunsTasksWithCelerySemantics) {
  InProcessBroker broker;
  TaskRegistry registry;
  std::atomic<int> flaky_calls{0}, add_calls{0};
  registry.Register("t.add", {[&](const TaskContext& c) -> Result<nlohmann::json> {
                                ++add_calls;
                                return nlohmann::json(c.message.args[0].get<int>() + c.message.args[1].get<int>());
                              }});
  registry.Register("t.flaky", {[&](const TaskContext&) -> Result<nlohmann::json> {
                                  if (++flaky_calls < 3) return Status::Unavailable("not yet");
                                  return nlohmann::json("ok");
                                },
                                3, 0.01});
  registry.Register("t.bad", {[](const TaskContext&) -> Result<nlohmann::json> {
                                return Status::InvalidArgument("runs must be >= 1");
                              }});
  registry.Register("t.slow", {[](const TaskContext& c) -> Result<nlohmann::json> {
                                 while (!c.cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                 return nlohmann::json("stopped at the soft limit");
                               }});
  Worker worker(broker, registry, {.queues = {"celery"}, .concurrency = 2, .poll = std::chrono::milliseconds(20)});
  worker.Start();
  Send(broker, "t.add", {2, 3}, "a1");
  Send(broker, "t.flaky", nlohmann::json::array(), "f1");
  Send(broker, "t.bad", nlohmann::json::array(), "b1");
  Send(broker, "t.slow", nlohmann::json::array(), "s1", 0.05);
  auto a = WaitFor(broker, "a1", TaskState::kSuccess);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->result, 5);
  auto f = WaitFor(broker, "f1", TaskState::kSuccess);
  ASSERT_TRUE(f);  // two retries (RETRY results in between), then SUCCESS
  EXPECT_EQ(flaky_calls, 3);
  auto b = WaitFor(broker, "b1", TaskState::kFailure);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->result["exc_message"][0], "runs must be >= 1");
  ASSERT_TRUE(WaitFor(broker, "s1", TaskState::kSuccess));
  // A duplicate delivery of a finished task is skipped, not run again.
  Send(broker, "t.add", {2, 3}, "a1");
  for (int i = 0; i < 200 && worker.stats().duplicates == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(worker.stats().duplicates, 1);
  EXPECT_EQ(add_calls, 1);
  // Malformed and unknown messages go to the dead-letter list with the reason.
  ASSERT_TRUE(broker.Publish("celery", "{not json").ok());
  Send(broker, "t.nope", nlohmann::json::array(), "u1");
  for (int i = 0; i < 200 && broker.DeadLetters().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  worker.Stop();
  auto dead = broker.DeadLetters();
  ASSERT_EQ(dead.size(), 2u);
  // Two worker threads may dead-letter them in either order.
  if (dead[0].second.find("not JSON") == std::string::npos) std::swap(dead[0], dead[1]);
  EXPECT_NE(dead[0].second.find("not JSON"), std::string::npos);
  EXPECT_NE(dead[1].second.find("unknown task 't.nope'"), std::string::npos);
  EXPECT_EQ(worker.stats().retried, 2);
  EXPECT_EQ(*broker.QueueLength("celery"), 0);
}

TEST(Worker, DeterministicResultsAreCachedByContent) {
  InProcessBroker broker(100, 2);
  TaskRegistry registry;
  std::atomic<int> calls{0};
  TaskSpec spec;
  spec.fn = [&](const TaskContext& c) -> Result<nlohmann::json> {
    ++calls;
    return nlohmann::json(c.message.kwargs["x"].get<int>() * 2);
  };
  spec.cache_key = [](const TaskMessage& m) { return m.task + m.kwargs.dump(); };
  registry.Register("t.double", spec);
  Worker worker(broker, registry, {});
  auto run = [&](const std::string& id, int x) {
    TaskMessage m;
    m.task = "t.double", m.id = id, m.kwargs = {{"x", x}};
    EXPECT_TRUE(broker.Publish("celery", EncodeMessage(m)).ok());
    auto d = broker.Fetch({"celery"}, std::chrono::milliseconds(10));
    worker.Process(**d);
    return DecodeResultMeta(**broker.GetResult(id))->result;
  };
  EXPECT_EQ(run("c1", 21), 42);
  EXPECT_EQ(run("c2", 21), 42);  // another task id, same content: served from the cache
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(run("c3", 5), 10);
  EXPECT_EQ(run("c4", 6), 12);   // capacity 2: x=21 is now the least recently used, evicted
  EXPECT_EQ(run("c5", 21), 42);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(worker.stats().cache_hits, 1);
  EXPECT_EQ(worker.stats().cache_misses, 4);
}

TEST(Worker, ExpiredTasksAreRevoked) {
  InProcessBroker broker;
  TaskRegistry registry;
  registry.Register("t.add", {[](const TaskContext&) -> Result<nlohmann::json> { return nlohmann::json(1); }});
  TaskMessage m;
  m.task = "t.add", m.id = "e1", m.expires = time::FormatTimestamp(time::NowMicros() - 1000000);
  ASSERT_TRUE(broker.Publish("celery", EncodeMessage(m)).ok());
  Worker worker(broker, registry, {});
  auto d = broker.Fetch({"celery"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(d.ok() && *d);
  worker.Process(**d);
  EXPECT_EQ(worker.stats().revoked, 1);
  auto meta = DecodeResultMeta(**broker.GetResult("e1"));
  EXPECT_EQ(meta->state, TaskState::kRevoked);
}

TEST(InProcessBroker, UnackedDeliveriesComeBackAfterTheVisibilityTimeout) {
  InProcessBroker broker(2);
  TaskMessage m;
  m.task = "t", m.id = "1";
  ASSERT_TRUE(broker.Publish("q", EncodeMessage(m)).ok());
  ASSERT_TRUE(broker.Publish("q", EncodeMessage(m)).ok());
  EXPECT_EQ(broker.Publish("q", EncodeMessage(m)).code(), StatusCode::kUnavailable);  // bounded
  auto d = broker.Fetch({"q"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(d.ok() && *d);
  EXPECT_EQ(*broker.QueueLength("q"), 1);
  EXPECT_EQ(*broker.RestoreVisible(std::chrono::seconds(3600), 0), 0);  // still within the timeout
  EXPECT_EQ(*broker.RestoreVisible(std::chrono::seconds(0), 0), 1);     // a dead worker's delivery
  EXPECT_EQ(*broker.QueueLength("q"), 2);
  auto again = broker.Fetch({"q"}, std::chrono::milliseconds(10));  // the restored one: marked
  ASSERT_TRUE(again.ok() && *again);
  EXPECT_TRUE(DecodeMessage((*again)->raw)->redelivered);
  auto empty = broker.Fetch({"other"}, std::chrono::milliseconds(20));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(*empty);
}

TEST(Worker, RecordsEachExecutionInTheExecutionLog) {
  InProcessBroker broker;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.add", {[&](const TaskContext& c) -> Result<nlohmann::json> {
                                ++calls;
                                return nlohmann::json(c.message.args[0].get<int>() + 1);
                              }});
  registry.Register("t.flaky", {[&](const TaskContext& c) -> Result<nlohmann::json> {
                                  if (c.message.retries == 0) return Status::IoError("not mounted yet");
                                  return nlohmann::json("ok");
                                },
                                3, 0.0});
  Worker worker(broker, registry, {.execution_log = "executions", .name = "w1"});
  auto deliver = [&] {
    auto d = broker.Fetch({"celery"}, std::chrono::milliseconds(10));
    ASSERT_TRUE(d.ok() && *d);
    worker.Process(**d);
  };
  Send(broker, "t.add", {1}, "a1");
  deliver();
  Send(broker, "t.add", {1}, "a1");  // delivered again after it finished: skipped, not run
  deliver();
  ASSERT_TRUE(broker.Publish("celery", "{not json").ok());  // dead-lettered, not run
  deliver();
  Send(broker, "t.flaky", nlohmann::json::array(), "f1");
  deliver();  // fails transiently: a retry is queued
  deliver();  // the retry succeeds
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(worker.stats().executed, 3);
  EXPECT_EQ(worker.stats().duplicates, 1);
  const auto log = broker.List("executions");
  ASSERT_EQ(log.size(), 3u);
  const auto first = nlohmann::json::parse(log[0]);
  EXPECT_EQ(first["id"], "a1");
  EXPECT_EQ(first["task"], "t.add");
  EXPECT_EQ(first["retries"], 0);
  EXPECT_EQ(first["redelivered"], false);
  EXPECT_EQ(first["worker"], "w1");
  EXPECT_TRUE(time::ParseTimestamp(first["time"].get<std::string>()).ok());
  EXPECT_EQ(nlohmann::json::parse(log[1])["id"], "f1");
  EXPECT_EQ(nlohmann::json::parse(log[2])["retries"], 1);
}

TEST(Worker, DefaultsItsNameToPidAtHost) {
  InProcessBroker broker;
  TaskRegistry registry;
  registry.Register("t.one", {[](const TaskContext&) -> Result<nlohmann::json> { return nlohmann::json(1); }});
  Worker worker(broker, registry, {.execution_log = "executions"});
  Send(broker, "t.one", nlohmann::json::array(), "o1");
  worker.Process(**broker.Fetch({"celery"}, std::chrono::milliseconds(10)));
  const std::string name = nlohmann::json::parse(broker.List("executions").at(0))["worker"];
  EXPECT_NE(name.find('@'), std::string::npos) << name;
}

// Forwards to an in-process broker; Append and Retry fail while `fail_append` / `fail_retry` are set.
class FailingBroker final : public Broker {
 public:
  InProcessBroker inner;
  bool fail_append = true, fail_retry = false;
  Status Publish(const std::string& q, const std::string& e) override { return inner.Publish(q, e); }
  Result<std::optional<Delivery>> Fetch(const std::vector<std::string>& q, std::chrono::milliseconds t) override {
    return inner.Fetch(q, t);
  }
  Status Ack(const Delivery& d) override { return inner.Ack(d); }
  Status Requeue(const Delivery& d) override { return inner.Requeue(d); }
  Status DeadLetter(const Delivery& d, const std::string& r) override { return inner.DeadLetter(d, r); }
  Result<int64_t> RestoreVisible(std::chrono::seconds v, int d) override { return inner.RestoreVisible(v, d); }
  Result<int64_t> QueueLength(const std::string& q) override { return inner.QueueLength(q); }
  Status StoreResult(const std::string& id, const std::string& m, std::chrono::seconds t) override {
    return inner.StoreResult(id, m, t);
  }
  Result<std::optional<std::string>> GetResult(const std::string& id) override { return inner.GetResult(id); }
  Result<std::optional<std::string>> CacheGet(const std::string& k) override { return inner.CacheGet(k); }
  Status CachePut(const std::string& k, const std::string& v, std::chrono::seconds t) override {
    return inner.CachePut(k, v, t);
  }
  Result<bool> AcquireLease(const std::string& k, const std::string& o, std::chrono::milliseconds t) override {
    return inner.AcquireLease(k, o, t);
  }
  Status Append(const std::string& l, const std::string& e) override {
    if (fail_append) return Status::Unavailable("connection refused");
    return inner.Append(l, e);
  }
  Status Retry(const Delivery& d, const std::string& q, const std::string& e, const std::string& id,
               const std::string& m, std::chrono::seconds t) override {
    if (fail_retry) return Status::Unavailable("connection refused");
    return inner.Retry(d, q, e, id, m, t);
  }
};

TEST(Worker, DoesNotRunATaskItCannotRecord) {
  FailingBroker broker;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.one", {[&](const TaskContext&) -> Result<nlohmann::json> {
                                ++calls;
                                return nlohmann::json(1);
                              }});
  Worker worker(broker, registry, {.execution_log = "executions"});
  Send(broker, "t.one", nlohmann::json::array(), "o1");
  worker.Process(**broker.Fetch({"celery"}, std::chrono::milliseconds(10)));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(worker.stats().broker_errors, 1);
  EXPECT_FALSE(*broker.GetResult("o1"));
  // Left unacked: it comes back after the visibility timeout, redelivered, and runs once recorded.
  EXPECT_EQ(*broker.RestoreVisible(std::chrono::seconds(0), 0), 1);
  broker.fail_append = false;
  worker.Process(**broker.Fetch({"celery"}, std::chrono::milliseconds(10)));
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(broker.inner.List("executions").size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(broker.inner.List("executions")[0])["redelivered"], true);
  EXPECT_EQ(DecodeResultMeta(**broker.GetResult("o1"))->state, TaskState::kSuccess);
}

TEST(Worker, LeavesATaskWhoseRetryCannotBePublishedForRedelivery) {
  FailingBroker broker;
  broker.fail_append = false, broker.fail_retry = true;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.flaky", {[&](const TaskContext&) -> Result<nlohmann::json> {
                                  if (++calls == 1) return Status::Unavailable("not yet");
                                  return nlohmann::json("ok");
                                },
                                3, 0.0});
  Worker worker(broker, registry, {});
  Send(broker, "t.flaky", nlohmann::json::array(), "f1");
  worker.Process(**broker.Fetch({"celery"}, std::chrono::milliseconds(10)));
  EXPECT_FALSE(*broker.GetResult("f1"));  // neither RETRY nor a FAILURE it does not deserve
  EXPECT_EQ(worker.stats().retried, 0);
  EXPECT_EQ(worker.stats().failed, 0);
  EXPECT_EQ(worker.stats().broker_errors, 1);
  EXPECT_EQ(*broker.RestoreVisible(std::chrono::seconds(0), 0), 1);
  worker.Process(**broker.Fetch({"celery"}, std::chrono::milliseconds(10)));
  EXPECT_EQ(DecodeResultMeta(**broker.GetResult("f1"))->state, TaskState::kSuccess);
}

TEST(Broker, MarkRedeliveredSetsKombusFlagAndLeavesOtherTextAlone) {
  TaskMessage m;
  m.task = "t", m.id = "1";
  auto decoded = DecodeMessage(MarkRedelivered(EncodeMessage(m)));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->redelivered);
  EXPECT_EQ(nlohmann::json::parse(MarkRedelivered(R"({"a":1})"))["properties"]["delivery_info"]["redelivered"], true);
  const std::vector<std::string> untouched = {"{not json", "[1,2]", R"({"properties":"text"})",
                                             R"({"properties":{"delivery_info":3}})", "\xff\xfe"};
  for (const std::string& raw : untouched)
    EXPECT_EQ(MarkRedelivered(raw), raw);
}

}  // namespace
TEST(Worker, IgnoreResultRunsTheTaskAndStoresNoState) {
  // Celery 5.x clients send "ignore_result": true for app.send_task(..., ignore_result=True); a
  // Celery worker then stores neither the outcome nor STARTED. Failures are not stored either.
  InProcessBroker broker;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.count", {[&](const TaskContext&) -> Result<nlohmann::json> { return nlohmann::json(++calls); }});
  registry.Register("t.fail", {[&](const TaskContext&) -> Result<nlohmann::json> { return Status::InvalidArgument("no"); }});
  Worker worker(broker, registry, {.track_started = true});
  for (const auto& [task, id, ignore] : {std::tuple{"t.count", "i1", true}, std::tuple{"t.fail", "i2", true},
                                         std::tuple{"t.count", "i3", false}}) {
    TaskMessage m;
    m.task = task, m.id = id, m.ignore_result = ignore;
    ASSERT_TRUE(broker.Publish("celery", EncodeMessage(m)).ok());
    auto d = broker.Fetch({"celery"}, std::chrono::milliseconds(10));
    ASSERT_TRUE(d.ok() && *d);
    worker.Process(**d);
  }
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(*broker.GetResult("i1"));
  EXPECT_FALSE(*broker.GetResult("i2"));
  EXPECT_EQ(DecodeResultMeta(**broker.GetResult("i3"))->state, TaskState::kSuccess);
  EXPECT_EQ(worker.stats().succeeded, 2);
  EXPECT_EQ(worker.stats().failed, 1);
}


// Tasks with an ETA an hour away (Celery's countdown=3600) outnumbering the worker's threads do
// not keep it from a task that is due: each is put back behind the waiting messages, and a thread
// that finds only tasks not yet due waits a poll interval between rounds instead of spinning.
TEST(Worker, TasksNotYetDueDoNotStarveDueOnes) {
  InProcessBroker broker;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.one", {[&](const TaskContext&) -> Result<nlohmann::json> {
                                ++calls;
                                return nlohmann::json(1);
                              }});
  for (int i = 0; i < 5; ++i) {
    TaskMessage later;
    later.task = "t.one", later.id = "later" + std::to_string(i);
    later.eta = time::FormatTimestamp(time::NowMicros() + 3600 * 1000000LL);
    ASSERT_TRUE(broker.Publish("celery", EncodeMessage(later)).ok());
  }
  Worker worker(broker, registry, {.queues = {"celery"}, .concurrency = 2, .poll = std::chrono::milliseconds(300)});
  worker.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the threads are going round the queue
  const int64_t received = worker.stats().received;
  Send(broker, "t.one", nlohmann::json::array(), "now");
  ASSERT_TRUE(WaitFor(broker, "now", TaskState::kSuccess));
  worker.Stop();
  EXPECT_EQ(calls, 1);  // only the due one ran
  EXPECT_EQ(*broker.QueueLength("celery"), 5);
  // No busy loop: in 0.4 s two threads made at most a few rounds of 5 (one poll wait per round).
  EXPECT_LT(received, 40);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(*broker.GetResult("later" + std::to_string(i)));
}


}  // namespace pulse::jobs
