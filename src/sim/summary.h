// Streaming, exactly mergeable statistics of Monte Carlo output: per (step, column) the count,
// the exact mean and standard deviation, the exact min and max, and quantiles from a fixed-grid
// log histogram with a stated error bound. Memory does not grow with the number of runs.
//
// Mean and sd: exact fixed-point sums (values quantised to 2^-24, |values| saturating at 2^36): the
// sum in 128 bits, the sum of squares in 192 (up to 2^64 values of 2^120 each), so they do not
// depend on how the runs were split, and no count of values overflows them. Add() scans values 8 at
// a time with AVX-512 where the CPU has it (chosen at run time), with the same integer results.
//
// Quantiles: every value falls in one cell of a fixed grid (the same for every summary, so merging
// adds counts; nothing is ever re-binned):
//   |x| < 2^-24 (and NaN)     one zero bucket
//   2^-24 <= |x| < 2^36        128 buckets per octave and sign: [2^e (1 + m/128), 2^e (1 + (m+1)/128))
//   |x| >= 2^36                the outermost bucket of its sign
// 15,361 buckets in all. A cell stores the counts of the window of buckets between its smallest
// and largest value's (so a deterministic slot costs one counter); the window's size depends on
// the values' spread, never on how many there are, and is at most 15,361 counters.
// A quantile is the nearest-rank order statistic x_(ceil(q n)) (counts are exact, so the rank is
// exact), reported as its bucket's midpoint clamped to [min, max]. Error bound, for every q:
//   |reported - x_(ceil(q n))| <= 2^-8 |x_(ceil(q n))|   where 2^-24 <= |x| < 2^36
//   |reported - x_(ceil(q n))| <  2^-24                   where |x| < 2^-24
// (beyond 2^36 only the exact min and max are meaningful). tests/unit/sim/summary_test.cc checks
// the bound against exact quantiles of known distributions.
//
// Merging adds integers and takes min/max, so it is associative and commutative: summaries of any
// split of the runs, merged in any order, equal the single-pass summary bit for bit.
// Serialize writes a compact binary form (base64 text, so it travels in JSON and Celery results);
// a 1,250-run chunk of the full state (52 turns) is 3.5 MB where the previous JSON was 34.6 MB.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse::sim {

// 128-bit integers (a GCC/Clang extension) for the exact sums.
__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

// An exact unsigned 192-bit sum: a 128-bit low part and the count of carries out of it.
struct Sum192 {
  UInt128 lo = 0;
  uint64_t hi = 0;
  void Add(UInt128 v) {
    lo += v;
    hi += lo < v ? 1 : 0;
  }
  void Add(const Sum192& other) { Add(other.lo), hi += other.hi; }
  void AddProduct(UInt128 a, uint64_t b);  // adds a * b (exact for a < 2^128, b < 2^64, sum < 2^192)
  long double Value() const;               // rounded to long double
};

class Summary {
 public:
  // The histogram grid (see above): bucket keys lie in [-kMaxKey, kMaxKey], 0 the zero bucket.
  static constexpr int kBucketsPerOctave = 128;
  static constexpr int kMinExponent = -24, kMaxExponent = 35;  // octaves [2^e, 2^(e+1))
  static constexpr int32_t kMaxKey = (kMaxExponent - kMinExponent + 1) * kBucketsPerOctave;
  // The bucket holding x, and a bucket's representative value (its midpoint; 0 for the zero bucket).
  static int32_t BucketKey(double x);
  static double BucketValue(int32_t key);

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

  // Exact serialisation ("pulse-sim-summary-3:" then base64 of the binary form), so chunk
  // summaries computed elsewhere merge bit-identically. Deserialize also reads the previous
  // format ("pulse-sim-summary-2:", 128-bit sums of squares) of older workers. kInvalidArgument
  // for malformed input.
  std::string Serialize() const;
  static Result<Summary> Deserialize(std::string_view text);

  size_t steps() const { return steps_; }
  const std::vector<std::string>& columns() const { return columns_; }
  // Histogram counters held in all cells (memory is about 8 bytes each plus ~100 per cell).
  size_t buckets_held() const;

 private:
  struct Cell {
    uint64_t count = 0;
    UInt128 sum = 0;  // two's complement: additions wrap (|sum| <= 2^124 for any real count)
    Sum192 sum2;
    // Exact min and max (-0 recorded as +0, NaN ignored): +inf / -inf until a number arrives.
    double min = std::numeric_limits<double>::infinity(), max = -std::numeric_limits<double>::infinity();
    int32_t lo = 0;  // key of counts[0]
    std::vector<uint64_t> counts;
    void Cover(int32_t lo_key, int32_t hi_key);  // widens the window to hold [lo_key, hi_key]
  };
  Cell& At(size_t step, size_t column) { return cells_[step * columns_.size() + column]; }
  const Cell& At(size_t step, size_t column) const { return cells_[step * columns_.size() + column]; }

  size_t steps_ = 0;
  std::vector<std::string> columns_;
  std::vector<Cell> cells_;
};

}  // namespace pulse::sim
