// Reproducible parallel Monte Carlo over the turn engine, with streaming aggregation.
//
// K runs x N turns. Each run starts from the initial state (plus counterfactual overrides) with
// seeded Gaussian jitter and takes seeded Gaussian shocks every turn (a random walk clipped to
// the slot's range). Draws come from a counter-based RNG keyed by (seed, run, turn), in slot
// order, so a run's path does not depend on which thread or chunk computes it.
//
// Aggregation keeps no paths: per (step, slot) a Summary holds exact fixed-point sums (values
// quantised to 2^-24, 128-bit accumulators) for the mean and standard deviation, and a
// log-bucketed histogram (relative bucket width 2^-7, each bucket with its exact count and
// fixed-point sum) for quantiles. All of it is integer arithmetic, so summaries of any split of
// the runs merge to bit-identical results in any order - on 1 thread, many, or across workers.
// Derived columns join the slots: the original's tension h*d + r*t + 0.5*f*h and fragility
// min(0.6 tension + 0.4 min(sum |overlay change| / 5, 1), 0.7); and indicators of its state tag
// ("tag.Hope Rising", ... "tag.Neutral") and arc ("arc.Hope Surge", ... "arc.Unknown"), whose
// means are the shares of runs carrying each label at each turn; and each overlay's change over
// the turn ("delta.hope", ...): with tension, fragility, tag and arc, the original's turn record.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/turn.h"

namespace pulse::sim {

struct Noise {
  double initial_sd = 0;  // jitter of the initial value
  double turn_sd = 0;     // shock per turn
};

struct MonteCarloOptions {
  uint64_t first_run = 0;  // a chunk of a larger batch: runs first_run .. first_run + runs - 1
  uint64_t runs = 1000;
  uint32_t turns = 52;
  uint64_t seed = 0;
  int threads = 0;  // 0: the shared pool's size
  std::vector<double> quantiles = {0.05, 0.5, 0.95};
  // Default noise: sd = noise_scale x (range width) for the initial jitter and for every turn, on
  // every slot with a range (overlays and catalog variables); none on capital. 0 turns it off.
  double noise_scale = 0.01;
  std::vector<std::pair<uint32_t, Noise>> noise_overrides;  // per slot, replacing the default
  Injection overrides;                                      // initial values that replace the state's
  std::vector<Injection> injections;                        // per turn (index = turn - 1), optional
  uint64_t sample_paths = 0;  // keep the full paths of runs 0 .. sample_paths - 1 (<= runs)
  // Narrative events (RuleSet::events indices) applied to every run just before the given turn.
  std::vector<std::pair<uint32_t, size_t>> events;
};

// 128-bit integers (a GCC/Clang extension) for the exact sums.
__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

class Summary {
 public:
  Summary() = default;
  Summary(size_t steps, std::vector<std::string> columns);

  // Adds `count` values of (step, column).
  void Add(size_t step, size_t column, const double* values, size_t count);
  // Exact: the result does not depend on how runs were split or the order of merging.
  void Merge(const Summary& other);

  struct Stats {
    uint64_t count = 0;
    double mean = 0, sd = 0, min = 0, max = 0;
    std::vector<double> quantiles;
  };
  Stats Get(size_t step, size_t column, const std::vector<double>& quantiles) const;

  // Exact serialisation (integers as decimal text), so chunk summaries computed elsewhere merge
  // bit-identically. kInvalidArgument for malformed input.
  std::string Serialize() const;
  static Result<Summary> Deserialize(std::string_view text);

  size_t steps() const { return steps_; }
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  struct Bucket {
    uint64_t count = 0;
    Int128 sum = 0;
  };
  // Open-addressing map from bucket key to Bucket (linear probing, load <= 1/2): a few
  // nanoseconds per insert, where a node-based map allocates.
  class BucketMap {
   public:
    Bucket& operator[](uint32_t key);
    template <class Fn>
    void ForEach(Fn&& fn) const {
      for (size_t i = 0; i < keys_.size(); ++i)
        if (keys_[i] != kEmpty) fn(keys_[i], values_[i]);
    }

   private:
    static constexpr uint32_t kEmpty = 0xFFFFFFFFu;  // not a key: keys have 19 bits
    void Grow();
    std::vector<uint32_t> keys_;
    std::vector<Bucket> values_;
    size_t size_ = 0;
  };
  struct Cell {
    uint64_t count = 0;
    Int128 sum = 0, sum2 = 0;
    BucketMap buckets;
  };
  Cell& At(size_t step, size_t column) { return cells_[step * columns_.size() + column]; }
  const Cell& At(size_t step, size_t column) const { return cells_[step * columns_.size() + column]; }

  size_t steps_ = 0;
  std::vector<std::string> columns_;
  std::vector<Cell> cells_;
};

struct MonteCarloResult {
  Summary summary;  // steps 0..turns (0 = the initial state after jitter); catalog slots, then the derived columns
  std::vector<uint64_t> rule_fired;  // per rule: run-turns in which its condition held
  // Sampled paths: sample_paths x (turns + 1) x catalog slots, row-major (run, step, slot). A
  // run's path does not depend on threads or chunking, so these are reproducible too.
  std::vector<double> paths;
  double seconds = 0;
};

// kInvalidArgument for runs or turns of 0, a quantile outside (0, 1), an initial state of the
// wrong size. `progress(done_runs, total_runs)` is called from worker threads, serialised.
Result<MonteCarloResult> RunMonteCarlo(const TurnEngine& engine, const std::vector<double>& initial,
                                       const MonteCarloOptions& options,
                                       const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace pulse::sim
