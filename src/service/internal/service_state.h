// What pulse serve's handlers share (service/serve.cc builds it; internal to src/service).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config_sections.h"
#include "core/metrics.h"
#include "jobs/broker.h"
#include "lake/filesystem.h"
#include "lake/lake.h"
#include "service/api.h"
#include "service/readiness.h"
#include "service/table_cache.h"
#include "signals/scoring.h"

namespace pulse::service {

class SignalPushQueue;  // signals.cc: the group commit of POST /v1/signals

struct ServiceState {
  Settings settings;
  std::string exe_path;
  lake::S3Options s3;
  std::shared_ptr<jobs::Broker> broker;  // shared with the readiness probe's thread
  std::string broker_url;
  std::shared_ptr<const signals::ScoringRules> scoring;
  std::shared_ptr<SignalPushQueue> pushes;  // every POST /v1/signals goes through it
  std::shared_ptr<TableCache> tables;       // the read routes' table handles and recent reads
  metrics::Registry* registry = nullptr;
  std::vector<std::shared_ptr<BoundedCheck>> checks;
  std::chrono::milliseconds probe_timeout{2000};
  // pulse_ready (1 when every check passes) and pulse_ready_check{check}: set from each /readyz
  // answer and from each /metrics scrape (which runs the checks first, within probe_timeout).
  metrics::Gauge* ready = nullptr;
  metrics::Family<metrics::Gauge>* ready_checks = nullptr;
  // A fresh handle on the lake (cheap: no request is made), one per request, so no two requests
  // share a DeltaTable.
  Result<std::unique_ptr<lake::Lake>> OpenLake(lake::OpenMode mode = lake::OpenMode::kMustExist) const;
};

// Every route of pulse serve, bound to `state` (which may be null to list the routes only: the
// OpenAPI test).
std::vector<RouteSpec> ServiceRoutes(ServiceState* state);

std::shared_ptr<SignalPushQueue> MakeSignalPushQueue(ServiceState& state);

// The handlers, by area (signals.cc, jobs.cc, queries.cc).
Result<HttpReply> PostSignals(ServiceState& state, Call& call);
Result<HttpReply> PostJob(ServiceState& state, Call& call, const std::string& task);
Result<HttpReply> PostIngestJob(ServiceState& state, Call& call);
Result<HttpReply> GetJob(ServiceState& state, Call& call);
Result<HttpReply> DeleteJob(ServiceState& state, Call& call);
Result<HttpReply> GetSeries(ServiceState& state, Call& call);
Result<HttpReply> GetForecasts(ServiceState& state, Call& call);
Result<HttpReply> GetTableRows(ServiceState& state, Call& call, const std::string& table);
Result<HttpReply> GetTables(ServiceState& state, Call& call);
Result<HttpReply> GetReport(ServiceState& state, Call& call);

// The embedded OpenAPI document (generated from src/service/openapi.json at build time).
extern const char* const kOpenApiJson;

}  // namespace pulse::service
