#include "core/otlp_exporter.h"

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/log.h"

namespace pulse::trace {
namespace {

// --- protobuf wire format (https://protobuf.dev/programming-guides/encoding/) ---

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void Tag(std::string& out, int field, int wire_type) {
  Varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}
void Bytes(std::string& out, int field, std::string_view bytes) {
  Tag(out, field, 2);
  Varint(out, bytes.size());
  out.append(bytes);
}
void Fixed64(std::string& out, int field, uint64_t v) {
  Tag(out, field, 1);
  for (int i = 0; i < 8; ++i) out += static_cast<char>(v >> (8 * i));
}
template <size_t N>
std::string_view Raw(const std::array<uint8_t, N>& id) {
  return {reinterpret_cast<const char*>(id.data()), N};
}

// opentelemetry.proto.common.v1.AnyValue: string 1, bool 2, int 3, double 4.
std::string AnyValueProto(const AttributeValue& value) {
  std::string out;
  if (const auto* s = std::get_if<std::string>(&value)) {
    Bytes(out, 1, *s);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    Tag(out, 2, 0);
    Varint(out, *b ? 1 : 0);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    Tag(out, 3, 0);
    Varint(out, static_cast<uint64_t>(*i));
  } else {
    uint64_t bits = 0;
    const double d = std::get<double>(value);
    std::memcpy(&bits, &d, sizeof bits);
    Fixed64(out, 4, bits);
  }
  return out;
}
// KeyValue: key 1, value 2.
std::string KeyValueProto(const std::string& key, const AttributeValue& value) {
  std::string out;
  Bytes(out, 1, key);
  Bytes(out, 2, AnyValueProto(value));
  return out;
}

// opentelemetry.proto.trace.v1.Span.
std::string SpanProto(const SpanData& span) {
  std::string out;
  Bytes(out, 1, Raw(span.context.trace_id));
  Bytes(out, 2, Raw(span.context.span_id));
  if (!std::all_of(span.parent_span_id.begin(), span.parent_span_id.end(), [](uint8_t b) { return b == 0; }))
    Bytes(out, 4, Raw(span.parent_span_id));
  Bytes(out, 5, span.name);
  Tag(out, 6, 0);
  Varint(out, static_cast<uint64_t>(span.kind));
  Fixed64(out, 7, static_cast<uint64_t>(span.start_unix_nanos));
  Fixed64(out, 8, static_cast<uint64_t>(span.end_unix_nanos));
  for (const auto& [key, value] : span.attributes) Bytes(out, 9, KeyValueProto(key, value));
  for (const SpanContext& link : span.links) {  // Link: trace_id 1, span_id 2
    std::string l;
    Bytes(l, 1, Raw(link.trace_id));
    Bytes(l, 2, Raw(link.span_id));
    Bytes(out, 13, l);
  }
  if (span.status != SpanStatus::kUnset) {
    std::string status;  // Status: message 2, code 3
    if (!span.status_message.empty()) Bytes(status, 2, span.status_message);
    Tag(status, 3, 0);
    Varint(status, static_cast<uint64_t>(span.status));
    Bytes(out, 15, status);
  }
  return out;
}

nlohmann::json AnyValueJson(const AttributeValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return {{"stringValue", *s}};
  if (const auto* b = std::get_if<bool>(&value)) return {{"boolValue", *b}};
  if (const auto* i = std::get_if<int64_t>(&value)) return {{"intValue", std::to_string(*i)}};
  return {{"doubleValue", std::get<double>(value)}};
}

// --- the exporter ---

struct Exporter {
  ExporterOptions options;
  std::string url, content_type;
  std::mutex mu;
  std::condition_variable wake;
  std::deque<SpanData> queue;
  bool stopping = false;
  std::atomic<int64_t> timeout_ms{5000};  // per POST; lowered by StopExporter to its bound
  std::thread thread;
};

std::mutex g_exporter_mu;              // guards g_exporter (start / stop)
std::shared_ptr<Exporter> g_exporter;  // the sink holds it too: a span ending during Stop is safe
std::atomic<uint64_t> g_exported{0}, g_dropped{0}, g_failed{0};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One POST; an error message, or "" on a 2xx answer.
std::string Post(const Exporter& ex, const std::string& body) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(), curl_easy_cleanup);
  if (!handle) return "curl_easy_init failed";
  CURL* curl = handle.get();
  std::string answer;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = curl_slist_append(nullptr, ("Content-Type: " + ex.content_type).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, ex.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  const auto timeout_ms = static_cast<long>(ex.timeout_ms.load());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) return errbuf[0] != 0 ? std::string(errbuf) : std::string(curl_easy_strerror(code));
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) return "HTTP " + std::to_string(status) + ": " + answer.substr(0, 200);
  return "";
}

void Send(const Exporter& ex, const std::vector<SpanData>& batch) {
  static std::atomic<int64_t> last_warning{0};
  std::string error;
  try {
    const std::string body = ex.options.protocol == OtlpProtocol::kJson
                                 ? EncodeJson(ex.options.service_name, batch)
                                 : EncodeProtobuf(ex.options.service_name, batch);
    error = Post(ex, body);
  } catch (const std::exception& e) {  // allocation failure and the like: drop the batch
    error = e.what();
  }
  if (error.empty()) {
    g_exported += batch.size();
    return;
  }
  g_failed += batch.size();
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = last_warning.load();
  if (now - last >= 60 && last_warning.compare_exchange_strong(last, now)) {
    // Logged without a current span: this thread has none.
    log::Warn("trace", "span export failed; spans dropped",
              {{"endpoint", ex.url}, {"error", error}, {"spans", batch.size()}});
  }
}

void Run(Exporter* ex) {
  std::unique_lock<std::mutex> lock(ex->mu);
  while (true) {
    ex->wake.wait_for(lock, std::chrono::milliseconds(ex->options.flush_interval_ms),
                      [ex] { return ex->stopping || ex->queue.size() >= ex->options.max_batch; });
    while (!ex->queue.empty()) {
      std::vector<SpanData> batch;
      const size_t n = std::min(ex->queue.size(), ex->options.max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(ex->queue.front()));
        ex->queue.pop_front();
      }
      lock.unlock();
      Send(*ex, batch);
      lock.lock();
      if (!ex->stopping && ex->queue.size() < ex->options.max_batch) break;
    }
    if (ex->stopping) return;
  }
}

}  // namespace

std::string EncodeProtobuf(const std::string& service_name, const std::vector<SpanData>& spans) {
  std::string resource;  // Resource: attributes 1
  Bytes(resource, 1, KeyValueProto("service.name", service_name));
  std::string scope;  // InstrumentationScope: name 1
  Bytes(scope, 1, "pulse");
  std::string scope_spans;  // ScopeSpans: scope 1, spans 2
  Bytes(scope_spans, 1, scope);
  for (const SpanData& span : spans) Bytes(scope_spans, 2, SpanProto(span));
  std::string resource_spans;  // ResourceSpans: resource 1, scope_spans 2
  Bytes(resource_spans, 1, resource);
  Bytes(resource_spans, 2, scope_spans);
  std::string request;  // ExportTraceServiceRequest: resource_spans 1
  Bytes(request, 1, resource_spans);
  return request;
}

std::string EncodeJson(const std::string& service_name, const std::vector<SpanData>& spans) {
  nlohmann::json list = nlohmann::json::array();
  for (const SpanData& span : spans) {
    nlohmann::json s = {{"traceId", HexId(span.context.trace_id)},
                        {"spanId", HexId(span.context.span_id)},
                        {"name", span.name},
                        {"kind", static_cast<int>(span.kind)},
                        {"startTimeUnixNano", std::to_string(span.start_unix_nanos)},
                        {"endTimeUnixNano", std::to_string(span.end_unix_nanos)}};
    if (!std::all_of(span.parent_span_id.begin(), span.parent_span_id.end(), [](uint8_t b) { return b == 0; }))
      s["parentSpanId"] = HexId(span.parent_span_id);
    nlohmann::json attributes = nlohmann::json::array();
    for (const auto& [key, value] : span.attributes)
      attributes.push_back({{"key", key}, {"value", AnyValueJson(value)}});
    if (!attributes.empty()) s["attributes"] = std::move(attributes);
    nlohmann::json links = nlohmann::json::array();
    for (const SpanContext& link : span.links)
      links.push_back({{"traceId", HexId(link.trace_id)}, {"spanId", HexId(link.span_id)}});
    if (!links.empty()) s["links"] = std::move(links);
    if (span.status != SpanStatus::kUnset) {
      nlohmann::json status = {{"code", static_cast<int>(span.status)}};
      if (!span.status_message.empty()) status["message"] = span.status_message;
      s["status"] = std::move(status);
    }
    list.push_back(std::move(s));
  }
  nlohmann::json request = {
      {"resourceSpans",
       {{{"resource", {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", service_name}}}}}}}},
         {"scopeSpans", {{{"scope", {{"name", "pulse"}}}, {"spans", std::move(list)}}}}}}}};
  return request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status StartExporter(const ExporterOptions& options) {
  if (options.endpoint.rfind("http://", 0) != 0 && options.endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("telemetry.otlp_endpoint must start with http:// or https://, got '" +
                                   options.endpoint + "'");
  }
  if (options.service_name.empty()) return Status::InvalidArgument("the trace service name must not be empty");
  std::lock_guard<std::mutex> guard(g_exporter_mu);
  if (g_exporter) return Status::Conflict("a span exporter is already running");
  auto ex = std::make_shared<Exporter>();
  ex->options = options;
  ex->options.max_batch = std::max<size_t>(1, options.max_batch);
  ex->options.flush_interval_ms = std::max<int64_t>(1, options.flush_interval_ms);
  ex->timeout_ms = std::max<int64_t>(1, options.timeout_ms);
  std::string base = options.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  ex->url = base + "/v1/traces";
  ex->content_type = options.protocol == OtlpProtocol::kJson ? "application/json" : "application/x-protobuf";
  Exporter* raw = ex.get();
  ex->thread = std::thread([raw] { Run(raw); });
  g_exporter = ex;
  SetSink([ex](SpanData&& span) {
    try {
      std::lock_guard<std::mutex> lock(ex->mu);
      if (ex->stopping || ex->queue.size() >= ex->options.max_queue) {
        ++g_dropped;
        return;
      }
      ex->queue.push_back(std::move(span));
      if (ex->queue.size() >= ex->options.max_batch) ex->wake.notify_one();
    } catch (...) {  // allocation failure: drop the span, never fail the caller
      ++g_dropped;
    }
  });
  return Status::Ok();
}

void StopExporter(int64_t max_wait_ms) {
  std::lock_guard<std::mutex> guard(g_exporter_mu);
  if (!g_exporter) return;
  SetSink({});  // spans ending from now on go nowhere (one ending right now is dropped: stopping)
  Exporter* ex = g_exporter.get();
  {
    std::lock_guard<std::mutex> lock(ex->mu);
    ex->stopping = true;
    ex->timeout_ms = std::min(ex->timeout_ms.load(), std::max<int64_t>(1, max_wait_ms));
  }
  ex->wake.notify_one();
  ex->thread.join();
  g_exporter.reset();
}

Status StartExporterFromSettings(const TelemetrySettings& settings, std::string_view role) {
  if (settings.otlp_endpoint.empty()) return Status::Ok();
  ExporterOptions options;
  options.endpoint = settings.otlp_endpoint;
  options.service_name = settings.service_name.empty() ? "pulse-" + std::string(role) : settings.service_name;
  options.protocol = settings.otlp_protocol == "json" ? OtlpProtocol::kJson : OtlpProtocol::kProtobuf;
  return StartExporter(options);
}

ExporterCounts Counts() { return {g_exported.load(), g_dropped.load(), g_failed.load()}; }

void RegisterTraceMetrics(metrics::Registry& registry) {
  registry.AddCounter("pulse_trace_spans_exported_total", "Spans sent to the OTLP endpoint").Bind({}, [] {
    return static_cast<double>(g_exported.load());
  });
  registry.AddCounter("pulse_trace_spans_dropped_total", "Spans dropped because the export queue was full")
      .Bind({}, [] { return static_cast<double>(g_dropped.load()); });
  registry.AddCounter("pulse_trace_spans_failed_total", "Spans dropped because their export request failed")
      .Bind({}, [] { return static_cast<double>(g_failed.load()); });
}

}  // namespace pulse::trace
