#include "jobs/backends.h"

#include "jobs/inprocess_broker.h"
#include "jobs/redis_broker.h"
#include "jobs/redis_cache.h"

namespace pulse::jobs {
namespace {

constexpr std::string_view kRedisForm = "redis://[[user]:password@]host[:port][/db]";

bool HasScheme(std::string_view url, std::string_view scheme) { return url.substr(0, scheme.size()) == scheme; }

// kInvalidArgument for what is not a redis:// URL (rediss:// named as such), else Ok.
Status CheckRedisScheme(std::string_view url, std::string_view what, std::string_view local_forms) {
  if (HasScheme(url, "rediss://")) {
    return Status::InvalidArgument(std::string(what) + ": rediss://… (Redis over TLS) is not supported; use " +
                                   std::string(kRedisForm) + " on a trusted network or through a TLS tunnel");
  }
  if (!HasScheme(url, "redis://")) {
    // The text is shown only when it has no '@' (it may hold a password).
    const std::string shown = url.empty()                               ? "an empty URL"
                              : url.find('@') == std::string_view::npos ? "'" + std::string(url) + "'"
                                                                        : "a URL of another scheme";
    return Status::InvalidArgument(std::string(what) + ": " + shown + " is not one of " + std::string(local_forms) +
                                   " or " + std::string(kRedisForm));
  }
  return Status::Ok();
}

}  // namespace

bool IsLocalBrokerUrl(std::string_view url) { return url == "inproc" || url == "memory"; }

Result<std::unique_ptr<Broker>> OpenBroker(std::string_view url, const BrokerOptions& options) {
  if (IsLocalBrokerUrl(url)) {
    if (options.shared_only) {
      return Status::InvalidArgument("broker '" + std::string(url) +
                                     "' lives in this process only, and this command's peers are other processes: "
                                     "use " +
                                     std::string(kRedisForm));
    }
    return std::unique_ptr<Broker>(std::make_unique<InProcessBroker>(options.inproc_capacity));
  }
  PULSE_RETURN_IF_ERROR(CheckRedisScheme(url, "broker", "inproc, memory"));
  PULSE_ASSIGN_OR_RETURN(auto redis, RedisBroker::Connect(std::string(url), options.redis));
  return std::unique_ptr<Broker>(std::move(redis));
}

Result<std::unique_ptr<ResultCache>> OpenCache(std::string_view url, const CacheOptions& options) {
  if (url == "memory") return std::unique_ptr<ResultCache>(std::make_unique<MemoryCache>(options.memory_entries));
  PULSE_RETURN_IF_ERROR(CheckRedisScheme(url, "cache", "memory"));
  PULSE_ASSIGN_OR_RETURN(auto redis, RedisCache::Connect(std::string(url), options.max_bytes, options.redis));
  return std::unique_ptr<ResultCache>(std::move(redis));
}

std::string CacheUrlFor(std::string_view setting, std::string_view broker_url) {
  if (!setting.empty()) return std::string(setting);
  return IsLocalBrokerUrl(broker_url) ? "memory" : std::string(broker_url);
}

std::string BackendUrlForDisplay(std::string_view url) {
  if (IsLocalBrokerUrl(url)) return std::string(url);
  return RedisUrlForDisplay(url);
}

}  // namespace pulse::jobs
