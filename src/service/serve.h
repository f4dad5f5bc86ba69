// pulse serve: the HTTP/1.1 JSON API over the lake and the job system (src/service/README.md).
//
// RunServe opens what the settings name - the lake (lake.*, s3.*), the broker (jobs.broker:
// in-process with a worker in this process, or redis:// with `pulse worker` processes), the
// tokens file (serve.tokens_file) - and serves until `stop` becomes true (the CLI sets it on
// SIGTERM / SIGINT). Then it stops accepting connections and gives in-flight requests up to
// serve.shutdown_grace_ms to finish.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "core/config_sections.h"
#include "core/status.h"

namespace pulse::service {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 8;
  int64_t max_body_bytes = 16 << 20;
  std::chrono::milliseconds request_timeout{30000};
  double rate_per_second = 50;
  double rate_burst = 100;
  std::string tokens_file = "pulse-tokens.json";
  std::chrono::milliseconds shutdown_grace{10000};
  std::chrono::milliseconds probe_timeout{2000};
  std::string tls_cert_file;  // both set: HTTPS (see HttpServerOptions); both empty: plain HTTP
  std::string tls_key_file;
  bool tls() const { return !tls_cert_file.empty(); }
};

// The serve.* section as ServeOptions (the one place that maps it).
ServeOptions ServeOptionsFrom(const ServeSettings& settings);

struct ServeSummary {
  int port = 0;
  int64_t requests = 0;
  bool drained = true;  // false: some requests were still running when the grace period ended
};

// `on_listening(port)` is called once the socket is bound (port 0 resolved). Blocks until `stop`.
// Errors: a bad setting or an unreachable Redis broker at start (kInvalidArgument / kUnavailable),
// an address that cannot be bound (kUnavailable), a malformed tokens file, a TLS certificate or
// key that is missing, unreadable or not a matching PEM pair (kInvalidArgument).
Result<ServeSummary> RunServe(const Settings& settings, const ServeOptions& options, const std::string& exe_path,
                              const std::atomic<bool>& stop, const std::function<void(int port)>& on_listening);

}  // namespace pulse::service
