#include "core/random.h"

#include <cmath>

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

}  // namespace

double CounterRng::Normal() {
  const Ziggurat& z = Tables();
  for (;;) {
    const uint64_t bits = NextU64();
    const size_t i = bits & 255;
    const double u = 2.0 * static_cast<double>(bits >> 11) * 0x1.0p-53 - 1.0;  // (-1, 1)
    if (std::abs(u) < z.ratio[i]) return u * z.x[i];                           // inside the layer's core rectangle
    if (i == 0) {                                                              // the tail beyond r (Marsaglia 1964)
      double a, b;
      do {
        a = -std::log(1.0 - Uniform()) / Ziggurat::kR;
        b = -std::log(1.0 - Uniform());
      } while (b + b < a * a);
      return u < 0 ? -(Ziggurat::kR + a) : Ziggurat::kR + a;
    }
    const double v = u * z.x[i];
    const double f0 = std::exp(-0.5 * (z.x[i] * z.x[i] - v * v)),
                 f1 = std::exp(-0.5 * (z.x[i + 1] * z.x[i + 1] - v * v));
    if (f1 + Uniform() * (f0 - f1) < 1.0) return v;
  }
}

}  // namespace pulse
