// The result backend: task states and results keyed by task id, as Celery's Redis result backend
// keeps them (the JSON document Celery stores under celery-task-meta-<id>: jobs::EncodeResultMeta).
// One of the roles a broker plays (jobs/broker.h); a client waiting for a result
// (jobs::AwaitResult) takes only this. Safe for concurrent use.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/status.h"

namespace pulse::jobs {

class ResultBackend {
 public:
  virtual ~ResultBackend() = default;
  // Stores `meta` as the task's current state, replacing the previous one; it expires after `ttl`
  // (stores without expiry may keep it longer). Waiting clients see it at once (Redis: PUBLISH).
  virtual Status StoreResult(const std::string& task_id, const std::string& meta, std::chrono::seconds ttl) = 0;
  // The task's stored state, or nullopt when none is stored (Celery: PENDING).
  virtual Result<std::optional<std::string>> GetResult(const std::string& task_id) = 0;
};

}  // namespace pulse::jobs
