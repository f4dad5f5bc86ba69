// Opening the jobs backends by URL: one factory per kind of backend, so no caller picks a backend
// class itself (the CLI names none). DESIGN.md's `broker: inproc | redis://…` and
// `cache: memory | redis://…`.
//
//   OpenBroker("inproc") or ("memory")                  InProcessBroker: queues, results, leases
//                                                       and journal in this process (embedded mode)
//   OpenBroker("redis://[[user]:password@]host[:port][/db]")   RedisBroker: kombu's layout, shared
//                                                       with Python Celery and other Pulse processes
//   OpenCache("memory")                                 MemoryCache: this process's LRU
//   OpenCache("redis://…")                              RedisCache: shared, TTL and optional byte bound
//
// Errors: kInvalidArgument for an empty URL, an unknown scheme (the message lists the accepted
// forms), rediss:// (TLS is not supported: said so), a malformed redis URL, an in-process broker
// where the options ask for one other processes share, and a Redis server that wants a password
// the URL lacks or is not Redis; kUnavailable when the server cannot be reached. Opening a Redis
// backend connects and PINGs once, so a bad URL fails at start, not on the first task.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "jobs/broker.h"
#include "jobs/redis_client.h"
#include "jobs/result_cache.h"

namespace pulse::jobs {

struct BrokerOptions {
  // Refuse brokers that live in this process: for commands whose peers are other processes
  // (pulse worker, beat, task send), which would otherwise wait on queues nobody else can reach.
  bool shared_only = false;
  size_t inproc_capacity = 100000;  // messages per in-process queue
  RedisOptions redis;
};

Result<std::unique_ptr<Broker>> OpenBroker(std::string_view url, const BrokerOptions& options = {});

struct CacheOptions {
  size_t memory_entries = 10000;  // MemoryCache: most recently used entries kept
  int64_t max_bytes = 0;          // RedisCache: bound on the cached values' bytes (0: TTL only)
  RedisOptions redis;
};

Result<std::unique_ptr<ResultCache>> OpenCache(std::string_view url, const CacheOptions& options = {});

// True for the URLs of an in-process broker ("inproc", "memory").
bool IsLocalBrokerUrl(std::string_view url);
// The cache URL for the config value jobs.cache (`setting`): the setting itself, or when it is
// empty the broker's own store - "memory" for an in-process broker, else the broker's URL.
std::string CacheUrlFor(std::string_view setting, std::string_view broker_url);
// A broker or cache URL for banners and logs: "inproc" / "memory" as they are, a Redis URL without
// its user and password.
std::string BackendUrlForDisplay(std::string_view url);

}  // namespace pulse::jobs
