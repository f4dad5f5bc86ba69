// Celery message protocol v2 as kombu's Redis transport carries it, and Celery's Redis result
// backend values (../shared/reference/anchors.md §3; celery docs/internals/protocol.rst,
// celery/app/amqp.py as_task_v2, kombu/transport/redis.py). Pure: strings in, strings out.
//
// A queued message is the JSON envelope kombu LPUSHes onto the list named after the queue:
//   {"body": base64(json([args, kwargs, {callbacks, errbacks, chain, chord}])),
//    "content-encoding": "utf-8", "content-type": "application/json",
//    "headers": {"lang", "task", "id", "root_id", "parent_id", "group", "retries", "eta", "expires",
//                "timelimit": [hard, soft], "argsrepr", "kwargsrepr", "origin", ...},
//    "properties": {"correlation_id", "reply_to", "delivery_mode": 2, "priority",
//                   "delivery_info": {"exchange": "", "routing_key": queue},
//                   "body_encoding": "base64", "delivery_tag": uuid}}
// Note the quirk kept from Celery's code: timelimit is [hard, soft], not (soft, hard).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pulse::jobs {

struct TaskMessage {
  std::string task;  // e.g. "pulse.simulate"
  std::string id;    // task id (uuid)
  std::string root_id, parent_id, group;
  nlohmann::json args = nlohmann::json::array();
  nlohmann::json kwargs = nlohmann::json::object();
  int retries = 0;
  std::optional<std::string> eta, expires;            // ISO-8601
  std::optional<double> time_limit, soft_time_limit;  // seconds (hard, soft)
  int priority = 0;
  std::string queue = "celery";  // the routing key / Redis list
  std::string delivery_tag;      // uuid per delivery (kombu's ack handle)
  std::string correlation_id;    // = id
  std::string reply_to;
  std::string origin;  // "<pid>@<host>"
  bool ignore_result = false;
  bool redelivered = false;  // properties.delivery_info.redelivered, set by restores
  // W3C trace context, in headers "traceparent" / "tracestate": where Python's
  // opentelemetry-instrumentation-celery injects it (before_task_publish: propagate.inject(headers))
  // and extracts it (task_prerun: getattr(task.request, "traceparent"), the headers being request
  // attributes), so Celery clients and workers with that instrumentation join Pulse's traces.
  // EncodeMessage writes the thread's current trace context (core/trace.h) when this is empty;
  // DecodeMessage keeps the text as sent (the worker parses it; a bad one starts a new trace).
  std::string traceparent, tracestate;
};

// The envelope JSON. Missing ids (root_id, correlation_id, delivery_tag) are filled from `id` /
// fresh uuids.
std::string EncodeMessage(const TaskMessage& message);

// kInvalidArgument naming what is wrong: not JSON, not an object, protocol v1 (no "task"
// header), a body that is not base64 JSON [args, kwargs, embed], an unsupported content type or
// body encoding, JSON nested deeper than kMaxJsonDepth (jobs/safe_json.h), or a field of the wrong
// type ("header 'retries' must be a whole number or null, got string"). The worker sends such
// messages to the dead-letter list with this reason. Never throws.
// Every optional field may be absent or null (Celery 5.7 sends "ignore_result": null, and every
// release sends null eta/expires/group/parent_id/shadow/...). Fields that steer the run are
// typed strictly: retries (whole number >= 0), eta and expires (ISO-8601 strings), timelimit
// ([hard, soft], numbers >= 0; 0 = none), ignore_result (boolean), content-type and
// content-encoding, body_encoding, delivery_info (object) with routing_key (string) and
// redelivered (boolean), root_id/parent_id/group (strings). Informational fields that Pulse
// only carries along (origin, correlation_id, reply_to, delivery_tag, priority, lang,
// argsrepr, stamps, ...) are ignored when they have another type, as Celery ignores them.
// Refused too, each with its own reason: a compressed body (header 'compression', kombu's
// compression='zlib' etc.), and an embed asking for workflow steps Pulse does not run (link /
// link_error callbacks, the rest of a chain, a chord's body): refusing beats running the task and
// silently dropping what should follow it.
Result<TaskMessage> DecodeMessage(std::string_view raw);

// Celery's task states as its API reports them.
enum class TaskState { kPending, kReceived, kStarted, kRetry, kSuccess, kFailure, kRevoked };
std::string_view StateName(TaskState state);

// The value Celery's Redis backend stores under celery-task-meta-<task_id>:
// {"status", "result", "traceback", "children": [], "date_done", "task_id"}; for FAILURE the result
// is {"exc_type", "exc_message": [message], "exc_module"} as Celery's json serializer writes
// exceptions, so AsyncResult.get() raises an exception of that type (or a generic one).
std::string EncodeResultMeta(const std::string& task_id, TaskState state, const nlohmann::json& result,
                             const std::string& traceback = "", const std::string& date_done = "");
// Failure payload for EncodeResultMeta.
nlohmann::json FailureResult(const std::string& exc_type, const std::string& message,
                             const std::string& exc_module = "builtins");

struct ResultMeta {
  std::string task_id;
  TaskState state = TaskState::kPending;
  nlohmann::json result;
  std::string traceback, date_done;
};
Result<ResultMeta> DecodeResultMeta(std::string_view raw);

inline std::string ResultKey(std::string_view task_id) { return "celery-task-meta-" + std::string(task_id); }

}  // namespace pulse::jobs
