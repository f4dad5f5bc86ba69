// core/trace.h and core/otlp_exporter.h's encodings; core/log.h's trace ids and module levels.
#include "core/trace.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/otlp_exporter.h"

namespace pulse::trace {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, ParsesTheSpecExample) {
  auto ctx = ParseTraceparent(kValid);
  ASSERT_TRUE(ctx.ok()) << ctx.status().message();
  EXPECT_EQ(HexId(ctx->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(HexId(ctx->span_id), "00f067aa0ba902b7");
  EXPECT_TRUE(ctx->sampled());
  EXPECT_EQ(FormatTraceparent(*ctx), kValid);
  auto unsampled = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled.ok());
  EXPECT_FALSE(unsampled->sampled());
}

TEST(Traceparent, RefusesBadInput) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "too short"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0", "too short"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "exactly 55"},
      {"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff"},
      {"0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version is not"},
      {"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "trace id is all zeros"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "parent id is all zeros"},
      {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "trace id is not"},
      {"00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01", "separated"},
      {"00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", "separated"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01", "parent id is not"},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x", "flags"},
      {"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", "after the flags"},
  };
  for (const auto& [text, why] : bad) {
    auto ctx = ParseTraceparent(text);
    ASSERT_FALSE(ctx.ok()) << text;
    EXPECT_EQ(ctx.status().code(), pulse::StatusCode::kInvalidArgument);
    EXPECT_NE(ctx.status().message().find(why), std::string::npos) << text << ": " << ctx.status().message();
  }
}

TEST(Traceparent, AcceptsAFutureVersionWithMoreFields) {
  auto ctx = ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-whatever");
  ASSERT_TRUE(ctx.ok()) << ctx.status().message();
  // Passed on as version 00, the one this code writes.
  EXPECT_EQ(FormatTraceparent(*ctx), kValid);
  EXPECT_EQ(FormatTraceparent(SpanContext{}), "");
}

// Collects finished spans while alive.
struct Collector {
  std::mutex mu;
  std::vector<SpanData> spans;
  Collector() {
    SetSink([this](SpanData&& s) {
      std::lock_guard<std::mutex> lock(mu);
      spans.push_back(std::move(s));
    });
  }
  ~Collector() { SetSink({}); }
};

TEST(Span, ChildrenJoinTheCurrentTraceAndRestoreTheParent) {
  Collector c;
  EXPECT_FALSE(Current().valid());
  {
    Span root = Span::Start("root", SpanKind::kServer);
    EXPECT_TRUE(root.context().valid());
    EXPECT_EQ(Current().span_id, root.context().span_id);
    {
      Span child = Span::Start("child");
      child.SetAttribute("rows", 3);
      child.SetAttribute("table", "signals");
      child.SetError("boom");
      EXPECT_EQ(child.context().trace_id, root.context().trace_id);
      EXPECT_NE(child.context().span_id, root.context().span_id);
    }
    EXPECT_EQ(Current().span_id, root.context().span_id);
  }
  EXPECT_FALSE(Current().valid());
  ASSERT_EQ(c.spans.size(), 2u);
  const SpanData& child = c.spans[0];
  const SpanData& root = c.spans[1];
  EXPECT_EQ(child.name, "child");
  EXPECT_EQ(child.parent_span_id, root.context.span_id);
  EXPECT_EQ(root.parent_span_id, SpanId{});
  EXPECT_EQ(root.kind, SpanKind::kServer);
  EXPECT_EQ(child.status, SpanStatus::kError);
  EXPECT_EQ(child.status_message, "boom");
  ASSERT_EQ(child.attributes.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(child.attributes[0].second), 3);
  EXPECT_LE(root.start_unix_nanos, child.start_unix_nanos);
  EXPECT_LE(child.end_unix_nanos, root.end_unix_nanos);
}

TEST(Span, ContinuesAnIncomingTraceparentAndIgnoresABadOne) {
  Collector c;
  {
    Span s = Span::StartFromTraceparent("request", kValid);
    EXPECT_EQ(HexId(s.context().trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(Current().span_id, s.context().span_id);  // current while it lasts
    Span bad = Span::StartFromTraceparent("other", "00-zz");
    EXPECT_NE(HexId(bad.context().trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_TRUE(bad.context().valid());
  }
  EXPECT_FALSE(Current().valid());  // restored when they ended
  ASSERT_EQ(c.spans.size(), 2u);
  EXPECT_EQ(HexId(c.spans[1].parent_span_id), "00f067aa0ba902b7");
  EXPECT_EQ(c.spans[0].parent_span_id, SpanId{});
}

TEST(Span, AnUnsampledParentIsPropagatedButNotRecorded) {
  Collector c;
  {
    Span s = Span::StartFromTraceparent("request", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    EXPECT_EQ(s.traceparent().substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-");
    EXPECT_EQ(s.traceparent().substr(53), "00");
  }
  EXPECT_TRUE(c.spans.empty());
}

TEST(Span, ScopedContextSetsAndRestores) {
  auto parent = ParseTraceparent(kValid);
  ASSERT_TRUE(parent.ok());
  {
    ScopedContext scope(*parent);
    EXPECT_EQ(Current().span_id, parent->span_id);
    Span s = Span::Start("inner");
    EXPECT_EQ(s.context().trace_id, parent->trace_id);
  }
  EXPECT_FALSE(Current().valid());
}

SpanData Sample() {
  SpanData s;
  s.context = *ParseTraceparent(kValid);
  s.parent_span_id = {1, 2, 3, 4, 5, 6, 7, 8};
  s.name = "lake.commit";
  s.kind = SpanKind::kClient;
  s.start_unix_nanos = 1700000000000000000;
  s.end_unix_nanos = 1700000000500000000;
  s.attributes = {{"table", std::string("signals")}, {"version", int64_t{7}}, {"ok", true}, {"ratio", 0.5}};
  s.status = SpanStatus::kError;
  s.status_message = "conflict";
  return s;
}

TEST(OtlpJson, EncodesTheSpecMapping) {
  auto j = nlohmann::json::parse(EncodeJson("pulse-test", {Sample()}));
  const auto& rs = j["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"][0]["key"], "service.name");
  EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "pulse-test");
  EXPECT_EQ(rs["scopeSpans"][0]["scope"]["name"], "pulse");
  const auto& span = rs["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(span["spanId"], "00f067aa0ba902b7");
  EXPECT_EQ(span["parentSpanId"], "0102030405060708");
  EXPECT_EQ(span["name"], "lake.commit");
  EXPECT_EQ(span["kind"], 3);
  EXPECT_EQ(span["startTimeUnixNano"], "1700000000000000000");  // 64-bit integers as strings
  EXPECT_EQ(span["endTimeUnixNano"], "1700000000500000000");
  EXPECT_EQ(span["attributes"][0]["value"]["stringValue"], "signals");
  EXPECT_EQ(span["attributes"][1]["value"]["intValue"], "7");
  EXPECT_EQ(span["attributes"][2]["value"]["boolValue"], true);
  EXPECT_EQ(span["attributes"][3]["value"]["doubleValue"], 0.5);
  EXPECT_EQ(span["status"]["code"], 2);
  EXPECT_EQ(span["status"]["message"], "conflict");
  // A root span has no parentSpanId.
  SpanData root = Sample();
  root.parent_span_id = {};
  root.status = SpanStatus::kUnset;
  auto r = nlohmann::json::parse(EncodeJson("x", {root}));
  EXPECT_FALSE(r["resourceSpans"][0]["scopeSpans"][0]["spans"][0].contains("parentSpanId"));
  EXPECT_FALSE(r["resourceSpans"][0]["scopeSpans"][0]["spans"][0].contains("status"));
}

TEST(OtlpProtobuf, EncodesTheWireFormat) {
  SpanData s;
  s.context = *ParseTraceparent(kValid);
  s.name = "a";
  s.kind = SpanKind::kServer;
  s.start_unix_nanos = 1;
  s.end_unix_nanos = 2;
  s.attributes = {{"k", int64_t{-1}}};
  const std::string body = EncodeProtobuf("s", {s});
  // Span: trace_id (1), span_id (2), name (5), kind (6), start (7, fixed64), end (8), attribute (9).
  std::string span = "\x0a\x10" + std::string("\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16) +
                     "\x12\x08" + std::string("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8) + "\x2a\x01" + "a" + "\x30\x02" +
                     "\x39" + std::string("\x01\0\0\0\0\0\0\0", 8) + "\x41" + std::string("\x02\0\0\0\0\0\0\0", 8) +
                     // KeyValue{key "k", value AnyValue{int_value -1 (ten-byte varint)}}
                     "\x4a\x10\x0a\x01k\x12\x0b\x18" + std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
  const std::string service = "\x0a\x0cservice.name\x12\x03\x0a\x01s";                                // KeyValue
  const std::string resource = "\x0a" + std::string(1, static_cast<char>(service.size())) + service;  // attributes (1)
  const std::string scope = "\x0a\x07\x0a\x05pulse";
  const std::string scope_spans = scope + "\x12" + std::string(1, static_cast<char>(span.size())) + span;
  const std::string resource_spans = "\x0a" + std::string(1, static_cast<char>(resource.size())) + resource + "\x12" +
                                     std::string(1, static_cast<char>(scope_spans.size())) + scope_spans;
  const std::string expected = "\x0a" + std::string(1, static_cast<char>(resource_spans.size())) + resource_spans;
  EXPECT_EQ(body, expected);
}

TEST(Exporter, RefusesBadEndpointsAndCountsFailures) {
  EXPECT_EQ(StartExporter({.endpoint = "collector:4318", .service_name = "x"}).code(),
            pulse::StatusCode::kInvalidArgument);
  EXPECT_EQ(StartExporter({.endpoint = "http://127.0.0.1:1", .service_name = ""}).code(),
            pulse::StatusCode::kInvalidArgument);
  // Port 1 on loopback refuses connections: the batch fails, is counted, and nothing blocks.
  const auto before = Counts();
  ASSERT_TRUE(StartExporter({.endpoint = "http://127.0.0.1:1", .service_name = "x", .max_queue = 2}).ok());
  EXPECT_EQ(StartExporter({.endpoint = "http://127.0.0.1:1", .service_name = "x"}).code(),
            pulse::StatusCode::kConflict);
  for (int i = 0; i < 5; ++i) Span::Start("s" + std::to_string(i));
  StopExporter(2000);
  const auto after = Counts();
  EXPECT_EQ(after.dropped - before.dropped + after.failed - before.failed, 5u);
  EXPECT_GE(after.dropped - before.dropped, 3u);  // the queue holds 2
  EXPECT_EQ(after.exported, before.exported);
  metrics::Registry registry;
  RegisterTraceMetrics(registry);
  EXPECT_NE(registry.Render().find("pulse_trace_spans_dropped_total "), std::string::npos);
  StopExporter();  // a second stop is harmless
}

TEST(Log, RecordsCarryTheCurrentSpanAndModuleLevels) {
  std::vector<std::string> lines;
  auto levels = log::ParseModuleLevels(" lake=debug , jobs=error");
  ASSERT_TRUE(levels.ok());
  log::Configure({.level = log::Level::kInfo,
                  .format = log::Format::kJson,
                  .sink = [&](std::string_view line) { lines.emplace_back(line); },
                  .module_levels = *levels});
  log::Info("service", "outside");
  {
    auto parent = ParseTraceparent(kValid);
    ScopedContext scope(*parent);
    log::Info("service", "inside");
  }
  log::Debug("lake", "lake debug");        // lake: debug and up
  log::Debug("service", "service debug");  // others: info and up
  log::Warn("jobs", "jobs warn");          // jobs: error only
  log::Error("jobs", "jobs error");
  log::Configure({.level = log::Level::kInfo,
                  .format = log::Format::kText,
                  .sink = [&](std::string_view line) { lines.emplace_back(line); },
                  .module_levels = {}});
  {
    auto parent = ParseTraceparent(kValid);
    ScopedContext scope(*parent);
    log::Info("service", "text");
  }
  log::Configure({});
  ASSERT_EQ(lines.size(), 5u);
  auto outside = nlohmann::json::parse(lines[0]);
  EXPECT_FALSE(outside.contains("trace_id"));
  auto inside = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(inside["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(inside["span_id"], "00f067aa0ba902b7");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["msg"], "lake debug");
  EXPECT_EQ(nlohmann::json::parse(lines[3])["msg"], "jobs error");
  EXPECT_NE(lines[4].find("text trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7"),
            std::string::npos);
}

TEST(Log, ModuleLevelsRefuseBadItems) {
  EXPECT_TRUE(log::ParseModuleLevels("").ok());
  EXPECT_FALSE(log::ParseModuleLevels("lake").ok());
  EXPECT_FALSE(log::ParseModuleLevels("=debug").ok());
  auto bad = log::ParseModuleLevels("lake=loud");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("loud"), std::string::npos);
}

}  // namespace
}  // namespace pulse::trace
