#include "jobs/celery_protocol.h"

#include <unistd.h>

#include <array>

#include "core/base64.h"
#include "core/ids.h"
#include "core/time.h"

namespace pulse::jobs {
namespace {

nlohmann::json OrNull(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
nlohmann::json OrNull(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
nlohmann::json OrNull(const std::string& v) { return v.empty() ? nlohmann::json() : nlohmann::json(v); }

std::string Text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> OptionalText(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
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
      {"argsrepr", m.args.dump()},
      {"kwargsrepr", m.kwargs.dump()},
      {"origin", origin},
      {"ignore_result", m.ignore_result},
      {"replaced_task_nesting", 0},
      {"stamped_headers", nullptr},
      {"stamps", nlohmann::json::object()},
  };
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
  nlohmann::json envelope = {{"body", Base64Encode(body.dump())},
                             {"content-encoding", "utf-8"},
                             {"content-type", "application/json"},
                             {"headers", headers},
                             {"properties", properties}};
  return envelope.dump();
}

Result<TaskMessage> DecodeMessage(std::string_view raw) {
  nlohmann::json envelope = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (envelope.is_discarded()) return Status::InvalidArgument("message is not JSON");
  if (!envelope.is_object()) return Status::InvalidArgument("message is not a JSON object");
  const auto headers = envelope.value("headers", nlohmann::json::object());
  const auto properties = envelope.value("properties", nlohmann::json::object());
  if (!headers.is_object() || !properties.is_object())
    return Status::InvalidArgument("message headers/properties are not objects");
  TaskMessage m;
  m.task = Text(headers, "task");
  if (m.task.empty()) return Status::InvalidArgument("not a Celery protocol v2 message: no 'task' header");
  m.id = Text(headers, "id");
  if (m.id.empty()) return Status::InvalidArgument("message for '" + m.task + "' has no task id");
  const std::string content_type = envelope.value("content-type", "");
  if (content_type != "application/json")
    return Status::InvalidArgument("unsupported content-type '" + content_type + "' (only application/json)");
  const std::string body_encoding = properties.value("body_encoding", "base64");
  const auto body_field = envelope.find("body");
  if (body_field == envelope.end() || !body_field->is_string()) return Status::InvalidArgument("message has no body");
  std::string body_text;
  if (body_encoding == "base64") {
    PULSE_ASSIGN_OR_RETURN(body_text, Base64Decode(body_field->get<std::string>()));
  } else if (body_encoding == "utf-8") {
    body_text = body_field->get<std::string>();
  } else {
    return Status::InvalidArgument("unsupported body_encoding '" + body_encoding + "'");
  }
  nlohmann::json body = nlohmann::json::parse(body_text, nullptr, false);
  if (body.is_discarded() || !body.is_array() || body.size() != 3 || !body[0].is_array() || !body[1].is_object())
    return Status::InvalidArgument("message body is not [args, kwargs, embed]");
  m.args = body[0];
  m.kwargs = body[1];
  m.root_id = Text(headers, "root_id");
  m.parent_id = Text(headers, "parent_id");
  m.group = Text(headers, "group");
  m.retries = headers.value("retries", 0);
  m.eta = OptionalText(headers, "eta");
  m.expires = OptionalText(headers, "expires");
  if (auto tl = headers.find("timelimit"); tl != headers.end() && tl->is_array() && tl->size() == 2) {
    if ((*tl)[0].is_number()) m.time_limit = (*tl)[0].get<double>();
    if ((*tl)[1].is_number()) m.soft_time_limit = (*tl)[1].get<double>();
  }
  m.origin = Text(headers, "origin");
  m.ignore_result = headers.value("ignore_result", false);
  m.correlation_id = Text(properties, "correlation_id");
  m.reply_to = Text(properties, "reply_to");
  m.delivery_tag = Text(properties, "delivery_tag");
  if (auto p = properties.find("priority"); p != properties.end() && p->is_number_integer()) m.priority = p->get<int>();
  const auto info = properties.value("delivery_info", nlohmann::json::object());
  if (info.is_object()) {
    m.queue = info.value("routing_key", m.queue);
    m.redelivered = info.value("redelivered", false);
  }
  return m;
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
  return meta.dump();
}

Result<ResultMeta> DecodeResultMeta(std::string_view raw) {
  nlohmann::json meta = nlohmann::json::parse(raw, nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) return Status::InvalidArgument("result meta is not a JSON object");
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
