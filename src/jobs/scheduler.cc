#include "jobs/scheduler.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <optional>
#include <thread>
#include <utility>

#include "core/ids.h"
#include "core/time.h"
#include "jobs/celery_protocol.h"
#include "jobs/safe_json.h"

namespace pulse::jobs {
namespace {

// Most values (scalars, lists and maps, counted as expanded) in one entry's args and kwargs. YAML
// aliases share nodes, so a few lines of anchors can stand for 10^10 values ("billion laughs"):
// expanding them unbounded took 12 GB and never finished.
constexpr int64_t kMaxScheduleValues = 100000;

// Deepest args/kwargs: the message adds two levels ([args, kwargs, embed]) and workers refuse
// messages deeper than kMaxJsonDepth.
constexpr size_t kMaxScheduleDepth = kMaxJsonDepth - 2;

// The value as JSON; kParseError (without a place: the caller adds it) once `budget` runs out or
// deeper than kMaxScheduleDepth, so neither the expansion nor the recursion is unbounded.
Result<nlohmann::json> ToJson(const YAML::Node& node, int64_t& budget, size_t depth = 0) {
  if (--budget < 0) {
    return Status::ParseError("'args'/'kwargs' hold more than " + std::to_string(kMaxScheduleValues) +
                              " values (aliases counted as expanded)");
  }
  if (depth > kMaxScheduleDepth)
    return Status::ParseError("'args'/'kwargs' nest deeper than " + std::to_string(kMaxScheduleDepth) + " levels");
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) {
      PULSE_ASSIGN_OR_RETURN(nlohmann::json value, ToJson(item, budget, depth + 1));
      out.push_back(std::move(value));
    }
    return out;
  }
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : node) {
      PULSE_ASSIGN_OR_RETURN(nlohmann::json value, ToJson(kv.second, budget, depth + 1));
      out[kv.first.Scalar()] = std::move(value);
    }
    return out;
  }
  if (!node.IsScalar()) return nlohmann::json();
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return nlohmann::json(s);  // quoted: a string
  if (s == "true" || s == "false") return nlohmann::json(s == "true");
  char* end = nullptr;
  const long long i = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && *end == 0) return nlohmann::json(i);
  const double d = std::strtod(s.c_str(), &end);
  if (!s.empty() && *end == 0) return nlohmann::json(d);
  if (s == "null" || s == "~") return nlohmann::json();
  return nlohmann::json(s);
}

Result<std::vector<ScheduleEntry>> ParseEntries(std::string_view yaml, std::string_view file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::ParseError(std::string(file) + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap() || !root["schedules"] || !root["schedules"].IsSequence())
    return Status::ParseError(std::string(file) + ": a schedule file is a map with a 'schedules' list");
  std::vector<ScheduleEntry> out;
  for (const auto& item : root["schedules"]) {
    const std::string where = std::string(file) + ":" + std::to_string(item.Mark().line + 1);
    if (!item.IsMap()) return Status::ParseError(where + ": an entry is a map with name, task, every");
    ScheduleEntry e;
    for (const char* key : {"name", "task"}) {
      if (!item[key] || !item[key].IsScalar() || item[key].Scalar().empty())
        return Status::ParseError(where + ": missing '" + key + "'");
    }
    e.name = item["name"].Scalar(), e.task = item["task"].Scalar();
    for (const auto& other : out)
      if (other.name == e.name) return Status::ParseError(where + ": schedule '" + e.name + "' is defined twice");
    double every = 0;
    try {
      every = item["every"].as<double>();
    } catch (const YAML::Exception&) {
      return Status::ParseError(where + ": 'every' needs a number of seconds");
    }
    if (!(every > 0) || !std::isfinite(every) || every > 1e9)
      return Status::ParseError(where + ": 'every' must be > 0 and at most 1e9 seconds");
    e.every = std::chrono::milliseconds(static_cast<int64_t>(std::llround(every * 1000)));
    if (e.every.count() < 1) return Status::ParseError(where + ": 'every' must be at least 1 ms");
    if (item["queue"]) {
      if (!item["queue"].IsScalar() || item["queue"].Scalar().empty())
        return Status::ParseError(where + ": 'queue' must be a queue name");
      e.queue = item["queue"].Scalar();
    }
    int64_t budget = kMaxScheduleValues;
    for (auto [key, target] : {std::pair{"args", &e.args}, std::pair{"kwargs", &e.kwargs}}) {
      if (!item[key]) continue;
      auto value = ToJson(item[key], budget);
      if (!value.ok()) return Status::ParseError(where + ": " + value.status().message());
      *target = std::move(*value);
    }
    if (!e.args.is_array()) return Status::ParseError(where + ": 'args' must be a list");
    if (!e.kwargs.is_object()) return Status::ParseError(where + ": 'kwargs' must be a map");
    if (JsonValueDepth(e.args, kMaxJsonDepth - 2) > kMaxJsonDepth - 2 ||
        JsonValueDepth(e.kwargs, kMaxJsonDepth - 2) > kMaxJsonDepth - 2) {
      return Status::ParseError(where + ": 'args'/'kwargs' nest deeper than " + std::to_string(kMaxJsonDepth - 2) +
                                " levels");
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Result<std::vector<ScheduleEntry>> ParseSchedule(std::string_view yaml, std::string_view file) {
  try {  // yaml-cpp conversions and nlohmann never escape as exceptions
    return ParseEntries(yaml, file);
  } catch (const std::exception& e) {
    return Status::ParseError(std::string(file) + ": " + e.what());
  }
}

Scheduler::Scheduler(TaskQueue& queue, LeaseStore& leases, std::vector<ScheduleEntry> entries, std::string owner,
                     std::chrono::milliseconds lease, std::string lock_key)
    : queue_(queue),
      leases_(leases),
      entries_(std::move(entries)),
      owner_(std::move(owner)),
      lock_key_(std::move(lock_key)),
      lease_(lease),
      entry_stats_(std::make_unique<ScheduleStats[]>(entries_.size())) {}

void Scheduler::ExportMetrics(metrics::Registry& registry) {
  auto read = [](const std::atomic<int64_t>& v) {
    return [&v]() -> std::optional<double> { return static_cast<double>(v.load()); };
  };
  auto& published = registry.AddCounter(
      "pulse_beat_published_total", "Tasks published by this scheduler, by schedule and task.", {"schedule", "task"});
  auto& errors = registry.AddCounter("pulse_beat_publish_errors_total",
                                     "Publishes that failed (the broker refused or was unreachable), by schedule.",
                                     {"schedule", "task"});
  auto& last = registry.AddGauge("pulse_beat_last_published_timestamp_seconds",
                                 "Unix time of the schedule's latest publish by this scheduler.", {"schedule"});
  auto& every = registry.AddGauge("pulse_beat_schedule_interval_seconds", "The schedule's period.", {"schedule"});
  for (size_t i = 0; i < entries_.size(); ++i) {
    const ScheduleEntry& e = entries_[i];
    const ScheduleStats& s = entry_stats_[i];
    published.Bind({e.name, e.task}, read(s.published));
    errors.Bind({e.name, e.task}, read(s.errors));
    last.Bind({e.name}, [&s]() -> std::optional<double> {
      const int64_t micros = s.last_published_micros.load();
      if (micros == 0) return std::nullopt;
      return static_cast<double>(micros) / 1e6;
    });
    every.Bind({e.name}, [seconds = std::chrono::duration<double>(e.every).count()]() -> std::optional<double> {
      return seconds;
    });
  }
  registry.AddGauge("pulse_beat_leader", "1 while this scheduler holds the leader lease (only the leader publishes).")
      .Bind({}, [this]() -> std::optional<double> { return stats_.leading.load() ? 1 : 0; });
  registry.AddCounter("pulse_beat_lease_errors_total", "Lease calls that failed (the broker was unreachable).")
      .Bind({}, read(lease_errors_));
}

void Scheduler::Run(const std::atomic<bool>& stop) {
  using Clock = std::chrono::steady_clock;
  const auto tick = std::max(std::chrono::milliseconds(1), lease_ / 4);
  std::vector<Clock::time_point> due(entries_.size());
  bool leading = false;
  while (!stop) {
    auto lease = leases_.AcquireLease(lock_key_, owner_, lease_);
    const bool now_leading = lease.ok() && *lease;
    if (!lease.ok()) {
      ++stats_.errors;
      ++lease_errors_;
    }
    const auto now = Clock::now();
    if (now_leading && !leading)  // newly leading: each entry is due one period from now
      for (size_t i = 0; i < entries_.size(); ++i) due[i] = now + entries_[i].every;
    leading = now_leading;
    stats_.leading = leading;
    if (leading) {
      ++stats_.leader_ticks;
      for (size_t i = 0; i < entries_.size(); ++i) {
        if (now < due[i]) continue;
        TaskMessage m;
        m.task = entries_[i].task, m.id = NewUuid(), m.queue = entries_[i].queue;
        m.args = entries_[i].args, m.kwargs = entries_[i].kwargs;
        ScheduleStats& entry = entry_stats_[i];
        if (queue_.Publish(m.queue, EncodeMessage(m)).ok()) {
          ++stats_.published;
          ++entry.published;
          entry.last_published_micros = time::NowMicros();
        } else {
          ++stats_.errors;
          ++entry.errors;
        }
        while (due[i] <= now) due[i] += entries_[i].every;  // never a burst after a pause
      }
    } else {
      ++stats_.follower_ticks;
    }
    std::this_thread::sleep_for(tick);
  }
  stats_.leading = false;  // stopped: it no longer publishes (the lease runs out on its own)
}

}  // namespace pulse::jobs
