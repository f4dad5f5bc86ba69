#include "jobs/task_client.h"

#include <cmath>
#include <thread>

#include "core/ids.h"
#include "core/trace.h"
#include "jobs/safe_json.h"

namespace pulse::jobs {

Result<std::string> SubmitTask(TaskQueue& queue, TaskMessage message) {
  if (message.id.empty()) message.id = NewUuid();
  if (!message.args.is_array() || !message.kwargs.is_object())
    return Status::InvalidArgument("task arguments must be a JSON array (args) and a JSON object (kwargs)");
  if (JsonValueDepth(message.args, kMaxJsonDepth - 2) > kMaxJsonDepth - 2 ||
      JsonValueDepth(message.kwargs, kMaxJsonDepth - 2) > kMaxJsonDepth - 2) {
    return Status::InvalidArgument("task arguments nest deeper than " + std::to_string(kMaxJsonDepth - 2) +
                                   " levels (workers refuse such messages)");
  }
  // The enqueue span (named as opentelemetry-instrumentation-celery names its publish span); the
  // message carries it as the task's parent (headers.traceparent), unless the caller set one.
  trace::Span span = trace::Span::Start("apply_async/" + message.task, trace::SpanKind::kProducer);
  span.SetAttribute("celery.task_name", message.task);
  span.SetAttribute("messaging.message.id", message.id);
  span.SetAttribute("messaging.destination.name", message.queue);
  if (message.traceparent.empty()) message.traceparent = span.traceparent();
  if (Status st = queue.Publish(message.queue, EncodeMessage(message)); !st.ok()) {
    span.SetError(st.message());
    return st;
  }
  return message.id;
}

Result<nlohmann::json> AwaitResult(ResultBackend& results, const std::string& task_id,
                                   std::chrono::duration<double> timeout, std::chrono::milliseconds poll) {
  if (!std::isfinite(timeout.count()) || timeout.count() < 0 || timeout.count() > 1e9) {
    return Status::InvalidArgument("waiting for task " + task_id + ": the timeout must be 0..1e9 seconds, got " +
                                   std::to_string(timeout.count()));
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
  for (;;) {
    PULSE_ASSIGN_OR_RETURN(auto raw, results.GetResult(task_id));
    if (raw) {
      PULSE_ASSIGN_OR_RETURN(auto meta, DecodeResultMeta(*raw));
      if (meta.state == TaskState::kSuccess) return std::move(meta.result);
      if (meta.state == TaskState::kFailure || meta.state == TaskState::kRevoked) {
        // Celery's failure result: {exc_type, exc_message: [message], exc_module}.
        // Whatever another worker stored there: fields of other types are shown as JSON, not thrown on.
        std::string what = DumpJson(meta.result);
        if (meta.result.is_object() && meta.result.contains("exc_type")) {
          const auto& type = meta.result["exc_type"];
          const auto& msg = meta.result.value("exc_message", nlohmann::json());
          what = (type.is_string() ? type.get<std::string>() : DumpJson(type)) + ": " +
                 (msg.is_array() && msg.size() == 1 && msg[0].is_string() ? msg[0].get<std::string>() : DumpJson(msg));
        }
        return Status::Internal("task " + task_id + " " + std::string(StateName(meta.state)) + ": " + what);
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("task " + task_id + " did not finish within " +
                                      std::to_string(static_cast<int>(timeout.count())) + " s");
    }
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace pulse::jobs
