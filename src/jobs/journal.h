// The journal: append-only named lists of entries that nothing consumes (the worker's execution
// log, WorkerOptions::execution_log: an audit of at-least-once delivery). One of the roles a
// broker plays (jobs/broker.h). Safe for concurrent use.
#pragma once

#include <string>

#include "core/status.h"

namespace pulse::jobs {

class Journal {
 public:
  virtual ~Journal() = default;
  // Appends `entry` to the list `list` (Redis: RPUSH). Entries keep the order of the appends.
  virtual Status Append(const std::string& list, const std::string& entry) = 0;
};

}  // namespace pulse::jobs
