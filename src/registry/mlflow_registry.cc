// The registry on an MLflow tracking server, through its REST API 2.0 (registry/registry.h).
//
// Endpoints used (all under BASE/api/2.0/mlflow/ unless noted; GET parameters in the query string,
// others as a JSON body):
//   experiments/get-by-name (GET), experiments/create            the run's experiment
//   runs/create, runs/log-batch, runs/update                     a run, its params/metrics/tags
//   BASE/api/2.0/mlflow-artifacts/artifacts/<path> (PUT, GET)    artifacts, when the run's artifact
//                                                                URI is mlflow-artifacts:/… (the
//                                                                server proxies its artifact store)
//   registered-models/create, registered-models/get (GET), registered-models/set-tag
//   model-versions/create, model-versions/get (GET), model-versions/search (GET, paged),
//   model-versions/set-tag
//   registered-models/alias (POST set, DELETE, GET by alias)
// A run whose artifact URI is a local path or file:// (a server started without artifact serving
// on this machine) has its artifacts written to that folder directly; any other scheme (s3://,
// gs://, ...) is kInvalidArgument: the client would need that store's credentials.
// Errors: MLflow's {"error_code", "message"} mapped to Status codes (RESOURCE_DOES_NOT_EXIST ->
// kNotFound, RESOURCE_ALREADY_EXISTS -> kAlreadyExists, INVALID_PARAMETER_VALUE and other request
// errors -> kInvalidArgument, PERMISSION_DENIED / UNAUTHENTICATED -> kPermissionDenied, 5xx and
// TEMPORARILY_UNAVAILABLE -> kUnavailable), the message naming the endpoint; a body that is not
// the JSON expected is kParseError. GETs are retried twice on kUnavailable. MLflow 3.17 answers an
// unknown alias with 400 INVALID_PARAMETER_VALUE "... alias X not found.": GetVersionByAlias maps
// that to kNotFound. Search results carry no aliases: ListModelVersions adds the model's.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/time.h"
#include "registry/internal/backends.h"
#include "registry/internal/http_client.h"

namespace pulse::registry::internal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t NowMs() { return time::NowMicros() / 1000; }

StatusCode CodeOf(const std::string& error_code, long http_status) {
  if (error_code == "RESOURCE_DOES_NOT_EXIST" || error_code == "NOT_FOUND" || error_code == "ENDPOINT_NOT_FOUND")
    return StatusCode::kNotFound;
  if (error_code == "RESOURCE_ALREADY_EXISTS") return StatusCode::kAlreadyExists;
  if (error_code == "PERMISSION_DENIED" || error_code == "UNAUTHENTICATED") return StatusCode::kPermissionDenied;
  if (error_code == "TEMPORARILY_UNAVAILABLE" || error_code == "REQUEST_LIMIT_EXCEEDED" || http_status >= 500)
    return StatusCode::kUnavailable;
  if (error_code == "INVALID_PARAMETER_VALUE" || error_code == "BAD_REQUEST" || error_code == "MALFORMED_REQUEST" ||
      error_code == "INVALID_STATE" || error_code == "RESOURCE_LIMIT_EXCEEDED" || http_status == 400)
    return StatusCode::kInvalidArgument;
  if (http_status == 404) return StatusCode::kNotFound;
  if (http_status == 401 || http_status == 403) return StatusCode::kPermissionDenied;
  return StatusCode::kInternal;
}

json KeyValues(const Tags& tags) {
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"key", k}, {"value", v}});
  return out;
}

// Typed readers of MLflow's JSON; int64 fields may come as numbers or as decimal strings.
Result<int64_t> Int(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) return Status::ParseError(where + ": response lacks '" + key + "'");
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    int64_t v = 0;
    bool ok = !s.empty() && s.size() < 19;
    for (char c : s) ok = ok && c >= '0' && c <= '9', v = v * 10 + (c - '0');
    if (ok) return v;
  }
  return Status::ParseError(where + ": '" + key + "' is not an integer: " + it->dump());
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Tags TagsOf(const json& j) {
  Tags out;
  auto it = j.find("tags");
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& t : *it) {
    if (t.is_object()) out[Str(t, "key")] = Str(t, "value");
  }
  return out;
}

Result<ModelVersion> VersionOf(const json& mv, const std::string& where) {
  if (!mv.is_object()) return Status::ParseError(where + ": model_version is not an object");
  ModelVersion v;
  v.name = Str(mv, "name");
  PULSE_ASSIGN_OR_RETURN(v.version, Int(mv, "version", where));
  v.source = Str(mv, "source");
  v.run_id = Str(mv, "run_id");
  v.tags = TagsOf(mv);
  auto created = Int(mv, "creation_timestamp", where);
  v.created_ms = created.ok() ? *created : 0;
  auto aliases = mv.find("aliases");
  if (aliases != mv.end() && aliases->is_array()) {
    for (const auto& a : *aliases) {
      if (a.is_string()) v.aliases.push_back(a.get<std::string>());
    }
  }
  return v;
}

class MlflowRegistry final : public Registry {
 public:
  explicit MlflowRegistry(std::string base) : base_(std::move(base)) {}

  std::string url() const override { return base_; }

  Result<RegisteredModel> CreateRegisteredModel(const std::string& name, const std::string& description) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    PULSE_ASSIGN_OR_RETURN(json r,
                           Call("POST", "registered-models/create", {{"name", name}, {"description", description}}));
    return ModelOf(r);
  }

  Result<RegisteredModel> GetRegisteredModel(const std::string& name) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    PULSE_ASSIGN_OR_RETURN(json r, Call("GET", "registered-models/get", {{"name", name}}));
    return ModelOf(r);
  }

  Status SetRegisteredModelTag(const std::string& name, const std::string& key, const std::string& value) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    PULSE_RETURN_IF_ERROR(CheckTagKey(key));
    return Call("POST", "registered-models/set-tag", {{"name", name}, {"key", key}, {"value", value}}).status();
  }

  Result<RunInfo> LogRun(const RunRecord& run, const std::vector<ArtifactFile>& artifacts) override {
    for (const auto& [k, v] : run.params) PULSE_RETURN_IF_ERROR(CheckTagKey(k));
    for (const auto& [k, v] : run.metrics) PULSE_RETURN_IF_ERROR(CheckTagKey(k));
    for (const auto& [k, v] : run.tags) PULSE_RETURN_IF_ERROR(CheckTagKey(k));
    for (const auto& a : artifacts) {
      if (!SafeArtifactPath(a.path)) return Status::InvalidArgument("unsafe artifact path '" + a.path + "'");
    }
    PULSE_ASSIGN_OR_RETURN(std::string experiment_id, ExperimentId(run.experiment));
    const int64_t start = NowMs();
    PULSE_ASSIGN_OR_RETURN(json created, Call("POST", "runs/create",
                                              {{"experiment_id", experiment_id},
                                               {"run_name", run.run_name},
                                               {"start_time", start},
                                               {"tags", KeyValues(run.tags)}}));
    const json info = created.value("run", json::object()).value("info", json::object());
    RunInfo out{Str(info, "run_id"), Str(info, "artifact_uri")};
    if (out.run_id.empty()) return Status::ParseError("MLflow runs/create: response has no run.info.run_id");
    json metrics = json::array();
    for (const auto& [k, v] : run.metrics) {
      if (std::isfinite(v)) metrics.push_back({{"key", k}, {"value", v}, {"timestamp", start}, {"step", 0}});
    }
    PULSE_RETURN_IF_ERROR(Call("POST", "runs/log-batch",
                               {{"run_id", out.run_id}, {"params", KeyValues(run.params)}, {"metrics", metrics}})
                              .status());
    for (const auto& a : artifacts) PULSE_RETURN_IF_ERROR(PutArtifact(out.artifact_uri, a));
    PULSE_RETURN_IF_ERROR(
        Call("POST", "runs/update", {{"run_id", out.run_id}, {"status", "FINISHED"}, {"end_time", NowMs()}}).status());
    return out;
  }

  Result<ModelVersion> CreateModelVersion(const std::string& name, const RunInfo& run, const Tags& tags) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    for (const auto& [k, v] : tags) PULSE_RETURN_IF_ERROR(CheckTagKey(k));
    PULSE_ASSIGN_OR_RETURN(
        json r,
        Call("POST", "model-versions/create",
             {{"name", name}, {"source", run.artifact_uri}, {"run_id", run.run_id}, {"tags", KeyValues(tags)}}));
    return VersionOf(r.value("model_version", json()), "MLflow model-versions/create");
  }

  Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    PULSE_ASSIGN_OR_RETURN(json r,
                           Call("GET", "model-versions/get", {{"name", name}, {"version", std::to_string(version)}}));
    return VersionOf(r.value("model_version", json()), "MLflow model-versions/get");
  }

  Result<std::vector<ModelVersion>> ListModelVersions(const std::string& name) override {
    // kNotFound for an unknown model; its aliases, which search results leave out.
    PULSE_ASSIGN_OR_RETURN(RegisteredModel model, GetRegisteredModel(name));
    std::vector<ModelVersion> out;
    std::string token;
    do {
      json q = {{"filter", "name='" + name + "'"}, {"max_results", "1000"}};
      if (!token.empty()) q["page_token"] = token;
      PULSE_ASSIGN_OR_RETURN(json r, Call("GET", "model-versions/search", q));
      auto it = r.find("model_versions");
      if (it != r.end() && it->is_array()) {
        for (const auto& mv : *it) {
          PULSE_ASSIGN_OR_RETURN(ModelVersion v, VersionOf(mv, "MLflow model-versions/search"));
          out.push_back(std::move(v));
        }
      }
      token = Str(r, "next_page_token");
    } while (!token.empty());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
    for (auto& v : out) {
      v.aliases.clear();
      for (const auto& [alias, n] : model.aliases) {
        if (n == v.version) v.aliases.push_back(alias);
      }
    }
    return out;
  }

  Status SetModelVersionTag(const std::string& name, int64_t version, const std::string& key,
                            const std::string& value) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    PULSE_RETURN_IF_ERROR(CheckTagKey(key));
    return Call("POST", "model-versions/set-tag",
                {{"name", name}, {"version", std::to_string(version)}, {"key", key}, {"value", value}})
        .status();
  }

  Result<std::map<std::string, std::string>> ReadArtifacts(const ModelVersion& version,
                                                           const std::vector<std::string>& paths) override {
    std::map<std::string, std::string> out;
    for (const auto& p : paths) {
      if (!SafeArtifactPath(p)) return Status::InvalidArgument("unsafe artifact path '" + p + "'");
      PULSE_ASSIGN_OR_RETURN(out[p], GetArtifact(version.source, p));
    }
    return out;
  }

  Status SetAlias(const std::string& name, const std::string& alias, int64_t version) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    PULSE_RETURN_IF_ERROR(CheckAlias(alias));
    return Call("POST", "registered-models/alias",
                {{"name", name}, {"alias", alias}, {"version", std::to_string(version)}})
        .status();
  }

  Status DeleteAlias(const std::string& name, const std::string& alias) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    PULSE_RETURN_IF_ERROR(CheckAlias(alias));
    return Call("DELETE", "registered-models/alias", {{"name", name}, {"alias", alias}}).status();
  }

  Result<ModelVersion> GetVersionByAlias(const std::string& name, const std::string& alias) override {
    PULSE_RETURN_IF_ERROR(CheckModelName(name));
    PULSE_RETURN_IF_ERROR(CheckAlias(alias));
    auto r = Call("GET", "registered-models/alias", {{"name", name}, {"alias", alias}});
    // MLflow answers an unknown alias with 400 INVALID_PARAMETER_VALUE "... alias X not found."
    if (!r.ok() && r.status().code() == StatusCode::kInvalidArgument &&
        r.status().message().find("not found") != std::string::npos)
      return Status::NotFound(r.status().message());
    if (!r.ok()) return r.status();
    return VersionOf(r->value("model_version", json()), "MLflow registered-models/alias");
  }

 private:
  // One REST call: GET with `args` as the query string, others with `args` as the JSON body.
  Result<json> Call(const std::string& method, const std::string& endpoint, const json& args) {
    std::string url = base_ + "/api/2.0/mlflow/" + endpoint;
    std::string body;
    if (method == "GET") {
      char sep = '?';
      for (const auto& [k, v] : args.items()) {
        url += sep + UrlEncode(k) + "=" + UrlEncode(v.is_string() ? v.get<std::string>() : v.dump());
        sep = '&';
      }
    } else {
      body = args.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    PULSE_ASSIGN_OR_RETURN(HttpResponse r, Send(method, url, body, "application/json"));
    return JsonOrError(r, "MLflow " + endpoint);
  }

  Result<HttpResponse> Send(const std::string& method, const std::string& url, const std::string& body,
                            const std::string& content_type) {
    const int attempts = method == "GET" ? 3 : 1;
    for (int attempt = 1;; ++attempt) {
      auto r = HttpRequest(method, url, body, content_type);
      const bool transient = !r.ok() || r->status >= 500;
      if (!transient || attempt >= attempts) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
  }

  static Result<json> JsonOrError(const HttpResponse& r, const std::string& what) {
    json j = json::parse(r.body, nullptr, false);
    if (r.status >= 200 && r.status < 300) {
      if (r.body.empty()) return json::object();
      if (j.is_discarded() || !j.is_object())
        return Status::ParseError(what + ": the server's answer is not a JSON object: " + r.body.substr(0, 200));
      return j;
    }
    std::string error_code, message = r.body.substr(0, 300);
    if (!j.is_discarded() && j.is_object()) {
      error_code = Str(j, "error_code");
      if (!Str(j, "message").empty()) message = Str(j, "message");
    }
    return Status(CodeOf(error_code, r.status), what + ": HTTP " + std::to_string(r.status) +
                                                    (error_code.empty() ? "" : " " + error_code) + ": " + message);
  }

  Result<RegisteredModel> ModelOf(const json& r) {
    const json rm = r.value("registered_model", json());
    if (!rm.is_object()) return Status::ParseError("MLflow registered-models: response lacks registered_model");
    RegisteredModel m;
    m.name = Str(rm, "name");
    m.description = Str(rm, "description");
    m.tags = TagsOf(rm);
    auto created = Int(rm, "creation_timestamp", "MLflow registered-models");
    m.created_ms = created.ok() ? *created : 0;
    auto aliases = rm.find("aliases");
    if (aliases != rm.end() && aliases->is_array()) {
      for (const auto& a : *aliases) {
        PULSE_ASSIGN_OR_RETURN(m.aliases[Str(a, "alias")], Int(a, "version", "MLflow registered-models aliases"));
      }
    }
    return m;
  }

  Result<std::string> ExperimentId(const std::string& name) {
    if (name.empty()) return Status::InvalidArgument("a run needs an experiment name");
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto got = Call("GET", "experiments/get-by-name", {{"experiment_name", name}});
      if (got.ok()) {
        const std::string id = Str(got->value("experiment", json::object()), "experiment_id");
        if (id.empty()) return Status::ParseError("MLflow experiments/get-by-name: no experiment_id");
        return id;
      }
      if (got.status().code() != StatusCode::kNotFound) return got.status();
      auto created = Call("POST", "experiments/create", {{"name", name}});
      if (created.ok()) return Str(*created, "experiment_id");
      if (created.status().code() != StatusCode::kAlreadyExists) return created.status();  // else: lost a race
    }
    return Status::Internal("MLflow experiment '" + name + "' could neither be found nor created");
  }

  // Where an artifact of a run with artifact URI `root` lives: the proxy URL for mlflow-artifacts:,
  // or a local path for file:// and plain paths.
  struct Target {
    std::string url;  // set for the proxy
    fs::path local;   // set for a local folder
  };
  Result<Target> ArtifactTarget(const std::string& root, const std::string& path) const {
    if (root.rfind("mlflow-artifacts:", 0) == 0) {
      std::string rest = root.substr(std::string("mlflow-artifacts:").size());
      if (rest.rfind("//", 0) == 0) {  // mlflow-artifacts://host:port/path: the path after the authority
        const size_t slash = rest.find('/', 2);
        rest = slash == std::string::npos ? "" : rest.substr(slash);
      }
      while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
      while (!rest.empty() && rest.back() == '/') rest.pop_back();
      return Target{base_ + "/api/2.0/mlflow-artifacts/artifacts/" + UrlEncode(rest + "/" + path, true), {}};
    }
    if (root.rfind("file://", 0) == 0) return Target{"", fs::path(root.substr(7)) / path};
    if (!root.empty() && root.front() == '/') return Target{"", fs::path(root) / path};
    return Status::InvalidArgument("artifact location '" + root +
                                   "' is neither served by the MLflow server (mlflow-artifacts:) nor a local folder; "
                                   "start the server with artifact serving (--artifacts-destination)");
  }

  Status PutArtifact(const std::string& root, const ArtifactFile& a) {
    PULSE_ASSIGN_OR_RETURN(Target t, ArtifactTarget(root, a.path));
    if (!t.url.empty()) {
      PULSE_ASSIGN_OR_RETURN(HttpResponse r, Send("PUT", t.url, a.bytes, "application/octet-stream"));
      return JsonOrError(r, "MLflow artifact upload " + a.path).status();
    }
    std::error_code ec;
    fs::create_directories(t.local.parent_path(), ec);
    std::ofstream out(t.local, std::ios::binary | std::ios::trunc);
    out.write(a.bytes.data(), static_cast<std::streamsize>(a.bytes.size()));
    out.close();
    if (ec || !out) return Status::IoError("writing artifact " + t.local.string());
    return Status::Ok();
  }

  Result<std::string> GetArtifact(const std::string& root, const std::string& path) {
    PULSE_ASSIGN_OR_RETURN(Target t, ArtifactTarget(root, path));
    if (!t.url.empty()) {
      PULSE_ASSIGN_OR_RETURN(HttpResponse r, Send("GET", t.url, "", "application/json"));
      if (r.status == 200) return r.body;
      PULSE_RETURN_IF_ERROR(JsonOrError(r, "MLflow artifact download " + path).status());
      return Status::Internal("MLflow artifact download " + path + ": HTTP " + std::to_string(r.status));
    }
    std::ifstream in(t.local, std::ios::binary);
    if (!in) return Status::NotFound("artifact '" + path + "' is missing from " + root);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string base_;
};

}  // namespace

std::unique_ptr<Registry> NewMlflowRegistry(std::string base_url) {
  return std::make_unique<MlflowRegistry>(std::move(base_url));
}

}  // namespace pulse::registry::internal
