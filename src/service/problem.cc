#include "service/problem.h"

#include "core/printable.h"

namespace pulse::service {

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

Problem MakeProblem(int status, std::string code, std::string detail) {
  Problem p;
  p.status = status;
  p.title = std::string(ReasonPhrase(status));
  p.code = std::move(code);
  p.detail = std::move(detail);
  return p;
}

std::string Redact(std::string text, const std::vector<std::string>& redact) {
  for (const auto& secret : redact) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 10))
      text.replace(at, secret.size(), "<redacted>");
  }
  return text;
}

Problem ProblemFromStatus(const Status& status, const std::vector<std::string>& redact) {
  auto client = [&](int http, const char* code) { return MakeProblem(http, code, Redact(status.message(), redact)); };
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kParseError:
    case StatusCode::kOutOfRange: return client(400, "invalid-argument");
    case StatusCode::kNotFound: return client(404, "not-found");
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict: return client(409, "conflict");
    case StatusCode::kPermissionDenied: return client(403, "forbidden");
    case StatusCode::kResourceExhausted: return client(429, "resource-exhausted");
    case StatusCode::kUnavailable:
    case StatusCode::kIoError:
      return MakeProblem(503, "unavailable", "a service this request needs (the lake or the broker) did not answer");
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kCancelled: return MakeProblem(503, "timeout", "the request did not finish within its time limit");
    default: return MakeProblem(500, "internal", "the server failed to handle the request");
  }
}

std::string ProblemJson(const Problem& problem, std::string_view instance, std::string_view request_id) {
  nlohmann::json doc = problem.extra.is_object() ? problem.extra : nlohmann::json::object();
  doc["type"] = "urn:pulse:problem:" + problem.code;
  doc["title"] = problem.title;
  doc["status"] = problem.status;
  doc["detail"] = LossyUtf8(problem.detail);
  doc["code"] = problem.code;
  doc["instance"] = LossyUtf8(instance);
  if (!request_id.empty()) doc["request_id"] = std::string(request_id);
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pulse::service
