// A minimal HTTP endpoint for Prometheus scraping: GET /metrics answers with the registry's text
// (metrics::Registry::Render, core/metrics.h: the Prometheus text exposition format, version
// 0.0.4); anything else is 404.
// One background thread, loopback or any address, closes each connection after the reply.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/metrics.h"
#include "core/status.h"

namespace pulse {

class MetricsServer {
 public:
  // Binds `host:port` (port 0: any free port) and starts serving `registry`, which must outlive
  // the server. kInvalidArgument for a host that is not an IPv4 address, kUnavailable when the
  // address cannot be bound.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& host, int port,
                                                      const metrics::Registry& registry);
  ~MetricsServer();
  int port() const { return port_; }

 private:
  MetricsServer(int fd, int port, std::function<std::string()> render);
  void Serve();

  int fd_;
  int port_;
  std::function<std::string()> render_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pulse
