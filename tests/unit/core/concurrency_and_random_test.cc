#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>
#include <stdexcept>
#include <vector>

#include "core/ids.h"
#include "core/log.h"
#include "core/random.h"
#include "core/simd.h"
#include "core/status.h"
#include "core/thread_pool.h"

namespace pulse {
namespace {

TEST(Philox, KnownAnswerVectors) {  // Random123's kat_vectors for philox4x32_10
  EXPECT_EQ(Philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(Philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(Philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(CounterRng, StreamsAreAddressedByKeys) {
  CounterRng a(42, 1, 2, 3), b(42, 1, 2, 3), c(42, 1, 2, 4), d(43, 1, 2, 3);
  for (int i = 0; i < 100; ++i) {
    uint64_t va = a.NextU64();
    EXPECT_EQ(va, b.NextU64());
    EXPECT_NE(va, c.NextU64());
    EXPECT_NE(va, d.NextU64());
  }
}

TEST(CounterRng, NormalsEqualsRepeatedNormalAndLeavesTheStreamInPlace) {
  // The batched draws (Philox vectorised with AVX-512 or AVX2 where the CPU has them, and the
  // ziggurat's first test on 8 draws at once with AVX-512: each level is tried) are the same
  // numbers, and the stream continues where n Normal() calls would leave it: after odd and even
  // counts, from a partly used block, across batch boundaries, and with the rare slow-path draws.
  for (simd::Level level : {simd::Level::kPlain, simd::Level::kAvx2, simd::Level::kAvx512}) {
    simd::LimitLevel(level);
    for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{31}, size_t{32}, size_t{33}, size_t{314}, size_t{5000}}) {
      for (int skip : {0, 1, 3}) {
        CounterRng a(99, 7, static_cast<uint32_t>(n), 1), b(99, 7, static_cast<uint32_t>(n), 1);
        for (int i = 0; i < skip; ++i) ASSERT_EQ(a.NextU32(), b.NextU32());  // a partly used block
        if (skip % 2) (void)a.NextU32(), (void)b.NextU32();                  // back to an even word
        std::vector<double> batch(n);
        a.Normals(batch.data(), n);
        for (size_t k = 0; k < n; ++k) ASSERT_EQ(batch[k], b.Normal()) << "n " << n << " draw " << k;
        for (int i = 0; i < 9; ++i) ASSERT_EQ(a.NextU32(), b.NextU32()) << "n " << n << " after, word " << i;
        ASSERT_EQ(a.Normal(), b.Normal());
      }
    }
  }
  simd::LimitLevel(simd::Level::kAvx512);
}

TEST(CounterRng, UniformAndNormalMoments) {
  CounterRng rng(7);
  double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) {
    double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u, sum2 += u * u;
    double z = rng.Normal();
    ASSERT_TRUE(std::isfinite(z));
    nsum += z, nsum2 += z * z;
  }
  EXPECT_NEAR(sum / kN, 0.5, 0.005);
  EXPECT_NEAR(sum2 / kN - 0.25, 1.0 / 12 - 0.0, 0.005);
  EXPECT_NEAR(nsum / kN, 0.0, 0.01);
  EXPECT_NEAR(nsum2 / kN, 1.0, 0.01);
}

TEST(CounterRng, NormalTailsAndShape) {
  // Probabilities of the standard normal at a few cut points (two-sided), and the fourth moment.
  CounterRng rng(11);
  constexpr int kN = 1000000;
  int beyond1 = 0, beyond196 = 0, beyond3 = 0, beyond4 = 0;
  double m4 = 0, max_abs = 0;
  for (int i = 0; i < kN; ++i) {
    const double z = rng.Normal(), a = std::abs(z);
    beyond1 += a > 1, beyond196 += a > 1.959964, beyond3 += a > 3, beyond4 += a > 4;
    m4 += z * z * z * z / kN;
    max_abs = std::max(max_abs, a);
  }
  EXPECT_NEAR(beyond1 / double(kN), 0.317311, 0.002);
  EXPECT_NEAR(beyond196 / double(kN), 0.05, 0.001);
  EXPECT_NEAR(beyond3 / double(kN), 0.0026998, 0.0002);
  EXPECT_NEAR(beyond4 / double(kN), 6.334e-5, 3e-5);  // the tail sampler works
  EXPECT_NEAR(m4, 3.0, 0.05);
  EXPECT_GT(max_abs, 4.0);
}

TEST(ThreadPool, SubmitReturnsValuesAndExceptions) {
  ThreadPool pool(2);
  auto f = pool.Submit([] { return 6 * 7; });
  EXPECT_EQ(f.get(), 42);
  auto g = pool.Submit([]() -> int { throw std::runtime_error("boom"); });
  EXPECT_THROW(g.get(), std::runtime_error);
}

TEST(ThreadPool, ParallelForCoversEveryIndexOnceEvenNested) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> hits(1000);
  pool.ParallelFor(hits.size(), [&](size_t i) {
    pool.ParallelFor(3, [&](size_t) { hits[i]++; });  // nested: must not deadlock
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 3);
  EXPECT_THROW(pool.ParallelFor(10,
                                [](size_t i) {
                                  if (i == 5) throw std::logic_error("x");
                                }),
               std::logic_error);
  pool.ParallelFor(0, [](size_t) { FAIL(); });
}

TEST(ThreadPool, DestructorDrainsQueuedTasks) {
  std::atomic<int> done{0};
  {
    ThreadPool pool(1);
    for (int i = 0; i < 50; ++i) (void)pool.Submit([&] { done++; });
  }
  EXPECT_EQ(done.load(), 50);
}

TEST(Ids, UuidsAreV4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Log, JsonRecordsCarryLevelModuleAndFields) {
  std::vector<std::string> lines;
  log::Configure({log::Level::kInfo, log::Format::kJson, [&](std::string_view l) { lines.emplace_back(l); }});
  log::Debug("lake", "hidden");
  log::Info("lake", "committed", {{"version", 3}, {"table", "signals"}});
  log::Error("ingest", "bad \"row\"");
  ASSERT_EQ(lines.size(), 2u);
  auto rec = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(rec["level"], "info");
  EXPECT_EQ(rec["module"], "lake");
  EXPECT_EQ(rec["msg"], "committed");
  EXPECT_EQ(rec["version"], 3);
  EXPECT_EQ(rec["time"].get<std::string>().back(), 'Z');
  EXPECT_EQ(nlohmann::json::parse(lines[1])["msg"], "bad \"row\"");
  log::Configure({log::Level::kDebug, log::Format::kText, [&](std::string_view l) { lines.emplace_back(l); }});
  log::Debug("lake", "shown", {{"k", "v"}});
  EXPECT_NE(lines.back().find("DEBUG lake: shown k=v"), std::string::npos) << lines.back();
  EXPECT_FALSE(log::ParseLevel("loud").ok());
  log::Configure({});
}

TEST(Status, CodesMessagesAndMacros) {
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  Status s = Status::NotFound("no table 'x'").WithContext("lake list");
  EXPECT_EQ(s.ToString(), "NotFound: lake list: no table 'x'");
  auto f = []() -> Result<int> { return Status::InvalidArgument("bad"); };
  auto g = [&]() -> Result<int> {
    PULSE_ASSIGN_OR_RETURN(int v, f());
    return v + 1;
  };
  EXPECT_EQ(g().status().code(), StatusCode::kInvalidArgument);
  Result<int> ok = 5;
  EXPECT_EQ(*ok, 5);
}

}  // namespace
}  // namespace pulse
