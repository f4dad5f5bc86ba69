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
// Group commit: a request parses and validates its body on its own thread, then queues for the
// signals table (SignalPushQueue). The first queued request with no commit in progress becomes the
// leader: it takes every request queued so far (up to kMaxGroupRequests) and commits their rows as
// ONE Delta commit through one long-lived SignalSink (HistoryCache::kFull: the pushed series'
// history stays in memory and follows other writers through the Delta log), each request's rows
// scored as if the requests before it in the group had been committed alone
// (SignalSink::AppendSignalBatches). Requests arriving meanwhile queue for the next group, so
// under load one commit serves many requests; alone, a request is a group of one. Every request
// of a group gets its own counts, gate and row errors and the group's version; a failing commit
// fails every request of the group (nothing of it is written) with the same problem document.
// The rejected rows of a group land in one commit of `signal_rejects` after the signals commit.
//
// Idempotency-Key (1..128 printable ASCII): the commit carries a Delta txn action with appId
// "serve/<key>" per keyed request, and its commitInfo records each request's key, body SHA-256 and
// counts (a group of one: operationParameters idempotency_key, body_sha256, accepted, rejected,
// gate; a larger group: operationParameters "requests", a JSON array of those objects in group
// order, and "batch_gates"). A retry with the same key and body lands nothing and answers the
// original result (version, counts, gate, the same row errors: validation is deterministic) with
// "replayed": true; the same key with another body is 422 idempotency-key-reused. Two requests
// with one key in one group: the first commits, the second replays it. Racing with another
// process: the commit's precondition refuses to land a key that landed meanwhile, and the group
// is tried again (that request then replays).
#include <arrow/api.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <map>
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

// One request's record in a commit's operationParameters (flat for a group of one, an element of
// "requests" for a larger group; see the header).
struct RequestRecord {
  std::string request_id, body_sha256, key;
  int64_t accepted = 0, rejected = 0;
  std::optional<signals::GateCounts> gate;
};

// The records of one commit: the flat parameters, or each element of "requests" with its gate
// from "batch_gates" (batch order).
std::vector<RequestRecord> RecordsOf(const std::map<std::string, std::string>& params) {
  auto get = [&](const char* name) {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };
  std::vector<RequestRecord> out;
  auto requests = params.find("requests");
  if (requests == params.end()) {
    RequestRecord r{get("request_id"), get("body_sha256"), get("idempotency_key")};
    r.accepted = ParseInt64(get("accepted")).value_or(0);
    r.rejected = ParseInt64(get("rejected")).value_or(0);
    if (params.count("gate")) r.gate = ParseGate(get("gate"));
    out.push_back(std::move(r));
    return out;
  }
  const auto doc = nlohmann::json::parse(requests->second, nullptr, false);
  if (!doc.is_array()) return out;
  const std::string gates = get("batch_gates");
  size_t gate_at = 0;
  for (const auto& e : doc) {
    RequestRecord r;
    if (e.is_object()) {
      auto text = [&](const char* name) {
        return e.contains(name) && e[name].is_string() ? e[name].get<std::string>() : std::string();
      };
      auto number = [&](const char* name) {
        return e.contains(name) && e[name].is_number_integer() ? e[name].get<int64_t>() : int64_t{0};
      };
      r = {text("request_id"), text("body_sha256"), text("idempotency_key"), number("accepted"), number("rejected")};
    }
    if (!gates.empty() && gate_at <= gates.size()) {
      const size_t end = std::min(gates.find(';', gate_at), gates.size());
      r.gate = ParseGate(std::string_view(gates).substr(gate_at, end - gate_at));
      gate_at = end + 1;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// The original result of an earlier request with `key`, from the commitInfo of its commit.
Result<HttpReply> Replay(lake::DeltaTable& table, const std::string& key, const std::string& body_sha,
                         const nlohmann::json& errors) {
  PULSE_ASSIGN_OR_RETURN(auto history, table.History());
  for (const auto& v : history) {
    for (const auto& r : RecordsOf(v.operation_parameters)) {
      if (r.key != key) continue;
      if (r.body_sha256 != body_sha) {
        return ProblemReply(
            MakeProblem(422, "idempotency-key-reused", "this Idempotency-Key was used before with a different body"));
      }
      nlohmann::json out = {{"accepted", r.accepted}, {"rejected", r.rejected}, {"version", v.version},
                            {"errors", errors},       {"replayed", true},       {"idempotency_key", key}};
      if (r.gate) out["gate"] = GateJson(*r.gate);
      return JsonReply(200, out);
    }
  }
  // The txn is there but its commit left the log's retained history (vacuumed or checkpointed
  // away): the rows landed once; their details are gone.
  return JsonReply(200, {{"replayed", true}, {"idempotency_key", key}, {"errors", errors}});
}

// Requests in one group commit at most.
constexpr size_t kMaxGroupRequests = 64;

}  // namespace

// One request on its way into the signals table: what its thread prepared, and its reply.
struct PendingPush {
  std::shared_ptr<const arrow::Table> rows;  // validated (SignalSchema)
  std::vector<ingest::RejectRow> rejects;
  int64_t accepted = 0, rejected = 0, now_us = 0;
  std::optional<std::string> key;
  std::string body_sha, request_id;
  nlohmann::json errors;
  std::optional<Result<HttpReply>> reply;  // set by the leader, under the queue's mutex
};

// The group-commit queue of POST /v1/signals (see the header). Thread-safe.
class SignalPushQueue {
 public:
  explicit SignalPushQueue(ServiceState& state) : state_(state) {}
  // Queues `push`, commits it (as the leader of a group or within another's), returns its reply.
  Result<HttpReply> Push(PendingPush& push);

 private:
  // The leader's work: commits `group` and answers each of its requests (never throws).
  std::vector<Result<HttpReply>> CommitGroup(const std::vector<PendingPush*>& group);
  std::vector<Result<HttpReply>> TryCommitGroup(const std::vector<PendingPush*>& pushes, bool& raced);
  // One group's state through TryCommitGroup's steps.
  struct Group {
    const std::vector<PendingPush*>& pushes;
    std::vector<Result<HttpReply>> replies;
    std::vector<bool> done;                          // answered (replayed, or failed)
    std::vector<std::optional<size_t>> same_key_as;  // an earlier request of the group with its key
    std::map<size_t, size_t> member_of;              // request -> its batch in the signals commit
    int64_t version = -1;                            // of the signals commit; -1 when none
    std::vector<signals::GateCounts> gates;          // per batch
  };
  Status OpenSink();
  // Replays requests whose key landed before; marks repeated keys within the group.
  Status SortOutKeys(Group& g);
  // One commit of every remaining request with rows or a key (a key lands even without rows).
  Status CommitSignals(Group& g, bool& raced);
  // The group's rejected rows in one commit of signal_rejects.
  void CommitRejects(Group& g);
  void Answer(Group& g);

  ServiceState& state_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PendingPush*> queue_;
  bool leading_ = false;  // a leader is committing
  // Used by the leader only (one at a time). Opened on the first push; dropped after an error.
  std::unique_ptr<lake::Lake> lake_;
  std::unique_ptr<ingest::SignalSink> sink_;
};

std::shared_ptr<SignalPushQueue> MakeSignalPushQueue(ServiceState& state) {
  return std::make_shared<SignalPushQueue>(state);
}

Result<HttpReply> SignalPushQueue::Push(PendingPush& push) {
  std::unique_lock lock(mu_);
  queue_.push_back(&push);
  for (;;) {
    if (push.reply) return std::move(*push.reply);
    if (leading_) {
      cv_.wait(lock);
      continue;
    }
    leading_ = true;
    const size_t n = std::min(queue_.size(), kMaxGroupRequests);
    std::vector<PendingPush*> group(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    std::vector<Result<HttpReply>> replies;
    try {
      replies = CommitGroup(group);
    } catch (const std::exception& e) {
      replies.assign(group.size(), Status::Internal(std::string("committing signals: ") + e.what()));
    }
    lock.lock();
    for (size_t i = 0; i < group.size(); ++i) group[i]->reply = std::move(replies[i]);
    leading_ = false;
    cv_.notify_all();
  }
}

std::vector<Result<HttpReply>> SignalPushQueue::CommitGroup(const std::vector<PendingPush*>& group) {
  for (int attempt = 1;; ++attempt) {
    bool raced = false;
    auto replies = TryCommitGroup(group, raced);
    if (!raced || attempt == 3) return replies;
  }
}

Status SignalPushQueue::OpenSink() {
  if (sink_) return Status::Ok();
  PULSE_ASSIGN_OR_RETURN(lake_, state_.OpenLake(lake::OpenMode::kCreateIfMissing));
  auto sink = ingest::SignalSink::Open(*lake_, state_.scoring, ingest::HistoryCache::kFull);
  if (!sink.ok()) {
    lake_.reset();
    return sink.status();
  }
  sink_ = std::move(*sink);
  return Status::Ok();
}

Status SignalPushQueue::SortOutKeys(Group& g) {
  bool keyed = false;
  for (const auto* p : g.pushes) keyed = keyed || p->key.has_value();
  if (!keyed) return Status::Ok();
  PULSE_ASSIGN_OR_RETURN(auto snapshot, sink_->signals().LoadSnapshot());
  std::map<std::string, size_t> first_with_key;
  for (size_t i = 0; i < g.pushes.size(); ++i) {
    const PendingPush& p = *g.pushes[i];
    if (!p.key) continue;
    if (snapshot.app_versions.count("serve/" + *p.key)) {
      g.replies[i] = Replay(sink_->signals(), *p.key, p.body_sha, p.errors);
      g.done[i] = true;
      continue;
    }
    auto [it, fresh] = first_with_key.try_emplace(*p.key, i);
    if (!fresh) g.same_key_as[i] = it->second;
  }
  return Status::Ok();
}

Status SignalPushQueue::CommitSignals(Group& g, bool& raced) {
  std::vector<std::shared_ptr<const arrow::Table>> batches;
  lake::WriteOptions write;
  write.operation = "SERVE INGEST";
  std::vector<std::string> app_ids;
  nlohmann::json records = nlohmann::json::array();
  for (size_t i = 0; i < g.pushes.size(); ++i) {
    const PendingPush& p = *g.pushes[i];
    if (g.done[i] || g.same_key_as[i] || (p.rows->num_rows() == 0 && !p.key)) continue;
    g.member_of[i] = batches.size();
    batches.push_back(p.rows);
    nlohmann::json r = {
        {"request_id", p.request_id}, {"body_sha256", p.body_sha}, {"accepted", p.accepted}, {"rejected", p.rejected}};
    if (p.key) {
      r["idempotency_key"] = *p.key;
      app_ids.push_back("serve/" + *p.key);
      write.transactions.emplace_back(app_ids.back(), 0);
    }
    records.push_back(std::move(r));
  }
  if (batches.empty()) return Status::Ok();
  if (batches.size() == 1) {
    for (const auto& [name, value] : records[0].items())
      write.operation_parameters[name] = value.is_string() ? value.get<std::string>() : value.dump();
  } else {
    write.operation_parameters["requests"] = records.dump();
  }
  write.precondition = [&app_ids, &raced](const std::map<std::string, int64_t>& versions) {
    for (const auto& id : app_ids) {
      if (versions.count(id)) {
        raced = true;
        return Status::AlreadyExists("Idempotency-Key " + id.substr(6) + " landed during the commit");
      }
    }
    return Status::Ok();
  };
  PULSE_ASSIGN_OR_RETURN(auto commit, sink_->AppendSignalBatches(batches, write, &g.gates));
  g.version = commit.version;
  return Status::Ok();
}

void SignalPushQueue::CommitRejects(Group& g) {
  std::vector<ingest::RejectRow> rejects;
  lake::WriteOptions write;
  write.operation = "SERVE INGEST REJECTS";
  std::vector<std::string> request_ids;
  int64_t now_us = 0;
  std::vector<size_t> with_rejects;
  for (size_t i = 0; i < g.pushes.size(); ++i) {
    const PendingPush& p = *g.pushes[i];
    if (g.done[i] || g.same_key_as[i] || p.rejects.empty()) continue;
    with_rejects.push_back(i);
    rejects.insert(rejects.end(), p.rejects.begin(), p.rejects.end());
    now_us = now_us == 0 ? p.now_us : std::min(now_us, p.now_us);
    request_ids.push_back(p.request_id);
    if (p.key) write.transactions.emplace_back("serve/" + *p.key, 0);
  }
  if (rejects.empty()) return;
  write.operation_parameters["request_ids"] = nlohmann::json(request_ids).dump();
  auto rc = sink_->AppendRejects(rejects, now_us, write);
  if (rc.ok()) return;
  for (size_t i : with_rejects) {
    g.replies[i] = rc.status();
    g.done[i] = true;
  }
}

void SignalPushQueue::Answer(Group& g) {
  for (size_t i = 0; i < g.pushes.size(); ++i) {
    if (g.done[i]) continue;
    const PendingPush& p = *g.pushes[i];
    if (g.same_key_as[i]) {  // the first request with this key comes earlier: answered already
      const size_t first_at = *g.same_key_as[i];
      const PendingPush& first = *g.pushes[first_at];
      if (first.body_sha != p.body_sha) {
        g.replies[i] = ProblemReply(
            MakeProblem(422, "idempotency-key-reused", "this Idempotency-Key was used before with a different body"));
      } else if (!g.replies[first_at].ok() || !g.member_of.count(first_at)) {
        g.replies[i] = g.replies[first_at];
      } else {
        g.replies[i] = JsonReply(200, {{"accepted", first.accepted},
                                       {"rejected", first.rejected},
                                       {"version", g.version},
                                       {"errors", p.errors},
                                       {"replayed", true},
                                       {"idempotency_key", *p.key},
                                       {"gate", GateJson(g.gates[g.member_of[first_at]])}});
      }
      continue;
    }
    nlohmann::json out = {
        {"accepted", p.accepted}, {"rejected", p.rejected}, {"errors", p.errors}, {"replayed", false}};
    if (auto m = g.member_of.find(i); m != g.member_of.end()) {
      out["version"] = g.version;
      out["gate"] = GateJson(g.gates[m->second]);
    }
    if (p.key) out["idempotency_key"] = *p.key;
    g.replies[i] = JsonReply(200, out);
  }
}

std::vector<Result<HttpReply>> SignalPushQueue::TryCommitGroup(const std::vector<PendingPush*>& pushes, bool& raced) {
  const size_t n = pushes.size();
  Group g{pushes, std::vector<Result<HttpReply>>(n, Status::Internal("signal push not answered")),
          std::vector<bool>(n, false), std::vector<std::optional<size_t>>(n)};
  Status st = OpenSink();
  if (st.ok()) st = SortOutKeys(g);
  if (st.ok()) st = CommitSignals(g, raced);
  if (!st.ok()) {
    if (!raced) {     // a race on a key is tried again by CommitGroup, with the same sink
      sink_.reset();  // reopened (and its cache read again) by the next group
      lake_.reset();
    }
    for (size_t i = 0; i < n; ++i)
      if (!g.done[i]) g.replies[i] = st;
    return std::move(g.replies);
  }
  CommitRejects(g);
  Answer(g);
  return std::move(g.replies);
}

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
  PendingPush push;
  push.errors = nlohmann::json::array();
  for (const auto& r : report.rejects) {
    nlohmann::json e = {{"index", r.line - 1}, {"reason", r.reason}};
    if (lines) e["line"] = r.line;
    push.errors.push_back(std::move(e));
  }
  PULSE_RETURN_IF_ERROR(call.CheckDeadline());

  push.rows = *rows;
  push.accepted = report.accepted;
  push.rejected = report.rejected;
  push.now_us = options.now_us;
  push.key = key;
  push.body_sha = Sha256Hex(call.request.body);
  push.request_id = call.request_id;
  const std::string file = "http:" + (key ? *key : call.request_id);
  push.rejects.reserve(report.rejects.size());
  for (const auto& r : report.rejects) push.rejects.push_back({file, r.line, r.reason, r.raw});
  return state.pushes->Push(push);
}

}  // namespace pulse::service
