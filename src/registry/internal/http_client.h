// A small blocking HTTP client over libcurl (what the lake's S3 filesystem already links) for the
// MLflow backend: one request at a time per thread, a reused handle per thread, a time limit.
#pragma once

#include <string>

#include "core/status.h"

namespace pulse::registry::internal {

struct HttpResponse {
  long status = 0;
  std::string body;
};

// Sends `method` to `url` with `body` (when non-empty or for PUT/POST) of `content_type`.
// kUnavailable naming the URL when the server cannot be reached or does not answer within
// timeout_ms; any HTTP status is a successful result (the caller maps it).
Result<HttpResponse> HttpRequest(const std::string& method, const std::string& url, const std::string& body,
                                 const std::string& content_type, long timeout_ms = 30000);

// Percent-encodes everything but RFC 3986 unreserved characters (and '/' when keep_slash).
std::string UrlEncode(const std::string& text, bool keep_slash = false);

}  // namespace pulse::registry::internal
