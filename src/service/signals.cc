// POST /v1/signals: the HTTP push path into the signals table, through the same parser
// (ingest::ParseSignalsBytes) and append path (ingest::SignalSink) as `pulse ingest` and the
// Kafka consumer, so every source validates and scores alike.
//
// Body: a JSON array of signal objects (Content-Type application/json) or JSON lines
// (application/x-ndjson, application/jsonl, application/json-lines). An array is rewritten as JSON
// lines, one element per line, so element i is record i in both forms; per-row errors name that
// index (and, for JSON lines, the line). The accepted rows land in one Delta commit of `signals`;
// the rejected ones, with their reasons, in one commit of `signal_rejects` (file "http:<key or
// request id>").
//
// Idempotency-Key (1..128 printable ASCII): the commit carries a Delta txn action with appId
// "serve/<key>" and records the key, the body's SHA-256 and the counts in its commitInfo. A retry
// with the same key and body lands nothing and answers the original result (version, counts,
// gate, the same row errors: validation is deterministic) with "replayed": true; the same key with
// another body is 422 idempotency-key-reused. Two racing requests with one key: the lake's txn
// check lets one commit, the other replays it.
#include <arrow/api.h>

#include <cctype>
#include <mutex>

#include "core/config.h"
#include "core/hash.h"
#include "core/printable.h"
#include "core/time.h"
#include "ingest/file_ingest.h"
#include "ingest/signal_sink.h"
#include "jobs/safe_json.h"
#include "service/internal/service_state.h"

namespace pulse::service {
namespace {

constexpr size_t kMaxIdempotencyKeyBytes = 128;

std::string MediaType(const std::optional<std::string>& content_type) {
  if (!content_type) return {};
  std::string t = content_type->substr(0, content_type->find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

nlohmann::json GateJson(const signals::GateCounts& g) {
  return {{"accept", g.accept}, {"escalate", g.escalate}, {"suppress", g.suppress}};
}

// The commitInfo's "accept A, escalate E, suppress S" (ingest/signal_sink.cc) as GateCounts.
signals::GateCounts ParseGate(std::string_view text) {
  signals::GateCounts g;
  const std::pair<std::string_view, int64_t*> fields[] = {
      {"accept ", &g.accept}, {"escalate ", &g.escalate}, {"suppress ", &g.suppress}};
  for (const auto& [name, field] : fields) {
    const size_t at = text.find(name);
    if (at == std::string_view::npos) continue;
    std::string_view rest = text.substr(at + name.size());
    *field = ParseInt64(rest.substr(0, rest.find(','))).value_or(0);
  }
  return g;
}

// The original result of an earlier request with `key`, from the commitInfo of its commit.
Result<HttpReply> Replay(lake::DeltaTable& table, const std::string& key, const std::string& body_sha,
                         const nlohmann::json& errors, const std::string& app_id) {
  PULSE_ASSIGN_OR_RETURN(auto history, table.History());
  for (const auto& v : history) {
    auto k = v.operation_parameters.find("idempotency_key");
    if (k == v.operation_parameters.end() || k->second != key) continue;
    auto sha = v.operation_parameters.find("body_sha256");
    if (sha == v.operation_parameters.end() || sha->second != body_sha) {
      Problem p =
          MakeProblem(422, "idempotency-key-reused", "this Idempotency-Key was used before with a different body");
      return ProblemReply(std::move(p));
    }
    auto number = [&](const char* name) -> int64_t {
      auto it = v.operation_parameters.find(name);
      return it == v.operation_parameters.end() ? 0 : ParseInt64(it->second).value_or(0);
    };
    nlohmann::json out = {{"accepted", number("accepted")},
                          {"rejected", number("rejected")},
                          {"version", v.version},
                          {"errors", errors},
                          {"replayed", true},
                          {"idempotency_key", key}};
    if (auto g = v.operation_parameters.find("gate"); g != v.operation_parameters.end())
      out["gate"] = GateJson(ParseGate(g->second));
    return JsonReply(200, out);
  }
  // The txn is there but its commit left the log's retained history (vacuumed or checkpointed
  // away): the rows landed once; their details are gone.
  (void)app_id;
  return JsonReply(200, {{"replayed", true}, {"idempotency_key", key}, {"errors", errors}});
}

std::mutex& AppendMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

Result<HttpReply> PostSignals(ServiceState& state, Call& call) {
  const std::string media = MediaType(call.Header("Content-Type"));
  const bool array = media == "application/json";
  const bool lines = media == "application/x-ndjson" || media == "application/jsonl" ||
                     media == "application/json-lines" || media == "application/x-jsonlines";
  if (!array && !lines) {
    return ProblemReply(MakeProblem(415, "unsupported-media-type",
                                    "send a JSON array (application/json) or JSON lines (application/x-ndjson)"));
  }
  std::optional<std::string> key = call.Header("Idempotency-Key");
  if (key) {
    bool ok = !key->empty() && key->size() <= kMaxIdempotencyKeyBytes;
    for (const char ch : *key) {
      const auto c = static_cast<unsigned char>(ch);
      ok = ok && c >= 0x21 && c <= 0x7e;
    }
    if (!ok) {
      return ProblemReply(MakeProblem(400, "invalid-idempotency-key",
                                      "Idempotency-Key must be 1..128 printable ASCII characters without spaces"));
    }
  }

  // The records as JSON lines: element i of an array is line i + 1.
  std::string text;
  const std::string* bytes = &call.request.body;
  if (array) {
    auto doc = jobs::ParseJson(call.request.body, "the request body");
    if (!doc.ok()) return ProblemReply(MakeProblem(400, "invalid-body", doc.status().message()));
    if (!doc->is_array())
      return ProblemReply(MakeProblem(400, "invalid-body", "an application/json body must be a JSON array"));
    for (const auto& element : *doc) {
      text += element.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      text += '\n';
    }
    bytes = &text;
  }
  if (bytes->find_first_not_of(" \t\r\n") == std::string::npos)
    return ProblemReply(MakeProblem(400, "invalid-body", "the body holds no signals"));

  ingest::IngestOptions options;
  options.format = ingest::FileFormat::kJsonLines;
  options.kind = state.settings.ingest.kind;
  options.max_field_bytes = state.settings.ingest.max_field_bytes;
  options.source = "api";
  options.scoring = state.scoring;
  options.now_us = time::NowMicros();
  ingest::IngestReport report;
  auto rows = ingest::ParseSignalsBytes(*bytes, "request", false, options, report);
  if (!rows.ok()) return ProblemReply(MakeProblem(400, "invalid-body", rows.status().message()));
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& r : report.rejects) {
    nlohmann::json e = {{"index", r.line - 1}, {"reason", r.reason}};
    if (lines) e["line"] = r.line;
    errors.push_back(std::move(e));
  }
  PULSE_RETURN_IF_ERROR(call.CheckDeadline());

  const std::string body_sha = Sha256Hex(call.request.body);
  std::lock_guard append(AppendMutex());
  PULSE_ASSIGN_OR_RETURN(auto lake, state.OpenLake(lake::OpenMode::kCreateIfMissing));
  PULSE_ASSIGN_OR_RETURN(auto sink, ingest::SignalSink::Open(*lake, state.scoring));
  lake::WriteOptions write;
  write.operation = "SERVE INGEST";
  write.operation_parameters = {{"request_id", call.request_id},
                                {"body_sha256", body_sha},
                                {"accepted", std::to_string(report.accepted)},
                                {"rejected", std::to_string(report.rejected)}};
  if (key) {
    write.app_id = "serve/" + *key;
    write.app_version = 0;
    write.operation_parameters["idempotency_key"] = *key;
    PULSE_ASSIGN_OR_RETURN(auto snapshot, sink->signals().LoadSnapshot());
    if (snapshot.app_versions.count(write.app_id)) return Replay(sink->signals(), *key, body_sha, errors, write.app_id);
  }
  int64_t version = -1;
  signals::GateCounts gate;
  if ((*rows)->num_rows() > 0 || key) {
    PULSE_ASSIGN_OR_RETURN(auto commit, sink->AppendSignals(**rows, write, &gate));
    if (commit.skipped && key) return Replay(sink->signals(), *key, body_sha, errors, write.app_id);
    version = commit.version;
  }
  if (!report.rejects.empty()) {
    std::vector<ingest::RejectRow> rejects;
    rejects.reserve(report.rejects.size());
    const std::string file = "http:" + (key ? *key : call.request_id);
    for (const auto& r : report.rejects) rejects.push_back({file, r.line, r.reason, r.raw});
    write.operation = "SERVE INGEST REJECTS";
    PULSE_ASSIGN_OR_RETURN(auto rc, sink->AppendRejects(rejects, options.now_us, write));
    (void)rc;
  }
  nlohmann::json out = {
      {"accepted", report.accepted}, {"rejected", report.rejected}, {"errors", errors}, {"replayed", false}};
  if (version >= 0) out["version"] = version;
  if (key) out["idempotency_key"] = *key;
  if (version >= 0) out["gate"] = GateJson(gate);
  return JsonReply(200, out);
}

}  // namespace pulse::service
