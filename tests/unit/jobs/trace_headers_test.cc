// Trace context through Celery messages (core/trace.h): headers.traceparent written from the
// sender's span and read back, a Celery-written message's traceparent (as
// opentelemetry-instrumentation-celery injects it) continued by the worker's run span, and a bad
// one starting a new trace instead of failing the task.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "core/trace.h"
#include "jobs/celery_protocol.h"
#include "jobs/inprocess_broker.h"
#include "jobs/task_client.h"
#include "jobs/worker.h"

namespace pulse::jobs {
namespace {

constexpr const char* kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct Spans {
  std::mutex mu;
  std::vector<trace::SpanData> done;
  Spans() {
    trace::SetSink([this](trace::SpanData&& s) {
      std::lock_guard<std::mutex> lock(mu);
      done.push_back(std::move(s));
    });
  }
  ~Spans() { trace::SetSink({}); }
  const trace::SpanData* Named(const std::string& name) {
    for (const auto& s : done)
      if (s.name == name) return &s;
    return nullptr;
  }
};

TEST(TraceHeaders, EncodeWritesTheCurrentContextAndDecodeReadsIt) {
  TaskMessage m;
  m.task = "pulse.noop";
  m.id = "6f1c1b9e-2d7a-4a84-9a57-0d8d4d9a0c11";
  EXPECT_FALSE(nlohmann::json::parse(EncodeMessage(m))["headers"].contains("traceparent"));  // no span: none
  {
    auto parent = trace::ParseTraceparent(kParent);
    trace::ScopedContext scope(*parent);
    auto envelope = nlohmann::json::parse(EncodeMessage(m));
    EXPECT_EQ(envelope["headers"]["traceparent"], kParent);
  }
  m.traceparent = kParent;
  m.tracestate = "vendor=1";
  auto decoded = DecodeMessage(EncodeMessage(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->traceparent, kParent);
  EXPECT_EQ(decoded->tracestate, "vendor=1");
  // Another type is ignored (an informational header), as Celery ignores it.
  auto envelope = nlohmann::json::parse(EncodeMessage(m));
  envelope["headers"]["traceparent"] = 42;
  auto odd = DecodeMessage(envelope.dump());
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->traceparent, "");
}

TEST(TraceHeaders, TheWorkersRunSpanIsAChildOfTheEnqueueSpan) {
  Spans spans;
  InProcessBroker broker;
  TaskRegistry registry;
  std::string seen_in_task;
  registry.Register("t.echo", {[&](const TaskContext&) -> Result<nlohmann::json> {
                      seen_in_task = trace::FormatTraceparent(trace::Current());
                      return nlohmann::json("ok");
                    }});
  Worker worker(broker, registry, {.queues = {"celery"}, .concurrency = 1, .poll = std::chrono::milliseconds(10)});
  {
    auto parent = trace::ParseTraceparent(kParent);
    trace::ScopedContext scope(*parent);
    TaskMessage m;
    m.task = "t.echo";
    ASSERT_TRUE(SubmitTask(broker, m).ok());
  }
  auto d = broker.Fetch({"celery"}, std::chrono::milliseconds(100));
  ASSERT_TRUE(d.ok() && *d);
  worker.Process(**d);
  const trace::SpanData* send = spans.Named("apply_async/t.echo");
  const trace::SpanData* run = spans.Named("run/t.echo");
  ASSERT_TRUE(send && run);
  EXPECT_EQ(trace::HexId(send->parent_span_id), "00f067aa0ba902b7");
  EXPECT_EQ(send->kind, trace::SpanKind::kProducer);
  EXPECT_EQ(run->context.trace_id, send->context.trace_id);
  EXPECT_EQ(run->parent_span_id, send->context.span_id);
  EXPECT_EQ(run->kind, trace::SpanKind::kConsumer);
  EXPECT_EQ(seen_in_task, trace::FormatTraceparent(run->context));  // the task runs inside it
  EXPECT_FALSE(trace::Current().valid());
}

TEST(TraceHeaders, ABadTraceparentStartsANewTraceAndTheTaskStillRuns) {
  Spans spans;
  InProcessBroker broker;
  TaskRegistry registry;
  registry.Register("t.fail",
                    {[](const TaskContext&) -> Result<nlohmann::json> { return Status::InvalidArgument("bad runs"); }});
  Worker worker(broker, registry, {.queues = {"celery"}, .concurrency = 1, .poll = std::chrono::milliseconds(10)});
  TaskMessage m;
  m.task = "t.fail";
  m.id = "a2";
  m.traceparent = "00-not-a-trace";
  ASSERT_TRUE(broker.Publish("celery", EncodeMessage(m)).ok());
  auto d = broker.Fetch({"celery"}, std::chrono::milliseconds(100));
  ASSERT_TRUE(d.ok() && *d);
  worker.Process(**d);
  const trace::SpanData* run = spans.Named("run/t.fail");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->parent_span_id, trace::SpanId{});  // a root
  EXPECT_EQ(run->status, trace::SpanStatus::kError);
  EXPECT_EQ(run->status_message, "bad runs");
  auto raw = broker.GetResult("a2");
  ASSERT_TRUE(raw.ok() && *raw);
  EXPECT_EQ(DecodeResultMeta(**raw)->state, TaskState::kFailure);
}

}  // namespace
}  // namespace pulse::jobs
