// Api: pulse serve's request pipeline, independent of the HTTP library (service/http_server.h
// adapts cpp-httplib to it), so unit tests drive every path without a socket.
//
// For each request, in order:
//   1. route: the path is matched against the route templates ("/v1/jobs/{id}"); no template ->
//      404 not-found; a template without the method -> 405 method-not-allowed (Allow header);
//   2. authenticate (routes with a scope): "Authorization: Bearer <token>" checked against the
//      TokenStore -> 401 unauthorized (WWW-Authenticate: Bearer) when missing or unknown,
//      403 forbidden when the token's scope is below the route's;
//   3. rate limit: one token bucket per token name (per client address on public routes) ->
//      429 rate-limited with Retry-After;
//   4. the handler, under a catch-all: a Status error becomes its problem document
//      (service/problem.h), an exception of any type a 500 internal problem (logged with the
//      request id, never shown);
//   5. metrics: pulse_http_requests_total{route,method,code} and
//      pulse_http_request_duration_seconds{route,method} (route = the template, "unmatched" for 404s).
// Every error body is application/problem+json; every reply carries X-Request-Id.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "core/status.h"
#include "service/problem.h"
#include "service/rate_limiter.h"
#include "service/tokens.h"

namespace pulse::service {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  std::string remote_addr;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<Problem> problem;  // rendered by the Api (instance, request id) when set
};

HttpReply JsonReply(int status, const nlohmann::json& body);
HttpReply ProblemReply(Problem problem);

// What a handler sees of its request.
struct Call {
  const HttpRequest& request;
  std::map<std::string, std::string> params;  // path parameters by template name
  std::optional<StoredToken> token;           // set on authenticated routes
  std::string request_id;
  std::chrono::steady_clock::time_point deadline;
  // The last value of query parameter `name`, or nullopt.
  std::optional<std::string> Query(const std::string& name) const;
  std::optional<std::string> Header(const std::string& name) const;
  // kDeadlineExceeded once the request's time limit has passed (handlers call it between steps).
  Status CheckDeadline() const;
  std::chrono::milliseconds Remaining() const;
};

using Handler = std::function<Result<HttpReply>(Call& call)>;

struct RouteSpec {
  std::string method;          // GET, POST, DELETE
  std::string path;            // template: "/v1/jobs/{id}"
  std::optional<Scope> scope;  // nullopt: public (no token needed)
  Handler handler;
};

struct ApiOptions {
  double rate_per_second = 50;
  double rate_burst = 100;
  std::chrono::milliseconds request_timeout{30000};
  std::vector<std::string> redact;  // strings never shown in a problem's detail (lake URL, paths)
};

class Api {
 public:
  // `tokens` and `registry` must outlive the Api. Declares the request metric families.
  Api(ApiOptions options, TokenStore& tokens, metrics::Registry& registry);
  void Add(RouteSpec route);
  // Never throws.
  HttpReply Handle(const HttpRequest& request) noexcept;
  const std::vector<RouteSpec>& routes() const { return routes_; }
  // The reply for an error the HTTP layer raised itself (413 body too large, 400 bad request
  // line, ...): a problem document, counted in the metrics under route "unmatched".
  HttpReply LayerError(const HttpRequest& request, int status) noexcept;

 private:
  HttpReply Dispatch(const HttpRequest& request, std::string& route_label, const std::string& request_id);
  void Finish(const HttpRequest& request, HttpReply& reply, const std::string& route_label,
              const std::string& request_id, std::chrono::steady_clock::time_point start);

  ApiOptions options_;
  TokenStore& tokens_;
  RateLimiter limiter_;
  std::vector<RouteSpec> routes_;
  std::vector<std::vector<std::string>> segments_;  // per route, its template split at '/'
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& durations_;
};

// "/v1/jobs/{id}" matches "/v1/jobs/abc" with params {id: abc}; segments are compared whole.
bool MatchTemplate(const std::vector<std::string>& pattern, std::string_view path,
                   std::map<std::string, std::string>& params);
std::vector<std::string> SplitPath(std::string_view path);

}  // namespace pulse::service
