// The worker's Celery semantics over the in-process broker, one behaviour per test: results in
// Celery's format, retries with backoff, failures with the exception types Python re-raises (bad
// arguments, time limits), the soft time limit reaching the task, duplicate deliveries skipped,
// dead letters for malformed and unknown messages, expired tasks revoked, the result cache,
// the execution journal, late acknowledgement when the broker fails, and the worker's metrics.
// Tests that run the worker's threads wait for the condition they are about (TestBroker wakes
// them on every change) with a deadline; the others hand deliveries to Worker::Process directly.
#include <gtest/gtest.h>

#include <thread>
#include <utility>

#include "core/metrics.h"
#include "core/time.h"
#include "jobs/inprocess_broker.h"
#include "jobs/worker.h"
#include "test_broker.h"

namespace pulse::jobs {
namespace {

std::string Send(TaskQueue& queue, const std::string& task, nlohmann::json args, const std::string& id,
                 std::optional<double> soft = std::nullopt) {
  TaskMessage m;
  m.task = task, m.id = id, m.args = std::move(args), m.soft_time_limit = soft;
  EXPECT_TRUE(queue.Publish("celery", EncodeMessage(m)).ok());
  return id;
}

// Fetches the next delivery of "celery" and hands it to the worker (no worker threads involved).
void DeliverOne(TaskQueue& queue, Worker& worker) {
  auto d = queue.Fetch({"celery"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(d.ok() && *d) << (d.ok() ? "the queue is empty" : d.status().ToString());
  worker.Process(**d);
}

ResultMeta StoredResult(ResultBackend& results, const std::string& id) {
  auto raw = results.GetResult(id);
  EXPECT_TRUE(raw.ok() && *raw) << "no result for " << id;
  if (!raw.ok() || !*raw) return {};
  auto meta = DecodeResultMeta(**raw);
  EXPECT_TRUE(meta.ok()) << meta.status().ToString();
  return meta.ok() ? *meta : ResultMeta{};
}

TaskFn Add(std::atomic<int>* calls = nullptr) {
  return [calls](const TaskContext& c) -> Result<nlohmann::json> {
    if (calls) ++*calls;
    return nlohmann::json(c.message.args[0].get<int>() + c.message.args[1].get<int>());
  };
}

WorkerOptions Threads(int n) { return {.queues = {"celery"}, .concurrency = n, .poll = std::chrono::milliseconds(20)}; }

TEST(Worker, StoresASuccessfulTasksResultAndAcknowledgesIt) {
  TestBroker broker;
  TaskRegistry registry;
  registry.Register("t.add", {Add()});
  Worker worker(broker, registry, Threads(2));
  worker.Start();
  Send(broker, "t.add", {2, 3}, "a1");
  auto a = broker.WaitForState("a1", TaskState::kSuccess);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->result, 5);
  ASSERT_TRUE(broker.WaitUntil([&] { return broker.inner.UnackedCount() == 0; }));
  worker.Stop();
  EXPECT_EQ(*broker.QueueLength("celery"), 0);
  EXPECT_EQ(worker.stats().succeeded, 1);
}

TEST(Worker, RetriesATransientFailureWithBackoffUntilItSucceeds) {
  TestBroker broker;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.flaky", {[&](const TaskContext&) -> Result<nlohmann::json> {
                                  if (++calls < 3) return Status::Unavailable("not yet");
                                  return nlohmann::json("ok");
                                },
                                3, 0.01});
  Worker worker(broker, registry, Threads(2));
  worker.Start();
  Send(broker, "t.flaky", nlohmann::json::array(), "f1");
  ASSERT_TRUE(broker.WaitForState("f1", TaskState::kSuccess));  // two RETRY results in between
  worker.Stop();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(worker.stats().retried, 2);
  EXPECT_EQ(*broker.QueueLength("celery"), 0);
}

TEST(Worker, ARetryStoresTheRetryStateAndQueuesTheNextAttempt) {
  InProcessBroker broker;
  TaskRegistry registry;
  registry.Register(
      "t.flaky",
      {[](const TaskContext&) -> Result<nlohmann::json> { return Status::IoError("not mounted"); }, 3, 60.0});
  Worker worker(broker, registry, {});
  Send(broker, "t.flaky", nlohmann::json::array(), "f1");
  DeliverOne(broker, worker);
  const ResultMeta meta = StoredResult(broker, "f1");
  EXPECT_EQ(meta.state, TaskState::kRetry);
  EXPECT_EQ(meta.result["exc_type"], "Retry");
  EXPECT_EQ(*broker.QueueLength("celery"), 1);  // the next attempt, an ETA a minute away
  EXPECT_EQ(broker.UnackedCount(), 0u);         // this delivery ended with it
  auto next = broker.Fetch({"celery"}, std::chrono::milliseconds(10));
  ASSERT_TRUE(next.ok() && *next);
  auto again = DecodeMessage((*next)->raw);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->retries, 1);
  ASSERT_TRUE(again->eta);
}

TEST(Worker, ATaskOutOfRetriesFailsWithRuntimeError) {
  InProcessBroker broker;
  TaskRegistry registry;
  registry.Register("t.down",
                    {[](const TaskContext&) -> Result<nlohmann::json> { return Status::Unavailable("down"); }, 0, 0.0});
  Worker worker(broker, registry, {});
  Send(broker, "t.down", nlohmann::json::array(), "d1");
  DeliverOne(broker, worker);
  const ResultMeta meta = StoredResult(broker, "d1");
  EXPECT_EQ(meta.state, TaskState::kFailure);
  EXPECT_EQ(meta.result["exc_type"], "RuntimeError");
  EXPECT_EQ(meta.result["exc_module"], "builtins");
}

TEST(Worker, ABadArgumentIsAValueErrorFailureThatIsNotRetried) {
  InProcessBroker broker;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.bad", {[&](const TaskContext&) -> Result<nlohmann::json> {
                      ++calls;
                      return Status::InvalidArgument("runs must be >= 1");
                    }});
  Worker worker(broker, registry, {});
  Send(broker, "t.bad", nlohmann::json::array(), "b1");
  DeliverOne(broker, worker);
  const ResultMeta meta = StoredResult(broker, "b1");
  EXPECT_EQ(meta.state, TaskState::kFailure);
  EXPECT_EQ(meta.result["exc_type"], "ValueError");
  EXPECT_EQ(meta.result["exc_module"], "builtins");
  EXPECT_EQ(meta.result["exc_message"][0], "runs must be >= 1");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(*broker.QueueLength("celery"), 0);
  EXPECT_EQ(worker.stats().failed, 1);
}

TEST(Worker, TheHardTimeLimitIsATimeLimitExceededFailure) {
  InProcessBroker broker;
  TaskRegistry registry;
  registry.Register("t.sleepy", {[](const TaskContext&) -> Result<nlohmann::json> {
                      std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past the limit
                      return nlohmann::json("finished late");
                    }});
  Worker worker(broker, registry, {});
  TaskMessage m;
  m.task = "t.sleepy", m.id = "h1", m.time_limit = 0.01;
  ASSERT_TRUE(broker.Publish("celery", EncodeMessage(m)).ok());
  DeliverOne(broker, worker);
  const ResultMeta meta = StoredResult(broker, "h1");
  EXPECT_EQ(meta.state, TaskState::kFailure);
  EXPECT_EQ(meta.result["exc_type"], "TimeLimitExceeded");
  EXPECT_EQ(meta.result["exc_module"], "billiard.exceptions");
  EXPECT_NE(meta.result["exc_message"][0].get<std::string>().find("hard time limit"), std::string::npos);
  EXPECT_NE(meta.traceback.find("DeadlineExceeded"), std::string::npos) << meta.traceback;
}

TEST(Worker, TheSoftTimeLimitCancelsTheTask) {
  InProcessBroker broker;
  TaskRegistry registry;
  registry.Register("t.slow", {[](const TaskContext& c) -> Result<nlohmann::json> {
                      while (!c.cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                      return nlohmann::json("stopped at the soft limit");
                    }});
  registry.Register("t.gives_up", {[](const TaskContext& c) -> Result<nlohmann::json> {
                      while (!c.cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                      return Status::Cancelled("stopped at the soft limit");
                    }});
  Worker worker(broker, registry, {});
  Send(broker, "t.slow", nlohmann::json::array(), "s1", 0.02);
  DeliverOne(broker, worker);
  EXPECT_EQ(StoredResult(broker, "s1").result, "stopped at the soft limit");
  Send(broker, "t.gives_up", nlohmann::json::array(), "s2", 0.02);
  DeliverOne(broker, worker);
  const ResultMeta meta = StoredResult(broker, "s2");
  EXPECT_EQ(meta.state, TaskState::kFailure);
  EXPECT_EQ(meta.result["exc_type"], "SoftTimeLimitExceeded");
  EXPECT_EQ(meta.result["exc_module"], "billiard.exceptions");
}

TEST(Worker, SkipsADuplicateDeliveryOfAFinishedTask) {
  TestBroker broker;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.add", {Add(&calls)});
  Worker worker(broker, registry, Threads(2));
  worker.Start();
  Send(broker, "t.add", {2, 3}, "a1");
  ASSERT_TRUE(broker.WaitForState("a1", TaskState::kSuccess));
  Send(broker, "t.add", {2, 3}, "a1");  // delivered again after it finished
  ASSERT_TRUE(broker.WaitUntil([&] { return worker.stats().duplicates == 1 && broker.inner.UnackedCount() == 0; }));
  worker.Stop();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(*broker.QueueLength("celery"), 0);
}

TEST(Worker, DeadLettersMalformedAndUnknownMessagesWithTheReason) {
  TestBroker broker;
  TaskRegistry registry;
  registry.Register("t.add", {Add()});
  Worker worker(broker, registry, Threads(2));
  worker.Start();
  ASSERT_TRUE(broker.Publish("celery", "{not json").ok());
  Send(broker, "t.nope", nlohmann::json::array(), "u1");
  ASSERT_TRUE(broker.WaitUntil([&] { return broker.inner.DeadLetters().size() == 2; }));
  worker.Stop();
  auto dead = broker.inner.DeadLetters();
  // Two worker threads may dead-letter them in either order.
  if (dead[0].second.find("not JSON") == std::string::npos) std::swap(dead[0], dead[1]);
  EXPECT_NE(dead[0].second.find("not JSON"), std::string::npos) << dead[0].second;
  EXPECT_NE(dead[1].second.find("unknown task 't.nope'"), std::string::npos) << dead[1].second;
  EXPECT_EQ(worker.stats().dead_lettered, 2);
  EXPECT_FALSE(*broker.GetResult("u1"));  // no state: it never ran
  EXPECT_EQ(*broker.QueueLength("celery"), 0);
  EXPECT_EQ(broker.inner.UnackedCount(), 0u);
}

TEST(Worker, DeterministicResultsAreCachedByContent) {
  InProcessBroker broker;
  MemoryCache cache(2);
  TaskRegistry registry;
  std::atomic<int> calls{0};
  TaskSpec spec;
  spec.fn = [&](const TaskContext& c) -> Result<nlohmann::json> {
    ++calls;
    return nlohmann::json(c.message.kwargs["x"].get<int>() * 2);
  };
  spec.cache_key = [](const TaskMessage& m) { return m.task + m.kwargs.dump(); };
  registry.Register("t.double", spec);
  Worker worker(broker, registry, {}, &cache);
  auto run = [&](const std::string& id, int x) {
    TaskMessage m;
    m.task = "t.double", m.id = id, m.kwargs = {{"x", x}};
    EXPECT_TRUE(broker.Publish("celery", EncodeMessage(m)).ok());
    DeliverOne(broker, worker);
    return StoredResult(broker, id).result;
  };
  EXPECT_EQ(run("c1", 21), 42);
  EXPECT_EQ(run("c2", 21), 42);  // another task id, same content: served from the cache
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(run("c3", 5), 10);
  EXPECT_EQ(run("c4", 6), 12);  // capacity 2: x=21 is now the least recently used, evicted
  EXPECT_EQ(run("c5", 21), 42);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(worker.stats().cache_hits, 1);
  EXPECT_EQ(worker.stats().cache_misses, 4);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(Worker, WithoutACacheEveryRequestRuns) {
  InProcessBroker broker;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  TaskSpec spec;
  spec.fn = [&](const TaskContext&) -> Result<nlohmann::json> { return nlohmann::json(++calls); };
  spec.cache_key = [](const TaskMessage& m) { return m.task; };
  registry.Register("t.count", spec);
  Worker worker(broker, registry, {});
  for (const char* id : {"n1", "n2"}) {
    Send(broker, "t.count", nlohmann::json::array(), id);
    DeliverOne(broker, worker);
  }
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(worker.stats().cache_hits + worker.stats().cache_misses, 0);
}

TEST(Worker, ExpiredTasksAreRevoked) {
  InProcessBroker broker;
  TaskRegistry registry;
  registry.Register("t.add", {[](const TaskContext&) -> Result<nlohmann::json> { return nlohmann::json(1); }});
  TaskMessage m;
  m.task = "t.add", m.id = "e1", m.expires = time::FormatTimestamp(time::NowMicros() - 1000000);
  ASSERT_TRUE(broker.Publish("celery", EncodeMessage(m)).ok());
  Worker worker(broker, registry, {});
  DeliverOne(broker, worker);
  EXPECT_EQ(worker.stats().revoked, 1);
  EXPECT_EQ(StoredResult(broker, "e1").state, TaskState::kRevoked);
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
  Send(broker, "t.add", {1}, "a1");
  DeliverOne(broker, worker);
  Send(broker, "t.add", {1}, "a1");  // delivered again after it finished: skipped, not run
  DeliverOne(broker, worker);
  ASSERT_TRUE(broker.Publish("celery", "{not json").ok());  // dead-lettered, not run
  DeliverOne(broker, worker);
  Send(broker, "t.flaky", nlohmann::json::array(), "f1");
  DeliverOne(broker, worker);  // fails transiently: a retry is queued
  DeliverOne(broker, worker);  // the retry succeeds
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
  DeliverOne(broker, worker);
  const std::string name = nlohmann::json::parse(broker.List("executions").at(0))["worker"];
  EXPECT_NE(name.find('@'), std::string::npos) << name;
}

TEST(Worker, DoesNotRunATaskItCannotRecord) {
  TestBroker broker;
  broker.fail_append = true;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.one", {[&](const TaskContext&) -> Result<nlohmann::json> {
                      ++calls;
                      return nlohmann::json(1);
                    }});
  Worker worker(broker, registry, {.execution_log = "executions"});
  Send(broker, "t.one", nlohmann::json::array(), "o1");
  DeliverOne(broker, worker);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(worker.stats().broker_errors, 1);
  EXPECT_FALSE(*broker.GetResult("o1"));
  // Left unacked: it comes back after the visibility timeout, redelivered, and runs once recorded.
  EXPECT_EQ(*broker.RestoreVisible(std::chrono::seconds(0), 0), 1);
  broker.fail_append = false;
  DeliverOne(broker, worker);
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(broker.inner.List("executions").size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(broker.inner.List("executions")[0])["redelivered"], true);
  EXPECT_EQ(StoredResult(broker, "o1").state, TaskState::kSuccess);
}

TEST(Worker, LeavesATaskWhoseRetryCannotBePublishedForRedelivery) {
  TestBroker broker;
  broker.fail_retry = true;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.flaky", {[&](const TaskContext&) -> Result<nlohmann::json> {
                                  if (++calls == 1) return Status::Unavailable("not yet");
                                  return nlohmann::json("ok");
                                },
                                3, 0.0});
  Worker worker(broker, registry, {});
  Send(broker, "t.flaky", nlohmann::json::array(), "f1");
  DeliverOne(broker, worker);
  EXPECT_FALSE(*broker.GetResult("f1"));  // neither RETRY nor a FAILURE it does not deserve
  EXPECT_EQ(worker.stats().retried, 0);
  EXPECT_EQ(worker.stats().failed, 0);
  EXPECT_EQ(worker.stats().broker_errors, 1);
  EXPECT_EQ(*broker.RestoreVisible(std::chrono::seconds(0), 0), 1);
  DeliverOne(broker, worker);
  EXPECT_EQ(StoredResult(broker, "f1").state, TaskState::kSuccess);
}

TEST(Worker, IgnoreResultRunsTheTaskAndStoresNoState) {
  // Celery 5.x clients send "ignore_result": true for app.send_task(..., ignore_result=True); a
  // Celery worker then stores neither the outcome nor STARTED. Failures are not stored either.
  InProcessBroker broker;
  TaskRegistry registry;
  std::atomic<int> calls{0};
  registry.Register("t.count", {[&](const TaskContext&) -> Result<nlohmann::json> { return nlohmann::json(++calls); }});
  registry.Register("t.fail",
                    {[&](const TaskContext&) -> Result<nlohmann::json> { return Status::InvalidArgument("no"); }});
  Worker worker(broker, registry, {.track_started = true});
  for (const auto& [task, id, ignore] :
       {std::tuple{"t.count", "i1", true}, std::tuple{"t.fail", "i2", true}, std::tuple{"t.count", "i3", false}}) {
    TaskMessage m;
    m.task = task, m.id = id, m.ignore_result = ignore;
    ASSERT_TRUE(broker.Publish("celery", EncodeMessage(m)).ok());
    DeliverOne(broker, worker);
  }
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(*broker.GetResult("i1"));
  EXPECT_FALSE(*broker.GetResult("i2"));
  EXPECT_EQ(StoredResult(broker, "i3").state, TaskState::kSuccess);
  EXPECT_EQ(worker.stats().succeeded, 2);
  EXPECT_EQ(worker.stats().failed, 1);
  EXPECT_EQ(broker.UnackedCount(), 0u);
}

// Tasks with an ETA an hour away (Celery's countdown=3600) outnumbering the worker's threads do
// not keep it from a task that is due: each is put back behind the waiting messages, and a thread
// that finds only tasks not yet due waits a poll interval between rounds instead of spinning.
TEST(Worker, TasksNotYetDueDoNotStarveDueOnes) {
  TestBroker broker;
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
  const auto started = std::chrono::steady_clock::now();
  worker.Start();
  // Every one of them has been seen and put back: the threads are going round the queue.
  ASSERT_TRUE(broker.WaitUntil([&] { return worker.stats().received >= 5; }));
  Send(broker, "t.one", nlohmann::json::array(), "now");
  ASSERT_TRUE(broker.WaitForState("now", TaskState::kSuccess));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const int64_t received = worker.stats().received;
  worker.Stop();
  EXPECT_EQ(calls, 1);  // only the due one ran
  EXPECT_EQ(*broker.QueueLength("celery"), 5);
  // No busy loop: each thread makes at most one round of 5 (plus the due one) per poll interval.
  EXPECT_LE(received, 2 * 6 * (static_cast<int64_t>(seconds / 0.3) + 2)) << seconds << " s";
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(*broker.GetResult("later" + std::to_string(i)));
}

TEST(Worker, ExportsItsCountersQueueLengthsAndTaskDurations) {
  InProcessBroker broker;
  TaskRegistry registry;
  registry.Register("t.add", {Add()});
  registry.Register("t.bad",
                    {[](const TaskContext&) -> Result<nlohmann::json> { return Status::InvalidArgument("no"); }});
  Worker worker(broker, registry, {.queues = {"celery", "other"}});
  metrics::Registry metrics;
  worker.ExportMetrics(metrics);
  Send(broker, "t.add", {1, 2}, "m1");
  Send(broker, "t.bad", nlohmann::json::array(), "m2");
  Send(broker, "t.add", {1, 2}, "m3");
  DeliverOne(broker, worker);
  DeliverOne(broker, worker);
  const std::string text = metrics.Render();
  for (const char* line : {
           "# TYPE pulse_worker_tasks_total counter\n",
           "pulse_worker_tasks_total{outcome=\"received\"} 2\n",
           "pulse_worker_tasks_total{outcome=\"succeeded\"} 1\n",
           "pulse_worker_tasks_total{outcome=\"failed\"} 1\n",
           "pulse_worker_tasks_total{outcome=\"dead_lettered\"} 0\n",
           "pulse_worker_cache_total{result=\"hit\"} 0\n",
           "pulse_worker_restored_total 0\n",
           "pulse_worker_broker_errors_total 0\n",
           "# TYPE pulse_queue_length gauge\n",
           "pulse_queue_length{queue=\"celery\"} 1\n",
           "pulse_queue_length{queue=\"other\"} 0\n",
           "# TYPE pulse_worker_task_duration_seconds histogram\n",
           "pulse_worker_task_duration_seconds_bucket{task=\"t.add\",outcome=\"succeeded\",le=\"+Inf\"} 1\n",
           "pulse_worker_task_duration_seconds_count{task=\"t.add\",outcome=\"succeeded\"} 1\n",
           "pulse_worker_task_duration_seconds_count{task=\"t.bad\",outcome=\"failed\"} 1\n",
       })
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin\n" << text;
  EXPECT_NE(text.find("pulse_worker_task_seconds_total "), std::string::npos) << text;
}

}  // namespace
}  // namespace pulse::jobs
