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
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
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
  std::atomic<bool> leading{false};  // held the lease at the latest tick
};

// What each schedule did (one per entry, in the schedule's order).
struct ScheduleStats {
  std::atomic<int64_t> published{0}, errors{0};
  std::atomic<int64_t> last_published_micros{0};  // Unix time of the latest publish; 0: none yet
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
  const ScheduleStats& schedule_stats(size_t entry) const { return entry_stats_[entry]; }
  // The scheduler's metrics in `registry` (which must not outlive the scheduler), read at scrape time:
  //   pulse_beat_published_total{schedule,task}, pulse_beat_publish_errors_total{schedule,task},
  //   pulse_beat_last_published_timestamp_seconds{schedule} (absent until the first publish),
  //   pulse_beat_schedule_interval_seconds{schedule}, pulse_beat_leader (1 while this process
  //   holds the lease), pulse_beat_lease_errors_total (lease calls that failed: broker unreachable).
  void ExportMetrics(metrics::Registry& registry);

 private:
  TaskQueue& queue_;
  LeaseStore& leases_;
  std::vector<ScheduleEntry> entries_;
  std::string owner_, lock_key_;
  std::chrono::milliseconds lease_;
  SchedulerStats stats_;
  std::unique_ptr<ScheduleStats[]> entry_stats_;
  std::atomic<int64_t> lease_errors_{0};
};

}  // namespace pulse::jobs
