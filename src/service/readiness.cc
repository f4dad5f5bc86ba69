#include "service/readiness.h"

#include <thread>

namespace pulse::service {

CheckResult BoundedCheck::Run(std::chrono::milliseconds bound) {
  const auto start = std::chrono::steady_clock::now();
  std::shared_future<Status> future;
  {
    std::lock_guard lock(mu_);
    if (inflight_.valid() && inflight_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      future = inflight_;  // the last probe still runs: wait for it instead of starting another
    } else {
      std::packaged_task<Status()> task([probe = probe_]() -> Status {
        try {
          return probe();
        } catch (...) {
          return Status::Internal("the probe failed");
        }
      });
      future = task.get_future().share();
      inflight_ = future;
      std::thread(std::move(task)).detach();
    }
  }
  CheckResult r;
  r.name = name_;
  if (future.wait_for(bound) != std::future_status::ready) {
    r.detail = "no answer within " + std::to_string(bound.count()) + " ms";
  } else {
    const Status& st = future.get();
    r.ok = st.ok();
    r.detail = st.ok() ? "ok" : std::string(StatusCodeName(st.code()));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::vector<CheckResult> RunChecks(const std::vector<std::shared_ptr<BoundedCheck>>& checks,
                                   std::chrono::milliseconds bound) {
  std::vector<CheckResult> results(checks.size());
  std::vector<std::thread> threads;
  threads.reserve(checks.size());
  for (size_t i = 0; i < checks.size(); ++i) threads.emplace_back([&, i] { results[i] = checks[i]->Run(bound); });
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace pulse::service
