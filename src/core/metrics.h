// Metrics: a small thread-safe registry of counters, gauges and histograms with labels, rendered
// in the Prometheus text exposition format (version 0.0.4). Every long-running role (pulse worker
// today; serve and stream later) declares its families on one Registry and serves Render() at
// /metrics (core/metrics_server.h).
//
// Contract:
// - A family has a name, a help text, label names and a type. Names follow Prometheus: a counter's
//   name ends in `_total`; quantities are in base units named by suffix (`_seconds`, `_bytes`);
//   `_count`, `_sum` and `_bucket` are reserved for histograms' series. Names are literals in the
//   code, so a bad declaration is a bug: a name that is not [a-zA-Z_:][a-zA-Z0-9_:]*, a label name
//   that is not [a-zA-Z_][a-zA-Z0-9_]* or starts with "__" (or is "le" on a histogram), a counter
//   not ending in _total, a histogram's bounds not finite and increasing, or a second declaration
//   of a name with another type, help or labels is reported on stderr and abort()s at declaration.
//   Declaring the same family again returns the first one.
// - With(label values) is the series with those values (one per label name, any bytes; a wrong
//   count is a bug, as above), created at zero on first use. The reference stays valid as long as
//   the registry and the series is not Removed. Counter::Inc ignores negative and NaN amounts (a
//   counter only goes up); Histogram::Observe ignores NaN.
// - Bind(label values, read) makes a counter or gauge series whose value is read when rendered
//   (for counts kept elsewhere, and for values such as a queue's length that are asked for at
//   scrape time); a read that returns nullopt leaves the series out of that scrape. Reads run
//   without the registry's locks held, so they may be slow, but must not declare families.
// - Render(): families sorted by name, each with # HELP (backslash and newline escaped) and
//   # TYPE, then its series sorted by label values; label values escape backslash, double quote
//   and newline; numbers are the shortest text that reads back exactly ("1", "0.25", "1e+21"),
//   and NaN, +Inf, -Inf as Prometheus spells them. A histogram renders cumulative
//   <name>_bucket{...,le="<bound>"} lines ending with le="+Inf", then <name>_sum and <name>_count.
//   A family without series is left out. An unlabelled counter or gauge has its one series from
//   the start (rendered as 0 until changed).
//
// Why our own registry rather than prometheus-cpp (Debian's prometheus-cpp-dev 1.0.1): what Pulse
// needs is ~300 lines - three metric types, labels, the text format - served by the small
// core/metrics_server. prometheus-cpp would add two shared libraries (core, and pull with its own
// civetweb HTTP server beside ours), reports bad names by throwing std::invalid_argument (we keep
// exceptions behind Status), and exposes counts kept elsewhere (WorkerStats) only through a
// hand-written Collectable, where Bind() here is one line. The wire output is the same format,
// checked byte for byte by tests/unit/core/metrics_test.cc and by `promtool check metrics` on a
// live worker (tests/integration/python/test_worker_metrics.py).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pulse::metrics {

using LabelValues = std::vector<std::string>;
// A value read at render time; nullopt: leave the series out of this scrape.
using ReadFn = std::function<std::optional<double>()>;

class Counter {
 public:
  void Inc(double by = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double by);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds) : bounds_(bounds), counts_(bounds.size() + 1, 0) {}
  void Observe(double value);
  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double>& bounds_;  // the family's; outlives the series
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative), the last one above every bound
  double sum_ = 0;
  uint64_t count_ = 0;
};

enum class MetricType { kCounter, kGauge, kHistogram };

// The part of a family the registry renders; typed access through Family<T>.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  // Appends the family's exposition text (nothing when it has no series this scrape).
  void Render(std::string& out) const;

 protected:
  FamilyBase(std::string name, std::string help, std::vector<std::string> labels, MetricType type,
             std::vector<double> bounds)
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)),
        type_(type) {}
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    ReadFn read;  // set for bound series
  };
  Series& Find(const LabelValues& values);  // created when absent; mu_ held by the caller
  void CheckArity(const LabelValues& values) const;

 private:
  // Family<T> (the typed access) and the Registry read the state directly.
  template <class T>
  friend class Family;
  friend class Registry;
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;
  const MetricType type_;
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

template <class T>
class Family final : public FamilyBase {
 public:
  T& With(const LabelValues& values);
  // Counters and gauges only.
  void Bind(const LabelValues& values, ReadFn read) requires(!std::is_same_v<T, Histogram>);
  void Remove(const LabelValues& values);

 private:
  friend class Registry;
  using FamilyBase::FamilyBase;
};

// Prometheus's default buckets stretched to ten minutes, for task and request durations (seconds).
std::vector<double> DurationBuckets();

class Registry {
 public:
  Family<Counter>& AddCounter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help, std::vector<std::string> labels,
                                  std::vector<double> bounds = DurationBuckets());
  std::string Render() const;

 private:
  FamilyBase& Add(const std::string& name, const std::string& help, std::vector<std::string> labels, MetricType type,
                  std::vector<double> bounds);
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

// process_cpu_seconds_total (user + system, getrusage) and process_resident_memory_bytes
// (/proc/self/statm; left out where it cannot be read), as Prometheus's own clients name them.
void RegisterProcessMetrics(Registry& registry);

// The exposition format's number text (shortest exact; NaN, +Inf, -Inf) and escapes.
std::string FormatValue(double value);
std::string EscapeLabelValue(std::string_view value);
std::string EscapeHelp(std::string_view help);

}  // namespace pulse::metrics
