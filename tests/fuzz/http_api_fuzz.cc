// Fuzz target: one HTTP request through pulse serve's whole request pipeline (service::Api with
// every real route: routing, authentication, rate limiting, the handlers, problem documents),
// against a scratch local lake and an in-process broker with no worker (jobs stay queued).
//
// Input: "METHOD PATH[?QUERY]\n", header lines "Name: value\n", an empty line, then the body.
// "@TOKEN@" anywhere in the input is replaced by an admin API token, so the corpus can reach the
// authenticated handlers (tests/fuzz/corpus/http_api).
//
// Checked for every input, beyond "no crash, no sanitizer report, no exception":
//   - the status is an HTTP status (200..599) and the reply carries X-Request-Id;
//   - an error (>= 400) is an RFC 9457 problem document: application/problem+json, a JSON object
//     whose "status" equals the reply's and whose "code" is a non-empty string;
//   - no reply names the scratch folder (the lake's path, the tokens file) unless the request did
//     (a 404 echoes its path): internal paths never leave the service.
// Every 2,048 inputs the lake and the broker are recreated, so long runs stay bounded in memory
// and disk.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "jobs/backends.h"
#include "lake/lake.h"
#include "pipeline/bundled_data.h"
#include "service/api.h"
#include "service/internal/service_state.h"
#include "service/tokens.h"

namespace {

using pulse::service::HttpReply;
using pulse::service::HttpRequest;

struct Harness {
  std::string dir;
  std::string token;
  std::unique_ptr<pulse::service::TokenStore> tokens;
  pulse::metrics::Registry registry;
  pulse::service::ServiceState state;
  std::unique_ptr<pulse::service::Api> api;
  uint64_t inputs = 0;

  Harness() {
    char scratch[] = "/tmp/pulse-fuzz-http-XXXXXX";
    if (::mkdtemp(scratch) == nullptr) __builtin_trap();
    dir = scratch;
    const std::string tokens_file = dir + "/tokens.json";
    auto created = pulse::service::CreateToken(tokens_file, pulse::service::Scope::kAdmin, "fuzz");
    if (!created.ok()) __builtin_trap();
    token = created->token;
    auto store = pulse::service::TokenStore::Open(tokens_file);
    if (!store.ok()) __builtin_trap();
    tokens = std::move(*store);

    state.settings.lake.url = dir + "/lake";
    state.registry = &registry;
    state.ready = &registry.AddGauge("pulse_ready", "readiness").With({});
    state.ready_checks = &registry.AddGauge("pulse_ready_check", "readiness by check", {"check"});
    auto scoring = pulse::pipeline::LoadScoringRules("", "");
    if (!scoring.ok()) __builtin_trap();
    state.scoring = *scoring;
    state.tables = std::make_shared<pulse::service::TableCache>(64 << 20);  // notices each Reset's new lake
    Reset();

    pulse::service::ApiOptions options;
    options.rate_per_second = 1e6;  // the limiter is exercised, never the bottleneck
    options.rate_burst = 1e6;
    options.redact = {state.settings.lake.url, tokens_file};
    api = std::make_unique<pulse::service::Api>(options, *tokens, registry);
    for (auto& route : pulse::service::ServiceRoutes(&state)) api->Add(std::move(route));
  }

  // A fresh lake folder and broker.
  void Reset() {
    std::error_code ec;
    std::filesystem::remove_all(state.settings.lake.url, ec);
    auto lake = state.OpenLake(pulse::lake::OpenMode::kCreateIfMissing);
    if (!lake.ok()) __builtin_trap();
    auto broker = pulse::jobs::OpenBroker("inproc");
    if (!broker.ok()) __builtin_trap();
    state.broker = std::move(*broker);
    state.broker_url = "inproc";
    state.pushes = pulse::service::MakeSignalPushQueue(state);  // its sink and cache follow the new lake
  }
};

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// Splits the input into a request (see the file comment); the query string is split at '&' and
// '=' without percent-decoding (the HTTP layer decodes; these are the decoded values).
HttpRequest ParseRequest(std::string text, const std::string& token) {
  for (size_t at = text.find("@TOKEN@"); at != std::string::npos; at = text.find("@TOKEN@", at + token.size())) {
    text.replace(at, 7, token);
  }
  HttpRequest request;
  request.remote_addr = "127.0.0.1";
  std::string_view rest = text;
  auto next_line = [&rest]() {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    return line;
  };
  std::string_view first = next_line();
  const size_t space = first.find(' ');
  request.method = Trim(first.substr(0, space));
  std::string_view target = space == std::string_view::npos ? std::string_view("/") : first.substr(space + 1);
  const size_t question = target.find('?');
  request.path = Trim(target.substr(0, question));
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      const size_t eq = pair.find('=');
      request.query.emplace(std::string(pair.substr(0, eq)),
                            eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
  }
  while (!rest.empty()) {
    std::string_view line = next_line();
    if (Trim(line).empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    request.headers[Trim(line.substr(0, colon))] = Trim(line.substr(colon + 1));
  }
  request.body = std::string(rest);
  return request;
}

bool HasHeader(const HttpReply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers) {
    if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(),
                                                [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* harness = new Harness();  // lives for the process, like a running service
  if (++harness->inputs % 2048 == 0) harness->Reset();

  const HttpRequest request = ParseRequest(std::string(pulse::fuzz::AsText(data, size)), harness->token);
  const HttpReply reply = harness->api->Handle(request);

  if (reply.status < 200 || reply.status > 599) __builtin_trap();
  if (!HasHeader(reply, "X-Request-Id")) __builtin_trap();
  if (pulse::fuzz::AsText(data, size).find(harness->dir) == std::string_view::npos) {
    if (reply.body.find(harness->dir) != std::string::npos) __builtin_trap();
    for (const auto& [key, value] : reply.headers) {
      if (value.find(harness->dir) != std::string::npos) __builtin_trap();
    }
  }
  if (reply.status >= 400) {
    if (reply.content_type != "application/problem+json") __builtin_trap();
    const auto problem = nlohmann::json::parse(reply.body, nullptr, false);
    if (!problem.is_object()) __builtin_trap();
    const auto status = problem.find("status");
    if (status == problem.end() || !status->is_number_integer() || status->get<int>() != reply.status) __builtin_trap();
    const auto code = problem.find("code");
    if (code == problem.end() || !code->is_string() || code->get<std::string>().empty()) __builtin_trap();
  }
  return 0;
}
