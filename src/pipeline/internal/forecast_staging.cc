#include "pipeline/internal/forecast_staging.h"

#include <bit>
#include <cstring>

#include "core/hash.h"

namespace pulse::pipeline::internal {
namespace {

static_assert(std::endian::native == std::endian::little, "the staging encoding assumes a little-endian host");

constexpr std::string_view kMagic = "PULSEFS1";
constexpr size_t kChecksumSize = 64;  // Sha256Hex

class Writer {
 public:
  template <class T>
  void Put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void PutString(std::string_view s) {
    Put<uint64_t>(s.size());
    out_.append(s);
  }
  void PutDoubles(const std::vector<double>& v) {
    Put<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Reads what Writer wrote; every read is bounds-checked (ok() turns false for good on overrun).
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  T Get() {
    T v{};
    if (!Take(sizeof v)) return v;
    std::memcpy(&v, in_.data() + pos_ - sizeof v, sizeof v);
    return v;
  }
  std::string GetString() {
    const auto n = Get<uint64_t>();
    if (!Take(n)) return {};
    return std::string(in_.substr(pos_ - n, n));
  }
  std::vector<double> GetDoubles() {
    const auto n = Get<uint64_t>();
    if (n > in_.size() / sizeof(double) || !Take(n * sizeof(double))) return {};
    std::vector<double> v(n);
    if (n > 0) std::memcpy(v.data(), in_.data() + pos_ - n * sizeof(double), n * sizeof(double));
    return v;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  bool Take(uint64_t n) {
    if (!ok_ || n > in_.size() - pos_) return ok_ = false;
    pos_ += n;
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

std::string StagingKey(const std::string& options_key, int64_t signals_version, const ForecastChunk& chunk) {
  return std::string(kForecastStagingPrefix) + options_key + "/" + std::to_string(signals_version) + "/" +
         std::to_string(chunk.index) + "-of-" + std::to_string(chunk.count);
}

std::string EncodeStagedChunk(const StagedChunk& staged) {
  Writer w;
  w.out().append(kMagic);
  w.PutString(staged.options_key);
  w.Put<int64_t>(staged.signals_version);
  w.Put<int32_t>(staged.chunk.index);
  w.Put<int32_t>(staged.chunk.count);
  w.Put<uint64_t>(staged.skipped.size());
  for (const auto& s : staged.skipped) w.PutString(s);
  w.Put<uint64_t>(staged.series.size());
  for (size_t i = 0; i < staged.series.size(); ++i) {
    const SeriesData& s = staged.series[i];
    const SeriesForecast& f = staged.forecasts[i];
    w.PutString(s.kind);
    w.PutString(s.name);
    w.Put<int64_t>(s.ts.empty() ? 0 : s.ts.back());
    w.Put<uint8_t>(f.ok ? 1 : 0);
    w.PutString(f.problem);
    w.PutString(f.grid.name);
    w.Put<int32_t>(f.grid.months);
    w.Put<int64_t>(f.grid.step_us);
    w.Put<int32_t>(f.grid.period);
    w.Put<int32_t>(f.grid.horizon);
    w.Put<int32_t>(f.horizon);
    w.Put<int32_t>(f.period);
    w.Put<double>(f.scale);
    w.PutDoubles(f.result.ensemble.mean);
    w.PutDoubles(f.result.ensemble.sd);
    for (double x : f.result.weights.weight) w.Put<double>(x);
    w.PutDoubles(f.result.scores.back());
    for (double x : f.result.backtest_mase) w.Put<double>(x);
  }
  w.out().append(Sha256Hex(w.out()));
  return std::move(w.out());
}

Result<StagedChunk> DecodeStagedChunk(std::string_view bytes) {
  const auto corrupt = [](const std::string& why) { return Status::ParseError("staged forecast fits: " + why); };
  if (bytes.size() < kMagic.size() + kChecksumSize || bytes.substr(0, kMagic.size()) != kMagic)
    return corrupt("not a staging object of this format");
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumSize);
  if (Sha256Hex(body) != bytes.substr(body.size())) return corrupt("checksum mismatch (truncated or corrupt)");
  Reader r(body.substr(kMagic.size()));
  StagedChunk out;
  out.options_key = r.GetString();
  out.signals_version = r.Get<int64_t>();
  out.chunk.index = r.Get<int32_t>();
  out.chunk.count = r.Get<int32_t>();
  const auto skipped = r.Get<uint64_t>();
  for (uint64_t i = 0; i < skipped && r.ok(); ++i) out.skipped.push_back(r.GetString());
  const auto n = r.Get<uint64_t>();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    SeriesData s;
    SeriesForecast f;
    s.kind = r.GetString();
    s.name = r.GetString();
    s.ts = {r.Get<int64_t>()};
    f.ok = r.Get<uint8_t>() != 0;
    f.problem = r.GetString();
    f.grid.name = r.GetString();
    f.grid.months = r.Get<int32_t>();
    f.grid.step_us = r.Get<int64_t>();
    f.grid.period = r.Get<int32_t>();
    f.grid.horizon = r.Get<int32_t>();
    f.horizon = r.Get<int32_t>();
    f.period = r.Get<int32_t>();
    f.scale = r.Get<double>();
    f.result.ensemble.mean = r.GetDoubles();
    f.result.ensemble.sd = r.GetDoubles();
    for (double& x : f.result.weights.weight) x = r.Get<double>();
    f.result.scores.back() = r.GetDoubles();
    for (double& x : f.result.backtest_mase) x = r.Get<double>();
    if (f.result.ensemble.sd.size() != f.result.ensemble.mean.size()) return corrupt("mean and sd lengths differ");
    out.series.push_back(std::move(s));
    out.forecasts.push_back(std::move(f));
  }
  if (!r.done()) return corrupt("lengths do not match the object's size");
  return out;
}

}  // namespace pulse::pipeline::internal
