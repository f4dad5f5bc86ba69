// Streaming drift detectors for forecast errors, one value at a time, with river's (0.26.1)
// parameters as defaults and river's decisions on the same input sequence (checked against river
// by tests/fixtures/drift/streaming.json, made by scripts/make-drift-fixtures). Like river, a
// detector that reported drift on the previous value starts afresh on the next one. Pure value
// types: no I/O, deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace pulse::drift {

// ADWIN (Bifet and Gavalda 2007): an adaptive window kept as exponential-histogram buckets; every
// `clock` values (once the window holds more than `grace_period`), each split of the window into
// an older W0 and newer W1 (both at least `min_window_length` long) is tested, and drift is
// |mean W0 - mean W1| > eps_cut, with
//   eps_cut = sqrt(2 m V ln(2 ln(W) / delta)) + 2/3 ln(2 ln(W) / delta) m,
//   m = 1/(n0 - min_len + 1) + 1/(n1 - min_len + 1), V = the window's variance;
// on drift the oldest bucket is dropped and the splits are tested again.
struct AdwinOptions {
  double delta = 0.002;
  int clock = 32;
  int max_buckets = 5;
  int min_window_length = 5;
  int grace_period = 10;
};

class Adwin {
 public:
  explicit Adwin(AdwinOptions options = {});
  // Adds one value; true when drift is detected on it.
  bool Update(double value);
  bool drift_detected() const { return drift_; }
  double width() const { return width_; }
  double estimation() const { return width_ > 0 ? total_ / width_ : 0.0; }

 private:
  struct Row {  // the buckets of one size (2^i values each), oldest first
    std::vector<double> totals, variances;
  };
  void Reset();
  void Insert(double value);
  void Compress();
  void DeleteOldest();
  bool DetectChange();
  bool Cut(double n0, double n1, double delta_mean) const;

  AdwinOptions options_;
  std::vector<Row> rows_;
  double total_ = 0, variance_ = 0, width_ = 0;
  int64_t tick_ = 0;
  bool drift_ = false;
};

// Page-Hinkley (Page 1954), two-sided, with river's fading mean: after each value x,
//   mean = running mean; inc = alpha inc + (x - mean) - delta; dec = alpha dec + (x - mean) + delta;
// drift (after min_instances values) when inc - min(inc) > threshold or max(dec) - dec > threshold
// (river starts max(dec) at -1, kept here).
struct PageHinkleyOptions {
  int min_instances = 30;
  double delta = 0.005;
  double threshold = 50.0;
  double alpha = 1 - 0.0001;
};

class PageHinkley {
 public:
  explicit PageHinkley(PageHinkleyOptions options = {});
  bool Update(double value);
  bool drift_detected() const { return drift_; }

 private:
  void Reset();
  PageHinkleyOptions options_;
  double n_ = 0, mean_ = 0, sum_increase_ = 0, sum_decrease_ = 0, min_increase_ = 0, max_decrease_ = 0;
  bool drift_ = false;
};

// DDM (Gama et al. 2004) on a 0/1 error stream: p = error rate so far, s = sqrt(p (1 - p) / n);
// after warm_start values, (p_min, s_min) is kept where p + s was smallest, warning when
// p + s > p_min + warning_threshold s_min, drift when p + s > p_min + drift_threshold s_min.
struct DdmOptions {
  int warm_start = 30;
  double warning_threshold = 2.0;
  double drift_threshold = 3.0;
};

class Ddm {
 public:
  explicit Ddm(DdmOptions options = {});
  // `error` is 0 (a hit) or 1 (a miss); anything else is InvalidArgument and changes nothing.
  Result<bool> Update(double error);
  bool drift_detected() const { return drift_; }
  bool warning_detected() const { return warning_; }

 private:
  void Reset();
  DdmOptions options_;
  double n_ = 0, p_ = 0, p_min_ = 0, s_min_ = 0, ps_min_ = 0;
  bool drift_ = false, warning_ = false;
};

// Indices at which a detector (fresh, default options) reports drift on `values`.
// InvalidArgument: a NaN or infinite value (named by index); for DDM, a value other than 0 or 1.
Result<std::vector<int64_t>> AdwinDetections(const std::vector<double>& values, AdwinOptions options = {});
Result<std::vector<int64_t>> PageHinkleyDetections(const std::vector<double>& values, PageHinkleyOptions options = {});
Result<std::vector<int64_t>> DdmDetections(const std::vector<double>& values, DdmOptions options = {});

}  // namespace pulse::drift
