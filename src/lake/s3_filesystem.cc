// S3-compatible FileSystem over libcurl with hand-rolled SigV4 signing (lake/s3_signer.h).
// One reusable curl handle per thread keeps connections alive; transient failures (connection
// errors, 5xx, 429) are retried with exponential backoff; 4xx answers are final.
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "core/hash.h"
#include "core/time.h"
#include "lake/filesystem.h"
#include "lake/internal/object_size.h"
#include "lake/internal/s3_signer.h"
#include "lake/internal/s3_xml.h"

namespace pulse::lake {
namespace {

struct HttpResponse {
  long status = 0;
  int64_t content_length = -1;  // HEAD: the object's size
  int64_t mtime_s = -1;         // HEAD: Last-Modified, seconds since the epoch
  std::string body;
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  bool over_limit = false;  // a 2xx body passed the request's max_body: the transfer was stopped
};

// Where a response body goes: appended to `resp->body`; a 2xx body longer than `max_body` (when
// >= 0) stops the transfer (curl fails it with CURLE_WRITE_ERROR). Error bodies are short XML.
struct BodySink {
  HttpResponse* resp;
  CURL* curl;
  int64_t max_body;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  if (sink->max_body >= 0 && static_cast<int64_t>(sink->resp->body.size() + size * n) > sink->max_body) {
    long status = 0;
    curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      sink->resp->over_limit = true;
      return 0;
    }
  }
  sink->resp->body.append(data, size * n);
  return size * n;
}

struct ReadState {
  std::string_view data;
  size_t offset = 0;
};

size_t ReadBody(char* out, size_t size, size_t n, void* user) {
  auto* st = static_cast<ReadState*>(user);
  size_t len = std::min(size * n, st->data.size() - st->offset);
  std::memcpy(out, st->data.data() + st->offset, len);
  st->offset += len;
  return len;
}

std::string AmzDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

using s3xml::Tag;

class S3Client {
 public:
  explicit S3Client(S3Options options) : options_(std::move(options)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    std::string ep = options_.endpoint.empty() ? "https://s3." + options_.region + ".amazonaws.com" : options_.endpoint;
    while (!ep.empty() && ep.back() == '/') ep.pop_back();
    auto scheme = ep.find("://");
    scheme_ = scheme == std::string::npos ? "https" : ep.substr(0, scheme);
    host_ = scheme == std::string::npos ? ep : ep.substr(scheme + 3);
  }

  // One request with retries. `key` is the full object key (may be empty for bucket-level calls).
  // max_body >= 0: a 2xx body longer than that is not read (HttpResponse::over_limit; not retried).
  HttpResponse Request(std::string_view method, const std::string& bucket, std::string_view key,
                       const std::vector<std::pair<std::string, std::string>>& query, std::string_view body,
                       const std::vector<std::pair<std::string, std::string>>& extra_headers,
                       int64_t max_body = -1) const {
    HttpResponse resp;
    for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50 << std::min(attempt, 6)));
      resp = Once(method, bucket, key, query, body, extra_headers, max_body);
      if (resp.over_limit) break;
      bool transient = resp.curl != CURLE_OK || resp.status >= 500 || resp.status == 429;
      if (!transient) break;
    }
    return resp;
  }

 private:
  HttpResponse Once(std::string_view method, const std::string& bucket, std::string_view key,
                    const std::vector<std::pair<std::string, std::string>>& query, std::string_view body,
                    const std::vector<std::pair<std::string, std::string>>& extra_headers, int64_t max_body) const {
    thread_local std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(), curl_easy_cleanup);
    CURL* curl = handle.get();
    curl_easy_reset(curl);
    std::string host = options_.path_style ? host_ : bucket + "." + host_;
    std::string path = options_.path_style ? "/" + s3::UriEncode(bucket, false) + "/" + s3::UriEncode(key, true)
                                           : "/" + s3::UriEncode(key, true);
    if (key.empty() && options_.path_style) path = "/" + s3::UriEncode(bucket, false);
    std::string canonical_query = s3::CanonicalQuery(query);
    std::string url = scheme_ + "://" + host + path + (canonical_query.empty() ? "" : "?" + canonical_query);
    const s3::SigningCredentials credentials{options_.region, options_.access_key, options_.secret_key,
                                             options_.session_token};
    auto signed_req = s3::SignV4(method, host, path, query, extra_headers, Sha256Hex(body), AmzDate(), credentials);
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : signed_req.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
    headers = curl_slist_append(headers, "Expect:");
    HttpResponse resp;
    BodySink sink{&resp, curl, max_body};
    ReadState upload{body, 0};
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (method == "PUT") {
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
      curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
      curl_easy_setopt(curl, CURLOPT_FILETIME, 1L);
    } else if (method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, std::string(method).c_str());
    }
    resp.curl = curl_easy_perform(curl);
    if (resp.curl != CURLE_OK) resp.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(resp.curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
    if (method == "HEAD") {
      curl_off_t length = -1, filetime = -1;
      curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
      curl_easy_getinfo(curl, CURLINFO_FILETIME_T, &filetime);
      resp.content_length = length;
      resp.mtime_s = filetime;
    }
    curl_slist_free_all(headers);
    return resp;
  }

  S3Options options_;
  std::string scheme_, host_;
};

Status ErrorFrom(const HttpResponse& r, std::string_view op, const std::string& target) {
  if (r.curl != CURLE_OK) return Status::Unavailable(std::string(op) + " " + target + ": " + r.curl_error);
  std::string code = Tag(r.body, "Code").value_or("");
  std::string message = Tag(r.body, "Message").value_or("");
  std::string text = std::string(op) + " " + target + ": HTTP " + std::to_string(r.status) +
                     (code.empty() ? "" : " " + code) + (message.empty() ? "" : ": " + message);
  if (r.status == 404) return Status::NotFound(text);
  if (r.status == 412) return Status::AlreadyExists(text);
  if (r.status == 409) return Status::Conflict(text);
  if (r.status >= 500 || r.status == 429) return Status::Unavailable(text);
  return Status::IoError(text);
}

class S3FileSystem final : public FileSystem {
 public:
  S3FileSystem(std::shared_ptr<const S3Client> client, std::string bucket, std::string prefix)
      : client_(std::move(client)), bucket_(std::move(bucket)), prefix_(std::move(prefix)) {}

  Result<std::string> ReadFile(std::string_view key) override {
    auto r = client_->Request("GET", bucket_, Full(key), {}, {}, {});
    if (r.curl != CURLE_OK || r.status != 200) return ErrorFrom(r, "GET", Url(key));
    return std::move(r.body);
  }

  Result<std::string> ReadFileAtMost(std::string_view key, int64_t max_bytes) override {
    PULSE_ASSIGN_OR_RETURN(FileInfo info, Stat(key));
    if (info.size > max_bytes) return ObjectTooLarge(Url(key), info.size, max_bytes);
    auto r = client_->Request("GET", bucket_, Full(key), {}, {}, {}, max_bytes);
    if (r.over_limit) return ObjectTooLarge(Url(key), -1, max_bytes);
    if (r.curl != CURLE_OK || r.status != 200) return ErrorFrom(r, "GET", Url(key));
    return std::move(r.body);
  }

  Status WriteFile(std::string_view key, std::string_view data) override {
    auto r = client_->Request("PUT", bucket_, Full(key), {}, data, {});
    if (r.curl != CURLE_OK || r.status != 200) return ErrorFrom(r, "PUT", Url(key));
    return Status::Ok();
  }

  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    for (int attempt = 0;; ++attempt) {
      auto r = client_->Request("PUT", bucket_, Full(key), {}, data, {{"if-none-match", "*"}});
      if (r.curl == CURLE_OK && r.status == 200) return Status::Ok();
      if (r.curl == CURLE_OK && r.status == 412) return Status::AlreadyExists("'" + Url(key) + "' already exists");
      // 409 ConditionalRequestConflict: a concurrent conditional write to the same key is in
      // flight; once it settles, the key exists (412) or is free again.
      if (r.curl == CURLE_OK && r.status == 409 && attempt < 20) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
        continue;
      }
      return ErrorFrom(r, "PUT (If-None-Match)", Url(key));
    }
  }

  Result<std::vector<FileInfo>> List(std::string_view prefix) override {
    std::vector<FileInfo> out;
    std::string token;
    for (;;) {
      std::vector<std::pair<std::string, std::string>> query = {{"list-type", "2"}, {"prefix", Full(prefix)}};
      if (!token.empty()) query.emplace_back("continuation-token", token);
      auto r = client_->Request("GET", bucket_, "", query, {}, {});
      if (r.curl != CURLE_OK || r.status != 200) return ErrorFrom(r, "LIST", Url(prefix));
      auto page = s3xml::ParseListObjectsV2(r.body, prefix_);
      if (!page.ok()) return page.status().WithContext("LIST " + Url(prefix));
      for (auto& info : page->files) out.push_back(std::move(info));
      if (!page->truncated) break;
      token = page->continuation_token;
      if (token.empty())
        return Status::IoError("LIST " + Url(prefix) + ": truncated listing without a continuation token");
    }
    std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.key < b.key; });
    return out;
  }

  Status Delete(std::string_view key) override {
    auto r = client_->Request("DELETE", bucket_, Full(key), {}, {}, {});
    if (r.curl != CURLE_OK || (r.status != 204 && r.status != 200 && r.status != 404))
      return ErrorFrom(r, "DELETE", Url(key));
    return Status::Ok();
  }

  Result<FileInfo> Stat(std::string_view key) override {
    auto r = client_->Request("HEAD", bucket_, Full(key), {}, {}, {});
    if (r.curl != CURLE_OK) return ErrorFrom(r, "HEAD", Url(key));
    if (r.status == 404) return Status::NotFound("no such object '" + Url(key) + "'");
    if (r.status != 200) return ErrorFrom(r, "HEAD", Url(key));  // HEAD has no body: code only
    return FileInfo{std::string(key), std::max<int64_t>(0, r.content_length), std::max<int64_t>(0, r.mtime_s) * 1000};
  }

  std::string RootUrl() const override { return "s3://" + bucket_ + (prefix_.empty() ? "" : "/" + prefix_); }

  std::unique_ptr<FileSystem> Sub(std::string_view subdir) const override {
    std::string p = prefix_;
    std::string_view sub = subdir;
    while (!sub.empty() && sub.front() == '/') sub.remove_prefix(1);
    while (!sub.empty() && sub.back() == '/') sub.remove_suffix(1);
    if (!sub.empty()) p = p.empty() ? std::string(sub) : p + "/" + std::string(sub);
    return std::make_unique<S3FileSystem>(client_, bucket_, std::move(p));
  }

 private:
  std::string Full(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "/" + std::string(key);
  }
  std::string Url(std::string_view key) const { return "s3://" + bucket_ + "/" + Full(key); }

  std::shared_ptr<const S3Client> client_;
  std::string bucket_, prefix_;
};

}  // namespace

Result<std::unique_ptr<FileSystem>> NewS3FileSystem(std::string bucket, std::string prefix, S3Options options) {
  if (options.access_key.empty() || options.secret_key.empty()) {
    return Status::InvalidArgument(
        "S3 access requires s3.access_key and s3.secret_key (or PULSE_S3_ACCESS_KEY / PULSE_S3_SECRET_KEY)");
  }
  auto client = std::make_shared<const S3Client>(std::move(options));
  return std::unique_ptr<FileSystem>(std::make_unique<S3FileSystem>(client, std::move(bucket), std::move(prefix)));
}

Status CreateS3Bucket(const std::string& bucket, const S3Options& options) {
  S3Client client(options);
  auto r = client.Request("PUT", bucket, "", {}, {}, {});
  if (r.curl == CURLE_OK && (r.status == 200 || r.status == 409)) return Status::Ok();  // 409: already yours
  return ErrorFrom(r, "CREATE BUCKET", "s3://" + bucket);
}

}  // namespace pulse::lake
