// Tracing: W3C trace context (https://www.w3.org/TR/trace-context/) and spans, exported by
// core/otlp_exporter.h when telemetry.otlp_endpoint is set (off by default).
//
// Contract:
// - A SpanContext is a 16-byte trace id, an 8-byte span id and the trace flags (bit 0: sampled).
//   It is valid when neither id is all zeros. `traceparent` text is
//   "00-<32 lower-case hex>-<16 lower-case hex>-<2 hex flags>"; ParseTraceparent accepts version
//   00 exactly as the spec writes it, and a higher version (not ff) when its first four fields
//   have that form and anything further follows a '-' (the spec's forward compatibility);
//   anything else is kInvalidArgument naming the problem, and callers then start a new trace.
// - Each thread has a current context (empty at first). Span::Start makes the new span current on
//   its thread until it ends; spans must end on the thread that started them, innermost first
//   (RAII: a Span ends in its destructor). ScopedContext makes a context current for a scope
//   without a span of this process (an incoming parent, a context carried to a pool thread).
// - A span's parent: the explicit one given to Start (when valid), else the thread's current
//   context; with neither it starts a new trace (fresh random trace id, sampled). Ids are random
//   (std::random_device-seeded per-thread generators), never all zeros.
// - A finished span goes to the sink installed with SetSink (core/otlp_exporter.h installs its
//   batching exporter) when its context is sampled; with no sink, spans cost their ids and one
//   clock read, and attributes are not stored. Sinks are called on the ending thread and must not
//   block (the OTLP exporter only queues).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace pulse::trace {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  uint8_t flags = 0;  // bit 0: sampled
  bool valid() const;
  bool sampled() const { return (flags & 1) != 0; }
};

// The W3C header names.
inline constexpr std::string_view kTraceparentHeader = "traceparent";

Result<SpanContext> ParseTraceparent(std::string_view text);
// "00-<trace id>-<span id>-<flags>"; "" for an invalid context.
std::string FormatTraceparent(const SpanContext& context);
std::string HexId(const TraceId& id);
std::string HexId(const SpanId& id);

// The calling thread's current context (invalid when none).
SpanContext Current();

// OTLP's span kinds (the numbers are OTLP's enum values).
enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };
// OTLP's status codes.
enum class SpanStatus { kUnset = 0, kOk = 1, kError = 2 };

using AttributeValue = std::variant<std::string, int64_t, double, bool>;

// A finished span as the sink receives it.
struct SpanData {
  SpanContext context;
  SpanId parent_span_id{};  // all zeros: a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nanos = 0, end_unix_nanos = 0;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  SpanStatus status = SpanStatus::kUnset;
  std::string status_message;
  std::vector<SpanContext> links;  // related spans of other traces (a batch's records)
};

using SpanSink = std::function<void(SpanData&&)>;
// Installs (or, with an empty function, removes) the sink of finished spans. Thread-safe.
void SetSink(SpanSink sink);
bool Recording();  // a sink is installed

class Span {
 public:
  Span() = default;  // an inactive span: every call is a no-op
  // Starts a span: child of `parent` when valid, else of the current context, else a new trace.
  static Span Start(std::string_view name, SpanKind kind = SpanKind::kInternal, const SpanContext& parent = {});
  // A span continuing `traceparent` text (an incoming header); a new trace when it is absent or
  // does not parse.
  static Span StartFromTraceparent(std::string_view name, std::string_view traceparent,
                                   SpanKind kind = SpanKind::kServer);
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { End(); }

  void SetAttribute(std::string_view key, AttributeValue value);
  void SetAttribute(std::string_view key, const char* value) { SetAttribute(key, AttributeValue(std::string(value))); }
  void SetAttribute(std::string_view key, std::string_view value) {
    SetAttribute(key, AttributeValue(std::string(value)));
  }
  void SetAttribute(std::string_view key, const std::string& value) { SetAttribute(key, AttributeValue(value)); }
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) void SetAttribute(std::string_view key, T value) {
    SetAttribute(key, AttributeValue(static_cast<int64_t>(value)));
  }
  void SetName(std::string_view name);     // e.g. once the request's route is known
  void AddLink(const SpanContext& other);  // ignored when invalid
  void SetError(std::string_view message);
  void SetOk();
  // Ends the span (once; later calls do nothing) and restores the context that was current
  // before it started.
  void End();

  bool active() const { return active_; }
  const SpanContext& context() const { return data_.context; }
  std::string traceparent() const { return FormatTraceparent(data_.context); }

 private:
  bool active_ = false;
  SpanData data_;
  SpanContext previous_;
};

// Makes `context` the thread's current context for this object's lifetime (restores the
// previous one after). An invalid context clears the current one for the scope.
class ScopedContext {
 public:
  explicit ScopedContext(const SpanContext& context);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  SpanContext previous_;
};

}  // namespace pulse::trace
