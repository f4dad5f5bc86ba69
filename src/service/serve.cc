#include "service/serve.h"

#include <thread>

#include "core/log.h"
#include "core/otlp_exporter.h"
#include "jobs/backends.h"
#include "lake/open_lake.h"
#include "pipeline/bundled_data.h"
#include "pipeline/task_worker.h"
#include "service/http_server.h"
#include "service/internal/service_state.h"

namespace pulse::service {

ServeOptions ServeOptionsFrom(const ServeSettings& s) {
  ServeOptions o;
  o.host = s.host;
  o.port = s.port;
  o.threads = s.threads;
  o.max_body_bytes = s.max_body_bytes;
  o.request_timeout = std::chrono::milliseconds(s.request_timeout_ms);
  o.rate_per_second = s.rate_per_second;
  o.rate_burst = static_cast<double>(s.rate_burst);
  o.tokens_file = s.tokens_file;
  o.shutdown_grace = std::chrono::milliseconds(s.shutdown_grace_ms);
  o.probe_timeout = std::chrono::milliseconds(s.probe_timeout_ms);
  o.tls_cert_file = s.tls_cert_file;
  o.tls_key_file = s.tls_key_file;
  return o;
}

Result<std::unique_ptr<lake::Lake>> ServiceState::OpenLake(lake::OpenMode mode) const {
  return lake::OpenLake(settings, mode);
}

namespace {

Result<HttpReply> Livez(Call&) { return JsonReply(200, {{"status", "ok"}}); }

// Runs the readiness checks and records their outcome on the pulse_ready gauges.
std::vector<CheckResult> CheckReadiness(ServiceState& state) {
  auto results = RunChecks(state.checks, state.probe_timeout);
  bool all_ok = true;
  for (const auto& r : results) {
    all_ok = all_ok && r.ok;
    if (state.ready_checks != nullptr) state.ready_checks->With({r.name}).Set(r.ok ? 1 : 0);
  }
  if (state.ready != nullptr) state.ready->Set(all_ok ? 1 : 0);
  return results;
}

Result<HttpReply> Readyz(ServiceState& state, Call&) {
  const auto results = CheckReadiness(state);
  nlohmann::json checks = nlohmann::json::array();
  std::string failing;
  for (const auto& r : results) {
    checks.push_back({{"name", r.name}, {"ok", r.ok}, {"detail", r.detail}, {"seconds", r.seconds}});
    if (!r.ok) failing += (failing.empty() ? "" : ", ") + r.name;
  }
  if (failing.empty()) return JsonReply(200, {{"status", "ready"}, {"checks", checks}});
  Problem p = MakeProblem(503, "not-ready", "failing: " + failing);
  p.extra = {{"status", "not-ready"}, {"checks", checks}};
  return ProblemReply(std::move(p));
}

Result<HttpReply> Metrics(ServiceState& state, Call&) {
  HttpReply r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  (void)CheckReadiness(state);  // pulse_ready as of this scrape
  r.body = state.registry->Render();
  return r;
}

Result<HttpReply> OpenApi(Call&) {
  HttpReply r;
  r.body = kOpenApiJson;
  return r;
}

}  // namespace

std::vector<RouteSpec> ServiceRoutes(ServiceState* state) {
  auto bind = [state](Result<HttpReply> (*fn)(ServiceState&, Call&)) {
    return [state, fn](Call& call) { return fn(*state, call); };
  };
  auto job = [state](const std::string& task) {
    return [state, task](Call& call) { return PostJob(*state, call, task); };
  };
  auto rows = [state](const std::string& table) {
    return [state, table](Call& call) { return GetTableRows(*state, call, table); };
  };
  std::vector<RouteSpec> routes = {
      {"GET", "/livez", std::nullopt, Livez},
      {"GET", "/readyz", std::nullopt, bind(Readyz)},
      {"GET", "/metrics", std::nullopt, bind(Metrics)},
      {"GET", "/openapi.json", std::nullopt, OpenApi},
      {"POST", "/v1/signals", Scope::kWrite, bind(PostSignals)},
      {"POST", "/v1/jobs/run", Scope::kWrite, job("pulse.world")},
      {"POST", "/v1/jobs/simulate", Scope::kWrite, job("pulse.simulate")},
      {"POST", "/v1/jobs/forecast", Scope::kWrite, job("pulse.forecast")},
      {"POST", "/v1/jobs/retrodict", Scope::kWrite, job("pulse.retrodict")},
      {"POST", "/v1/jobs/trust", Scope::kWrite, job("pulse.trust")},
      {"POST", "/v1/jobs/ingest", Scope::kWrite, bind(PostIngestJob)},
      {"GET", "/v1/jobs/{id}", Scope::kRead, bind(GetJob)},
      {"DELETE", "/v1/jobs/{id}", Scope::kWrite, bind(DeleteJob)},
      {"GET", "/v1/series", Scope::kRead, bind(GetSeries)},
      {"GET", "/v1/forecasts", Scope::kRead, bind(GetForecasts)},
      {"GET", "/v1/trust", Scope::kRead, rows("trust_scores")},
      {"GET", "/v1/simulations", Scope::kRead, rows("simulations")},
      {"GET", "/v1/tables", Scope::kRead, bind(GetTables)},
      {"GET", "/v1/report", Scope::kRead, bind(GetReport)},
  };
  return routes;
}

Result<ServeSummary> RunServe(const Settings& settings, const ServeOptions& options, const std::string& exe_path,
                              const std::atomic<bool>& stop, const std::function<void(int port)>& on_listening) {
  auto state = std::make_unique<ServiceState>();
  state->settings = settings;
  state->exe_path = exe_path;
  state->probe_timeout = options.probe_timeout;
  state->broker_url = settings.jobs.broker;
  PULSE_ASSIGN_OR_RETURN(state->scoring, pipeline::LoadScoringRules(settings.ingest.scoring_rules, exe_path));
  state->pushes = MakeSignalPushQueue(*state);
  // The lake must be reachable by URL now (a typo fails here, not on the first request).
  PULSE_RETURN_IF_ERROR(state->OpenLake(lake::OpenMode::kCreateIfMissing).status());
  PULSE_ASSIGN_OR_RETURN(auto broker, jobs::OpenBroker(settings.jobs.broker));
  state->broker = std::move(broker);
  PULSE_ASSIGN_OR_RETURN(auto tokens, TokenStore::Open(options.tokens_file));
  if (tokens->size() == 0) {
    log::Warn("service", "no API tokens yet: every /v1 route answers 401 (create one: pulse token create)",
              {{"tokens_file", options.tokens_file}});
  }

  // Heap-held, like the Api below: when the grace period ends with requests still running, their
  // threads keep using these, so they are left alive for the exiting process.
  auto registry_holder = std::make_unique<metrics::Registry>();
  metrics::Registry& registry = *registry_holder;
  metrics::RegisterProcessMetrics(registry);
  trace::RegisterTraceMetrics(registry);
  state->registry = &registry;
  state->ready = &registry.AddGauge("pulse_ready", "1 when every /readyz check passes, else 0").With({});
  state->ready_checks = &registry.AddGauge("pulse_ready_check", "1 when this /readyz check passes, else 0", {"check"});
  state->tables = std::make_shared<TableCache>(settings.serve.read_cache_mb << 20, &registry);

  // Readiness: the lake's store always; the broker when other processes share it (Redis).
  {
    const Settings lake_settings = settings;
    state->checks.push_back(std::make_shared<BoundedCheck>("lake", [lake_settings]() -> Status {
      PULSE_ASSIGN_OR_RETURN(auto lake, lake::OpenLake(lake_settings, lake::OpenMode::kMustExist));
      PULSE_ASSIGN_OR_RETURN(auto tables, lake->ListTables());
      (void)tables;
      return Status::Ok();
    }));
    if (!jobs::IsLocalBrokerUrl(settings.jobs.broker)) {
      std::shared_ptr<jobs::Broker> shared = state->broker;
      state->checks.push_back(std::make_shared<BoundedCheck>("broker", [shared]() -> Status {
        PULSE_ASSIGN_OR_RETURN(auto meta, shared->GetResult("pulse-readyz-probe"));
        (void)meta;
        return Status::Ok();
      }));
    }
  }

  // Embedded mode: jobs run on a worker in this process.
  std::unique_ptr<pipeline::TaskWorker> worker;
  if (jobs::IsLocalBrokerUrl(settings.jobs.broker)) {
    PULSE_ASSIGN_OR_RETURN(auto env, pipeline::TaskEnvironmentFromSettings(settings, exe_path));
    worker = std::make_unique<pipeline::TaskWorker>(*state->broker, std::move(env), pipeline::EmbeddedWorkerOptions());
    worker->ExportMetrics(registry);
    worker->Start();
  }

  ApiOptions api_options;
  api_options.rate_per_second = options.rate_per_second;
  api_options.rate_burst = options.rate_burst;
  api_options.request_timeout = options.request_timeout;
  api_options.redact = {settings.lake.url, options.tokens_file, settings.s3.endpoint, settings.run.out};
  auto api_holder = std::make_unique<Api>(api_options, *tokens, registry);
  Api& api = *api_holder;
  for (auto& route : ServiceRoutes(state.get())) api.Add(std::move(route));

  HttpServerOptions http;
  http.host = options.host;
  http.port = options.port;
  http.threads = options.threads;
  http.max_body_bytes = options.max_body_bytes;
  http.read_timeout = options.request_timeout;
  http.tls_cert_file = options.tls_cert_file;
  http.tls_key_file = options.tls_key_file;
  PULSE_ASSIGN_OR_RETURN(auto server, HttpServer::Start(http, api));
  log::Info("service", "listening",
            {{"host", options.host},
             {"port", server->port()},
             {"scheme", options.tls() ? "https" : "http"},
             {"broker", jobs::BackendUrlForDisplay(settings.jobs.broker)}});
  if (on_listening) on_listening(server->port());
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));

  ServeSummary summary;
  summary.port = server->port();
  summary.drained = server->Stop(options.shutdown_grace);
  summary.requests = server->requests();
  if (!summary.drained) {
    // Its threads still use the api, tokens, registry and state: leave them all alive; the
    // process is about to exit.
    (void)server.release();
    (void)tokens.release();
    (void)state.release();
    (void)api_holder.release();
    (void)registry_holder.release();
    (void)worker.release();
    return summary;
  }
  if (worker) worker->Stop();
  return summary;
}

}  // namespace pulse::service
