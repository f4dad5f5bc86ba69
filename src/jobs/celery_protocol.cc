#include "jobs/celery_protocol.h"

#include <unistd.h>

#include <array>
#include <cmath>
#include <utility>

#include "core/base64.h"
#include "core/ids.h"
#include "core/time.h"
#include "core/trace.h"
#include "jobs/safe_json.h"

namespace pulse::jobs {
namespace {

nlohmann::json OrNull(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
nlohmann::json OrNull(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
nlohmann::json OrNull(const std::string& v) { return v.empty() ? nlohmann::json() : nlohmann::json(v); }

// A string field that is optional and informational: anything but a string reads as empty.
std::string Text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Typed reads of one object's fields (an envelope, its headers, properties or delivery_info).
// Absent and null both mean "not given"; a value of another type is kInvalidArgument naming the
// field ("header 'retries' must be an integer or null, got string"). Nothing here throws.
class Fields {
 public:
  Fields(const nlohmann::json& object, std::string where) : object_(object), where_(std::move(where)) {}

  // The field's value, or nullptr when absent or null.
  const nlohmann::json* Find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  Status WrongType(const char* key, const char* want, const nlohmann::json& got) const {
    return Status::InvalidArgument(where_ + " '" + key + "' must be " + want + " or null, got " + JsonTypeName(got));
  }
  Result<std::optional<std::string>> String(const char* key) const {
    const nlohmann::json* v = Find(key);
    if (!v) return std::optional<std::string>();
    if (!v->is_string()) return WrongType(key, "a string", *v);
    return std::optional<std::string>(v->get<std::string>());
  }
  Result<std::optional<bool>> Bool(const char* key) const {
    const nlohmann::json* v = Find(key);
    if (!v) return std::optional<bool>();
    if (!v->is_boolean()) return WrongType(key, "true or false", *v);
    return std::optional<bool>(v->get<bool>());
  }
  // A whole number in [0, max] (an integral float such as 3.0 counts: Python clients may send one).
  Result<std::optional<int64_t>> Count(const char* key, int64_t max) const {
    const nlohmann::json* v = Find(key);
    if (!v) return std::optional<int64_t>();
    if (!v->is_number()) return WrongType(key, "a whole number", *v);
    const double d = v->get<double>();
    if (v->is_number_float() && (!std::isfinite(d) || std::floor(d) != d)) return WrongType(key, "a whole number", *v);
    if (v->is_number_integer() && !v->is_number_unsigned() && v->get<int64_t>() < 0)
      return Status::InvalidArgument(where_ + " '" + key + "' must not be negative, got " + v->dump());
    if (d < 0 || d > static_cast<double>(max)) {
      return Status::InvalidArgument(where_ + " '" + key + "' is out of range (0.." + std::to_string(max) + "), got " +
                                     v->dump());
    }
    return std::optional<int64_t>(v->is_number_unsigned()  ? static_cast<int64_t>(v->get<uint64_t>())
                                  : v->is_number_integer() ? v->get<int64_t>()
                                                           : static_cast<int64_t>(d));
  }
  Result<const nlohmann::json*> Object(const char* key) const {
    const nlohmann::json* v = Find(key);
    if (v && !v->is_object()) return WrongType(key, "an object", *v);
    return v;
  }
  // An ISO-8601 time as a string (eta, expires); one that does not parse is an error too.
  Result<std::optional<std::string>> Time(const char* key) const {
    PULSE_ASSIGN_OR_RETURN(std::optional<std::string> text, String(key));
    if (text) {
      auto parsed = time::ParseTimestamp(*text);
      if (!parsed.ok())
        return Status::InvalidArgument(where_ + " '" + key + "' is not an ISO-8601 time: " + parsed.status().message());
    }
    return text;
  }

 private:
  const nlohmann::json& object_;
  std::string where_;
};

// A time limit in seconds: null or 0 means none (Celery's reading); negative is an error; beyond
// ~31 years it is no limit in practice and reads as none (so no duration arithmetic overflows).
Result<std::optional<double>> TimeLimit(const nlohmann::json& v, const char* which) {
  if (v.is_null()) return std::optional<double>();
  if (!v.is_number()) {
    return Status::InvalidArgument(std::string("header 'timelimit' ") + which + " must be a number or null, got " +
                                   JsonTypeName(v));
  }
  const double seconds = v.get<double>();
  if (!std::isfinite(seconds) || seconds < 0) {
    return Status::InvalidArgument(std::string("header 'timelimit' ") + which + " must be >= 0 seconds, got " +
                                   v.dump());
  }
  if (seconds == 0 || seconds > 1e9) return std::optional<double>();
  return std::optional<double>(seconds);
}

// The body's embed: {callbacks, errbacks, chain, chord}, each null (or an empty list) for a single
// task. Pulse runs single tasks only: a message that asks for a callback, errback, the rest of a
// chain or a chord's body afterwards is refused as a whole (dead-lettered with this reason) rather
// than run with its continuation silently dropped.
Status CheckNoWorkflow(const nlohmann::json& embed) {
  static constexpr std::pair<const char*, const char*> kParts[] = {{"callbacks", "link callbacks"},
                                                                   {"errbacks", "link_error callbacks"},
                                                                   {"chain", "a chain"},
                                                                   {"chord", "a chord"}};
  for (const auto& [key, what] : kParts) {
    auto it = embed.find(key);
    if (it == embed.end() || it->is_null() || (it->is_array() && it->empty())) continue;
    return Status::InvalidArgument(std::string("message body asks for ") + what + " (embed '" + key +
                                   "'), which Pulse workers do not run: send it to a Celery worker, or send "
                                   "the tasks one by one");
  }
  return Status::Ok();
}

Result<TaskMessage> DecodeEnvelope(std::string_view raw) {
  PULSE_ASSIGN_OR_RETURN(nlohmann::json envelope, ParseJson(raw, "message"));
  if (!envelope.is_object())
    return Status::InvalidArgument("message is not a JSON object (got " + JsonTypeName(envelope) + ")");
  const Fields top(envelope, "message field");
  PULSE_ASSIGN_OR_RETURN(const nlohmann::json* headers_field, top.Object("headers"));
  PULSE_ASSIGN_OR_RETURN(const nlohmann::json* properties_field, top.Object("properties"));
  const nlohmann::json empty = nlohmann::json::object();
  const Fields headers(headers_field ? *headers_field : empty, "header");
  const Fields properties(properties_field ? *properties_field : empty, "property");
  TaskMessage m;
  PULSE_ASSIGN_OR_RETURN(auto task, headers.String("task"));
  if (!task || task->empty()) return Status::InvalidArgument("not a Celery protocol v2 message: no 'task' header");
  m.task = *task;
  PULSE_ASSIGN_OR_RETURN(auto id, headers.String("id"));
  if (!id || id->empty()) return Status::InvalidArgument("message for '" + m.task + "' has no task id");
  m.id = *id;

  PULSE_ASSIGN_OR_RETURN(auto content_type, top.String("content-type"));
  if (!content_type) return Status::InvalidArgument("message has no content-type (only application/json is supported)");
  if (*content_type != "application/json")
    return Status::InvalidArgument("unsupported content-type '" + *content_type + "' (only application/json)");
  PULSE_ASSIGN_OR_RETURN(auto content_encoding, top.String("content-encoding"));
  if (content_encoding && *content_encoding != "utf-8" && *content_encoding != "utf8" && *content_encoding != "UTF-8")
    return Status::InvalidArgument("unsupported content-encoding '" + *content_encoding + "' (only utf-8)");
  PULSE_ASSIGN_OR_RETURN(auto compression, headers.String("compression"));
  if (compression) {  // kombu compresses the body after serializing it; Pulse reads JSON only
    return Status::InvalidArgument("compressed message bodies are not supported (header 'compression' is '" +
                                   *compression + "'): send the task without compression");
  }
  PULSE_ASSIGN_OR_RETURN(auto body_encoding, properties.String("body_encoding"));
  const nlohmann::json* body_field = top.Find("body");
  if (!body_field) return Status::InvalidArgument("message has no body");
  if (!body_field->is_string()) return top.WrongType("body", "a string", *body_field);
  std::string body_text;
  if (!body_encoding || *body_encoding == "base64") {
    auto decoded = Base64Decode(body_field->get<std::string>());
    if (!decoded.ok()) return Status::InvalidArgument("message body is not base64: " + decoded.status().message());
    body_text = std::move(*decoded);
  } else if (*body_encoding == "utf-8") {
    body_text = body_field->get<std::string>();
  } else {
    return Status::InvalidArgument("unsupported body_encoding '" + *body_encoding + "'");
  }
  PULSE_ASSIGN_OR_RETURN(nlohmann::json body, ParseJson(body_text, "message body"));
  if (!body.is_array() || body.size() != 3 || !body[0].is_array() || !body[1].is_object() ||
      !(body[2].is_object() || body[2].is_null()))
    return Status::InvalidArgument("message body is not [args, kwargs, embed]");
  if (body[2].is_object()) PULSE_RETURN_IF_ERROR(CheckNoWorkflow(body[2]));
  m.args = std::move(body[0]);
  m.kwargs = std::move(body[1]);

  PULSE_ASSIGN_OR_RETURN(auto root_id, headers.String("root_id"));
  PULSE_ASSIGN_OR_RETURN(auto parent_id, headers.String("parent_id"));
  PULSE_ASSIGN_OR_RETURN(auto group, headers.String("group"));
  m.root_id = root_id.value_or("");
  m.parent_id = parent_id.value_or("");
  m.group = group.value_or("");
  PULSE_ASSIGN_OR_RETURN(auto retries, headers.Count("retries", 1000000));
  m.retries = static_cast<int>(retries.value_or(0));
  PULSE_ASSIGN_OR_RETURN(m.eta, headers.Time("eta"));
  PULSE_ASSIGN_OR_RETURN(m.expires, headers.Time("expires"));
  if (const nlohmann::json* tl = headers.Find("timelimit")) {
    if (!tl->is_array() || tl->size() != 2) {
      return Status::InvalidArgument("header 'timelimit' must be [hard, soft] or null, got " + JsonTypeName(*tl) +
                                     (tl->is_array() ? " of " + std::to_string(tl->size()) + " items" : ""));
    }
    PULSE_ASSIGN_OR_RETURN(m.time_limit, TimeLimit((*tl)[0], "hard"));
    PULSE_ASSIGN_OR_RETURN(m.soft_time_limit, TimeLimit((*tl)[1], "soft"));
  }
  PULSE_ASSIGN_OR_RETURN(auto ignore_result, headers.Bool("ignore_result"));
  m.ignore_result = ignore_result.value_or(false);
  // Informational fields: read when they are strings / numbers, otherwise left empty.
  m.origin = Text(*(headers_field ? headers_field : &empty), "origin");
  m.traceparent = Text(*(headers_field ? headers_field : &empty), "traceparent");
  m.tracestate = Text(*(headers_field ? headers_field : &empty), "tracestate");
  m.correlation_id = Text(*(properties_field ? properties_field : &empty), "correlation_id");
  m.reply_to = Text(*(properties_field ? properties_field : &empty), "reply_to");
  m.delivery_tag = Text(*(properties_field ? properties_field : &empty), "delivery_tag");
  if (const nlohmann::json* p = properties.Find("priority"); p && p->is_number_integer()) {
    const int64_t priority = p->get<int64_t>();
    if (priority >= 0 && priority <= 255) m.priority = static_cast<int>(priority);
  }
  PULSE_ASSIGN_OR_RETURN(const nlohmann::json* info_field, properties.Object("delivery_info"));
  if (info_field) {
    const Fields info(*info_field, "delivery_info");
    PULSE_ASSIGN_OR_RETURN(auto routing_key, info.String("routing_key"));
    if (routing_key && !routing_key->empty()) m.queue = *routing_key;
    PULSE_ASSIGN_OR_RETURN(auto redelivered, info.Bool("redelivered"));
    m.redelivered = redelivered.value_or(false);
  }
  return m;
}

std::string Hostname() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "localhost";
  return name.data();
}

}  // namespace

std::string EncodeMessage(const TaskMessage& m) {
  const nlohmann::json embed = {{"callbacks", nullptr}, {"errbacks", nullptr}, {"chain", nullptr}, {"chord", nullptr}};
  const nlohmann::json body = nlohmann::json::array({m.args, m.kwargs, embed});
  const std::string origin = m.origin.empty() ? std::to_string(getpid()) + "@" + Hostname() : m.origin;
  nlohmann::json headers = {
      {"lang", "py"},
      {"task", m.task},
      {"id", m.id},
      {"shadow", nullptr},
      {"eta", OrNull(m.eta)},
      {"expires", OrNull(m.expires)},
      {"group", OrNull(m.group)},
      {"group_index", nullptr},
      {"retries", m.retries},
      {"timelimit", nlohmann::json::array({OrNull(m.time_limit), OrNull(m.soft_time_limit)})},
      {"root_id", m.root_id.empty() ? m.id : m.root_id},
      {"parent_id", OrNull(m.parent_id)},
      {"argsrepr", DumpJson(m.args)},
      {"kwargsrepr", DumpJson(m.kwargs)},
      {"origin", origin},
      {"ignore_result", m.ignore_result},
      {"replaced_task_nesting", 0},
      {"stamped_headers", nullptr},
      {"stamps", nlohmann::json::object()},
  };
  const std::string traceparent = m.traceparent.empty() ? trace::FormatTraceparent(trace::Current()) : m.traceparent;
  if (!traceparent.empty()) headers["traceparent"] = traceparent;
  if (!m.tracestate.empty()) headers["tracestate"] = m.tracestate;
  nlohmann::json delivery_info = {{"exchange", ""}, {"routing_key", m.queue}};
  if (m.redelivered) delivery_info["redelivered"] = true;
  nlohmann::json properties = {
      {"correlation_id", m.correlation_id.empty() ? m.id : m.correlation_id},
      {"reply_to", m.reply_to.empty() ? NewUuid() : m.reply_to},
      {"delivery_mode", 2},
      {"delivery_info", delivery_info},
      {"priority", m.priority},
      {"body_encoding", "base64"},
      {"delivery_tag", m.delivery_tag.empty() ? NewUuid() : m.delivery_tag},
  };
  nlohmann::json envelope = {{"body", Base64Encode(DumpJson(body))},
                             {"content-encoding", "utf-8"},
                             {"content-type", "application/json"},
                             {"headers", headers},
                             {"properties", properties}};
  return DumpJson(envelope);
}

Result<TaskMessage> DecodeMessage(std::string_view raw) {
  try {
    return DecodeEnvelope(raw);
  } catch (const std::exception& e) {  // a bug or an allocation failure: still a reason, never an abort
    return Status::InvalidArgument(std::string("message could not be decoded: ") + e.what());
  }
}

std::string_view StateName(TaskState state) {
  switch (state) {
    case TaskState::kPending: return "PENDING";
    case TaskState::kReceived: return "RECEIVED";
    case TaskState::kStarted: return "STARTED";
    case TaskState::kRetry: return "RETRY";
    case TaskState::kSuccess: return "SUCCESS";
    case TaskState::kFailure: return "FAILURE";
    case TaskState::kRevoked: return "REVOKED";
  }
  return "PENDING";
}

nlohmann::json FailureResult(const std::string& exc_type, const std::string& message, const std::string& exc_module) {
  return {{"exc_type", exc_type}, {"exc_message", nlohmann::json::array({message})}, {"exc_module", exc_module}};
}

std::string EncodeResultMeta(const std::string& task_id, TaskState state, const nlohmann::json& result,
                             const std::string& traceback, const std::string& date_done) {
  nlohmann::json meta = {{"status", StateName(state)},
                         {"result", result},
                         {"traceback", traceback.empty() ? nlohmann::json() : nlohmann::json(traceback)},
                         {"children", nlohmann::json::array()},
                         {"date_done", date_done.empty() ? nlohmann::json() : nlohmann::json(date_done)},
                         {"task_id", task_id}};
  if (date_done.empty() && (state == TaskState::kSuccess || state == TaskState::kFailure))
    meta["date_done"] = time::FormatTimestamp(time::NowMicros());
  return DumpJson(meta);
}

Result<ResultMeta> DecodeResultMeta(std::string_view raw) {
  auto parsed = ParseJson(raw, "result meta");
  if (!parsed.ok()) return parsed.status();
  const nlohmann::json& meta = *parsed;
  if (!meta.is_object()) return Status::InvalidArgument("result meta is not a JSON object");
  ResultMeta out;
  out.task_id = Text(meta, "task_id");
  const std::string status = Text(meta, "status");
  bool known = false;
  for (TaskState s : {TaskState::kPending, TaskState::kReceived, TaskState::kStarted, TaskState::kRetry,
                      TaskState::kSuccess, TaskState::kFailure, TaskState::kRevoked})
    if (StateName(s) == status) out.state = s, known = true;
  if (!known) return Status::InvalidArgument("result meta has unknown status '" + status + "'");
  out.result = meta.value("result", nlohmann::json());
  out.traceback = Text(meta, "traceback");
  out.date_done = Text(meta, "date_done");
  return out;
}

}  // namespace pulse::jobs
