#include "core/random.h"

#include <bit>
#include <cmath>

#include "core/simd.h"

namespace pulse {

std::array<uint32_t, 4> Philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
  constexpr uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57, kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t{kM0} * ctr[0];
    uint64_t p1 = uint64_t{kM1} * ctr[2];
    ctr = {static_cast<uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<uint32_t>(p1),
           static_cast<uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<uint32_t>(p0)};
    key = {key[0] + kW0, key[1] + kW1};
  }
  return ctr;
}

namespace {

// kBatch consecutive Philox4x32-10 blocks (counters c0, c0 + 1, ... in the low word, wrapping like
// CounterRng's), written block after block: out[4 * b + w] is word w of block b. The AVX2 version
// runs the same integer arithmetic on 8 blocks per vector (the words are identical; the unit test
// checks them against Philox4x32_10); the plain one is used where the CPU lacks AVX2.
constexpr size_t kBatch = 32;

void PhiloxBatchPlain(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key, uint32_t* out) {
  for (size_t b = 0; b < kBatch; ++b) {
    const auto block = Philox4x32_10({ctr[0] + static_cast<uint32_t>(b), ctr[1], ctr[2], ctr[3]}, key);
    for (size_t w = 0; w < 4; ++w) out[4 * b + w] = block[w];
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void PhiloxBatchAvx2(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key,
                                                     uint32_t* out) {
  const __m256i m0 = _mm256_set1_epi64x(0xD2511F53), m1 = _mm256_set1_epi64x(0xCD9E8D57);
  for (size_t half = 0; half < kBatch / 8; ++half) {
    const auto first = static_cast<int>(ctr[0] + static_cast<uint32_t>(8 * half));
    __m256i x0 = _mm256_add_epi32(_mm256_set1_epi32(first), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i x1 = _mm256_set1_epi32(static_cast<int>(ctr[1]));
    __m256i x2 = _mm256_set1_epi32(static_cast<int>(ctr[2]));
    __m256i x3 = _mm256_set1_epi32(static_cast<int>(ctr[3]));
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      // 32 x 32 -> 64-bit products of the even and the odd lanes, then each product's high and
      // low words put back in lane order.
      const __m256i p0e = _mm256_mul_epu32(x0, m0), p0o = _mm256_mul_epu32(_mm256_srli_epi64(x0, 32), m0);
      const __m256i p1e = _mm256_mul_epu32(x2, m1), p1o = _mm256_mul_epu32(_mm256_srli_epi64(x2, 32), m1);
      const __m256i lo0 = _mm256_blend_epi32(p0e, _mm256_slli_epi64(p0o, 32), 0xAA);
      const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(p0e, 32), p0o, 0xAA);
      const __m256i lo1 = _mm256_blend_epi32(p1e, _mm256_slli_epi64(p1o, 32), 0xAA);
      const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(p1e, 32), p1o, 0xAA);
      const __m256i y0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32(static_cast<int>(k0)));
      const __m256i y2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32(static_cast<int>(k1)));
      x0 = y0, x1 = lo1, x2 = y2, x3 = lo0;
      k0 += 0x9E3779B9, k1 += 0xBB67AE85;
    }
    // 4 x 8 transpose: words of one block next to each other.
    const __m256i t0 = _mm256_unpacklo_epi32(x0, x1), t1 = _mm256_unpackhi_epi32(x0, x1);
    const __m256i t2 = _mm256_unpacklo_epi32(x2, x3), t3 = _mm256_unpackhi_epi32(x2, x3);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);  // blocks 0 4, 1 5
    const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);  // blocks 2 6, 3 7
    auto* dst = reinterpret_cast<__m256i*>(out + 32 * half);
    _mm256_storeu_si256(dst, _mm256_permute2x128_si256(u0, u1, 0x20));
    _mm256_storeu_si256(dst + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
    _mm256_storeu_si256(dst + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
    _mm256_storeu_si256(dst + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
  }
}

// The same on 16 blocks per vector (AVX-512F), two independent vectors of blocks at a time (the
// rounds are a chain of dependent multiplications: two chains keep the multiplier busy).
static_assert(kBatch == 32);
PULSE_SIMD_BEGIN
__attribute__((target("avx512f"))) void PhiloxBatchAvx512(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key,
                                                          uint32_t* out) {
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53), m1 = _mm512_set1_epi64(0xCD9E8D57);
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i x0[2], x1[2], x2[2], x3[2];
  for (int g = 0; g < 2; ++g) {
    x0[g] = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(ctr[0] + 16 * static_cast<uint32_t>(g))), lanes);
    x1[g] = _mm512_set1_epi32(static_cast<int>(ctr[1]));
    x2[g] = _mm512_set1_epi32(static_cast<int>(ctr[2]));
    x3[g] = _mm512_set1_epi32(static_cast<int>(ctr[3]));
  }
  uint32_t k0 = key[0], k1 = key[1];
  constexpr __mmask16 kOdd = 0xAAAA;
  for (int round = 0; round < 10; ++round) {
    const __m512i kk0 = _mm512_set1_epi32(static_cast<int>(k0)), kk1 = _mm512_set1_epi32(static_cast<int>(k1));
    for (int g = 0; g < 2; ++g) {
      const __m512i p0e = _mm512_mul_epu32(x0[g], m0), p0o = _mm512_mul_epu32(_mm512_srli_epi64(x0[g], 32), m0);
      const __m512i p1e = _mm512_mul_epu32(x2[g], m1), p1o = _mm512_mul_epu32(_mm512_srli_epi64(x2[g], 32), m1);
      const __m512i lo0 = _mm512_mask_blend_epi32(kOdd, p0e, _mm512_slli_epi64(p0o, 32));
      const __m512i hi0 = _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(p0e, 32), p0o);
      const __m512i lo1 = _mm512_mask_blend_epi32(kOdd, p1e, _mm512_slli_epi64(p1o, 32));
      const __m512i hi1 = _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(p1e, 32), p1o);
      x0[g] = _mm512_ternarylogic_epi32(hi1, x1[g], kk0, 0x96);  // three-way xor
      x2[g] = _mm512_ternarylogic_epi32(hi0, x3[g], kk1, 0x96);
      x1[g] = lo1, x3[g] = lo0;
    }
    k0 += 0x9E3779B9, k1 += 0xBB67AE85;
  }
  // 4 x 16 transpose per group: within each 128-bit lane j, u0..u3 get blocks 4j..4j+3; then the
  // lanes are regrouped so each output vector holds 4 consecutive blocks.
  for (int g = 0; g < 2; ++g) {
    const __m512i t0 = _mm512_unpacklo_epi32(x0[g], x1[g]), t1 = _mm512_unpackhi_epi32(x0[g], x1[g]);
    const __m512i t2 = _mm512_unpacklo_epi32(x2[g], x3[g]), t3 = _mm512_unpackhi_epi32(x2[g], x3[g]);
    const __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);
    const __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);
    const __m512i v0 = _mm512_shuffle_i64x2(u0, u1, 0x44), v1 = _mm512_shuffle_i64x2(u2, u3, 0x44);
    const __m512i v2 = _mm512_shuffle_i64x2(u0, u1, 0xEE), v3 = _mm512_shuffle_i64x2(u2, u3, 0xEE);
    uint32_t* dst = out + size_t{64} * static_cast<size_t>(g);
    _mm512_storeu_si512(dst, _mm512_shuffle_i64x2(v0, v1, 0x88));
    _mm512_storeu_si512(dst + 16, _mm512_shuffle_i64x2(v0, v1, 0xDD));
    _mm512_storeu_si512(dst + 32, _mm512_shuffle_i64x2(v2, v3, 0x88));
    _mm512_storeu_si512(dst + 48, _mm512_shuffle_i64x2(v2, v3, 0xDD));
  }
}
PULSE_SIMD_END
#endif

void PhiloxBatch(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key, uint32_t* out) {
#if defined(__x86_64__)
  if (simd::Avx512()) return PhiloxBatchAvx512(ctr, key, out);
  if (simd::Avx2()) return PhiloxBatchAvx2(ctr, key, out);
#endif
  PhiloxBatchPlain(ctr, key, out);
}

// Ziggurat tables for the standard normal (Marsaglia & Tsang 2000, 256 layers, in Doornik's
// 2005 formulation): x[0] = v / f(r) is the base layer's width (it carries the tail beyond r),
// x[1] = r, x[i + 1] from equal layer areas v, x[256] = 0. f(x) = exp(-x^2 / 2).
struct Ziggurat {
  static constexpr double kR = 3.6541528853610088, kV = 0.00492867323399;
  std::array<double, 257> x{};
  std::array<double, 256> ratio{};  // x[i + 1] / x[i]
  Ziggurat() {
    auto f = [](double v) { return std::exp(-0.5 * v * v); };
    x[0] = kV / f(kR);
    x[1] = kR;
    for (size_t i = 1; i < 255; ++i) x[i + 1] = std::sqrt(-2 * std::log(kV / x[i] + f(x[i])));
    x[256] = 0;
    for (size_t i = 0; i < 256; ++i) ratio[i] = x[i + 1] / x[i];
  }
};

const Ziggurat& Tables() {
  static const Ziggurat tables;
  return tables;
}

// The ziggurat over any source of 64-bit draws: Normal() and Normals() share it, so they agree
// bit for bit.
template <class Next64>
double ZigguratNormal(Next64&& next64) {
  const Ziggurat& z = Tables();
  auto uniform = [&] { return static_cast<double>(next64() >> 11) * 0x1.0p-53; };
  for (;;) {
    const uint64_t bits = next64();
    const size_t i = bits & 255;
    const double u = 2.0 * static_cast<double>(bits >> 11) * 0x1.0p-53 - 1.0;  // (-1, 1)
    if (std::abs(u) < z.ratio[i]) return u * z.x[i];                           // inside the layer's core rectangle
    if (i == 0) {                                                              // the tail beyond r (Marsaglia 1964)
      double a, b;
      do {
        a = -std::log(1.0 - uniform()) / Ziggurat::kR;
        b = -std::log(1.0 - uniform());
      } while (b + b < a * a);
      return u < 0 ? -(Ziggurat::kR + a) : Ziggurat::kR + a;
    }
    const double v = u * z.x[i];
    const double f0 = std::exp(-0.5 * (z.x[i] * z.x[i] - v * v)),
                 f1 = std::exp(-0.5 * (z.x[i + 1] * z.x[i + 1] - v * v));
    if (f1 + uniform() * (f0 - f1) < 1.0) return v;
  }
}

#if defined(__x86_64__)
PULSE_SIMD_BEGIN
// ZigguratNormal's first test on the draws in w[0..2 draws) (each a high word, then a low word), 8
// at a time while 8 draws and 8 places in out[0..wanted) are left: out[j] = u_j x[i_j], the draw's
// value where it passes (|u_j| < ratio[i_j]). Returns how many draws passed before the first that
// did not or before fewer than 8 were left. The same operations as the scalar test (u = 2 m 2^-53 -
// 1 is exact either way), so the same doubles.
__attribute__((target("avx512f,avx512dq"))) size_t ZigguratFirstTests(const uint32_t* w, size_t draws,
                                                                      const Ziggurat& z, double* out, size_t wanted) {
  const __m512i low8 = _mm512_set1_epi64(255), abs_mask = _mm512_set1_epi64(0x7FFFFFFFFFFFFFFF);
  const __m512d two = _mm512_set1_pd(2.0), scale = _mm512_set1_pd(0x1.0p-53), one = _mm512_set1_pd(1.0);
  size_t k = 0;
  while (k + 8 <= draws && k + 8 <= wanted) {
    const __m512i bits = _mm512_ror_epi64(_mm512_loadu_si512(w + 2 * k), 32);  // (hi << 32) | lo
    const __m512i layer = _mm512_and_si512(bits, low8);
    const __m512d m = _mm512_cvtepu64_pd(_mm512_srli_epi64(bits, 11));  // < 2^53: exact
    const __m512d u = _mm512_sub_pd(_mm512_mul_pd(_mm512_mul_pd(two, m), scale), one);
    const __m512d abs_u = _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(u), abs_mask));
    const __m512d ratio = _mm512_i64gather_pd(layer, z.ratio.data(), 8);
    const __m512d edge = _mm512_i64gather_pd(layer, z.x.data(), 8);
    _mm512_storeu_pd(out + k, _mm512_mul_pd(u, edge));
    const unsigned passed = _mm512_cmp_pd_mask(abs_u, ratio, _CMP_LT_OQ);
    if (passed != 0xFF) return k + static_cast<size_t>(std::countr_one(passed));  // rare: 1 draw in 100 fails
    k += 8;
  }
  return k;
}
PULSE_SIMD_END
#endif

}  // namespace

const double* ZigguratEdges() { return Tables().x.data(); }
const double* ZigguratRatios() { return Tables().ratio.data(); }

double CounterRng::Normal() {
  return ZigguratNormal([this] { return NextU64(); });
}

void CounterRng::Normals(double* out, size_t n) {
  // The words of the stream from the current position: first what is left of block_, then
  // batches of fresh blocks. `words[pos]` is the next word; `base` the block of words[0].
  uint32_t words[4 * kBatch + 16];
  size_t have = 0, pos = 0;
  for (size_t i = used_; i < 4; ++i) words[have++] = block_[i];
  uint32_t next_block = counter_[0];  // the block Refill() would produce next
  auto refill = [&] {
    // Keep the unread words (fewer than 16: the vector test below refills before running short).
    size_t keep = have - pos;
    for (size_t i = 0; i < keep; ++i) words[i] = words[pos + i];
    PhiloxBatch({next_block, counter_[1], counter_[2], counter_[3]}, key_, words + keep);
    next_block += static_cast<uint32_t>(kBatch);
    have = keep + 4 * kBatch, pos = 0;
  };
  auto next32 = [&] {
    if (pos == have) refill();
    return words[pos++];
  };
  auto next64 = [&] {
    const uint64_t hi = next32();
    return (hi << 32) | next32();
  };
  const Ziggurat& z = Tables();
#if defined(__x86_64__)
  const bool vector = simd::Avx512();
#endif
  for (size_t k = 0; k < n; ++k) {
#if defined(__x86_64__)
    // Eight draws at a time while eight values are wanted; a draw that fails the first test (1 in
    // 100) is left to the scalar code below.
    while (vector && n - k >= 8) {
      if (have - pos < 16) refill();
      const size_t passed = ZigguratFirstTests(words + pos, (have - pos) / 2, z, out + k, n - k);
      k += passed, pos += 2 * passed;
      if (have - pos >= 16) break;  // a draw failed (or fewer than 8 values are wanted)
    }
    if (k == n) break;
#endif
    if (have - pos >= 2) {  // the common case inline: ZigguratNormal's first test on the next draw
      const uint64_t bits = (uint64_t{words[pos]} << 32) | words[pos + 1];
      const size_t i = bits & 255;
      const double u = 2.0 * static_cast<double>(bits >> 11) * 0x1.0p-53 - 1.0;
      if (std::abs(u) < z.ratio[i]) {
        out[k] = u * z.x[i];
        pos += 2;
        continue;
      }
    }
    out[k] = ZigguratNormal(next64);  // from the same draw: the rare rejection or a refill
  }
  // Leave the stream where n Normal() calls would: the block holding the next unread word is
  // block_, the counter points past it.
  const size_t unread = have - pos;  // words of generated blocks not consumed
  if (unread == 0) {
    counter_[0] = next_block, used_ = 4;
    return;
  }
  // The unread words are the tail of the last generated block(s): find the block of words[pos].
  const size_t blocks_unread = (unread + 3) / 4;  // blocks touched by unread words
  const uint32_t block = next_block - static_cast<uint32_t>(blocks_unread);
  block_ = Philox4x32_10({block, counter_[1], counter_[2], counter_[3]}, key_);
  used_ = 4 - (unread - 4 * (blocks_unread - 1));
  counter_[0] = block + 1;
}

}  // namespace pulse
