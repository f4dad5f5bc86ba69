// The client side of the job system: publish a task on a TaskQueue and wait for its result in a
// ResultBackend (a broker plays both roles: in-process or Redis), as Celery's send_task /
// AsyncResult.get do.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "jobs/celery_protocol.h"
#include "jobs/result_backend.h"
#include "jobs/safe_json.h"
#include "jobs/task_queue.h"

namespace pulse::jobs {

// Publishes `message` (a fresh id when empty) on message.queue; returns the task id.
// kInvalidArgument when args is not an array, kwargs not an object, or either nests deeper than
// workers accept (kMaxJsonDepth, jobs/safe_json.h).
Result<std::string> SubmitTask(TaskQueue& queue, TaskMessage message);

// Polls the result backend until the task is SUCCESS (its result), FAILURE or REVOKED (an error
// carrying the task's exception type and message), or `timeout` passes (kDeadlineExceeded). PENDING,
// STARTED and RETRY keep waiting. kInvalidArgument for a timeout outside 0..1e9 seconds (NaN too).
Result<nlohmann::json> AwaitResult(ResultBackend& results, const std::string& task_id,
                                   std::chrono::duration<double> timeout,
                                   std::chrono::milliseconds poll = std::chrono::milliseconds(10));

}  // namespace pulse::jobs
