// OTLP/HTTP export of finished spans (core/trace.h): ExportTraceServiceRequest messages POSTed to
// <endpoint>/v1/traces, protobuf (Content-Type application/x-protobuf, OTLP's default) or JSON
// (application/json, OTLP's JSON mapping: ids as hex, 64-bit integers as strings, enums as numbers).
// https://opentelemetry.io/docs/specs/otlp/ and opentelemetry-proto's trace/v1/trace.proto.
//
// Contract:
// - StartExporter installs a trace sink that only queues (bounded by max_queue spans): a full queue
//   drops the span and counts it, so tracing never blocks or fails a request. One background thread
//   sends batches of at most max_batch spans every flush_interval_ms (sooner when a batch is full),
//   each POST bounded by timeout_ms; a failed POST (no connection, a non-2xx answer) drops that
//   batch and counts its spans as failed, with one warning log line per minute at most.
// - StopExporter removes the sink, sends what is queued (bounded by max_wait_ms) and joins the
//   thread; called by every command before it exits. Safe to call when none was started.
// - The counts are served as pulse_trace_spans_exported_total, pulse_trace_spans_dropped_total
//   (queue full) and pulse_trace_spans_failed_total (export failed) on a role's /metrics through
//   RegisterTraceMetrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_sections.h"
#include "core/metrics.h"
#include "core/status.h"
#include "core/trace.h"

namespace pulse::trace {

enum class OtlpProtocol { kProtobuf, kJson };

struct ExporterOptions {
  std::string endpoint;      // http(s)://host:port (the collector's OTLP/HTTP base); /v1/traces is appended
  std::string service_name;  // resource attribute service.name
  OtlpProtocol protocol = OtlpProtocol::kProtobuf;
  size_t max_queue = 4096;
  size_t max_batch = 512;
  int64_t flush_interval_ms = 1000;
  int64_t timeout_ms = 5000;
};

// The body of one export request: one ResourceSpans (service.name = `service_name`) with one
// ScopeSpans (scope "pulse") holding `spans`.
std::string EncodeProtobuf(const std::string& service_name, const std::vector<SpanData>& spans);
std::string EncodeJson(const std::string& service_name, const std::vector<SpanData>& spans);

// kInvalidArgument for an endpoint that is not http:// or https://, or an empty service name;
// kConflict when an exporter is already running.
Status StartExporter(const ExporterOptions& options);
void StopExporter(int64_t max_wait_ms = 3000);
// The exporter the telemetry.* settings ask for: none when telemetry.otlp_endpoint is empty (Ok),
// else StartExporter with service.name = telemetry.service_name or "pulse-<role>".
Status StartExporterFromSettings(const TelemetrySettings& settings, std::string_view role);

struct ExporterCounts {
  uint64_t exported = 0, dropped = 0, failed = 0;
};
ExporterCounts Counts();
void RegisterTraceMetrics(metrics::Registry& registry);

}  // namespace pulse::trace
