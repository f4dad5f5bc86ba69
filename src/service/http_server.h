// HttpServer: cpp-httplib (Debian's libcpp-httplib-dev) serving an Api (service/api.h). The only
// file of Pulse that includes httplib.h.
//
// Contract:
//  - Start binds host:port (port 0: any free port) and serves on a pool of `threads` threads
//    (httplib's ThreadPool), one request per connection (keep-alive off: see http_server.cc).
//  - With tls_cert_file and tls_key_file it serves HTTPS only (httplib's SSLServer, OpenSSL);
//    a missing or unreadable file, a file that is not PEM, or a key that does not match the
//    certificate fails Start with kInvalidArgument before anything is bound. A plain-HTTP
//    request on the TLS port fails its handshake and is dropped.
//  - Bodies larger than max_body_bytes are refused with 413 before they are read; a request not
//    read within read_timeout is dropped; errors httplib raises itself (413, 400 on a malformed
//    request line, ...) get problem documents through Api::LayerError.
//  - Stop(grace) closes the listening socket (no new connections) and waits up to `grace` for the
//    requests in flight (and connections already accepted) to finish; false when some did not.
//    After a false Stop the server must not be destroyed (its threads still run): release it.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"
#include "service/api.h"

namespace httplib {
class Server;
}

namespace pulse::service {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 8;
  int64_t max_body_bytes = 16 << 20;
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::seconds keep_alive_timeout{2};
  // HTTPS when tls_cert_file is set: a PEM certificate (chain) and its PEM private key, both
  // required; loaded once at Start (a renewed certificate takes a restart).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, Api& api);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  int port() const { return port_; }
  bool Stop(std::chrono::milliseconds grace);
  int64_t requests() const { return requests_.load(); }
  int64_t in_flight() const { return in_flight_.load(); }

 private:
  HttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  std::future<void> listened_;
  int port_ = 0;
  bool stopped_ = false;
  std::atomic<int64_t> requests_{0}, in_flight_{0};
};

}  // namespace pulse::service
