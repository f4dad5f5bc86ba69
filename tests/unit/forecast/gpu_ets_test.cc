// The batched ETS API (forecast/gpu_ets.h) against FitEts / AutoEts series by series: on M4
// Weekly and Hourly windows (the R fixtures' training series) every CPU fit must be the same bit
// for bit, every bad series must get FitEts's own error while the rest of the batch is fitted, and
// a build without CUDA (or a machine without a device) must say that the CPU ran. The GPU test
// runs only where a CUDA build finds a device (skipped otherwise) and holds the device's fits to
// the stated tolerance (src/forecast/README.md, "GPU batches").
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "forecast/exp_smoothing.h"
#include "forecast/gpu_ets.h"

namespace pulse::forecast {
namespace {

struct Flat {
  std::vector<double> values;
  std::vector<size_t> offsets{0};
  void Add(const std::vector<double>& y) {
    values.insert(values.end(), y.begin(), y.end());
    offsets.push_back(values.size());
  }
  std::vector<double> Series(size_t i) const {
    return {values.begin() + static_cast<std::ptrdiff_t>(offsets[i]),
            values.begin() + static_cast<std::ptrdiff_t>(offsets[i + 1])};
  }
  size_t size() const { return offsets.size() - 1; }
};

// The fixture's training windows with the given period (1: Weekly, 24: Hourly).
Flat FixtureSeries(int period) {
  std::ifstream in(std::string(PULSE_SOURCE_DIR) + "/tests/fixtures/r_m4_benchmarks.json");
  EXPECT_TRUE(in.good());
  const nlohmann::json fixtures = nlohmann::json::parse(in);
  Flat flat;
  for (const auto& s : fixtures["series"])
    if (s["period"].get<int>() == period) flat.Add(s["train"].get<std::vector<double>>());
  return flat;
}

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// Every field bit for bit (NaN payloads included), then the forecasts through the public API.
void ExpectSameFit(const Result<EtsFit>& batch, const Result<EtsFit>& alone, const std::string& where) {
  ASSERT_EQ(batch.ok(), alone.ok()) << where;
  if (!alone.ok()) {
    EXPECT_EQ(batch.status().code(), alone.status().code()) << where;
    EXPECT_EQ(batch.status().message(), alone.status().message()) << where;
    return;
  }
  const EtsFit& a = *batch;
  const EtsFit& b = *alone;
  EXPECT_EQ(a.spec.Name(), b.spec.Name()) << where;
  EXPECT_EQ(a.trend, b.trend) << where;
  EXPECT_EQ(a.period, b.period) << where;
  const double fa[] = {a.alpha, a.beta, a.gamma, a.phi, a.level, a.slope, a.l0, a.b0, a.sse, a.sum_log_forecast,
                       a.sigma2};
  const double fb[] = {b.alpha, b.beta, b.gamma, b.phi, b.level, b.slope, b.l0, b.b0, b.sse, b.sum_log_forecast,
                       b.sigma2};
  for (size_t k = 0; k < std::size(fa); ++k) EXPECT_EQ(Bits(fa[k]), Bits(fb[k])) << where << " field " << k;
  for (size_t j = 0; j < a.season.size(); ++j) {
    EXPECT_EQ(Bits(a.season[j]), Bits(b.season[j])) << where << " season " << j;
    EXPECT_EQ(Bits(a.s0[j]), Bits(b.s0[j])) << where << " s0 " << j;
  }
  EXPECT_EQ(a.n, b.n) << where;
  EXPECT_EQ(a.parameters, b.parameters) << where;
  EXPECT_EQ(a.constant, b.constant) << where;
  std::vector<double> ma(6), sa(6), mb(6), sb(6);
  a.ForecastInto(ma, sa);
  b.ForecastInto(mb, sb);
  for (size_t k = 0; k < ma.size(); ++k) {
    EXPECT_EQ(Bits(ma[k]), Bits(mb[k])) << where << " mean " << k;
    EXPECT_EQ(Bits(sa[k]), Bits(sb[k])) << where << " sd " << k;
  }
}

// The CPU path: the exact-equality tests below ask for it, so that a CUDA build on a machine with
// a device still checks it; GpuMatchesCpuWithinTheStatedTolerance covers the device.
constexpr EtsBatchOptions kCpu{.use_gpu = false};

// Relative difference, 0 for equal values (infinities included).
double RelDiff(double a, double b) { return a == b ? 0.0 : std::abs(a - b) / std::max(std::abs(a), 1e-300); }

TEST(EtsBatch, AutoEtsOnM4WindowsEqualsAutoEtsPerSeries) {
  for (int period : {1, 24}) {
    const Flat flat = FixtureSeries(period);
    ASSERT_GE(flat.size(), 10u);
    auto batch = AutoEtsBatch(flat.values, flat.offsets, period, kCpu);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    EXPECT_EQ(batch->device, "cpu");
    ASSERT_EQ(batch->fits.size(), flat.size());
    for (size_t i = 0; i < flat.size(); ++i) {
      ExpectSameFit(batch->fits[i], AutoEts(flat.Series(i), period),
                    "period " + std::to_string(period) + " series " + std::to_string(i));
    }
  }
}

TEST(EtsBatch, FitEtsOnM4WindowsEqualsFitEtsPerSeriesForEverySpec) {
  const Flat weekly = FixtureSeries(1), hourly = FixtureSeries(24);
  for (const char* name : {"ANN", "AAN", "AAdN", "MNN", "MAdN"}) {
    const EtsSpec spec = *ParseEtsSpec(name);
    auto batch = FitEtsBatch(weekly.values, weekly.offsets, spec, 1, kCpu);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    for (size_t i = 0; i < weekly.size(); ++i)
      ExpectSameFit(batch->fits[i], FitEts(weekly.Series(i), spec, 1), std::string(name) + " W" + std::to_string(i));
  }
  // Seasonal specs on the Hourly windows (first four: the additive-season solve is the slow part).
  Flat some;
  for (size_t i = 0; i < 4; ++i) some.Add(hourly.Series(i));
  for (const char* name : {"ANA", "AAdA", "MNM", "MAdM", "MNA"}) {
    const EtsSpec spec = *ParseEtsSpec(name);
    auto batch = FitEtsBatch(some.values, some.offsets, spec, 24, kCpu);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    for (size_t i = 0; i < some.size(); ++i)
      ExpectSameFit(batch->fits[i], FitEts(some.Series(i), spec, 24), std::string(name) + " H" + std::to_string(i));
  }
}

// Bad series get FitEts's / AutoEts's own answer; the good ones around them are fitted.
TEST(EtsBatch, EdgeCasesAreAnsweredPerSeriesNotByFailingTheBatch) {
  const Flat weekly = FixtureSeries(1);
  Flat flat;
  flat.Add(weekly.Series(0));
  flat.Add(std::vector<double>(40, 7.5));                 // constant
  flat.Add({1.0, 2.0});                                   // too short for any model
  flat.Add({});                                           // empty
  flat.Add({1, 2, 3, NAN, 5, 6, 7, 8, 9, 10});            // non-finite
  flat.Add({3, 1, -2, 4, 0, 5, 2, 6, 3, 7, 1, 8, 2, 9});  // non-positive: M error refused, A fitted
  flat.Add({5, 6, 5, 7, 6});                              // AutoEts: every candidate too short -> ETS(A,N,N)
  flat.Add(weekly.Series(1));
  const std::vector<int> periods = {1, 4};
  for (int period : periods) {
    for (const char* name : {"ANN", "MAN", "AAdA", "MNM"}) {
      const EtsSpec spec = *ParseEtsSpec(name);
      auto batch = FitEtsBatch(flat.values, flat.offsets, spec, period, kCpu);
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      ASSERT_EQ(batch->fits.size(), flat.size());
      for (size_t i = 0; i < flat.size(); ++i) {
        ExpectSameFit(batch->fits[i], FitEts(flat.Series(i), spec, period),
                      std::string(name) + " period " + std::to_string(period) + " series " + std::to_string(i));
      }
    }
    auto automatic = AutoEtsBatch(flat.values, flat.offsets, period, kCpu);
    ASSERT_TRUE(automatic.ok());
    for (size_t i = 0; i < flat.size(); ++i) {
      ExpectSameFit(automatic->fits[i], AutoEts(flat.Series(i), period),
                    "auto period " + std::to_string(period) + " series " + std::to_string(i));
    }
  }
  // The cases above are what they claim to be.
  auto batch = FitEtsBatch(flat.values, flat.offsets, *ParseEtsSpec("MAN"), 1);
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->fits[0].ok());
  ASSERT_TRUE(batch->fits[1].ok());
  EXPECT_TRUE(batch->fits[1]->constant);
  EXPECT_EQ(batch->fits[2].status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(batch->fits[3].status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(batch->fits[4].status().message().find("NaN"), std::string::npos);
  EXPECT_NE(batch->fits[5].status().message().find("positive"), std::string::npos);
  EXPECT_TRUE(batch->fits[7].ok());
  auto automatic = AutoEtsBatch(flat.values, flat.offsets, 1);
  ASSERT_TRUE(automatic.ok());
  ASSERT_TRUE(automatic->fits[5].ok());
  EXPECT_EQ(automatic->fits[5]->spec.error, ErrorType::kAdditive);
  ASSERT_TRUE(automatic->fits[6].ok());
  EXPECT_EQ(automatic->fits[6]->spec.Name(), "ETS(A,N,N)");
}

TEST(EtsBatch, ThreadCountAndGpuRequestDoNotChangeTheFits) {
  const Flat weekly = FixtureSeries(1);
  auto all = AutoEtsBatch(weekly.values, weekly.offsets, 1, kCpu);
  auto one = AutoEtsBatch(weekly.values, weekly.offsets, 1, {.use_gpu = false, .threads = 1});
  ASSERT_TRUE(all.ok() && one.ok());
  EXPECT_EQ(one->device, "cpu");
  EXPECT_EQ(one->gpu_unused, "not requested");
  // Asked for the GPU, a build without CUDA or a machine without a device says why the CPU ran.
  auto asked = AutoEtsBatch(weekly.values, weekly.offsets, 1);
  ASSERT_TRUE(asked.ok());
  if (!EtsGpuCompiledIn()) {
    EXPECT_EQ(asked->device, "cpu");
    EXPECT_EQ(asked->gpu_unused, "built without CUDA (-DPULSE_CUDA=ON)");
  } else if (asked->device == "cpu") {
    EXPECT_FALSE(asked->gpu_unused.empty());
  } else {
    EXPECT_EQ(asked->device, "cuda");
    EXPECT_TRUE(asked->gpu_unused.empty());
  }
  for (size_t i = 0; i < weekly.size(); ++i) ExpectSameFit(all->fits[i], one->fits[i], "series " + std::to_string(i));
  // An empty batch (one offset) is fine.
  const std::vector<size_t> just_start = {0};
  auto none = AutoEtsBatch(weekly.values, just_start, 1);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->fits.empty());
}

// Only with a device (a -DPULSE_CUDA=ON build on a GPU machine). Additive-error fits have no
// transcendental function in their objective and must be equal bit for bit; multiplicative-error
// ones (the device's log) within -2 log-likelihood 1e-9 relative and forecasts 1e-6 relative of
// the largest forecast, and AutoEts may choose another model only on such a near-tie.
TEST(EtsBatch, GpuMatchesCpuWithinTheStatedTolerance) {
  const Flat weekly = FixtureSeries(1), hourly = FixtureSeries(24);
  auto probe = AutoEtsBatch(weekly.values, weekly.offsets, 1);
  ASSERT_TRUE(probe.ok());
  if (probe->device != "cuda") GTEST_SKIP() << "no GPU run: " << probe->gpu_unused;
  auto compare = [](const Result<EtsFit>& gpu, const Result<EtsFit>& cpu, const std::string& where) {
    ASSERT_EQ(gpu.ok(), cpu.ok()) << where;
    if (!cpu.ok()) return;
    if (cpu->spec.error == ErrorType::kAdditive && gpu->spec.error == ErrorType::kAdditive) {
      ExpectSameFit(gpu, cpu, where);
      return;
    }
    if (gpu->spec.Name() != cpu->spec.Name()) {  // AutoEts's choice: only on a near-tie
      EXPECT_LE(RelDiff(gpu->Aicc(), cpu->Aicc()), 1e-9)
          << where << " " << gpu->spec.Name() << " vs " << cpu->spec.Name();
      return;
    }
    EXPECT_LE(RelDiff(gpu->MinusTwoLogLik(), cpu->MinusTwoLogLik()), 1e-9) << where;
    std::vector<double> mg(6), sg(6), mc(6), sc(6);
    gpu->ForecastInto(mg, sg);
    cpu->ForecastInto(mc, sc);
    double scale = 0;
    for (double v : mc) scale = std::max(scale, std::abs(v));
    for (size_t k = 0; k < mc.size(); ++k) EXPECT_LE(std::abs(mg[k] - mc[k]), 1e-6 * scale) << where << " step " << k;
  };
  for (int period : {1, 24}) {
    const Flat& flat = period == 1 ? weekly : hourly;
    auto gpu = AutoEtsBatch(flat.values, flat.offsets, period);
    auto cpu = AutoEtsBatch(flat.values, flat.offsets, period, kCpu);
    ASSERT_TRUE(gpu.ok() && cpu.ok());
    EXPECT_EQ(gpu->device, "cuda");
    for (size_t i = 0; i < flat.size(); ++i) compare(gpu->fits[i], cpu->fits[i], "auto series " + std::to_string(i));
    for (const char* name : {"AAdN", "MAdN", "ANA", "MAM"}) {
      const EtsSpec spec = *ParseEtsSpec(name);
      if (spec.season != SeasonType::kNone && period == 1) continue;
      auto g = FitEtsBatch(flat.values, flat.offsets, spec, period);
      auto c = FitEtsBatch(flat.values, flat.offsets, spec, period, kCpu);
      ASSERT_TRUE(g.ok() && c.ok());
      for (size_t i = 0; i < flat.size(); ++i)
        compare(g->fits[i], c->fits[i], std::string(name) + " " + std::to_string(i));
    }
  }
}

TEST(EtsBatch, MalformedOffsetsFailTheCall) {
  const std::vector<double> values = {1, 2, 3, 4, 5, 6};
  const std::vector<size_t> empty, decreasing = {0, 4, 2, 6}, past = {0, 3, 7};
  for (const auto* offsets : {&empty, &decreasing, &past}) {
    auto fit = FitEtsBatch(values, *offsets, EtsSpec{}, 1);
    EXPECT_EQ(fit.status().code(), StatusCode::kInvalidArgument);
    auto automatic = AutoEtsBatch(values, *offsets, 1);
    EXPECT_EQ(automatic.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_NE(FitEtsBatch(values, decreasing, EtsSpec{}, 1).status().message().find("decrease at series 1"),
            std::string::npos);
  EXPECT_NE(FitEtsBatch(values, past, EtsSpec{}, 1).status().message().find("past the 6 values"), std::string::npos);
}

}  // namespace
}  // namespace pulse::forecast
