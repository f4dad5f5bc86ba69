// Problem documents (RFC 9457, application/problem+json): the body of every error pulse serve
// answers. Each carries a stable machine-readable `code` (clients branch on it; the text may
// change), the HTTP status, a title per code and a detail for a person.
//
// Contract:
//  - Details never hold stack traces or internal paths: ProblemFromStatus keeps a Status's message
//    only for the 4xx codes (the caller's own input is what is wrong, and the message names it),
//    after Redact; 5xx answers say what failed in general terms and carry the request id that
//    the server's log line (with the full message) also carries.
//  - `type` is "urn:pulse:problem:<code>"; `instance` is the request path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pulse::service {

struct Problem {
  int status = 500;
  std::string code;    // stable, kebab-case: "unauthorized", "rate-limited", "invalid-body", ...
  std::string title;   // short, per code
  std::string detail;  // for a person; never an internal path or a stack trace
  nlohmann::json extra = nlohmann::json::object();  // further members (e.g. "checks", "errors")
};

// The problem's JSON (type, title, status, detail, code, instance, request_id and `extra`).
std::string ProblemJson(const Problem& problem, std::string_view instance, std::string_view request_id);

Problem MakeProblem(int status, std::string code, std::string detail);

// The problem for a failed Status from a handler: 400 invalid-argument (kInvalidArgument,
// kParseError, kOutOfRange), 404 not-found, 409 conflict (kAlreadyExists, kConflict), 403
// forbidden (kPermissionDenied), 429 resource-exhausted, 503 unavailable (kUnavailable,
// kIoError), 503 timeout (kDeadlineExceeded, kCancelled), else 500 internal. 4xx details are the
// message with `redact` strings replaced by "<redacted>"; 5xx details are generic.
Problem ProblemFromStatus(const Status& status, const std::vector<std::string>& redact = {});

// `text` with every non-empty string of `redact` replaced by "<redacted>".
std::string Redact(std::string text, const std::vector<std::string>& redact);

// The reason phrase of an HTTP status ("Not Found"), "Unknown" for others.
std::string_view ReasonPhrase(int status);

}  // namespace pulse::service
