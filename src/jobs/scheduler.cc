#include "jobs/scheduler.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <thread>
#include <utility>

#include "core/ids.h"
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
      lease_(lease) {}

void Scheduler::Run(const std::atomic<bool>& stop) {
  using Clock = std::chrono::steady_clock;
  const auto tick = std::max(std::chrono::milliseconds(1), lease_ / 4);
  std::vector<Clock::time_point> due(entries_.size());
  bool leading = false;
  while (!stop) {
    auto lease = leases_.AcquireLease(lock_key_, owner_, lease_);
    const bool now_leading = lease.ok() && *lease;
    if (!lease.ok()) ++stats_.errors;
    const auto now = Clock::now();
    if (now_leading && !leading)  // newly leading: each entry is due one period from now
      for (size_t i = 0; i < entries_.size(); ++i) due[i] = now + entries_[i].every;
    leading = now_leading;
    if (leading) {
      ++stats_.leader_ticks;
      for (size_t i = 0; i < entries_.size(); ++i) {
        if (now < due[i]) continue;
        TaskMessage m;
        m.task = entries_[i].task, m.id = NewUuid(), m.queue = entries_[i].queue;
        m.args = entries_[i].args, m.kwargs = entries_[i].kwargs;
        if (queue_.Publish(m.queue, EncodeMessage(m)).ok()) {
          ++stats_.published;
        } else {
          ++stats_.errors;
        }
        while (due[i] <= now) due[i] += entries_[i].every;  // never a burst after a pause
      }
    } else {
      ++stats_.follower_ticks;
    }
    std::this_thread::sleep_for(tick);
  }
}

}  // namespace pulse::jobs
