#include "sim/monte_carlo.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>

#include "core/random.h"
#include "core/simd.h"
#include "core/thread_pool.h"
#include "sim/gpu.h"

namespace pulse::sim {

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

// The slots that take a draw (at turn 0, or at later turns), in slot order, with their shock
// sd and clip range.
struct DrawnSlots {
  std::vector<uint32_t> slot;
  std::vector<double> sd, lo, hi;
  size_t size() const { return slot.size(); }
  void Add(const SlotNoise& s, double shock_sd) {
    slot.push_back(s.slot), sd.push_back(shock_sd), lo.push_back(s.lo), hi.push_back(s.hi);
  }
};

// x = clamp(x + sd z, lo, hi) in runs r0 .. r0 + tile of every drawn slot, where z[t d + j] is
// run r0 + t's draw for drawn slot j (d = drawn.size()).
void ShockTilePlain(BlockState& st, size_t r0, size_t tile, const DrawnSlots& drawn, const double* z) {
  const size_t d = drawn.size();
  for (size_t j = 0; j < d; ++j) {
    double* x = st.slot(drawn.slot[j]) + r0;
    for (size_t t = 0; t < tile; ++t) x[t] = std::clamp(x[t] + drawn.sd[j] * z[t * d + j], drawn.lo[j], drawn.hi[j]);
  }
}

#if defined(__x86_64__)
PULSE_SIMD_BEGIN
// ShockTilePlain for a tile of 8 runs: each 8 x 8 square of draws (8 runs x 8 slots) transposed in
// registers, then one vector operation per slot. Same operations (no fused multiply-add, the
// same comparisons as std::clamp), so the same doubles.
__attribute__((target("avx512f"))) void ShockTile8Avx512(BlockState& st, size_t r0, const DrawnSlots& drawn,
                                                         const double* z) {
  const size_t d = drawn.size();
  size_t j0 = 0;
  for (; j0 + 8 <= d; j0 += 8) {
    __m512d row[8], a[8], b[8], col[8];
    for (size_t t = 0; t < 8; ++t) row[t] = _mm512_loadu_pd(z + t * d + j0);
    for (size_t i = 0; i < 4; ++i) {  // pairs of runs: a[2i] holds even slots, a[2i + 1] odd ones
      a[2 * i] = _mm512_unpacklo_pd(row[2 * i], row[2 * i + 1]);
      a[2 * i + 1] = _mm512_unpackhi_pd(row[2 * i], row[2 * i + 1]);
    }
    for (size_t i = 0; i < 2; ++i) {  // 128-bit lanes of 4 runs
      b[4 * i] = _mm512_shuffle_f64x2(a[4 * i], a[4 * i + 2], 0x88);
      b[4 * i + 1] = _mm512_shuffle_f64x2(a[4 * i], a[4 * i + 2], 0xDD);
      b[4 * i + 2] = _mm512_shuffle_f64x2(a[4 * i + 1], a[4 * i + 3], 0x88);
      b[4 * i + 3] = _mm512_shuffle_f64x2(a[4 * i + 1], a[4 * i + 3], 0xDD);
    }
    // col[k]: slot j0 + k's draws of runs 0..7.
    col[0] = _mm512_shuffle_f64x2(b[0], b[4], 0x88), col[4] = _mm512_shuffle_f64x2(b[0], b[4], 0xDD);
    col[2] = _mm512_shuffle_f64x2(b[1], b[5], 0x88), col[6] = _mm512_shuffle_f64x2(b[1], b[5], 0xDD);
    col[1] = _mm512_shuffle_f64x2(b[2], b[6], 0x88), col[5] = _mm512_shuffle_f64x2(b[2], b[6], 0xDD);
    col[3] = _mm512_shuffle_f64x2(b[3], b[7], 0x88), col[7] = _mm512_shuffle_f64x2(b[3], b[7], 0xDD);
    for (size_t k = 0; k < 8; ++k) {
      const size_t j = j0 + k;
      double* x = st.slot(drawn.slot[j]) + r0;
      _mm_prefetch(reinterpret_cast<const char*>(x + 8), _MM_HINT_T0);  // the next tile's line of the slot
      const __m512d lo = _mm512_set1_pd(drawn.lo[j]), hi = _mm512_set1_pd(drawn.hi[j]);
      __m512d v = _mm512_add_pd(_mm512_loadu_pd(x), _mm512_mul_pd(_mm512_set1_pd(drawn.sd[j]), col[k]));
      v = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(v, lo, _CMP_LT_OQ), v, lo);  // std::clamp: v < lo ? lo
      v = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(hi, v, _CMP_LT_OQ), v, hi);  //   : hi < v ? hi : v
      _mm512_storeu_pd(x, v);
    }
  }
  for (; j0 < d; ++j0) {
    double* x = st.slot(drawn.slot[j0]) + r0;
    for (size_t t = 0; t < 8; ++t) x[t] = std::clamp(x[t] + drawn.sd[j0] * z[t * d + j0], drawn.lo[j0], drawn.hi[j0]);
  }
}
PULSE_SIMD_END
#endif

// The seeded noise of a block of runs: each run's draws in slot order from its own stream keyed by
// (seed, run, turn) (as one Normal() per drawn slot would give them), applied as shocks
// x = clamp(x + sd z, lo, hi) a tile of 8 runs at a time.
class Shocks {
 public:
  Shocks(const std::vector<SlotNoise>& noisy, const MonteCarloOptions& options) : seed_(options.seed) {
    for (const SlotNoise& s : noisy) {
      if (s.noise.initial_sd > 0) initial_.Add(s, s.noise.initial_sd);
      if (s.noise.turn_sd > 0) turn_.Add(s, s.noise.turn_sd);
    }
    draws_.resize(std::max(initial_.size(), turn_.size()) * kTile);
  }
  void Apply(BlockState& st, uint64_t first_run, uint32_t turn) {
    const DrawnSlots& drawn = turn == 0 ? initial_ : turn_;
    const size_t n = st.count(), d = drawn.size();
    if (d == 0) return;
    for (size_t r0 = 0; r0 < n; r0 += kTile) {
      const size_t tile = std::min(kTile, n - r0);
      for (size_t t = 0; t < tile; ++t) {
        const uint64_t run = first_run + r0 + t;
        CounterRng rng(seed_, static_cast<uint32_t>(run), turn, static_cast<uint32_t>(run >> 32));
        rng.Normals(draws_.data() + t * d, d);
      }
#if defined(__x86_64__)
      if (tile == kTile && simd::Avx512()) {
        ShockTile8Avx512(st, r0, drawn, draws_.data());
        continue;
      }
#endif
      ShockTilePlain(st, r0, tile, drawn, draws_.data());
    }
  }

 private:
  static constexpr size_t kTile = 8;
  uint64_t seed_;
  DrawnSlots initial_, turn_;
  std::vector<double> draws_;  // a tile's draws, run-major
};

// The GPU turn path when asked for and available (sim/gpu.h), else nullptr and why in *why_not.
std::unique_ptr<GpuTurns> SelectGpu(const TurnEngine& engine, const std::vector<SlotNoise>& noisy,
                                    const MonteCarloOptions& options, std::string* why_not) {
  if (!options.use_gpu) return nullptr;
  if (!options.injections.empty()) {
    *why_not = "injections run on the CPU path only";
    return nullptr;
  }
  std::vector<TurnNoise> turn_noise;
  turn_noise.reserve(noisy.size());
  for (const SlotNoise& s : noisy)
    if (s.noise.turn_sd > 0) turn_noise.push_back({s.slot, s.noise.turn_sd, s.lo, s.hi});
  return GpuTurns::Create(engine, turn_noise, options.seed, why_not);
}

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

// Summarises the block's derived columns at `step`: tension, fragility, the tag and arc
// indicators and each overlay's change over the turn (`before` holds the overlays' values before it).
void AddDerived(Summary& out, size_t step, const Metrics& metrics, const BlockState& st,
                const std::vector<uint32_t>& overlays, const std::vector<double>& before,
                const SummaryColumns& layout) {
  double tension[kBlock], fragility[kBlock], tags[kTagCount][kBlock], arcs[kArcCount][kBlock];
  const size_t n = st.count(), col = layout.tension;
  metrics.Compute(st, overlays, before, tension, fragility, tags, arcs);
  out.Add(step, col, tension, n);
  out.Add(step, col + 1, fragility, n);
  for (size_t k = 0; k < kTagCount; ++k) out.Add(step, col + 2 + k, tags[k], n);
  for (size_t k = 0; k < kArcCount; ++k) out.Add(step, col + 2 + kTagCount + k, arcs[k], n);
  for (size_t o = 0; o < overlays.size(); ++o) {
    const double* now = st.slot(overlays[o]);
    const double* was = before.data() + o * kBlock;
    for (size_t r = 0; r < n; ++r) tension[r] = now[r] - was[r];  // reuse as scratch
    out.Add(step, layout.delta + o, tension, n);
  }
}

// A block of runs in flight: its state, its overlays' values before the current turn, its first
// run (within the options' runs).
struct RunBlock {
  BlockState state;
  std::vector<double> before;
  uint64_t first = 0;
  RunBlock(size_t slots, size_t overlays) : state(slots, kBlock), before(overlays * kBlock) {}
};

// Blocks a worker advances together, turn by turn (each takes its turn before any takes the
// next). The summary cells of a step are then updated by this many blocks in a row while they are
// in cache: a cell's histogram window is often kilobytes, and a summary of the full state is far
// larger than the caches, so one block at a time brought every cell back from memory for each 256
// runs. The summary does not depend on the order (summary.h), so results are unchanged.
constexpr size_t kBlocksPerGroup = 8;

// What a batch's workers share (read only, but `paths`, whose rows each run's worker alone writes).
struct Batch {
  const TurnEngine& engine;
  const MonteCarloOptions& options;
  const std::vector<double>& start;  // the initial state with its overrides
  const std::vector<SlotNoise>& noisy;
  const Metrics& metrics;
  const SummaryColumns& layout;
  GpuTurns* gpu;  // nullptr: the CPU runs the turns
  std::vector<double>& paths;
};

// One worker's share of a batch: blocks of runs, a group at a time, into its own summary and rule
// counts.
class Worker {
 public:
  explicit Worker(const Batch& batch)
      : batch_(batch),
        summary_(batch.options.turns + 1, batch.layout.names),
        fired_total_(batch.engine.rules().rules.size(), 0),
        shocks_(batch.noisy, batch.options) {}

  // Runs blocks [begin, end); group_done(runs) after each group. Stops at a device error.
  Status Run(uint64_t begin, uint64_t end, const std::function<void(uint64_t)>& group_done) {
    const Catalog& catalog = batch_.engine.catalog();
    const size_t overlays = batch_.engine.overlays().size();
    for (uint64_t g0 = begin; g0 < end; g0 += kBlocksPerGroup) {
      const auto count = static_cast<size_t>(std::min<uint64_t>(kBlocksPerGroup, end - g0));
      while (group_.size() < count) group_.emplace_back(catalog.size(), overlays);
      uint64_t runs = 0;
      for (size_t g = 0; g < count; ++g) {
        RunBlock& b = group_[g];
        b.first = (g0 + g) * kBlock;
        b.state.SetCount(static_cast<size_t>(std::min<uint64_t>(kBlock, batch_.options.runs - b.first)));
        b.state.Fill(batch_.start);
        runs += b.state.count();
        shocks_.Apply(b.state, batch_.options.first_run + b.first, 0);
        Remember(b);
        Record(b, 0);
      }
      for (uint32_t turn = 1; turn <= batch_.options.turns; ++turn) {
        for (size_t g = 0; g < count; ++g) PULSE_RETURN_IF_ERROR(Turn(group_[g], turn));
      }
      group_done(runs);
    }
    return Status::Ok();
  }

  Summary& summary() { return summary_; }
  const std::vector<uint64_t>& rule_fired() const { return fired_total_; }

 private:
  Status Turn(RunBlock& b, uint32_t turn) {
    const MonteCarloOptions& options = batch_.options;
    Remember(b);
    for (const auto& [at, event] : options.events)
      if (at == turn) batch_.engine.ApplyEvent(b.state, event);
    if (batch_.gpu) {  // the turn and its noise on the device (no injections: checked before)
      PULSE_RETURN_IF_ERROR(batch_.gpu->Turn(b.state, options.first_run + b.first, turn, &fired_));
    } else {
      const Injection* inject = turn <= options.injections.size() ? &options.injections[turn - 1] : nullptr;
      batch_.engine.Run(b.state, inject, &fired_);
      shocks_.Apply(b.state, options.first_run + b.first, turn);
    }
    for (size_t i = 0; i < fired_.size(); ++i) fired_total_[i] += fired_[i];
    Record(b, turn);
    return Status::Ok();
  }

  // The overlays' values before a turn, for the derived columns.
  void Remember(RunBlock& b) {
    const std::vector<uint32_t>& overlays = batch_.engine.overlays();
    for (size_t o = 0; o < overlays.size(); ++o)
      std::copy_n(b.state.slot(overlays[o]), b.state.count(), b.before.data() + o * kBlock);
  }

  // The block's values at `step` into the summary (and the sampled paths).
  void Record(const RunBlock& b, size_t step) {
    const BlockState& st = b.state;
    const size_t n = st.count(), slots = st.slots(), steps = batch_.options.turns + 1;
    for (uint32_t s = 0; s < slots; ++s) summary_.Add(step, s, st.slot(s), n);
    for (uint64_t run = b.first; run < b.first + n && run < batch_.options.sample_paths; ++run) {
      for (uint32_t s = 0; s < slots; ++s) batch_.paths[(run * steps + step) * slots + s] = st.slot(s)[run - b.first];
    }
    AddDerived(summary_, step, batch_.metrics, st, batch_.engine.overlays(), b.before, batch_.layout);
  }

  const Batch& batch_;
  Summary summary_;
  std::vector<uint64_t> fired_total_;
  std::vector<uint32_t> fired_;
  Shocks shocks_;
  std::vector<RunBlock> group_;
};

}  // namespace

Result<MonteCarloResult> RunMonteCarlo(const TurnEngine& engine, const std::vector<double>& initial,
                                       const MonteCarloOptions& options,
                                       const std::function<void(uint64_t, uint64_t)>& progress) {
  PULSE_RETURN_IF_ERROR(CheckOptions(engine, initial, options));
  const Catalog& catalog = engine.catalog();
  const auto started = std::chrono::steady_clock::now();

  const SummaryColumns layout = ColumnsOf(engine);
  std::vector<double> start = initial;
  for (const auto& [slot, value] : options.overrides) start[slot] = value;
  const std::vector<SlotNoise> noisy = NoisySlots(catalog, options);
  const Metrics metrics(catalog);

  std::string gpu_unused;
  const std::unique_ptr<GpuTurns> gpu = SelectGpu(engine, noisy, options, &gpu_unused);

  const uint64_t blocks = (options.runs + kBlock - 1) / kBlock;
  ThreadPool& pool = DefaultThreadPool();
  const size_t workers = std::max<size_t>(
      1, std::min<uint64_t>(blocks, options.threads > 0 ? static_cast<size_t>(options.threads) : pool.size()));
  MonteCarloResult result;
  result.summary = Summary(options.turns + 1, layout.names);
  result.rule_fired.assign(engine.rules().rules.size(), 0);
  result.paths.assign(options.sample_paths * (options.turns + 1) * catalog.size(), 0.0);
  const Batch batch{engine, options, start, noisy, metrics, layout, gpu.get(), result.paths};
  std::mutex mu;
  uint64_t done = 0;
  size_t merged = 0;  // worker summaries merged into result.summary
  Status gpu_error = Status::Ok();

  pool.ParallelFor(
      workers,
      [&](size_t w) {
        Worker worker(batch);
        const Status status = worker.Run(blocks * w / workers, blocks * (w + 1) / workers, [&](uint64_t runs) {
          if (!progress) return;
          std::lock_guard lock(mu);
          done += runs;
          progress(done, options.runs);
        });
        std::lock_guard lock(mu);
        if (!status.ok()) {
          if (gpu_error.ok()) gpu_error = status;
          return;
        }
        if (merged++ == 0) {
          result.summary = std::move(worker.summary());  // the first worker's summary is the start (no copy)
        } else {
          result.summary.Merge(worker.summary());
        }
        for (size_t i = 0; i < worker.rule_fired().size(); ++i) result.rule_fired[i] += worker.rule_fired()[i];
      },
      workers);
  PULSE_RETURN_IF_ERROR(gpu_error);
  result.device = gpu ? "cuda" : "cpu";
  result.gpu_unused = options.use_gpu && !gpu ? gpu_unused : "";
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace pulse::sim
