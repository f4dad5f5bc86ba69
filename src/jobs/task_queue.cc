#include "jobs/task_queue.h"

#include <nlohmann/json.hpp>

#include "jobs/safe_json.h"

namespace pulse::jobs {

std::string DeliveryTagOf(const std::string& envelope) {
  const auto j = ParseJson(envelope, "message");
  if (!j.ok() || !j->is_object()) return "";
  const auto p = j->find("properties");
  if (p == j->end() || !p->is_object()) return "";
  const auto t = p->find("delivery_tag");
  return t != p->end() && t->is_string() ? t->get<std::string>() : "";
}

std::string MarkRedelivered(const std::string& envelope) {
  auto parsed = ParseJson(envelope, "message");
  if (!parsed.ok() || !parsed->is_object()) return envelope;  // not a Celery message: as it was
  nlohmann::json& j = *parsed;
  auto& properties = j["properties"];
  if (properties.is_null()) properties = nlohmann::json::object();
  if (!properties.is_object()) return envelope;
  auto& info = properties["delivery_info"];
  if (info.is_null()) info = nlohmann::json::object();
  if (!info.is_object()) return envelope;
  info["redelivered"] = true;
  return DumpJson(j);
}

RestoreDecision DecideRestore(const std::string& envelope, int max_deaths) {
  RestoreDecision out;
  auto parsed = ParseJson(envelope, "message");
  nlohmann::json* info = nullptr;
  if (parsed.ok() && parsed->is_object()) {
    auto& properties = (*parsed)["properties"];
    if (properties.is_null()) properties = nlohmann::json::object();
    if (properties.is_object()) {
      auto& delivery_info = properties["delivery_info"];
      if (delivery_info.is_null()) delivery_info = nlohmann::json::object();
      if (delivery_info.is_object()) info = &delivery_info;
    }
  }
  if (!info) {  // no place to count deaths in, and no worker would run it: never put back
    out.dead_letter = true;
    out.value = "a worker died while holding it, and it is not a Celery message (" +
                (parsed.ok() ? std::string("not a JSON object with object properties") : parsed.status().message()) +
                ")";
    return out;
  }
  const auto previous = info->find(kDeathsField);
  const int64_t before = previous != info->end() && previous->is_number_integer() && previous->get<int64_t>() > 0 &&
                                 previous->get<int64_t>() < (int64_t{1} << 30)
                             ? previous->get<int64_t>()
                             : 0;
  out.deaths = static_cast<int>(before + 1);
  if (max_deaths > 0 && out.deaths >= max_deaths) {
    out.dead_letter = true;
    out.value = "worker died " + std::to_string(out.deaths) + " times while running it";
    return out;
  }
  (*info)["redelivered"] = true;
  (*info)[kDeathsField] = out.deaths;
  out.value = DumpJson(*parsed);
  return out;
}

}  // namespace pulse::jobs
