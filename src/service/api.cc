#include "service/api.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>

#include "core/ids.h"
#include "core/log.h"
#include "core/printable.h"
#include "core/trace.h"

namespace pulse::service {

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) < std::tolower(static_cast<unsigned char>(y));
  });
}

HttpReply JsonReply(int status, const nlohmann::json& body) {
  HttpReply r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpReply ProblemReply(Problem problem) {
  HttpReply r;
  r.status = problem.status;
  r.problem = std::move(problem);
  return r;
}

std::optional<std::string> Call::Query(const std::string& name) const {
  auto [first, last] = request.query.equal_range(name);
  if (first == last) return std::nullopt;
  return std::prev(last)->second;
}

std::optional<std::string> Call::Header(const std::string& name) const {
  auto it = request.headers.find(name);
  if (it == request.headers.end()) return std::nullopt;
  return it->second;
}

Status Call::CheckDeadline() const {
  if (std::chrono::steady_clock::now() > deadline) return Status::DeadlineExceeded("the request's time limit passed");
  return Status::Ok();
}

std::chrono::milliseconds Call::Remaining() const {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  if (!path.empty() && path[0] == '/') start = 1;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    out.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool MatchTemplate(const std::vector<std::string>& pattern, std::string_view path,
                   std::map<std::string, std::string>& params) {
  const auto parts = SplitPath(path);
  if (parts.size() != pattern.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (parts[i].empty()) return false;
      found[p.substr(1, p.size() - 2)] = parts[i];
    } else if (p != parts[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

Api::Api(ApiOptions options, TokenStore& tokens, metrics::Registry& registry)
    : options_(std::move(options)),
      tokens_(tokens),
      limiter_(options_.rate_per_second, options_.rate_burst),
      requests_(registry.AddCounter("pulse_http_requests_total", "HTTP requests answered by pulse serve",
                                    {"route", "method", "code"})),
      durations_(registry.AddHistogram("pulse_http_request_duration_seconds",
                                       "Time pulse serve took to answer HTTP requests", {"route", "method"})) {}

void Api::Add(RouteSpec route) {
  segments_.push_back(SplitPath(route.path));
  routes_.push_back(std::move(route));
}

namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The bearer token of an Authorization header, or "" when there is none or it is not Bearer.
std::string BearerToken(const HttpRequest& request) {
  auto it = request.headers.find("Authorization");
  if (it == request.headers.end()) return {};
  std::string_view v = it->second;
  if (v.size() < 7) return {};
  std::string scheme(v.substr(0, 7));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (scheme != "bearer ") return {};
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return std::string(v);
}

}  // namespace

HttpReply Api::Dispatch(const HttpRequest& request, std::string& route_label, const std::string& request_id) {
  const RouteSpec* route = nullptr;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed;
  for (size_t i = 0; i < routes_.size(); ++i) {
    std::map<std::string, std::string> p;
    if (!MatchTemplate(segments_[i], request.path, p)) continue;
    // The most specific template wins: a literal segment beats a parameter at the same place.
    if (routes_[i].method == request.method || (request.method == "HEAD" && routes_[i].method == "GET")) {
      if (!route) {
        route = &routes_[i];
        params = std::move(p);
      }
    } else {
      allowed.push_back(routes_[i].method);
    }
  }
  if (!route) {
    if (allowed.empty()) return ProblemReply(MakeProblem(404, "not-found", "no such route"));
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    HttpReply r = ProblemReply(MakeProblem(405, "method-not-allowed", "this route answers " + allow));
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  route_label = route->path;
  Call call{request, std::move(params), std::nullopt, request_id,
            std::chrono::steady_clock::now() + options_.request_timeout};
  std::string limit_key = "addr:" + request.remote_addr;
  if (route->scope) {
    const std::string token = BearerToken(request);
    if (token.empty()) {
      HttpReply r = ProblemReply(MakeProblem(401, "unauthorized",
                                             "this route needs an API token: "
                                             "Authorization: Bearer <token>"));
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    call.token = tokens_.Authenticate(token);
    if (!call.token) {
      HttpReply r = ProblemReply(MakeProblem(401, "unauthorized", "the API token is not valid"));
      r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return r;
    }
    if (static_cast<int>(call.token->scope) < static_cast<int>(*route->scope)) {
      return ProblemReply(MakeProblem(403, "forbidden",
                                      "this route needs a token with scope " + std::string(ScopeName(*route->scope)) +
                                          "; this one has " + std::string(ScopeName(call.token->scope))));
    }
    limit_key = "token:" + call.token->name;
  }
  // Probes and scrapes are never rate limited: a limited /livez would restart a healthy pod.
  if (route->scope) {
    const auto decision = limiter_.Take(limit_key, SteadySeconds());
    if (!decision.allowed) {
      HttpReply r = ProblemReply(MakeProblem(429, "rate-limited", "too many requests; retry later"));
      r.headers.emplace_back("Retry-After",
                             std::to_string(static_cast<int64_t>(std::ceil(decision.retry_after_seconds))));
      return r;
    }
  }
  Result<HttpReply> reply = Status::Internal("no reply");
  try {
    reply = route->handler(call);
  } catch (const std::exception& e) {
    log::Error("service", "handler threw",
               {{"request_id", request_id}, {"route", route->path}, {"error", LossyUtf8(e.what())}});
    return ProblemReply(MakeProblem(500, "internal", "the server failed to handle the request"));
  } catch (...) {
    log::Error("service", "handler threw a non-standard exception",
               {{"request_id", request_id}, {"route", route->path}});
    return ProblemReply(MakeProblem(500, "internal", "the server failed to handle the request"));
  }
  if (reply.ok()) return std::move(*reply);
  const Status& st = reply.status();
  Problem p = ProblemFromStatus(st, options_.redact);
  if (p.status >= 500) {
    log::Error("service", "request failed",
               {{"request_id", request_id}, {"route", route->path}, {"error", LossyUtf8(st.ToString())}});
  }
  return ProblemReply(std::move(p));
}

void Api::Finish(const HttpRequest& request, HttpReply& reply, const std::string& route_label,
                 const std::string& request_id, std::chrono::steady_clock::time_point start) {
  if (reply.problem) {
    reply.content_type = "application/problem+json";
    reply.body = ProblemJson(*reply.problem, request.path, request_id);
  }
  reply.headers.emplace_back("X-Request-Id", request_id);
  // Unknown methods are one label value, so a scanner cannot grow the series without bound.
  static const char* const kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
  std::string method = "other";
  for (const char* m : kMethods)
    if (request.method == m) method = m;
  requests_.With({route_label, method, std::to_string(reply.status)}).Inc();
  durations_.With({route_label, method})
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

HttpReply Api::Handle(const HttpRequest& request) noexcept {
  const auto start = std::chrono::steady_clock::now();
  std::string request_id, route_label = "unmatched";
  HttpReply reply;
  try {
    // The request's span continues the caller's trace (a traceparent header) or starts one; the
    // handlers' spans (enqueue, lake commits) are its children.
    const auto traceparent = request.headers.find(std::string(trace::kTraceparentHeader));
    trace::Span span = trace::Span::StartFromTraceparent(
        request.method, traceparent != request.headers.end() ? std::string_view(traceparent->second) : "",
        trace::SpanKind::kServer);
    request_id = NewUuid();
    reply = Dispatch(request, route_label, request_id);
    span.SetName(request.method + " " + route_label);
    span.SetAttribute("http.request.method", request.method);
    span.SetAttribute("http.route", route_label);
    span.SetAttribute("http.response.status_code", reply.status);
    span.SetAttribute("pulse.request_id", request_id);
    if (reply.status >= 500) span.SetError("HTTP " + std::to_string(reply.status));
    Finish(request, reply, route_label, request_id, start);
  } catch (...) {  // allocation failure and the like: still a problem document
    reply = HttpReply{};
    reply.status = 500;
    reply.content_type = "application/problem+json";
    reply.body = R"({"type":"urn:pulse:problem:internal","title":"Internal Server Error","status":500,)"
                 R"("code":"internal","detail":"the server failed to handle the request"})";
  }
  return reply;
}

HttpReply Api::LayerError(const HttpRequest& request, int status) noexcept {
  const auto start = std::chrono::steady_clock::now();
  HttpReply reply;
  try {
    const std::string request_id = NewUuid();
    switch (status) {
      case 413:
        reply = ProblemReply(MakeProblem(413, "body-too-large", "the request body exceeds the server's limit"));
        break;
      case 414: reply = ProblemReply(MakeProblem(414, "uri-too-long", "the request URI is too long")); break;
      case 404: reply = ProblemReply(MakeProblem(404, "not-found", "no such route")); break;
      case 408: reply = ProblemReply(MakeProblem(408, "timeout", "the request was not read in time")); break;
      case 405:
        reply = ProblemReply(MakeProblem(405, "method-not-allowed", "this server does not answer that method"));
        break;
      default:
        if (status >= 500) {
          reply = ProblemReply(MakeProblem(status, "internal", "the server failed to handle the request"));
        } else {
          reply = ProblemReply(MakeProblem(status, "bad-request", "the request is not valid HTTP"));
        }
    }
    Finish(request, reply, "unmatched", request_id, start);
  } catch (...) {
    reply.status = 500;
    reply.content_type = "application/problem+json";
    reply.body = R"({"type":"urn:pulse:problem:internal","title":"Internal Server Error","status":500,)"
                 R"("code":"internal","detail":"the server failed to handle the request"})";
  }
  return reply;
}

}  // namespace pulse::service
