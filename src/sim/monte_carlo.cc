#include "sim/monte_carlo.h"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <iterator>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/random.h"
#include "core/thread_pool.h"

namespace pulse::sim {
namespace {

constexpr double kScale = 16777216.0;      // 2^24: fixed-point resolution of the sums
constexpr double kMaxAbs = 68719476736.0;  // 2^36: |values| beyond it saturate in the sums

int64_t Quantise(double v) { return std::llround(std::clamp(v, -kMaxAbs, kMaxAbs) * kScale); }

// Monotone bucket key: sign, exponent and the top 7 mantissa bits of the double.
uint32_t BucketKey(double v) {
  uint64_t bits = std::bit_cast<uint64_t>(v == 0 ? 0.0 : v);  // -0 and +0 share a bucket
  bits = (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
  return static_cast<uint32_t>(bits >> 45);
}

}  // namespace

Summary::Bucket& Summary::BucketMap::operator[](uint32_t key) {
  if (2 * (size_ + 1) > keys_.size()) Grow();
  const size_t mask = keys_.size() - 1;
  // Fibonacci hashing in 32 bits: the product wraps modulo 2^32 on purpose.
  for (size_t i = static_cast<size_t>(key * 0x9E3779B1u) & mask;; i = (i + 1) & mask) {
    if (keys_[i] == key) return values_[i];
    if (keys_[i] == kEmpty) {
      keys_[i] = key;
      ++size_;
      return values_[i];
    }
  }
}

void Summary::BucketMap::Grow() {
  std::vector<uint32_t> keys = std::move(keys_);
  std::vector<Bucket> values = std::move(values_);
  keys_.assign(std::max<size_t>(16, keys.size() * 2), kEmpty);
  values_.assign(keys_.size(), Bucket{});
  size_ = 0;
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] != kEmpty) (*this)[keys[i]] = values[i];
}

Summary::Summary(size_t steps, std::vector<std::string> columns)
    : steps_(steps), columns_(std::move(columns)), cells_(steps * columns_.size()) {}

void Summary::Add(size_t step, size_t column, const double* values, size_t count) {
  if (count == 0) return;
  Cell& cell = At(step, column);
  cell.count += count;
  bool uniform = true;
  for (size_t r = 1; r < count && uniform; ++r) uniform = values[r] == values[0];
  if (uniform) {  // the common case of a deterministic slot: one bucket update
    const Int128 q = Quantise(values[0]);
    cell.sum += q * static_cast<Int128>(count);
    cell.sum2 += q * q * static_cast<Int128>(count);
    Bucket& b = cell.buckets[BucketKey(values[0])];
    b.count += count, b.sum += q * static_cast<Int128>(count);
    return;
  }
  for (size_t r = 0; r < count; ++r) {
    const Int128 q = Quantise(values[r]);
    cell.sum += q, cell.sum2 += q * q;
    Bucket& b = cell.buckets[BucketKey(values[r])];
    ++b.count, b.sum += q;
  }
}

void Summary::Merge(const Summary& other) {
  if (cells_.empty()) {
    *this = other;
    return;
  }
  for (size_t i = 0; i < cells_.size() && i < other.cells_.size(); ++i) {
    Cell& a = cells_[i];
    const Cell& b = other.cells_[i];
    a.count += b.count, a.sum += b.sum, a.sum2 += b.sum2;
    b.buckets.ForEach([&](uint32_t key, const Bucket& bucket) {
      Bucket& into = a.buckets[key];
      into.count += bucket.count, into.sum += bucket.sum;
    });
  }
}

namespace {

std::string Int128Text(Int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  UInt128 u = negative ? static_cast<UInt128>(-(v + 1)) + 1 : static_cast<UInt128>(v);
  std::string out;
  while (u > 0) out += static_cast<char>('0' + static_cast<int>(u % 10)), u /= 10;
  if (negative) out += '-';
  return {out.rbegin(), out.rend()};
}

std::optional<Int128> ParseInt128(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const bool negative = text[0] == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty() || text.size() > 39) return std::nullopt;
  UInt128 u = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    u = u * 10 + static_cast<unsigned>(c - '0');
  }
  return negative ? -static_cast<Int128>(u) : static_cast<Int128>(u);
}

}  // namespace

std::string Summary::Serialize() const {
  nlohmann::json cells = nlohmann::json::array();
  for (const Cell& c : cells_) {
    nlohmann::json buckets = nlohmann::json::array();
    std::vector<std::pair<uint32_t, Bucket>> sorted;
    c.buckets.ForEach([&](uint32_t key, const Bucket& b) { sorted.emplace_back(key, b); });
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [key, b] : sorted) buckets.push_back({key, b.count, Int128Text(b.sum)});
    cells.push_back({c.count, Int128Text(c.sum), Int128Text(c.sum2), buckets});
  }
  return nlohmann::json{{"format", "pulse-sim-summary-1"}, {"steps", steps_}, {"columns", columns_}, {"cells", cells}}
      .dump();
}

Result<Summary> Summary::Deserialize(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [](const std::string& why) { return Status::InvalidArgument("simulation summary: " + why); };
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != "pulse-sim-summary-1")
    return bad("not a serialized summary");
  try {
    Summary out(j.at("steps").get<size_t>(), j.at("columns").get<std::vector<std::string>>());
    const auto& cells = j.at("cells");
    if (!cells.is_array() || cells.size() != out.cells_.size()) return bad("cell count does not match steps x columns");
    for (size_t i = 0; i < cells.size(); ++i) {
      const auto& c = cells[i];
      Cell& cell = out.cells_[i];
      cell.count = c.at(0).get<uint64_t>();
      auto sum = ParseInt128(c.at(1).get<std::string>()), sum2 = ParseInt128(c.at(2).get<std::string>());
      if (!sum || !sum2) return bad("bad integer in cell " + std::to_string(i));
      cell.sum = *sum, cell.sum2 = *sum2;
      for (const auto& b : c.at(3)) {
        auto bsum = ParseInt128(b.at(2).get<std::string>());
        if (!bsum) return bad("bad bucket sum in cell " + std::to_string(i));
        Bucket& into = cell.buckets[b.at(0).get<uint32_t>()];
        into.count = b.at(1).get<uint64_t>(), into.sum = *bsum;
      }
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
}

Summary::Stats Summary::Get(size_t step, size_t column, const std::vector<double>& quantiles) const {
  const Cell& cell = At(step, column);
  Stats out;
  out.count = cell.count;
  if (cell.count == 0) return out;
  const long double n = static_cast<long double>(cell.count);
  const long double mean_q = static_cast<long double>(cell.sum) / n;
  const long double var_q = std::max(0.0L, static_cast<long double>(cell.sum2) / n - mean_q * mean_q);
  out.mean = static_cast<double>(mean_q / kScale);
  out.sd = cell.count > 1 ? static_cast<double>(std::sqrt(var_q * n / (n - 1)) / kScale) : 0.0;
  std::vector<std::pair<uint32_t, Bucket>> sorted;
  cell.buckets.ForEach([&](uint32_t key, const Bucket& b) { sorted.emplace_back(key, b); });
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  auto value_of = [](const Bucket& b) {
    return static_cast<double>(static_cast<long double>(b.sum) / static_cast<long double>(b.count) / kScale);
  };
  out.min = value_of(sorted.front().second), out.max = value_of(sorted.back().second);
  for (double q : quantiles) {
    // Nearest rank: the ceil(q n)-th smallest value's bucket, represented by its mean.
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(cell.count))));
    uint64_t seen = 0;
    double value = out.max;
    for (const auto& [key, bucket] : sorted) {
      seen += bucket.count;
      if (seen >= rank) {
        value = value_of(bucket);
        break;
      }
    }
    out.quantiles.push_back(value);
  }
  return out;
}

namespace {

struct SlotNoise {
  uint32_t slot;
  Noise noise;
  double lo, hi;  // clip range (infinite without one)
};

std::vector<SlotNoise> NoisySlots(const Catalog& catalog, const MonteCarloOptions& options) {
  std::vector<SlotNoise> out;
  for (uint32_t s = 0; s < catalog.size(); ++s) {
    const SlotInfo& info = catalog[s];
    SlotNoise n{s, {}, -INFINITY, INFINITY};
    if (info.range) {
      n.lo = info.range->first, n.hi = info.range->second;
      const double sd = options.noise_scale * (n.hi - n.lo);
      n.noise = {sd, sd};
    }
    for (const auto& [slot, noise] : options.noise_overrides)
      if (slot == s) n.noise = noise;
    if (n.noise.initial_sd > 0 || n.noise.turn_sd > 0) out.push_back(n);
  }
  return out;
}

// The original's symbolic state tagger (first match wins; a missing overlay reads 0.5) and
// TrustEngine's arc labels, as indices into kTags / kArcs.
constexpr const char* kTags[] = {"Hope Rising",    "Despair Dominant",   "Fatigue Plateau",     "Collapse Risk",
                                 "Symbolic Drain", "Hope-Rage Conflict", "Symbolic Exhaustion", "Neutral"};
constexpr const char* kArcs[] = {"Hope Surge", "Collapse Risk", "Rage Arc", "Fatigue Loop", "Unknown"};
constexpr size_t kTagCount = std::size(kTags), kArcCount = std::size(kArcs);

size_t StateTag(double h, double d, double r, double f) {
  if (h > 0.7 && d < 0.3 && r < 0.4) return 0;
  if (d > 0.7 && h < 0.3) return 1;
  if (f > 0.7 && r < 0.4) return 2;
  if (r > 0.65 && f > 0.55) return 3;
  if (h < 0.25 && d < 0.25 && r < 0.25) return 4;
  if (h > 0.6 && r > 0.6) return 5;
  if (f > 0.6 && d > 0.6) return 6;
  return 7;
}

size_t Arc(double h, double d, double r, double f) {
  if (h > 0.7) return 0;
  if (d > 0.6) return 1;
  if (r > 0.6) return 2;
  if (f > 0.5) return 3;
  return 4;
}

// Tension and fragility of every run in the block, the original's formulas, and indicator
// columns of its tag and arc (their means are the shares of runs with each label).
struct Metrics {
  std::array<std::optional<uint32_t>, 5> overlay;  // hope, despair, rage, fatigue, trust
  explicit Metrics(const Catalog& c) {
    const char* names[] = {"hope", "despair", "rage", "fatigue", "trust"};
    for (size_t i = 0; i < 5; ++i) overlay[i] = c.Find(names[i]);
  }
  double Value(const BlockState& st, size_t i, size_t r) const { return overlay[i] ? st.slot(*overlay[i])[r] : 0.5; }
  void Compute(const BlockState& st, const std::vector<uint32_t>& overlays, const std::vector<double>& before,
               double* tension, double* fragility, double (*tags)[kBlock], double (*arcs)[kBlock]) const {
    for (size_t r = 0; r < st.count(); ++r) {
      const double h = Value(st, 0, r), d = Value(st, 1, r), g = Value(st, 2, r), f = Value(st, 3, r),
                   t = Value(st, 4, r);
      const size_t tag = StateTag(h, d, g, f), arc = Arc(h, d, g, f);
      for (size_t k = 0; k < kTagCount; ++k) tags[k][r] = k == tag ? 1.0 : 0.0;
      for (size_t k = 0; k < kArcCount; ++k) arcs[k][r] = k == arc ? 1.0 : 0.0;
      tension[r] = h * d + g * t + 0.5 * f * h;
      double change = 0;
      for (size_t o = 0; o < overlays.size(); ++o) change += std::abs(st.slot(overlays[o])[r] - before[o * kBlock + r]);
      fragility[r] = std::min(0.6 * tension[r] + 0.4 * std::min(change / 5, 1.0), 0.7);
    }
  }
};

// The options' bad values, each named, before any work starts.
Status CheckOptions(const TurnEngine& engine, const std::vector<double>& initial, const MonteCarloOptions& options) {
  const Catalog& catalog = engine.catalog();
  if (options.runs == 0) return Status::InvalidArgument("runs must be at least 1");
  if (options.turns == 0) return Status::InvalidArgument("turns must be at least 1");
  if (initial.size() != catalog.size()) {
    return Status::InvalidArgument("the initial state has " + std::to_string(initial.size()) + " values for " +
                                   std::to_string(catalog.size()) + " slots");
  }
  for (double q : options.quantiles) {
    if (!(q > 0 && q < 1)) return Status::InvalidArgument("quantiles lie in (0, 1), got " + std::to_string(q));
  }
  if (!(options.noise_scale >= 0)) return Status::InvalidArgument("noise scale must be >= 0");
  for (const auto& [turn, event] : options.events) {
    if (turn < 1 || turn > options.turns || event >= engine.rules().events.size()) {
      return Status::InvalidArgument("an event must name a known event and a turn in 1.." +
                                     std::to_string(options.turns));
    }
  }
  if (options.sample_paths > options.runs) {
    return Status::InvalidArgument("cannot sample " + std::to_string(options.sample_paths) + " paths of " +
                                   std::to_string(options.runs) + " runs");
  }
  return Status::Ok();
}

// The summary's columns: every slot, then tension, fragility, the tags, the arcs, and the turn's
// change of each overlay ("delta.<name>").
struct SummaryColumns {
  std::vector<std::string> names;
  size_t tension = 0;  // "tension", then "fragility"
  size_t delta = 0;    // the first "delta." column
};

SummaryColumns ColumnsOf(const TurnEngine& engine) {
  const Catalog& catalog = engine.catalog();
  SummaryColumns out;
  std::vector<std::string>& columns = out.names;
  for (const SlotInfo& s : catalog.slots()) columns.push_back(s.name);
  out.tension = columns.size();
  columns.push_back("tension");
  columns.push_back("fragility");
  for (const char* tag : kTags) columns.push_back(std::string("tag.") + tag);
  for (const char* arc : kArcs) columns.push_back(std::string("arc.") + arc);
  out.delta = columns.size();
  for (uint32_t o : engine.overlays()) columns.push_back("delta." + catalog[o].name);
  return out;
}

}  // namespace

Result<MonteCarloResult> RunMonteCarlo(const TurnEngine& engine, const std::vector<double>& initial,
                                       const MonteCarloOptions& options,
                                       const std::function<void(uint64_t, uint64_t)>& progress) {
  PULSE_RETURN_IF_ERROR(CheckOptions(engine, initial, options));
  const Catalog& catalog = engine.catalog();
  const auto started = std::chrono::steady_clock::now();

  const SummaryColumns layout = ColumnsOf(engine);
  const std::vector<std::string>& columns = layout.names;
  const size_t tension_col = layout.tension, delta_col = layout.delta;
  std::vector<double> start = initial;
  for (const auto& [slot, value] : options.overrides) start[slot] = value;
  const std::vector<SlotNoise> noisy = NoisySlots(catalog, options);
  const Metrics metrics(catalog);
  const std::vector<uint32_t>& overlays = engine.overlays();

  const uint64_t blocks = (options.runs + kBlock - 1) / kBlock;
  ThreadPool& pool = DefaultThreadPool();
  const size_t workers = std::max<size_t>(
      1, std::min<uint64_t>(blocks, options.threads > 0 ? static_cast<size_t>(options.threads) : pool.size()));
  MonteCarloResult result;
  result.summary = Summary(options.turns + 1, columns);
  result.rule_fired.assign(engine.rules().rules.size(), 0);
  const size_t steps = options.turns + 1, slots = catalog.size();
  result.paths.assign(options.sample_paths * steps * slots, 0.0);  // each run's rows: one writer
  std::mutex mu;
  uint64_t done = 0;

  pool.ParallelFor(
      workers,
      [&](size_t w) {
        Summary local(options.turns + 1, columns);
        std::vector<uint64_t> fired_total(engine.rules().rules.size(), 0);
        std::vector<uint32_t> fired;
        std::vector<double> before(overlays.size() * kBlock);
        double tension[kBlock], fragility[kBlock], tags[kTagCount][kBlock], arcs[kArcCount][kBlock];
        BlockState st(catalog.size(), kBlock);
        for (uint64_t b = blocks * w / workers; b < blocks * (w + 1) / workers; ++b) {
          const uint64_t first = b * kBlock;
          const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, options.runs - first));
          st.SetCount(n);
          st.Fill(start);
          auto shock = [&](uint32_t turn) {
            for (size_t r = 0; r < n; ++r) {
              const uint64_t run = options.first_run + first + r;
              CounterRng rng(options.seed, static_cast<uint32_t>(run), turn, static_cast<uint32_t>(run >> 32));
              for (const SlotNoise& s : noisy) {
                const double sd = turn == 0 ? s.noise.initial_sd : s.noise.turn_sd;
                if (sd <= 0) continue;
                double& x = st.slot(s.slot)[r];
                x = std::clamp(x + sd * rng.Normal(), s.lo, s.hi);
              }
            }
          };
          auto record = [&](size_t step) {
            for (uint32_t s = 0; s < catalog.size(); ++s) local.Add(step, s, st.slot(s), n);
            for (uint64_t run = first; run < first + n && run < options.sample_paths; ++run) {
              for (uint32_t s = 0; s < slots; ++s)
                result.paths[(run * steps + step) * slots + s] = st.slot(s)[run - first];
            }
            metrics.Compute(st, overlays, before, tension, fragility, tags, arcs);
            local.Add(step, tension_col, tension, n);
            local.Add(step, tension_col + 1, fragility, n);
            for (size_t k = 0; k < kTagCount; ++k) local.Add(step, tension_col + 2 + k, tags[k], n);
            for (size_t k = 0; k < kArcCount; ++k) local.Add(step, tension_col + 2 + kTagCount + k, arcs[k], n);
            for (size_t o = 0; o < overlays.size(); ++o) {  // the turn's change of each overlay
              const double* now = st.slot(overlays[o]);
              const double* was = before.data() + o * kBlock;
              for (size_t r = 0; r < n; ++r) tension[r] = now[r] - was[r];  // reuse as scratch
              local.Add(step, delta_col + o, tension, n);
            }
          };
          auto remember = [&] {
            for (size_t o = 0; o < overlays.size(); ++o)
              std::copy_n(st.slot(overlays[o]), n, before.data() + o * kBlock);
          };
          shock(0);
          remember();
          record(0);
          for (uint32_t turn = 1; turn <= options.turns; ++turn) {
            remember();
            for (const auto& [at, event] : options.events)
              if (at == turn) engine.ApplyEvent(st, event);
            const Injection* inject = turn <= options.injections.size() ? &options.injections[turn - 1] : nullptr;
            engine.Run(st, inject, &fired);
            for (size_t i = 0; i < fired.size(); ++i) fired_total[i] += fired[i];
            shock(turn);
            record(turn);
          }
          if (progress) {
            std::lock_guard lock(mu);
            done += n;
            progress(done, options.runs);
          }
        }
        std::lock_guard lock(mu);
        result.summary.Merge(local);
        for (size_t i = 0; i < fired_total.size(); ++i) result.rule_fired[i] += fired_total[i];
      },
      workers);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace pulse::sim
