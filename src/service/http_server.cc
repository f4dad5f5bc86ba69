#include "service/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <utility>

#include "core/log.h"

namespace pulse::service {
namespace {

HttpRequest ToRequest(const httplib::Request& req) {
  HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) r.headers[k] = v;
  r.body = req.body;
  r.remote_addr = req.remote_addr;
  return r;
}

void ToResponse(const HttpReply& reply, httplib::Response& res) {
  res.status = reply.status;
  for (const auto& [k, v] : reply.headers) res.set_header(k, v);
  res.set_content(reply.body, reply.content_type);
}

// httplib::SSLServer for the TLS options (checked first, so that each failure says which file).
Result<std::unique_ptr<httplib::Server>> NewTlsServer(const HttpServerOptions& options) {
  if (options.tls_cert_file.empty() || options.tls_key_file.empty())
    return Status::InvalidArgument("HTTPS needs both serve.tls_cert_file and serve.tls_key_file");
  const std::pair<const char*, const std::string*> files[] = {{"certificate", &options.tls_cert_file},
                                                              {"key", &options.tls_key_file}};
  for (const auto& [what, path] : files) {
    if (!std::ifstream(*path, std::ios::binary).good())
      return Status::InvalidArgument(std::string("cannot read the TLS ") + what + " file '" + *path + "'");
  }
  auto server = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(), options.tls_key_file.c_str());
  if (!server->is_valid()) {
    return Status::InvalidArgument("TLS certificate '" + options.tls_cert_file + "' and key '" + options.tls_key_file +
                                   "' could not be loaded: both must be PEM, and the key the certificate's own");
  }
  return std::unique_ptr<httplib::Server>(std::move(server));
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, Api& api) {
  std::unique_ptr<HttpServer> self(new HttpServer());
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    self->server_ = std::make_unique<httplib::Server>();
  } else {
    PULSE_ASSIGN_OR_RETURN(self->server_, NewTlsServer(options));
  }
  httplib::Server& svr = *self->server_;
  const size_t threads = static_cast<size_t>(std::max(1, options.threads));
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(static_cast<size_t>(options.max_body_bytes));
  const auto read_s = options.read_timeout.count() / 1000, read_us = (options.read_timeout.count() % 1000) * 1000;
  svr.set_read_timeout(read_s, read_us);
  svr.set_write_timeout(read_s, read_us);
  svr.set_keep_alive_timeout(options.keep_alive_timeout.count());
  // One request per connection: httplib 0.11 leaves a body it did not read (a GET or OPTIONS
  // sent with one, a request refused before its body) on a kept-alive connection, where it
  // would be parsed as the next request (found by schemathesis). Closing after each reply costs a
  // connection set-up per request and rules that out. Re-checked against 0.11.4's source when
  // load-testing (bench/serve_bench.py): keep-alive cannot be turned on safely from outside the
  // library. A handler can end a connection only by failing its reply's write, which HEAD replies
  // never do, so a HEAD with a body stays open with the body unread; and each request reads
  // through its own 4 KiB buffer that is dropped with it, so a client pipelining a second request
  // would lose it.
  svr.set_keep_alive_max_count(1);
  HttpServer* raw = self.get();
  auto handler = [raw, &api](const httplib::Request& req, httplib::Response& res) {
    ++raw->in_flight_;
    ++raw->requests_;
    ToResponse(api.Handle(ToRequest(req)), res);
    --raw->in_flight_;
  };
  // Every path, control characters included (std::regex's '.' stops at a line break): the Api
  // routes and answers 404 itself.
  const std::string any = "[\\s\\S]*";
  svr.Get(any, handler);
  svr.Post(any, handler);
  svr.Put(any, handler);
  svr.Patch(any, handler);
  svr.Delete(any, handler);
  svr.Options(any, handler);
  // Errors httplib answers itself (payload too large, malformed request): problem documents.
  svr.set_error_handler([&api](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // one of ours
    HttpRequest r;
    r.method = req.method;
    r.path = req.path;
    // httplib answers 400 to methods it has no handler kind for (TRACE, CONNECT): say 405.
    static const char* const kServed[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    const bool served =
        std::any_of(std::begin(kServed), std::end(kServed), [&](const char* m) { return req.method == m; });
    const int status = res.status == 400 && !req.path.empty() && !served ? 405 : res.status;
    ToResponse(api.LayerError(r, status), res);
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
    res.status = 500;
    res.set_content(R"({"type":"urn:pulse:problem:internal","title":"Internal Server Error","status":500,)"
                    R"("code":"internal","detail":"the server failed to handle the request"})",
                    "application/problem+json");
  });
  int port = options.port;
  if (port == 0) {
    port = svr.bind_to_any_port(options.host);
    if (port < 0) return Status::Unavailable("cannot bind " + options.host + " (any port)");
  } else if (!svr.bind_to_port(options.host, port)) {
    return Status::Unavailable("cannot bind " + options.host + ":" + std::to_string(port) +
                               " (in use, or not an address of this machine)");
  }
  self->port_ = port;
  std::packaged_task<void()> listen([&svr] { svr.listen_after_bind(); });
  self->listened_ = listen.get_future();
  self->listener_ = std::thread(std::move(listen));
  // stop() before listen started would be lost (httplib ignores it while not running).
  for (int i = 0; i < 500 && !svr.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return self;
}

bool HttpServer::Stop(std::chrono::milliseconds grace) {
  if (stopped_ || !listener_.joinable()) return true;
  stopped_ = true;
  server_->stop();  // closes the listening socket; listen returns once the pool has drained
  if (listened_.wait_for(grace) != std::future_status::ready) {
    log::Warn("service", "shutdown grace period ended with requests in flight",
              {{"in_flight", in_flight_.load()}, {"grace_ms", grace.count()}});
    listener_.detach();
    return false;
  }
  listener_.join();
  return true;
}

HttpServer::~HttpServer() {
  if (!stopped_) Stop(std::chrono::milliseconds(5000));
  if (listener_.joinable()) listener_.join();
}

}  // namespace pulse::service
