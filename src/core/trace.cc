#include "core/trace.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>

namespace pulse::trace {
namespace {

thread_local SpanContext t_current;

std::mutex& SinkMutex() {
  static std::mutex mu;
  return mu;
}
std::shared_ptr<const SpanSink>& SinkSlot() {
  static std::shared_ptr<const SpanSink> sink;
  return sink;
}
std::atomic<bool> g_recording{false};

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  return rng;
}

template <size_t N>
void FillRandom(std::array<uint8_t, N>& out) {
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t word = Rng()();
      for (size_t j = 0; j < 8 && i + j < N; ++j) out[i + j] = static_cast<uint8_t>(word >> (8 * j));
    }
  } while (std::all_of(out.begin(), out.end(), [](uint8_t b) { return b == 0; }));
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& id) {
  return std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not allowed by the spec
}

// Lower-case hex of exactly 2*N characters into `out`; false otherwise.
template <size_t N>
bool ParseHex(std::string_view text, std::array<uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    const int hi = HexDigit(text[2 * i]), lo = HexDigit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * N);
  for (uint8_t b : id) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool SpanContext::valid() const { return !AllZero(trace_id) && !AllZero(span_id); }

std::string HexId(const TraceId& id) { return Hex(id); }
std::string HexId(const SpanId& id) { return Hex(id); }

Result<SpanContext> ParseTraceparent(std::string_view text) {
  // version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55.
  constexpr size_t kLength = 55;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("traceparent '" + std::string(text.substr(0, 80)) + "': " + why);
  };
  if (text.size() < kLength) return bad("too short (55 characters expected)");
  std::array<uint8_t, 1> version{};
  if (!ParseHex(text.substr(0, 2), version)) return bad("version is not two lower-case hex digits");
  if (version[0] == 0xff) return bad("version ff is invalid");
  if (version[0] == 0 && text.size() != kLength) return bad("version 00 must be exactly 55 characters");
  if (text.size() > kLength && text[kLength] != '-') return bad("unexpected characters after the flags");
  if (text[2] != '-' || text[35] != '-' || text[52] != '-') return bad("fields must be separated by '-'");
  SpanContext ctx;
  if (!ParseHex(text.substr(3, 32), ctx.trace_id)) return bad("trace id is not 32 lower-case hex digits");
  if (!ParseHex(text.substr(36, 16), ctx.span_id)) return bad("parent id is not 16 lower-case hex digits");
  std::array<uint8_t, 1> flags{};
  if (!ParseHex(text.substr(53, 2), flags)) return bad("trace flags are not two lower-case hex digits");
  if (AllZero(ctx.trace_id)) return bad("trace id is all zeros");
  if (AllZero(ctx.span_id)) return bad("parent id is all zeros");
  // Only the sampled bit is defined; for version 00 the others are kept as received (the spec
  // says to pass them on only when understood: we do not, so clear them).
  ctx.flags = static_cast<uint8_t>(flags[0] & 1);
  return ctx;
}

std::string FormatTraceparent(const SpanContext& context) {
  if (!context.valid()) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "00-" + Hex(context.trace_id) + "-" + Hex(context.span_id) + "-";
  out += kHex[context.flags >> 4];
  out += kHex[context.flags & 0xF];
  return out;
}

SpanContext Current() { return t_current; }

void SetSink(SpanSink sink) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  SinkSlot() = sink ? std::make_shared<const SpanSink>(std::move(sink)) : nullptr;
  g_recording = SinkSlot() != nullptr;
}

bool Recording() { return g_recording.load(std::memory_order_relaxed); }

Span Span::Start(std::string_view name, SpanKind kind, const SpanContext& parent) {
  Span span;
  span.active_ = true;
  span.previous_ = t_current;
  const SpanContext& up = parent.valid() ? parent : t_current;
  if (up.valid()) {
    span.data_.context.trace_id = up.trace_id;
    span.data_.context.flags = up.flags;
    span.data_.parent_span_id = up.span_id;
  } else {
    FillRandom(span.data_.context.trace_id);
    span.data_.context.flags = 1;  // a new trace is sampled
  }
  FillRandom(span.data_.context.span_id);
  span.data_.kind = kind;
  if (Recording() && span.data_.context.sampled()) {
    span.data_.name = std::string(name);
    span.data_.start_unix_nanos = NowNanos();
  }
  t_current = span.data_.context;
  return span;
}

Span Span::StartFromTraceparent(std::string_view name, std::string_view traceparent, SpanKind kind) {
  SpanContext parent;
  if (!traceparent.empty()) {
    if (auto parsed = ParseTraceparent(traceparent); parsed.ok()) parent = *parsed;
  }
  // An absent or invalid header starts a new trace rather than joining the thread's current one;
  // the thread's context comes back when the span ends.
  const SpanContext saved = t_current;
  t_current = SpanContext{};
  Span span = Start(name, kind, parent);
  span.previous_ = saved;
  return span;
}

Span::Span(Span&& other) noexcept
    : active_(std::exchange(other.active_, false)), data_(std::move(other.data_)), previous_(other.previous_) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    active_ = std::exchange(other.active_, false);
    data_ = std::move(other.data_);
    previous_ = other.previous_;
  }
  return *this;
}

void Span::SetAttribute(std::string_view key, AttributeValue value) {
  if (!active_ || data_.start_unix_nanos == 0) return;  // not recorded
  data_.attributes.emplace_back(std::string(key), std::move(value));
}

void Span::AddLink(const SpanContext& other) {
  if (active_ && data_.start_unix_nanos != 0 && other.valid()) data_.links.push_back(other);
}

void Span::SetName(std::string_view name) {
  if (active_ && data_.start_unix_nanos != 0) data_.name = std::string(name);
}

void Span::SetError(std::string_view message) {
  if (!active_) return;
  data_.status = SpanStatus::kError;
  if (data_.start_unix_nanos != 0) data_.status_message = std::string(message);
}

void Span::SetOk() {
  if (active_) data_.status = SpanStatus::kOk;
}

void Span::End() {
  if (!active_) return;
  active_ = false;
  // Restore the previous context only when this span is still the current one (stack order).
  if (t_current.span_id == data_.context.span_id && t_current.trace_id == data_.context.trace_id) t_current = previous_;
  if (data_.start_unix_nanos == 0) return;  // not recorded (no sink when it started, or not sampled)
  data_.end_unix_nanos = NowNanos();
  std::shared_ptr<const SpanSink> sink;
  {
    std::lock_guard<std::mutex> lock(SinkMutex());
    sink = SinkSlot();
  }
  if (sink) (*sink)(std::move(data_));
}

ScopedContext::ScopedContext(const SpanContext& context) : previous_(t_current) { t_current = context; }
ScopedContext::~ScopedContext() { t_current = previous_; }

}  // namespace pulse::trace
