#include "drift/streaming.h"

#include <cmath>
#include <string>

namespace pulse::drift {

// ---- ADWIN ----------------------------------------------------------------------------------
// rows_[i] holds buckets of 2^i values each (at most max_buckets + 1 before a merge), oldest
// first. The arithmetic follows the order river uses so that the decisions agree value for value.

Adwin::Adwin(AdwinOptions options) : options_(options) { Reset(); }

void Adwin::Reset() {
  rows_.assign(1, Row{});
  total_ = variance_ = width_ = 0;
  tick_ = 0;
}

bool Adwin::Update(double value) {
  if (drift_) Reset();
  Insert(value);
  drift_ = DetectChange();
  return drift_;
}

void Adwin::Insert(double value) {
  rows_[0].totals.push_back(value);
  rows_[0].variances.push_back(0.0);
  width_ += 1.0;
  double incremental = 0.0;
  if (width_ > 1.0) {
    const double d = value - total_ / (width_ - 1.0);
    incremental = (width_ - 1.0) * d * d / width_;
  }
  variance_ += incremental;
  total_ += value;
  Compress();
}

void Adwin::Compress() {
  const auto full = static_cast<size_t>(options_.max_buckets) + 1;
  for (size_t i = 0; i < rows_.size() && rows_[i].totals.size() == full; ++i) {
    Row& row = rows_[i];
    const double n = std::ldexp(1.0, static_cast<int>(i));
    const double mu1 = row.totals[0] / n;
    const double mu2 = row.totals[1] / n;
    const double total12 = row.totals[0] + row.totals[1];
    const double v12 = row.variances[0] + row.variances[1] + n * 0.5 * (mu1 - mu2) * (mu1 - mu2);
    row.totals.erase(row.totals.begin(), row.totals.begin() + 2);
    row.variances.erase(row.variances.begin(), row.variances.begin() + 2);
    if (i + 1 == rows_.size()) rows_.emplace_back();
    rows_[i + 1].totals.push_back(total12);
    rows_[i + 1].variances.push_back(v12);
  }
}

void Adwin::DeleteOldest() {
  const size_t last = rows_.size() - 1;
  Row& row = rows_[last];
  const double n = std::ldexp(1.0, static_cast<int>(last));
  const double u = row.totals.front();
  const double v = row.variances.front();
  const double mu = u / n;
  width_ -= n;
  total_ -= u;
  const double mu_window = total_ / width_;
  variance_ -= v + n * width_ * (mu - mu_window) * (mu - mu_window) / (n + width_);
  row.totals.erase(row.totals.begin());
  row.variances.erase(row.variances.begin());
  if (row.totals.empty()) rows_.pop_back();
}

bool Adwin::Cut(double n0, double n1, double delta_mean) const {
  const double min_len = options_.min_window_length;
  const double delta_prime = std::log(2.0 * std::log(width_) / options_.delta);
  const double m_recip = 1.0 / (n0 - min_len + 1.0) + 1.0 / (n1 - min_len + 1.0);
  const double epsilon =
      std::sqrt(2.0 * m_recip * (variance_ / width_) * delta_prime) + 2.0 / 3.0 * delta_prime * m_recip;
  return std::fabs(delta_mean) > epsilon;
}

bool Adwin::DetectChange() {
  bool detected = false;
  ++tick_;
  if (tick_ % options_.clock != 0 || !(width_ > options_.grace_period)) return false;
  const double min_len = options_.min_window_length;
  bool reduce = true;
  while (reduce) {
    reduce = false;
    double n0 = 0, n1 = width_, u0 = 0, u1 = total_;
    bool done = false;
    // From the oldest bucket (largest row, front) to the newest; the last bucket is never a split.
    for (size_t r = rows_.size(); r-- > 0 && !done;) {
      const double size = std::ldexp(1.0, static_cast<int>(r));
      const size_t count = rows_[r].totals.size();
      for (size_t k = 0; k < count; ++k) {
        n0 += size;
        n1 -= size;
        u0 += rows_[r].totals[k];
        u1 -= rows_[r].totals[k];
        if (r == 0 && k + 1 == count) {
          done = true;
          break;
        }
        const double delta_mean = u0 / n0 - u1 / n1;
        if (n1 >= min_len && n0 >= min_len && Cut(n0, n1, delta_mean)) {
          reduce = true;
          detected = true;
          if (width_ > 0) {
            DeleteOldest();
            done = true;
            break;
          }
        }
      }
    }
  }
  return detected;
}

// ---- Page-Hinkley ---------------------------------------------------------------------------

PageHinkley::PageHinkley(PageHinkleyOptions options) : options_(options) { Reset(); }

void PageHinkley::Reset() {
  n_ = mean_ = sum_increase_ = sum_decrease_ = 0;
  min_increase_ = INFINITY;
  max_decrease_ = -1;
}

bool PageHinkley::Update(double value) {
  if (drift_) Reset();
  n_ += 1.0;
  mean_ += (1.0 / n_) * (value - mean_);  // river's stats.Mean
  const double dev = value - mean_;
  sum_increase_ = options_.alpha * sum_increase_ + dev - options_.delta;
  sum_decrease_ = options_.alpha * sum_decrease_ + dev + options_.delta;
  if (sum_increase_ < min_increase_) min_increase_ = sum_increase_;
  if (sum_decrease_ > max_decrease_) max_decrease_ = sum_decrease_;
  drift_ = false;
  if (n_ >= options_.min_instances) {
    drift_ = sum_increase_ - min_increase_ > options_.threshold || max_decrease_ - sum_decrease_ > options_.threshold;
  }
  return drift_;
}

// ---- DDM ------------------------------------------------------------------------------------

Ddm::Ddm(DdmOptions options) : options_(options) { Reset(); }

void Ddm::Reset() {
  n_ = p_ = p_min_ = s_min_ = 0;
  ps_min_ = INFINITY;
  warning_ = false;
}

Result<bool> Ddm::Update(double error) {
  if (error != 0.0 && error != 1.0) {
    return Status::InvalidArgument("DDM takes 0 (hit) or 1 (miss), got " + std::to_string(error));
  }
  if (drift_) {
    Reset();
    drift_ = false;
  }
  n_ += 1.0;
  p_ += (1.0 / n_) * (error - p_);
  const double s = std::sqrt(p_ * (1 - p_) / n_);
  if (n_ > options_.warm_start) {
    if (p_ + s <= ps_min_) {
      p_min_ = p_;
      s_min_ = s;
      ps_min_ = p_min_ + s_min_;
    }
    warning_ = p_ + s > p_min_ + options_.warning_threshold * s_min_;
    if (p_ + s > p_min_ + options_.drift_threshold * s_min_) {
      drift_ = true;
      warning_ = false;
    }
  }
  return drift_;
}

// ---- Runs over a sequence -------------------------------------------------------------------
namespace {

Status CheckFinite(const std::vector<double>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return Status::InvalidArgument("value at index " + std::to_string(i) + " is " +
                                     (std::isnan(values[i]) ? "NaN" : "infinite"));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<int64_t>> AdwinDetections(const std::vector<double>& values, AdwinOptions options) {
  PULSE_RETURN_IF_ERROR(CheckFinite(values));
  Adwin detector(options);
  std::vector<int64_t> out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (detector.Update(values[i])) out.push_back(static_cast<int64_t>(i));
  }
  return out;
}

Result<std::vector<int64_t>> PageHinkleyDetections(const std::vector<double>& values, PageHinkleyOptions options) {
  PULSE_RETURN_IF_ERROR(CheckFinite(values));
  PageHinkley detector(options);
  std::vector<int64_t> out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (detector.Update(values[i])) out.push_back(static_cast<int64_t>(i));
  }
  return out;
}

Result<std::vector<int64_t>> DdmDetections(const std::vector<double>& values, DdmOptions options) {
  PULSE_RETURN_IF_ERROR(CheckFinite(values));
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] != 0.0 && values[i] != 1.0) {
      return Status::InvalidArgument("DDM takes 0 (hit) or 1 (miss): value at index " + std::to_string(i) + " is " +
                                     std::to_string(values[i]));
    }
  }
  Ddm detector(options);
  std::vector<int64_t> out;
  for (size_t i = 0; i < values.size(); ++i) {
    PULSE_ASSIGN_OR_RETURN(const bool drift, detector.Update(values[i]));
    if (drift) out.push_back(static_cast<int64_t>(i));
  }
  return out;
}

}  // namespace pulse::drift
