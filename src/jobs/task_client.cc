#include "jobs/task_client.h"

#include <thread>

#include "core/ids.h"

namespace pulse::jobs {

Result<std::string> SubmitTask(Broker& broker, TaskMessage message) {
  if (message.id.empty()) message.id = NewUuid();
  PULSE_RETURN_IF_ERROR(broker.Publish(message.queue, EncodeMessage(message)));
  return message.id;
}

Result<nlohmann::json> AwaitResult(Broker& broker, const std::string& task_id, std::chrono::duration<double> timeout,
                                   std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    PULSE_ASSIGN_OR_RETURN(auto raw, broker.GetResult(task_id));
    if (raw) {
      PULSE_ASSIGN_OR_RETURN(auto meta, DecodeResultMeta(*raw));
      if (meta.state == TaskState::kSuccess) return std::move(meta.result);
      if (meta.state == TaskState::kFailure || meta.state == TaskState::kRevoked) {
        // Celery's failure result: {exc_type, exc_message: [message], exc_module}.
        std::string what = meta.result.dump();
        if (meta.result.is_object() && meta.result.contains("exc_type")) {
          const auto& msg = meta.result.value("exc_message", nlohmann::json());
          what = meta.result.value("exc_type", std::string()) + ": " +
                 (msg.is_array() && msg.size() == 1 && msg[0].is_string() ? msg[0].get<std::string>() : msg.dump());
        }
        return Status::Internal("task " + task_id + " " + std::string(StateName(meta.state)) + ": " + what);
      }
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return Status::Unavailable("task " + task_id + " did not finish within " +
                                 std::to_string(static_cast<int>(timeout.count())) + " s");
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace pulse::jobs
