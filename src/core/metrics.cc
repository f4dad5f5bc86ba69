#include "core/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace pulse::metrics {
namespace {

[[noreturn]] void Bug(const std::string& what) {
  std::fprintf(stderr, "pulse metrics: %s (a bug in the declaring code)\n", what.c_str());
  std::abort();
}

bool ValidName(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

// {a="x",b="y"} with `extra` (already formatted, e.g. le="1") last; "" when there are no labels.
std::string LabelText(const std::vector<std::string>& names, const LabelValues& values, const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (out.empty() ? "" : ",") + names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? out : "{" + out + "}";
}

void AddAtomic(std::atomic<double>& a, double by) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + by, std::memory_order_relaxed)) {
  }
}

}  // namespace

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Counter::Inc(double by) {
  if (!(by > 0)) return;  // negative, zero or NaN: a counter only goes up
  AddAtomic(value_, by);
}

void Gauge::Add(double by) { AddAtomic(value_, by); }

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  // le is inclusive: the first bound >= value.
  const size_t bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  std::lock_guard lock(mu_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::Read() const {
  std::lock_guard lock(mu_);
  Snapshot s;
  s.cumulative.reserve(counts_.size());
  uint64_t total = 0;
  for (uint64_t c : counts_) s.cumulative.push_back(total += c);
  s.sum = sum_;
  s.count = count_;
  return s;
}

void FamilyBase::CheckArity(const LabelValues& values) const {
  if (values.size() != labels_.size()) {
    Bug(name_ + ": " + std::to_string(values.size()) + " label values for " + std::to_string(labels_.size()) +
        " labels");
  }
}

FamilyBase::Series& FamilyBase::Find(const LabelValues& values) {
  CheckArity(values);
  auto [it, fresh] = series_.try_emplace(values);
  if (fresh) {
    switch (type_) {
      case MetricType::kCounter: it->second.counter = std::make_unique<Counter>(); break;
      case MetricType::kGauge: it->second.gauge = std::make_unique<Gauge>(); break;
      case MetricType::kHistogram: it->second.histogram = std::make_unique<Histogram>(bounds_); break;
    }
  }
  return it->second;
}

template <class T>
T& Family<T>::With(const LabelValues& values) {
  std::lock_guard lock(mu_);
  Series& s = Find(values);
  if constexpr (std::is_same_v<T, Counter>) {
    return *s.counter;
  } else if constexpr (std::is_same_v<T, Gauge>) {
    return *s.gauge;
  } else {
    return *s.histogram;
  }
}

template <class T>
// `read` is taken by value and moved into the series (clang-tidy 14 misses the move here).
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void Family<T>::Bind(const LabelValues& values, ReadFn read) requires(!std::is_same_v<T, Histogram>) {
  std::lock_guard lock(mu_);
  Find(values).read = std::move(read);
}

template <class T>
void Family<T>::Remove(const LabelValues& values) {
  std::lock_guard lock(mu_);
  CheckArity(values);
  series_.erase(values);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void FamilyBase::Render(std::string& out) const {
  struct Row {
    LabelValues labels;
    std::optional<double> value;
    std::optional<Histogram::Snapshot> histogram;
    ReadFn read;
  };
  std::vector<Row> rows;
  {
    std::lock_guard lock(mu_);
    for (const auto& [labels, s] : series_) {
      Row row{labels, std::nullopt, std::nullopt, s.read};
      if (!s.read) {
        if (s.counter) row.value = s.counter->Value();
        if (s.gauge) row.value = s.gauge->Value();
        if (s.histogram) row.histogram = s.histogram->Read();
      }
      rows.push_back(std::move(row));
    }
  }
  for (auto& row : rows)  // outside the lock: a read may be slow (a queue length from Redis)
    if (row.read) row.value = row.read();
  std::string body;
  for (const auto& row : rows) {
    if (row.histogram) {
      const auto& h = *row.histogram;
      for (size_t i = 0; i <= bounds_.size(); ++i) {
        const std::string le = "le=\"" + (i < bounds_.size() ? FormatValue(bounds_[i]) : std::string("+Inf")) + "\"";
        body += name_ + "_bucket" + LabelText(labels_, row.labels, le) + " " + std::to_string(h.cumulative[i]) + "\n";
      }
      body += name_ + "_sum" + LabelText(labels_, row.labels) + " " + FormatValue(h.sum) + "\n";
      body += name_ + "_count" + LabelText(labels_, row.labels) + " " + std::to_string(h.count) + "\n";
    } else if (row.value) {
      body += name_ + LabelText(labels_, row.labels) + " " + FormatValue(*row.value) + "\n";
    }
  }
  if (body.empty()) return;
  out += "# HELP " + name_ + " " + EscapeHelp(help_) + "\n# TYPE " + name_ + " " + TypeName(type_) + "\n" + body;
}

std::vector<double> DurationBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

FamilyBase& Registry::Add(const std::string& name, const std::string& help, std::vector<std::string> labels,
                          MetricType type, std::vector<double> bounds) {
  if (!ValidName(name, true)) Bug("'" + name + "' is not a Prometheus metric name");
  if (type == MetricType::kCounter && !EndsWith(name, "_total")) Bug("counter '" + name + "' does not end in _total");
  if (type != MetricType::kCounter) {
    for (const char* reserved : {"_total", "_count", "_sum", "_bucket"})
      if (EndsWith(name, reserved)) Bug(std::string(TypeName(type)) + " '" + name + "' ends in " + reserved);
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!ValidName(labels[i], false) || labels[i].rfind("__", 0) == 0)
      Bug(name + ": '" + labels[i] + "' is not a label name");
    if (type == MetricType::kHistogram && labels[i] == "le") Bug(name + ": a histogram cannot have the label 'le'");
    for (size_t j = 0; j < i; ++j)
      if (labels[j] == labels[i]) Bug(name + ": label '" + labels[i] + "' twice");
  }
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();  // +Inf is implicit
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
      Bug(name + ": histogram bounds must be finite and increasing");
  }
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    const FamilyBase& f = *it->second;
    if (f.type_ != type || f.help_ != help || f.labels_ != labels || f.bounds_ != bounds)
      Bug("'" + name + "' declared twice, differently");
    return *it->second;
  }
  std::unique_ptr<FamilyBase> family;
  switch (type) {
    case MetricType::kCounter: family.reset(new Family<Counter>(name, help, labels, type, {})); break;
    case MetricType::kGauge: family.reset(new Family<Gauge>(name, help, labels, type, {})); break;
    case MetricType::kHistogram: family.reset(new Family<Histogram>(name, help, labels, type, bounds)); break;
  }
  if (labels.empty() && type != MetricType::kHistogram) {
    std::lock_guard series_lock(family->mu_);
    family->Find({});
  }
  return *families_.emplace(name, std::move(family)).first->second;
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
  return static_cast<Family<Counter>&>(Add(name, help, std::move(labels), MetricType::kCounter, {}));
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  return static_cast<Family<Gauge>&>(Add(name, help, std::move(labels), MetricType::kGauge, {}));
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels, std::vector<double> bounds) {
  return static_cast<Family<Histogram>&>(Add(name, help, std::move(labels), MetricType::kHistogram, std::move(bounds)));
}

std::string Registry::Render() const {
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_) families.push_back(f.get());  // families are never removed
  }
  std::string out;
  for (const FamilyBase* f : families) f->Render(out);
  return out;
}

void RegisterProcessMetrics(Registry& registry) {
  registry.AddCounter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
      .Bind({}, []() -> std::optional<double> {
        rusage u{};
        if (::getrusage(RUSAGE_SELF, &u) != 0) return std::nullopt;
        auto seconds = [](const timeval& t) {
          return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
        };
        return seconds(u.ru_utime) + seconds(u.ru_stime);
      });
  registry.AddGauge("process_resident_memory_bytes", "Resident memory size in bytes.")
      .Bind({}, []() -> std::optional<double> {
        std::ifstream statm("/proc/self/statm");
        long long pages = 0, resident = 0;
        if (!(statm >> pages >> resident)) return std::nullopt;
        const long page = ::sysconf(_SC_PAGESIZE);
        if (page <= 0) return std::nullopt;
        return static_cast<double>(resident) * static_cast<double>(page);
      });
}

}  // namespace pulse::metrics
