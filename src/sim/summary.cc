#include "sim/summary.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/base64.h"

#include "core/simd.h"

namespace pulse::sim {
namespace {

constexpr double kScale = 16777216.0;      // 2^24: fixed-point resolution of the sums
constexpr double kMaxAbs = 68719476736.0;  // 2^36: |values| beyond it saturate in the sums
constexpr std::string_view kFormat = "pulse-sim-summary-3:";
constexpr std::string_view kFormat2 = "pulse-sim-summary-2:";  // 128-bit sums of squares; read only

// llround(clamp(v, -2^36, 2^36) * 2^24) without the library call: truncate, then round half away
// from zero (x - trunc(x) is exact for these magnitudes). NaN gives INT64_MIN, as llround does here.
int64_t Quantise(double v) {
  if (std::isnan(v)) return std::numeric_limits<int64_t>::min();
  const double x = std::clamp(v, -kMaxAbs, kMaxAbs) * kScale;
  const auto t = static_cast<int64_t>(x);
  const double f = x - static_cast<double>(t);
  return t + (f >= 0.5 ? 1 : 0) - (f <= -0.5 ? 1 : 0);
}

// The largest double below 2^36: |x| >= 2^36 lands in the outermost bucket.
constexpr double kTopValue = 0x1.fffffffffffffp+35;

// What one chunk of values adds to a cell: the quantised sums, the range of bucket keys, and the
// running min / max (lo, hi carry over from chunk to chunk).
struct ChunkTotals {
  double lo = 0, hi = 0;
  UInt128 sum = 0;  // two's complement
  Sum192 sum2;
  int32_t kmin = Summary::kMaxKey, kmax = -Summary::kMaxKey;
};

// keys[r] = BucketKey(v[r]) for r < n, and the chunk's totals.
void ScanChunkPlain(const double* v, size_t n, int32_t* keys, ChunkTotals& t) {
  for (size_t r = 0; r < n; ++r) {
    const int64_t q = Quantise(v[r]);
    t.sum += static_cast<UInt128>(q), t.sum2.Add(static_cast<UInt128>(static_cast<Int128>(q) * q));
    keys[r] = Summary::BucketKey(v[r]);
    t.kmin = std::min(t.kmin, keys[r]), t.kmax = std::max(t.kmax, keys[r]);
    const double x = v[r] + 0.0;  // -0 as +0; NaN changes neither
    t.lo = x < t.lo ? x : t.lo, t.hi = x > t.hi ? x : t.hi;
  }
}

#if defined(__x86_64__)
PULSE_SIMD_BEGIN
// ScanChunkPlain on 8 values per instruction, with the same integer results for any values but
// NaN. Quantise as the plain version does (clamp, scale, truncate, round half away from zero: exact
// in doubles, |q| <= 2^60). The sums are kept per lane in 128 bits as (hi, lo) pairs of 64-bit
// words with carries: sum of q + 2^60 (so it is unsigned), and q^2 from |q| = a 2^30 + b as the
// sums of a^2, ab and b^2 (each product below 2^62). Every addition is modulo 2^128, as the plain
// version's sums are (the squares' sum in 192 bits). For n <= 2^32. Returns false, leaving `t` as it was, when a value
// is NaN.
__attribute__((target("avx512f,avx512dq,avx512vl"))) bool ScanChunkAvx512(const double* v, size_t n, int32_t* keys,
                                                                          ChunkTotals& t) {
  const __m512d scale = _mm512_set1_pd(kScale), half = _mm512_set1_pd(0.5), neg_half = _mm512_set1_pd(-0.5);
  const __m512d max_abs = _mm512_set1_pd(kMaxAbs), min_abs = _mm512_set1_pd(-kMaxAbs);
  const __m512d tiny = _mm512_set1_pd(0x1p-24), top = _mm512_set1_pd(kTopValue);
  const __m512i one = _mm512_set1_epi64(1), key_base = _mm512_set1_epi64(((1023 + Summary::kMinExponent) << 7) - 1);
  const __m512i abs_mask = _mm512_set1_epi64(0x7FFFFFFFFFFFFFFF), low30 = _mm512_set1_epi64((1 << 30) - 1);
  const __m512i offset = _mm512_set1_epi64(int64_t{1} << 60);
  // 128-bit lane accumulators: lo words, and hi words that count the carries out of them.
  __m512i acc_lo[4], acc_hi[4];  // q + 2^60, a^2, ab, b^2
  for (int i = 0; i < 4; ++i) acc_lo[i] = acc_hi[i] = _mm512_setzero_si512();
  __m256i kmin = _mm256_set1_epi32(Summary::kMaxKey), kmax = _mm256_set1_epi32(-Summary::kMaxKey);
  __m512d lo = _mm512_set1_pd(t.lo), hi = _mm512_set1_pd(t.hi);
  __mmask8 nan = 0;
  for (size_t r = 0; r < n; r += 8) {
    const __mmask8 live = n - r >= 8 ? __mmask8{0xFF} : static_cast<__mmask8>((1u << (n - r)) - 1);
    const __m512d x = _mm512_add_pd(_mm512_maskz_loadu_pd(live, v + r), _mm512_setzero_pd());  // -0 as +0
    nan |= _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
    const __m512d a = _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(x), abs_mask));
    // Quantise.
    const __m512d xs = _mm512_mul_pd(_mm512_min_pd(_mm512_max_pd(x, min_abs), max_abs), scale);
    // trunc(xs) through the integers: exact, as |xs| <= 2^60 and any xs beyond 2^53 is whole.
    __m512i q = _mm512_cvttpd_epi64(xs);
    const __m512d f = _mm512_sub_pd(xs, _mm512_cvtepi64_pd(q));
    q = _mm512_mask_add_epi64(q, _mm512_cmp_pd_mask(f, half, _CMP_GE_OQ), q, one);
    q = _mm512_mask_sub_epi64(q, _mm512_cmp_pd_mask(f, neg_half, _CMP_LE_OQ), q, one);
    const __m512i m = _mm512_abs_epi64(q);
    const __m512i hi30 = _mm512_srli_epi64(m, 30), lo30 = _mm512_and_si512(m, low30);
    const __m512i terms[4] = {_mm512_add_epi64(q, offset), _mm512_mul_epu32(hi30, hi30), _mm512_mul_epu32(hi30, lo30),
                              _mm512_mul_epu32(lo30, lo30)};
    for (int i = 0; i < 4; ++i) {
      acc_lo[i] = _mm512_mask_add_epi64(acc_lo[i], live, acc_lo[i], terms[i]);
      acc_hi[i] =
          _mm512_mask_add_epi64(acc_hi[i], _mm512_mask_cmplt_epu64_mask(live, acc_lo[i], terms[i]), acc_hi[i], one);
    }
    // BucketKey: (biased exponent, top 7 mantissa bits) of min(|x|, top), signed, 0 below 2^-24.
    const __m512i bits = _mm512_castpd_si512(_mm512_min_pd(a, top));
    __m256i key = _mm512_cvtepi64_epi32(_mm512_sub_epi64(_mm512_srli_epi64(bits, 45), key_base));
    key =
        _mm256_mask_sub_epi32(key, _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LT_OQ), _mm256_setzero_si256(), key);
    key = _mm256_maskz_mov_epi32(_mm512_cmp_pd_mask(a, tiny, _CMP_GE_OQ), key);
    _mm256_mask_storeu_epi32(keys + r, live, key);
    kmin = _mm256_mask_min_epi32(kmin, live, kmin, key), kmax = _mm256_mask_max_epi32(kmax, live, kmax, key);
    lo = _mm512_mask_min_pd(lo, live, lo, x), hi = _mm512_mask_max_pd(hi, live, hi, x);
  }
  if (nan) return false;
  alignas(64) uint64_t lo_words[4][8], hi_words[4][8];
  for (int i = 0; i < 4; ++i) _mm512_store_si512(lo_words[i], acc_lo[i]), _mm512_store_si512(hi_words[i], acc_hi[i]);
  UInt128 sums[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; ++i)
    for (int lane = 0; lane < 8; ++lane) sums[i] += (static_cast<UInt128>(hi_words[i][lane]) << 64) | lo_words[i][lane];
  t.sum += sums[0] - (static_cast<UInt128>(n) << 60);
  // q^2 = a^2 2^60 + ab 2^31 + b^2; only the first term can pass 2^128 (sums[1] < n 2^60).
  t.sum2.Add(sums[1] << 60), t.sum2.hi += static_cast<uint64_t>(sums[1] >> 68);
  t.sum2.Add(sums[2] << 31), t.sum2.Add(sums[3]);
  alignas(32) int32_t kl[8], kh[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(kl), kmin), _mm256_store_si256(reinterpret_cast<__m256i*>(kh), kmax);
  for (int i = 0; i < 8; ++i) t.kmin = std::min(t.kmin, kl[i]), t.kmax = std::max(t.kmax, kh[i]);
  t.lo = _mm512_reduce_min_pd(lo), t.hi = _mm512_reduce_max_pd(hi);
  return true;
}
PULSE_SIMD_END
#endif

// ScanChunkPlain, vectorised where the CPU and the values allow.
void ScanChunk(const double* v, size_t n, int32_t* keys, ChunkTotals& t) {
#if defined(__x86_64__)
  if (simd::Avx512() && ScanChunkAvx512(v, n, keys, t)) return;
#endif
  ScanChunkPlain(v, n, keys, t);
}

}  // namespace

int32_t Summary::BucketKey(double x) {
  const double a = std::abs(x);
  if (!(a >= 0x1p-24)) return 0;  // the zero bucket, and NaN
  const uint64_t bits = std::bit_cast<uint64_t>(std::min(a, kTopValue));
  // bits >> 45 is (biased exponent, top 7 mantissa bits): 128 buckets per octave, in order.
  const int32_t k = static_cast<int32_t>(bits >> 45) - ((1023 + kMinExponent) << 7) + 1;
  return x < 0 ? -k : k;
}

double Summary::BucketValue(int32_t key) {
  if (key == 0) return 0;
  const int32_t a = std::abs(key) - 1;
  const double v = std::ldexp(1.0 + (static_cast<double>(a % kBucketsPerOctave) + 0.5) / kBucketsPerOctave,
                              a / kBucketsPerOctave + kMinExponent);
  return key < 0 ? -v : v;
}

void Sum192::AddProduct(UInt128 a, uint64_t b) {
  const auto a_lo = static_cast<uint64_t>(a), a_hi = static_cast<uint64_t>(a >> 64);
  const UInt128 high = static_cast<UInt128>(a_hi) * b;  // a b = high 2^64 + a_lo b
  hi += static_cast<uint64_t>(high >> 64);
  Add(high << 64), Add(static_cast<UInt128>(a_lo) * b);
}

long double Sum192::Value() const {
  return std::ldexp(static_cast<long double>(hi), 128) + static_cast<long double>(lo);
}

void Summary::Cell::Cover(int32_t lo_key, int32_t hi_key) {
  if (counts.empty()) {
    lo = lo_key;
    counts.assign(static_cast<size_t>(hi_key - lo_key) + 1, 0);
    return;
  }
  const int32_t hi = lo + static_cast<int32_t>(counts.size()) - 1;
  if (lo_key >= lo && hi_key <= hi) return;
  // Widen with slack on the side that grew (values drift over turns), within the grid.
  const auto slack = static_cast<int32_t>(std::max<size_t>(8, counts.size() / 2));
  const int32_t new_lo = lo_key < lo ? std::max(-kMaxKey, lo_key - slack) : lo;
  const int32_t new_hi = hi_key > hi ? std::min(kMaxKey, hi_key + slack) : hi;
  std::vector<uint64_t> wider(static_cast<size_t>(new_hi - new_lo) + 1, 0);
  std::copy(counts.begin(), counts.end(), wider.begin() + (lo - new_lo));
  counts = std::move(wider);
  lo = new_lo;
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
    cell.sum += static_cast<UInt128>(q) * count;
    cell.sum2.AddProduct(static_cast<UInt128>(q * q), count);
    const int32_t key = BucketKey(values[0]);
    cell.Cover(key, key);
    cell.counts[static_cast<size_t>(key - cell.lo)] += count;
    const double v = values[0] + 0.0;  // -0 counts as +0, so min/max do not depend on order
    cell.min = v < cell.min ? v : cell.min, cell.max = v > cell.max ? v : cell.max;  // NaN: neither
    return;
  }
  constexpr size_t kChunk = 256;
  int32_t keys[kChunk];
  ChunkTotals totals{cell.min, cell.max};
  for (size_t start = 0; start < count; start += kChunk) {
    const size_t n = std::min(kChunk, count - start);
    totals.sum = 0, totals.sum2 = {}, totals.kmin = kMaxKey, totals.kmax = -kMaxKey;
    ScanChunk(values + start, n, keys, totals);
    cell.sum += totals.sum, cell.sum2.Add(totals.sum2);
    cell.Cover(totals.kmin, totals.kmax);
    uint64_t* counts = cell.counts.data() - cell.lo;
    for (size_t r = 0; r < n; ++r) ++counts[keys[r]];
  }
  cell.min = totals.lo, cell.max = totals.hi;
}

void Summary::Merge(const Summary& other) {
  if (cells_.empty()) {
    *this = other;
    return;
  }
  for (size_t i = 0; i < cells_.size() && i < other.cells_.size(); ++i) {
    Cell& a = cells_[i];
    const Cell& b = other.cells_[i];
    if (b.count == 0) continue;
    a.min = b.min < a.min ? b.min : a.min, a.max = b.max > a.max ? b.max : a.max;
    a.count += b.count, a.sum += b.sum, a.sum2.Add(b.sum2);
    if (b.counts.empty()) continue;
    a.Cover(b.lo, b.lo + static_cast<int32_t>(b.counts.size()) - 1);
    const size_t offset = static_cast<size_t>(b.lo - a.lo);
    for (size_t k = 0; k < b.counts.size(); ++k) a.counts[offset + k] += b.counts[k];
  }
}

size_t Summary::buckets_held() const {
  size_t n = 0;
  for (const Cell& c : cells_) n += c.counts.size();
  return n;
}

Summary::Stats Summary::Get(size_t step, size_t column, const std::vector<double>& quantiles) const {
  const Cell& cell = At(step, column);
  Stats out;
  out.count = cell.count;
  if (cell.count == 0) return out;
  const long double n = static_cast<long double>(cell.count);
  const long double mean_q = static_cast<long double>(static_cast<Int128>(cell.sum)) / n;
  const long double var_q = std::max(0.0L, cell.sum2.Value() / n - mean_q * mean_q);
  out.mean = static_cast<double>(mean_q / kScale);
  out.sd = cell.count > 1 ? static_cast<double>(std::sqrt(var_q * n / (n - 1)) / kScale) : 0.0;
  out.min = cell.min, out.max = cell.max;
  for (double q : quantiles) {
    // Nearest rank: the ceil(q n)-th smallest value's bucket, its midpoint within [min, max].
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(cell.count))));
    uint64_t seen = 0;
    double value = out.max;
    for (size_t k = 0; k < cell.counts.size(); ++k) {
      seen += cell.counts[k];
      if (seen >= rank) {
        value = BucketValue(cell.lo + static_cast<int32_t>(k));
        if (out.min <= out.max) value = std::clamp(value, out.min, out.max);  // else: every value NaN
        break;
      }
    }
    out.quantiles.push_back(value);
  }
  return out;
}

// ---- Serialisation: varints (LEB128), zigzag for signed integers, raw little-endian doubles ----

namespace {

void PutVarint(std::string& out, UInt128 v) {
  while (v >= 0x80) {
    out += static_cast<char>(static_cast<uint8_t>(v) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(static_cast<uint8_t>(v));
}
UInt128 ZigZag(Int128 v) { return v < 0 ? ~(static_cast<UInt128>(v) << 1) : static_cast<UInt128>(v) << 1; }
Int128 UnZigZag(UInt128 u) { return (u & 1) ? static_cast<Int128>(~(u >> 1)) : static_cast<Int128>(u >> 1); }
void PutDouble(std::string& out, double v) {
  const auto bits = std::bit_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<uint8_t>(bits >> (8 * i)));
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool Varint(UInt128& v, int max_bytes) {
    v = 0;
    for (int i = 0; i < max_bytes && pos_ < bytes_.size(); ++i) {
      const auto b = static_cast<uint8_t>(bytes_[pos_++]);
      v |= static_cast<UInt128>(b & 0x7F) << (7 * i);
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool U64(uint64_t& v) {
    UInt128 w;
    if (!Varint(w, 10) || w > std::numeric_limits<uint64_t>::max()) return false;
    v = static_cast<uint64_t>(w);
    return true;
  }
  bool I128(Int128& v) {
    UInt128 w;
    if (!Varint(w, 19)) return false;
    v = UnZigZag(w);
    return true;
  }
  bool Double(double& v) {
    if (bytes_.size() - pos_ < 8) return false;
    uint64_t bits = 0;
    for (size_t i = 0; i < 8; ++i) bits |= uint64_t{static_cast<uint8_t>(bytes_[pos_ + i])} << (8 * i);
    pos_ += 8;
    v = std::bit_cast<double>(bits);
    return true;
  }
  bool Bytes(size_t n, std::string& out) {
    if (bytes_.size() - pos_ < n) return false;
    out.assign(bytes_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  size_t left() const { return bytes_.size() - pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::string Summary::Serialize() const {
  std::string bin;
  PutVarint(bin, steps_);
  PutVarint(bin, columns_.size());
  for (const std::string& c : columns_) PutVarint(bin, c.size()), bin += c;
  for (const Cell& c : cells_) {
    PutVarint(bin, c.count);
    if (c.count == 0) continue;
    PutVarint(bin, ZigZag(static_cast<Int128>(c.sum)));
    PutVarint(bin, c.sum2.lo);
    PutVarint(bin, c.sum2.hi);
    PutDouble(bin, c.min);
    PutDouble(bin, c.max);
    // The window trimmed to its non-zero counts: the same bytes whatever slack it was grown with.
    size_t first = 0, last = c.counts.size();
    while (first < last && c.counts[first] == 0) ++first;
    while (last > first && c.counts[last - 1] == 0) --last;
    PutVarint(bin, ZigZag(c.lo + static_cast<int32_t>(first)));
    PutVarint(bin, last - first);
    // Counts, with each run of empty buckets written as 0 and the run's length (windows of values
    // clipped at 0 span many empty octaves).
    for (size_t k = first; k < last;) {
      size_t zeros = 0;
      while (k + zeros < last && c.counts[k + zeros] == 0) ++zeros;
      if (zeros > 0) {
        PutVarint(bin, 0), PutVarint(bin, zeros);
        k += zeros;
      } else {
        PutVarint(bin, c.counts[k++]);
      }
    }
  }
  return std::string(kFormat) + Base64Encode(bin);
}

Result<Summary> Summary::Deserialize(std::string_view text) {
  auto bad = [](const std::string& why) { return Status::InvalidArgument("simulation summary: " + why); };
  const bool v2 = text.substr(0, kFormat2.size()) == kFormat2;
  if (!v2 && text.substr(0, kFormat.size()) != kFormat)
    return bad("not a serialized summary (expected pulse-sim-summary-3)");
  auto decoded = Base64Decode(text.substr(kFormat.size()));
  if (!decoded.ok()) return bad("bad base64: " + decoded.status().message());
  Reader in(*decoded);
  uint64_t steps = 0, ncols = 0;
  if (!in.U64(steps) || !in.U64(ncols)) return bad("truncated header");
  // Every column name and every cell takes at least one byte: refuse counts the input cannot hold.
  if (ncols > in.left() || (ncols > 0 && steps > in.left() / ncols)) return bad("steps x columns exceed the input");
  std::vector<std::string> columns(ncols);
  for (std::string& c : columns) {
    uint64_t len = 0;
    if (!in.U64(len) || len > in.left() || !in.Bytes(len, c)) return bad("truncated column name");
  }
  if (steps * ncols > in.left()) return bad("steps x columns exceed the input");
  Summary out(steps, std::move(columns));
  // Runs of empty buckets cost 2-4 bytes for up to 15,361 counters: cap the counters a text may
  // make this process hold (64 per input byte; real summaries need fewer than 4).
  const uint64_t counter_budget = 64 * uint64_t{decoded->size()} + 65536;
  uint64_t counters = 0;
  for (size_t i = 0; i < out.cells_.size(); ++i) {
    Cell& cell = out.cells_[i];
    const std::string where = " in cell " + std::to_string(i);
    if (!in.U64(cell.count)) return bad("truncated count" + where);
    if (cell.count == 0) continue;
    Int128 sum = 0, sum2_v2 = 0, lo = 0;
    uint64_t len = 0;
    const bool sums = in.I128(sum) && (v2 ? in.I128(sum2_v2) : in.Varint(cell.sum2.lo, 19) && in.U64(cell.sum2.hi));
    if (!sums || !in.Double(cell.min) || !in.Double(cell.max) || !in.I128(lo) || !in.U64(len))
      return bad("truncated cell" + where);
    cell.sum = static_cast<UInt128>(sum);
    if (v2) cell.sum2.lo = static_cast<UInt128>(sum2_v2);
    const bool none = cell.min == std::numeric_limits<double>::infinity() &&
                      cell.max == -std::numeric_limits<double>::infinity();  // only NaN values
    if (std::isnan(cell.min) || std::isnan(cell.max) || (cell.min > cell.max && !none))
      return bad("min above max" + where);
    if (len == 0 || lo < -kMaxKey || lo + static_cast<Int128>(len) - 1 > kMaxKey)
      return bad("histogram window outside the grid" + where);
    counters += len;
    if (counters > counter_budget) return bad("histogram windows too large for the input's size" + where);
    cell.lo = static_cast<int32_t>(lo);
    cell.counts.assign(len, 0);
    uint64_t total = 0;
    for (size_t k = 0; k < len;) {
      uint64_t v = 0;
      if (!in.U64(v)) return bad("truncated histogram" + where);
      if (v == 0) {  // a run of empty buckets
        uint64_t zeros = 0;
        if (!in.U64(zeros) || zeros == 0 || zeros > len - k) return bad("bad run of empty buckets" + where);
        k += zeros;
        continue;
      }
      if (v > cell.count - total) return bad("histogram counts exceed the cell's count" + where);
      total += v;
      cell.counts[k++] = v;
    }
    if (total != cell.count) return bad("histogram counts do not add up to the cell's count" + where);
  }
  if (in.left() != 0) return bad("trailing bytes after the last cell");
  return out;
}

}  // namespace pulse::sim
