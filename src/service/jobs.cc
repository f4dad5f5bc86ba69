// /v1/jobs: Pulse's tasks through the configured broker, as Celery clients send them.
//   POST /v1/jobs/{run|simulate|forecast|retrodict|trust}: body = the task's kwargs (a JSON
//     object; pipeline/pulse_tasks.h lists them; run is pulse.world, the world simulation from the
//     lake's latest signals) -> 202 {job_id, task, state: PENDING, href}. The worker checks the
//     kwargs; bad ones make the job FAILURE with the reason.
//   POST /v1/jobs/ingest: body = pulse.ingest's kwargs with `url` (an object of the lake's own
//     store, e.g. s3://bucket/prefix/inbox/x.csv under the lake s3://bucket/prefix) or `path` (a
//     file in the worker's ingest inbox) -> 202 as above. Checked here first where it costs no
//     I/O (pipeline/task_paths.h ConfineLakeObject against the `lake` kwarg or this service's
//     lake.url): neither or both of url and path -> 400 invalid-body; a malformed url -> 400
//     invalid-url, another scheme -> 400 unsupported-url-scheme, outside the lake -> 422
//     url-outside-lake. A missing or oversized object makes the job FAILURE (object-not-found,
//     object-too-large at the start of its message).
//   GET /v1/jobs/{id} -> {job_id, state, result? | error?} (Celery's states; an unknown id is
//     PENDING, as Celery reports it).
//   DELETE /v1/jobs/{id} -> 202 {state: REVOKED} for a job that has not finished: a REVOKED state
//     is stored, and a worker that picks the message up afterwards acks it without running it
//     (jobs/worker.h step 4). A job already running finishes, and its result replaces REVOKED.
//     409 conflict for a job that already finished.
#include <cctype>
#include <optional>

#include "core/ids.h"
#include "jobs/celery_protocol.h"
#include "jobs/safe_json.h"
#include "jobs/task_client.h"
#include "pipeline/task_paths.h"
#include "service/internal/service_state.h"

namespace pulse::service {
namespace {

constexpr std::chrono::hours kRevokedTtl{24};

bool ValidJobId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    if (!(std::isalnum(c) || c == '-' || c == '_')) return false;
  }
  return true;
}

// The request body as a task's kwargs into `kwargs` (an empty body is {}); else the 400 problem.
std::optional<HttpReply> ReadKwargs(const Call& call, nlohmann::json& kwargs) {
  kwargs = nlohmann::json::object();
  if (call.request.body.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
  auto doc = jobs::ParseJson(call.request.body, "the request body");
  if (!doc.ok()) return ProblemReply(MakeProblem(400, "invalid-body", doc.status().message()));
  if (!doc->is_object())
    return ProblemReply(MakeProblem(400, "invalid-body", "the body must be a JSON object (the task's kwargs)"));
  kwargs = std::move(*doc);
  return std::nullopt;
}

Result<HttpReply> SubmitJob(ServiceState& state, const std::string& task, nlohmann::json kwargs) {
  jobs::TaskMessage m;
  m.task = task;
  m.id = NewUuid();
  m.kwargs = std::move(kwargs);
  PULSE_ASSIGN_OR_RETURN(auto id, jobs::SubmitTask(*state.broker, m));
  HttpReply r = JsonReply(202, {{"job_id", id}, {"task", task}, {"state", "PENDING"}, {"href", "/v1/jobs/" + id}});
  r.headers.emplace_back("Location", "/v1/jobs/" + id);
  return r;
}

}  // namespace

Result<HttpReply> PostJob(ServiceState& state, Call& call, const std::string& task) {
  nlohmann::json kwargs;
  if (auto problem = ReadKwargs(call, kwargs)) return std::move(*problem);
  return SubmitJob(state, task, std::move(kwargs));
}

Result<HttpReply> PostIngestJob(ServiceState& state, Call& call) {
  nlohmann::json kwargs;
  if (auto problem = ReadKwargs(call, kwargs)) return std::move(*problem);
  const auto given = [&](const char* name) { return kwargs.contains(name) && !kwargs[name].is_null(); };
  if (given("url") == given("path")) {
    return ProblemReply(MakeProblem(400, "invalid-body",
                                    "name what to ingest with exactly one of 'url' (an object in the lake's store, "
                                    "e.g. s3://bucket/prefix/inbox/x.csv) and 'path' (a file in the worker's "
                                    "ingest inbox)"));
  }
  if (given("url")) {
    const auto& url = kwargs["url"];
    if (!url.is_string()) return ProblemReply(MakeProblem(400, "invalid-url", "'url' must be a string"));
    std::string lake = state.settings.lake.url;
    if (given("lake")) {
      if (!kwargs["lake"].is_string())
        return ProblemReply(MakeProblem(400, "invalid-body", "'lake' must be a string (a lake URL)"));
      lake = kwargs["lake"].get<std::string>();
    }
    std::string code;
    auto object = pipeline::ConfineLakeObject(url.get<std::string>(), lake, &code);
    if (!object.ok()) {
      if (code == pipeline::url_refusal::kOutsideLake) {
        // The lake's location stays out of the answer (the service redacts lake.url everywhere).
        return ProblemReply(MakeProblem(422, code,
                                        "'url' must name an object under the root of the lake the job writes to, "
                                        "in that lake's own store"));
      }
      std::string detail = object.status().message();
      if (detail.starts_with(code + ": ")) detail.erase(0, code.size() + 2);
      return ProblemReply(
          MakeProblem(400, code.empty() ? "invalid-url" : code, Redact(detail, {state.settings.lake.url})));
    }
  }
  return SubmitJob(state, "pulse.ingest", std::move(kwargs));
}

Result<HttpReply> GetJob(ServiceState& state, Call& call) {
  const std::string& id = call.params.at("id");
  if (!ValidJobId(id)) return ProblemReply(MakeProblem(400, "invalid-job-id", "a job id is a UUID"));
  PULSE_ASSIGN_OR_RETURN(auto raw, state.broker->GetResult(id));
  nlohmann::json out = {{"job_id", id}, {"state", "PENDING"}};
  if (raw) {
    auto meta = jobs::DecodeResultMeta(*raw);
    if (!meta.ok()) return Status::Internal("job " + id + ": unreadable result: " + meta.status().message());
    out["state"] = std::string(jobs::StateName(meta->state));
    if (meta->state == jobs::TaskState::kSuccess) out["result"] = meta->result;
    if (meta->state == jobs::TaskState::kFailure || meta->state == jobs::TaskState::kRevoked) {
      const auto& res = meta->result;
      nlohmann::json error = {{"type", "Error"}};
      if (res.is_object() && res.contains("exc_type")) error["type"] = res["exc_type"];
      if (res.is_object() && res.contains("exc_message")) {
        const auto& msg = res["exc_message"];
        error["message"] = msg.is_array() && msg.size() == 1 ? msg[0] : msg;
      }
      out["error"] = error;
    }
    if (!meta->date_done.empty()) out["date_done"] = meta->date_done;
  }
  return JsonReply(200, out);
}

Result<HttpReply> DeleteJob(ServiceState& state, Call& call) {
  const std::string& id = call.params.at("id");
  if (!ValidJobId(id)) return ProblemReply(MakeProblem(400, "invalid-job-id", "a job id is a UUID"));
  PULSE_ASSIGN_OR_RETURN(auto raw, state.broker->GetResult(id));
  if (raw) {
    auto meta = jobs::DecodeResultMeta(*raw);
    if (meta.ok() && (meta->state == jobs::TaskState::kSuccess || meta->state == jobs::TaskState::kFailure)) {
      return ProblemReply(MakeProblem(409, "job-finished",
                                      "the job already finished (" + std::string(jobs::StateName(meta->state)) + ")"));
    }
  }
  PULSE_RETURN_IF_ERROR(state.broker->StoreResult(
      id,
      jobs::EncodeResultMeta(id, jobs::TaskState::kRevoked,
                             jobs::FailureResult("TaskRevokedError", "revoked", "celery.exceptions")),
      std::chrono::duration_cast<std::chrono::seconds>(kRevokedTtl)));
  return JsonReply(202, {{"job_id", id}, {"state", "REVOKED"}});
}

}  // namespace pulse::service
