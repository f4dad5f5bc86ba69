// Periodic schedules (like celery beat): tasks published every N seconds on a TaskQueue, with a
// lease in a LeaseStore (the broker's; Redis: SET NX PX + atomic renew) so that among any number of running schedulers
// only the lease holder publishes. Another scheduler takes over within one lease period when the holder dies. A new
// holder publishes an entry when it becomes due, counting from when it took over (it does not replay what it missed),
// so a takeover never fires a burst.
//
// Schedule file (YAML):
//   schedules:
//     - {name: nightly-forecast, task: pulse.simulate, every: 86400, queue: celery,
//        kwargs: {runs: 10000}, args: []}
// `every` is in seconds (> 0, fractions allowed); queue defaults to celery.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "jobs/lease_store.h"
#include "jobs/task_queue.h"

namespace pulse::jobs {

struct ScheduleEntry {
  std::string name, task, queue = "celery";
  nlohmann::json args = nlohmann::json::array(), kwargs = nlohmann::json::object();
  std::chrono::milliseconds every{0};
};

// kParseError naming file:line and the field for a malformed schedule.
Result<std::vector<ScheduleEntry>> ParseSchedule(std::string_view yaml, std::string_view file);

struct SchedulerStats {
  std::atomic<int64_t> published{0}, leader_ticks{0}, follower_ticks{0}, errors{0};
};

class Scheduler {
 public:
  // `queue` and `leases` (usually one broker in both roles) must outlive the scheduler.
  Scheduler(TaskQueue& queue, LeaseStore& leases, std::vector<ScheduleEntry> entries, std::string owner,
            std::chrono::milliseconds lease = std::chrono::milliseconds(2000),
            std::string lock_key = "pulse.beat.lock");
  // Runs until `stop` becomes true, ticking every lease / 4.
  void Run(const std::atomic<bool>& stop);
  const SchedulerStats& stats() const { return stats_; }

 private:
  TaskQueue& queue_;
  LeaseStore& leases_;
  std::vector<ScheduleEntry> entries_;
  std::string owner_, lock_key_;
  std::chrono::milliseconds lease_;
  SchedulerStats stats_;
};

}  // namespace pulse::jobs
