// Readiness checks of pulse serve's /readyz: each dependency it needs (the lake's store, the
// broker when it is Redis) must answer within a bound.
//
// Contract: a BoundedCheck runs its probe on a thread of its own and waits at most the bound;
// a probe still running from an earlier request is waited on again rather than started twice, so a
// hung dependency costs one thread, not one per probe request. The result names the check, says
// whether it passed and, when it failed, why (a generic reason: no URL, no path).
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace pulse::service {

struct CheckResult {
  std::string name;
  bool ok = false;
  std::string detail;  // "ok", or why it failed
  double seconds = 0;
};

class BoundedCheck {
 public:
  BoundedCheck(std::string name, std::function<Status()> probe) : name_(std::move(name)), probe_(std::move(probe)) {}
  CheckResult Run(std::chrono::milliseconds bound);
  const std::string& name() const { return name_; }

 private:
  const std::string name_;
  const std::function<Status()> probe_;
  std::mutex mu_;
  std::shared_future<Status> inflight_;
};

// Runs every check at once, each within `bound`.
std::vector<CheckResult> RunChecks(const std::vector<std::shared_ptr<BoundedCheck>>& checks,
                                   std::chrono::milliseconds bound);

}  // namespace pulse::service
