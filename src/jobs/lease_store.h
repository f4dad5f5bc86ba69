// The lease store: a lease held by one owner among many processes for a while (the periodic
// scheduler's leader lock, jobs/scheduler.h). One of the roles a broker plays (jobs/broker.h).
// Safe for concurrent use.
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace pulse::jobs {

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // True when `owner` holds `key` for the next `ttl` after the call - newly taken, or renewed
  // because it already held it; false when another owner holds it. Atomic: two owners racing for
  // a free lease never both get true.
  virtual Result<bool> AcquireLease(const std::string& key, const std::string& owner,
                                    std::chrono::milliseconds ttl) = 0;
};

}  // namespace pulse::jobs
