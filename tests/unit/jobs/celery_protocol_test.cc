// Celery protocol v2 envelopes and result-backend values: what Pulse writes has the exact shape
// kombu/Celery expect (anchors.md §3), a message Celery's producer wrote (captured shape) decodes,
// and every malformed message is a clear error (the worker's dead-letter reason).
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "core/base64.h"
#include "jobs/celery_protocol.h"

namespace pulse::jobs {
namespace {

TEST(CeleryProtocol, EncodesTheEnvelopeCeleryExpects) {
  TaskMessage m;
  m.task = "pulse.simulate";
  m.id = "6f1c1b9e-2d7a-4a84-9a57-0d8d4d9a0c11";
  m.args = {1, 2};
  m.kwargs = {{"runs", 100}};
  m.time_limit = 60;
  m.soft_time_limit = 50;
  m.queue = "pulse";
  const auto envelope = nlohmann::json::parse(EncodeMessage(m));
  EXPECT_EQ(envelope["content-type"], "application/json");
  EXPECT_EQ(envelope["content-encoding"], "utf-8");
  const auto& h = envelope["headers"];
  EXPECT_EQ(h["lang"], "py");
  EXPECT_EQ(h["task"], "pulse.simulate");
  EXPECT_EQ(h["id"], m.id);
  EXPECT_EQ(h["root_id"], m.id);  // defaults to the task id
  EXPECT_TRUE(h["parent_id"].is_null());
  EXPECT_TRUE(h["group"].is_null());
  EXPECT_EQ(h["timelimit"], nlohmann::json::array({60.0, 50.0}));  // [hard, soft], as Celery's code sends
  const auto& p = envelope["properties"];
  EXPECT_EQ(p["body_encoding"], "base64");
  EXPECT_EQ(p["delivery_mode"], 2);
  EXPECT_EQ(p["correlation_id"], m.id);
  EXPECT_EQ(p["delivery_info"]["routing_key"], "pulse");
  EXPECT_EQ(p["delivery_info"]["exchange"], "");
  EXPECT_EQ(p["delivery_tag"].get<std::string>().size(), 36u);
  auto body = Base64Decode(envelope["body"].get<std::string>());
  ASSERT_TRUE(body.ok());
  const auto b = nlohmann::json::parse(*body);
  EXPECT_EQ(b[0], m.args);
  EXPECT_EQ(b[1], m.kwargs);
  EXPECT_TRUE(b[2].contains("callbacks") && b[2].contains("chord"));
  // And back.
  auto decoded = DecodeMessage(EncodeMessage(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->task, m.task);
  EXPECT_EQ(decoded->kwargs, m.kwargs);
  EXPECT_EQ(decoded->time_limit, 60);
  EXPECT_EQ(decoded->soft_time_limit, 50);
  EXPECT_EQ(decoded->queue, "pulse");
}

TEST(CeleryProtocol, DecodesWhatCeleryProduces) {
  // The shape celery 5's send_task LPUSHes (anchors.md §3.1), body = [[2, 2], {}, {...}].
  const std::string body =
      Base64Encode(R"([[2, 2], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}])");
  const std::string raw =
      R"({"body": ")" + body + R"json(", "content-encoding": "utf-8", "content-type": "application/json",
    "headers": {"lang": "py", "task": "proj.tasks.add", "id": "abc", "shadow": null, "eta": "2026-11-28T10:00:00+00:00",
      "expires": null, "group": null, "group_index": null, "retries": 2, "timelimit": [null, 30], "root_id": "abc",
      "parent_id": null, "argsrepr": "(2, 2)", "kwargsrepr": "{}", "origin": "1@host", "ignore_result": false,
      "replaced_task_nesting": 0, "stamped_headers": null, "stamps": {}},
    "properties": {"correlation_id": "abc", "reply_to": "r", "delivery_mode": 2,
      "delivery_info": {"exchange": "", "routing_key": "celery"}, "priority": 0, "body_encoding": "base64",
      "delivery_tag": "t-1"}})json";
  auto m = DecodeMessage(raw);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->task, "proj.tasks.add");
  EXPECT_EQ(m->args, nlohmann::json::array({2, 2}));
  EXPECT_EQ(m->retries, 2);
  EXPECT_EQ(m->eta, "2026-11-28T10:00:00+00:00");
  EXPECT_FALSE(m->time_limit);
  EXPECT_EQ(m->soft_time_limit, 30);
  EXPECT_EQ(m->delivery_tag, "t-1");
  EXPECT_EQ(m->queue, "celery");
}

TEST(CeleryProtocol, MalformedMessagesAreClearErrors) {
  auto reason = [](const std::string& raw) { return DecodeMessage(raw).status().message(); };
  EXPECT_NE(reason("not json").find("not JSON"), std::string::npos);
  EXPECT_NE(reason("[1, 2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(reason(R"({"headers": {}, "body": ""})").find("no 'task' header"), std::string::npos);
  EXPECT_NE(reason(R"({"headers": {"task": "x"}, "body": ""})").find("no task id"), std::string::npos);
  EXPECT_NE(
      reason(R"({"headers": {"task": "x", "id": "1"}, "content-type": "application/x-python-serialize", "body": ""})")
          .find("unsupported content-type"),
      std::string::npos);
  EXPECT_NE(reason(R"({"headers": {"task": "x", "id": "1"}, "content-type": "application/json", "body": "!!!!"})")
                .find("base64"),
            std::string::npos);
  const std::string not_triple = Base64Encode("[1, 2]");
  EXPECT_NE(reason(R"({"headers": {"task": "x", "id": "1"}, "content-type": "application/json", "body": ")" +
                   not_triple + "\"}")
                .find("[args, kwargs, embed]"),
            std::string::npos);
}

// What celery's send_task writes for compression='zlib' and for link / link_error / chain / chord
// (the embed of the first task of chain(a.s(), b.s()) holds b; each task of a chord's header holds
// the body): refused with a reason that says so, never run with the continuation dropped (a
// compressed body used to be reported as "not JSON (it contains a NUL byte)").
TEST(CeleryProtocol, CompressedBodiesAndWorkflowStepsAreRefusedWithTheirOwnReason) {
  auto envelope = [](const std::string& embed, const std::string& extra_header = "") {
    const std::string body = Base64Encode("[[1], {}, " + embed + "]");
    return R"({"body": ")" + body + R"(", "content-type": "application/json", "content-encoding": "utf-8",
      "headers": {"task": "pulse.noop", "id": "w1")" +
           extra_header + R"(}, "properties": {"body_encoding": "base64"}})";
  };
  const std::string sig = R"({"task": "pulse.noop", "args": [2], "kwargs": {}, "options": {}, "subtask_type": null})";
  EXPECT_TRUE(DecodeMessage(envelope("null")).ok());
  EXPECT_TRUE(DecodeMessage(envelope("{}")).ok());
  EXPECT_TRUE(DecodeMessage(envelope(R"({"callbacks": null, "errbacks": [], "chain": [], "chord": null})")).ok());
  EXPECT_TRUE(DecodeMessage(envelope("null", R"(, "compression": null)")).ok());
  const std::pair<std::string, std::string> cases[] = {
      {R"({"callbacks": [)" + sig + "]}", "asks for link callbacks (embed 'callbacks')"},
      {R"({"errbacks": [)" + sig + "]}", "asks for link_error callbacks (embed 'errbacks')"},
      {R"({"callbacks": null, "chain": [)" + sig + "]}", "asks for a chain (embed 'chain')"},
      {R"({"chord": )" + sig + "}", "asks for a chord (embed 'chord')"},
      {R"({"chain": "x"})", "asks for a chain"},
  };
  for (const auto& [embed, want] : cases) {
    auto m = DecodeMessage(envelope(embed));
    ASSERT_FALSE(m.ok()) << embed;
    EXPECT_NE(m.status().message().find(want), std::string::npos) << m.status().message();
    EXPECT_NE(m.status().message().find("Pulse workers do not run"), std::string::npos);
  }
  auto zlib = DecodeMessage(envelope("null", R"(, "compression": "application/zlib")"));
  ASSERT_FALSE(zlib.ok());
  EXPECT_EQ(zlib.status().message(),
            "compressed message bodies are not supported (header 'compression' is 'application/zlib'): send the task "
            "without compression");
  EXPECT_NE(DecodeMessage(envelope("null", R"(, "compression": 5)")).status().message().find("header 'compression'"),
            std::string::npos);
}

TEST(CeleryProtocol, ResultMetaMatchesTheRedisBackend) {
  const auto ok = nlohmann::json::parse(EncodeResultMeta("id-1", TaskState::kSuccess, {{"mean", 1.5}}));
  EXPECT_EQ(ok["status"], "SUCCESS");
  EXPECT_EQ(ok["result"]["mean"], 1.5);
  EXPECT_TRUE(ok["traceback"].is_null());
  EXPECT_EQ(ok["children"], nlohmann::json::array());
  EXPECT_EQ(ok["task_id"], "id-1");
  EXPECT_TRUE(ok["date_done"].is_string());
  const auto started = nlohmann::json::parse(EncodeResultMeta("id-2", TaskState::kStarted, nullptr));
  EXPECT_TRUE(started["date_done"].is_null());
  const auto failed =
      EncodeResultMeta("id-3", TaskState::kFailure, FailureResult("ValueError", "runs must be >= 1"), "tb");
  auto meta = DecodeResultMeta(failed);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->state, TaskState::kFailure);
  EXPECT_EQ(meta->result["exc_type"], "ValueError");
  EXPECT_EQ(meta->result["exc_message"][0], "runs must be >= 1");
  EXPECT_EQ(meta->traceback, "tb");
  EXPECT_EQ(ResultKey("id-3"), "celery-task-meta-id-3");
  EXPECT_FALSE(DecodeResultMeta(R"({"status": "WEIRD"})").ok());
  EXPECT_FALSE(DecodeResultMeta("[]").ok());
}

}  // namespace
}  // namespace pulse::jobs
