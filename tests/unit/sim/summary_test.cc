// The Monte Carlo summary's quantile sketch: its stated error bound against exact quantiles of
// known distributions, exact merging of chunks (== one pass, bit for bit, in any order and through
// serialisation), a size that does not grow with the number of values, and refusal of malformed
// serialised input.
#include "sim/summary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/base64.h"

namespace pulse::sim {
namespace {

// The bound summary.h states for the nearest-rank quantile x.
double Bound(double x) { return std::abs(x) >= 0x1p-24 ? std::ldexp(std::abs(x), -8) : 0x1p-24; }

std::vector<double> Draw(const std::string& kind, size_t n, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0.5, 0.1);
  std::lognormal_distribution<double> lognormal(0.0, 3.0);  // spans many octaves
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> out(n);
  for (double& v : out) {
    if (kind == "normal") v = normal(gen);
    if (kind == "lognormal") v = lognormal(gen);
    if (kind == "uniform") v = uniform(gen);                             // crosses zero
    if (kind == "tiny") v = uniform(gen) * 1e-8;                         // below the 2^-24 grid
    if (kind == "clipped") v = std::clamp(normal(gen) - 0.5, 0.0, 1.0);  // half the mass at exactly 0
  }
  return out;
}

TEST(Summary, QuantilesWithinTheStatedBoundOfExactOnes) {
  const std::vector<double> levels = {0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999};
  for (const std::string kind : {"normal", "lognormal", "uniform", "tiny", "clipped"}) {
    std::vector<double> values = Draw(kind, 100000, 7);
    Summary s(1, {"x"});
    s.Add(0, 0, values.data(), values.size());
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const auto st = s.Get(0, 0, levels);
    EXPECT_EQ(st.count, values.size());
    EXPECT_EQ(st.min, sorted.front()) << kind;  // min and max are exact
    EXPECT_EQ(st.max, sorted.back()) << kind;
    for (size_t i = 0; i < levels.size(); ++i) {
      const auto rank = static_cast<size_t>(std::ceil(levels[i] * static_cast<double>(values.size())));
      const double exact = sorted[rank - 1];
      EXPECT_LE(std::abs(st.quantiles[i] - exact), Bound(exact))
          << kind << " q=" << levels[i] << " exact " << exact << " got " << st.quantiles[i];
    }
    // The mean is exact to the fixed-point resolution.
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    EXPECT_NEAR(st.mean, mean, 1e-7 * std::max(1.0, std::abs(mean))) << kind;
  }
}

TEST(Summary, BucketGridIsMonotoneAndItsMidpointsAreWithinTheBound) {
  int32_t previous = Summary::BucketKey(-1e300);
  EXPECT_EQ(previous, -Summary::kMaxKey);
  EXPECT_EQ(Summary::BucketKey(1e300), Summary::kMaxKey);
  EXPECT_EQ(Summary::BucketKey(0.0), 0);
  EXPECT_EQ(Summary::BucketKey(-0.0), 0);
  EXPECT_EQ(Summary::BucketKey(std::nan("")), 0);
  EXPECT_EQ(Summary::BucketKey(0x1p-24), 1);
  EXPECT_EQ(Summary::BucketKey(std::nextafter(0x1p-24, 0.0)), 0);
  std::mt19937_64 gen(3);
  std::vector<double> xs;
  for (int i = 0; i < 20000; ++i)
    xs.push_back(std::ldexp(std::uniform_real_distribution<double>(-1, 1)(gen), i % 80 - 40));
  std::sort(xs.begin(), xs.end());
  for (double x : xs) {
    const int32_t k = Summary::BucketKey(x);
    ASSERT_GE(k, previous) << x;
    previous = k;
    if (std::abs(x) < 0x1p36) {
      ASSERT_LE(std::abs(Summary::BucketValue(k) - x), Bound(x)) << x;
    }
  }
}

TEST(Summary, ChunksMergeToTheSinglePassBitForBit) {
  // 3 steps x 2 columns of 30,000 values, split into chunks of uneven sizes, merged in two
  // orders, some through Serialize/Deserialize: every statistic and the serialised bytes equal
  // the single-pass summary's.
  const std::vector<double> a = Draw("lognormal", 30000, 1), b = Draw("uniform", 30000, 2);
  const std::vector<size_t> cuts = {0, 1, 257, 5000, 5001, 17000, 30000};
  Summary whole(3, {"a", "b"});
  std::vector<Summary> parts;
  for (size_t step = 0; step < 3; ++step)
    whole.Add(step, 0, a.data(), a.size()), whole.Add(step, 1, b.data(), b.size());
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    Summary part(3, {"a", "b"});
    for (size_t step = 0; step < 3; ++step) {
      part.Add(step, 0, a.data() + cuts[i], cuts[i + 1] - cuts[i]);
      part.Add(step, 1, b.data() + cuts[i], cuts[i + 1] - cuts[i]);
    }
    if (i % 2) {
      auto back = Summary::Deserialize(part.Serialize());
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      part = *back;
    }
    parts.push_back(std::move(part));
  }
  Summary forward, backward;
  for (const Summary& p : parts) forward.Merge(p);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) backward.Merge(*it);
  const std::vector<double> levels = {0.01, 0.5, 0.99};
  for (const Summary* m : {&forward, &backward}) {
    for (size_t step = 0; step < 3; ++step) {
      for (size_t c = 0; c < 2; ++c) {
        const auto x = whole.Get(step, c, levels), y = m->Get(step, c, levels);
        EXPECT_EQ(x.count, y.count);
        EXPECT_EQ(x.mean, y.mean);
        EXPECT_EQ(x.sd, y.sd);
        EXPECT_EQ(x.min, y.min);
        EXPECT_EQ(x.max, y.max);
        EXPECT_EQ(x.quantiles, y.quantiles);
      }
    }
    EXPECT_EQ(m->Serialize(), whole.Serialize());
  }
}

TEST(Summary, SignedZerosAndNaNDoNotMakeMergesOrderDependent) {
  // -0.0 (a scale effect of a negative value on 0) and +0.0 compare equal: min/max record +0 so
  // that any order of values or merges gives the same bytes; NaN never becomes the min or max.
  const double neg[] = {-0.0, 1.0}, pos[] = {0.0, std::nan(""), 2.0};
  Summary a(1, {"x"}), b(1, {"x"}), whole(1, {"x"});
  a.Add(0, 0, neg, 2), b.Add(0, 0, pos, 3);
  whole.Add(0, 0, pos, 3), whole.Add(0, 0, neg, 2);
  Summary ab, ba;
  ab.Merge(a), ab.Merge(b), ba.Merge(b), ba.Merge(a);
  EXPECT_EQ(ab.Serialize(), ba.Serialize());
  EXPECT_EQ(ab.Serialize(), whole.Serialize());
  const auto st = whole.Get(0, 0, {0.01, 0.99});
  EXPECT_FALSE(std::signbit(st.min));
  EXPECT_EQ(st.min, 0.0);
  EXPECT_EQ(st.max, 2.0);
  const double zero[] = {-0.0, -0.0};
  Summary z(1, {"x"});
  z.Add(0, 0, zero, 2);  // the uniform fast path
  EXPECT_FALSE(std::signbit(z.Get(0, 0, {}).min));
}

TEST(Summary, VectorisedChunksEqualValueByValueAdds) {
  // Add() scans chunks with AVX-512 where the CPU has it; one value at a time always takes the
  // scalar path. The two must agree bit for bit on every statistic: magnitudes from below 2^-24
  // to the 2^36 saturation and beyond, both signs, zeros of both signs, a length that is no multiple
  // of the vector width, and a NaN (which sends its chunk to the scalar path).
  std::mt19937_64 gen(11);
  // A fifth of the values saturate: their squares (2^120 each) carry the sum of squares past
  // 2^128 within one chunk.
  std::uniform_real_distribution<double> exponent(-30, 45), unit(0, 1);
  std::vector<double> values(1003);
  for (double& v : values) v = (unit(gen) < 0.5 ? -1 : 1) * std::pow(2.0, exponent(gen));
  values[5] = 0.0, values[6] = -0.0, values[7] = 1e300, values[8] = -1e300, values[9] = 0x1p36;
  for (bool with_nan : {false, true}) {
    if (with_nan) values[600] = std::nan("");
    Summary bulk(1, {"x"}), single(1, {"x"});
    bulk.Add(0, 0, values.data(), values.size());
    for (const double& v : values) single.Add(0, 0, &v, 1);
    std::vector<double> levels;
    for (int i = 1; i < 200; ++i) levels.push_back(i / 200.0);
    const auto a = bulk.Get(0, 0, levels), b = single.Get(0, 0, levels);
    EXPECT_EQ(a.count, b.count);
    EXPECT_EQ(std::bit_cast<uint64_t>(a.mean), std::bit_cast<uint64_t>(b.mean)) << "nan " << with_nan;
    EXPECT_EQ(std::bit_cast<uint64_t>(a.sd), std::bit_cast<uint64_t>(b.sd)) << "nan " << with_nan;
    EXPECT_EQ(a.min, b.min);
    EXPECT_EQ(a.max, b.max);
    EXPECT_EQ(a.quantiles, b.quantiles);
  }
  // Values near zero, where most windows of real runs lie (clipped slots), in one cell.
  std::uniform_real_distribution<double> small(-0.001, 0.03);
  for (double& v : values) v = std::max(0.0, small(gen));
  Summary bulk(1, {"x"}), single(1, {"x"});
  bulk.Add(0, 0, values.data(), values.size());
  for (const double& v : values) single.Add(0, 0, &v, 1);
  const auto a = bulk.Get(0, 0, {0.05, 0.5, 0.95}), b = single.Get(0, 0, {0.05, 0.5, 0.95});
  EXPECT_EQ(std::bit_cast<uint64_t>(a.mean), std::bit_cast<uint64_t>(b.mean));
  EXPECT_EQ(std::bit_cast<uint64_t>(a.sd), std::bit_cast<uint64_t>(b.sd));
  EXPECT_EQ(a.quantiles, b.quantiles);
}

TEST(Summary, SaturatedValuesKeepExactSums) {
  // Each value at the 2^36 saturation adds 2^120 to the sum of squares: 256 of them pass 2^128.
  // Mean and sd stay exact however many there are, in one pass, in merged chunks and through
  // serialisation.
  const size_t n = 1000000;
  std::vector<double> same(n, 1e12), alternating(n);
  for (size_t i = 0; i < n; ++i) alternating[i] = i % 2 ? -1e12 : 1e12;
  Summary s(2, {"x"});
  s.Add(0, 0, same.data(), n);  // one bucket update for a uniform block
  for (size_t start = 0; start < n; start += n / 4) {
    Summary part(2, {"x"});
    part.Add(1, 0, alternating.data() + start, n / 4);
    s.Merge(part);
  }
  auto round_trip = Summary::Deserialize(s.Serialize());
  ASSERT_TRUE(round_trip.ok());
  for (const Summary* x : {&s, &*round_trip}) {
    const auto flat = x->Get(0, 0, {0.5}), mixed = x->Get(1, 0, {0.5});
    EXPECT_EQ(flat.count, n);
    EXPECT_EQ(flat.mean, 0x1p36);
    EXPECT_EQ(flat.sd, 0.0);
    EXPECT_EQ(mixed.mean, 0.0);
    EXPECT_DOUBLE_EQ(mixed.sd, 0x1p36 * std::sqrt(static_cast<double>(n) / (n - 1)));
  }
  Summary single(2, {"x"});  // one pass equals the merged chunks bit for bit
  single.Add(0, 0, same.data(), n);
  single.Add(1, 0, alternating.data(), n);
  EXPECT_EQ(single.Serialize(), s.Serialize());
}

TEST(Summary, ReadsThePreviousFormat) {
  // pulse-sim-summary-2 (workers of an earlier release): the sum of squares as one zigzag varint.
  // One step, one column "x", one value 1.0: count 1, sum 2^24, sum of squares 2^48, min = max =
  // 1.0, one bucket.
  Summary s(1, {"x"});
  const double one = 1.0;
  s.Add(0, 0, &one, 1);
  auto varint = [](UInt128 v) {
    std::string out;
    for (; v >= 0x80; v >>= 7) out += static_cast<char>(static_cast<uint8_t>(v) | 0x80);
    return out + static_cast<char>(static_cast<uint8_t>(v));
  };
  auto f64 = [](double v) {
    std::string out;
    for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<uint8_t>(std::bit_cast<uint64_t>(v) >> (8 * i)));
    return out;
  };
  const int32_t key = Summary::BucketKey(1.0);
  const std::string v2 = std::string("\x01\x01\x01x\x01", 5) + varint(UInt128{1} << 25) + varint(UInt128{1} << 49) +
                         f64(1.0) + f64(1.0) + varint(static_cast<UInt128>(key) << 1) + varint(1) + varint(1);
  auto old = Summary::Deserialize("pulse-sim-summary-2:" + Base64Encode(v2));
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->Serialize(), s.Serialize());
  EXPECT_EQ(old->Get(0, 0, {}).mean, 1.0);
}

TEST(Summary, SizeDoesNotGrowWithTheNumberOfValues) {
  // Values in a fixed range fill a fixed set of buckets: 10^6 values serialise to about the
  // size of 10^4 (only the counters' varints grow by a byte or two), and never past the grid.
  auto serialized = [](size_t n) {
    std::mt19937_64 gen(5);
    std::uniform_real_distribution<double> u(0.25, 0.75);
    Summary s(1, {"x"});
    std::vector<double> v(1000);
    for (size_t done = 0; done < n; done += v.size()) {
      for (double& x : v) x = u(gen);
      s.Add(0, 0, v.data(), v.size());
    }
    EXPECT_LE(s.buckets_held(), size_t{2} * Summary::kMaxKey + 1);
    return s.Serialize().size();
  };
  const size_t small = serialized(10000), large = serialized(1000000);
  EXPECT_LT(large, small * 2);
  EXPECT_LT(large, size_t{3000});  // ~130 buckets x up to 3 bytes, base64
}

TEST(Summary, MalformedSerialisedSummariesAreRefused) {
  Summary s(1, {"x"});
  const double v[] = {1.0, 2.0, 3.0};
  s.Add(0, 0, v, 3);
  const std::string good = s.Serialize();
  ASSERT_TRUE(Summary::Deserialize(good).ok());
  const std::string prefix = "pulse-sim-summary-3:";
  auto bin = Base64Decode(good.substr(prefix.size()));
  ASSERT_TRUE(bin.ok());
  auto with = [&](const std::string& bytes) { return prefix + Base64Encode(bytes); };
  EXPECT_FALSE(Summary::Deserialize("").ok());
  EXPECT_FALSE(Summary::Deserialize("{}").ok());
  EXPECT_FALSE(Summary::Deserialize(prefix + "not base64!").ok());
  EXPECT_FALSE(Summary::Deserialize(with(bin->substr(0, bin->size() - 1))).ok());  // truncated
  EXPECT_FALSE(Summary::Deserialize(with(*bin + std::string(1, '\0'))).ok());      // trailing byte
  std::string more = *bin;
  more.back() = static_cast<char>(more.back() + 1);  // the last bucket's count no longer adds up
  EXPECT_FALSE(Summary::Deserialize(with(more)).ok());
  // Header claiming 2^40 steps: refused before any allocation.
  EXPECT_FALSE(Summary::Deserialize(with(std::string("\x80\x80\x80\x80\x80\x20\x01\x01x", 9))).ok());
  // A window outside the grid: count 1, sums, min/max, lo = kMaxKey (zigzag), length 2.
  std::string outside("\x01\x01\x01x\x01\x02\x01\x00", 8);  // 1 step, 1 column "x", count 1, sum 1, sum2 1
  for (int i = 0; i < 16; ++i) outside += '\0';             // min = max = 0.0
  const uint32_t zz = static_cast<uint32_t>(Summary::kMaxKey) * 2;
  outside += static_cast<char>(0x80 | (zz & 0x7F)), outside += static_cast<char>(zz >> 7);
  outside += "\x02\x01";    // length 2, first count 1
  outside.push_back('\0');  // then a run of empty buckets, cut short
  EXPECT_FALSE(Summary::Deserialize(with(outside)).ok());
  // Many cells each claiming the whole grid as one run of empty buckets (a few bytes each, 120 KB
  // of counters each): refused before the memory is taken.
  std::string wide("\x01", 1);
  const uint32_t cells = 2000;
  wide += static_cast<char>(0x80 | (cells & 0x7F)), wide += static_cast<char>(cells >> 7);
  for (uint32_t c = 0; c < cells; ++c) wide += "\x01x";
  const uint32_t lo_zz = static_cast<uint32_t>(Summary::kMaxKey) * 2 - 1;  // zigzag(-kMaxKey)
  const uint32_t len = static_cast<uint32_t>(Summary::kMaxKey) * 2;        // up to kMaxKey - 1
  for (uint32_t c = 0; c < cells; ++c) {
    wide += std::string("\x01\x02\x01\x00", 4);  // count 1, sum 1, sum2 1 (low, high)
    for (int i = 0; i < 16; ++i) wide += '\0';
    wide += static_cast<char>(0x80 | (lo_zz & 0x7F)), wide += static_cast<char>(lo_zz >> 7);
    wide += static_cast<char>(0x80 | (len & 0x7F)), wide += static_cast<char>(len >> 7);
    wide += '\0', wide += static_cast<char>(0x80 | ((len - 1) & 0x7F)), wide += static_cast<char>((len - 1) >> 7);
    wide += "\x01";  // the last bucket's count
  }
  const auto refused = Summary::Deserialize(with(wide));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("too large"), std::string::npos) << refused.status().ToString();
}

}  // namespace
}  // namespace pulse::sim
