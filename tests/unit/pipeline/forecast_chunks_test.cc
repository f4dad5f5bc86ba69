// pipeline/forecast_chunks.h: `pulse forecast --broker` on Pulse's own task worker over an
// in-process broker. The chunked forecasts equal the one-process run's rows (every column but
// `created`, doubles bit for bit) for any number of chunks; each chunk is one commit and a rerun
// writes nothing; a failed chunk leaves the others committed and a rerun writes only it; bad
// chunk counts, kwargs and encodings are clear errors with nothing written. Pass 2 writes from
// the fits pass 1 staged (no refit), or fits again when the staging is missing, truncated, corrupt
// or another run's - with the same rows; staging is removed after the commit or a failed pass 1.
#include <arrow/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/config.h"
#include "core/time.h"
#include "ingest/file_ingest.h"
#include "jobs/inprocess_broker.h"
#include "jobs/task_client.h"
#include "pipeline/forecast_chunks.h"
#include "pipeline/forecast_signals.h"
#include "pipeline/internal/forecast_staging.h"
#include "pipeline/task_worker.h"
#include "pipeline/train_models.h"
#include "registry/registry.h"

namespace pulse::pipeline {
namespace {

namespace fs = std::filesystem;

int64_t Month(int i) { return time::AddMonths(*time::FromCivil(2000, 1, 1), i); }

// Every forecasts row but `created` as text (doubles as their bits), sorted.
std::vector<std::string> ForecastRows(lake::Lake& lake) {
  auto table = lake.OpenTable("forecasts").value()->Read().value();
  auto batch = table->CombineChunksToBatch().ValueOrDie();
  std::vector<std::string> rows;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    std::string row;
    for (int c = 0; c < batch->num_columns(); ++c) {
      if (batch->schema()->field(c)->name() == "created") continue;
      auto scalar = batch->column(c)->GetScalar(i).ValueOrDie();
      if (scalar->type->id() == arrow::Type::DOUBLE && scalar->is_valid) {
        const double v = std::static_pointer_cast<arrow::DoubleScalar>(scalar)->value;
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        row += std::to_string(bits) + "|";
      } else {
        row += scalar->ToString() + "|";
      }
    }
    rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

class ForecastChunksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_forecast_chunks_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // 23 monthly series of two kinds (trend, season, noise) and one too short to forecast.
    std::string csv = "name,ts,value,kind\n";
    uint64_t state = 12345;
    auto noise = [&state] {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5;
    };
    for (int s = 0; s < 23; ++s) {
      for (int m = 0; m < 40; ++m) {
        const double v = 100 + s * 10 + m * (s % 3) + 8 * std::sin(m * 0.5236) + 6 * noise();
        csv += "s" + std::to_string(s) + "," + time::FormatTimestamp(Month(m)) + "," + std::to_string(v) + "," +
               (s % 2 ? "macro" : "market") + "\n";
      }
    }
    for (int m = 0; m < 3; ++m) csv += "short," + time::FormatTimestamp(Month(m)) + ",1,macro\n";
    csv_ = dir_ / "signals.csv";
    std::ofstream(csv_) << csv;
  }
  void TearDown() override {
    worker_.reset();
    fs::remove_all(dir_);
  }

  // A fresh lake holding the signals (version 1 of its signals table).
  std::unique_ptr<lake::Lake> NewLake(const std::string& name) {
    auto lake = lake::Lake::Open((dir_ / name).string()).value();
    auto ingested = ingest::IngestFile(*lake, csv_.string(), {});
    EXPECT_TRUE(ingested.ok()) << ingested.status().message();
    return lake;
  }

  // Starts the task worker with the lake `name` as its lake; `extra` may override tasks.
  void StartWorker(const std::string& name, const std::function<void(jobs::TaskRegistry&)>& extra = {},
                   const std::string& registry = "") {
    Settings settings;
    settings.lake.url = (dir_ / name).string();
    settings.registry.url = registry.empty() ? (dir_ / "no-registry").string() : registry;
    auto env = TaskEnvironmentFromSettings(settings, std::string(PULSE_SOURCE_DIR) + "/build/x/pulse");
    ASSERT_TRUE(env.ok()) << env.status().message();
    auto options = EmbeddedWorkerOptions();
    options.concurrency = 2;
    worker_ = std::make_unique<TaskWorker>(broker_, *env, options, extra);
    worker_->Start();
  }

  ChunkedForecastRequest Request(const std::string& name, int chunks) {
    ChunkedForecastRequest r;
    r.lake_url = (dir_ / name).string();
    r.chunks = chunks;
    r.task_timeout = std::chrono::seconds(120);
    return r;
  }

  // The staging objects left in a lake.
  static size_t StagingObjects(lake::Lake& lake) {
    auto objects = lake.filesystem().List(internal::kForecastStagingPrefix);
    return objects.ok() ? objects->size() : 0;
  }

  fs::path dir_, csv_;
  jobs::InProcessBroker broker_;
  std::unique_ptr<TaskWorker> worker_;
};

TEST_F(ForecastChunksTest, ChunkedRowsEqualTheOneProcessRunForAnyChunkCount) {
  auto single = NewLake("single");
  auto expected = ForecastSignals(*single, {});
  ASSERT_TRUE(expected.ok()) << expected.status().message();
  const auto want = ForecastRows(*single);
  ASSERT_EQ(want.size(), 23u * 18 * 3);  // series x monthly horizon x levels

  for (int chunks : {1, 3, 7, 23}) {
    const std::string name = "chunked" + std::to_string(chunks);
    auto lake = NewLake(name);
    StartWorker(name);
    auto report = ForecastOverBroker(broker_, *lake, Request(name, chunks));
    ASSERT_TRUE(report.ok()) << chunks << ": " << report.status().message();
    EXPECT_EQ(report->total.series, 23u);
    EXPECT_EQ(report->total.rows, expected->rows);
    EXPECT_EQ(report->total.skipped, expected->skipped);
    EXPECT_EQ(report->total.multipliers, expected->multipliers);
    EXPECT_EQ(report->chunks_written + report->chunks_empty, chunks);
    EXPECT_EQ(ForecastRows(*lake), want) << chunks << " chunks";
    EXPECT_EQ(report->series_refitted, 0u) << "pass 2 wrote from the staged fits";
    EXPECT_EQ(StagingObjects(*lake), 0u) << "every chunk's staging removed after its commit";
    // One commit per non-empty chunk, each with its own app id.
    auto forecasts = lake->OpenTable("forecasts").value();
    EXPECT_EQ(forecasts->LatestVersion().value(), report->chunks_written);  // version 0 creates the table
    EXPECT_EQ(forecasts->LoadSnapshot().value().app_versions.size(), static_cast<size_t>(report->chunks_written));

    // The same command again: every chunk already there, nothing written (or refitted).
    auto again = ForecastOverBroker(broker_, *lake, Request(name, chunks));
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_TRUE(again->total.duplicate);
    EXPECT_EQ(again->chunks_written, 0);
    EXPECT_EQ(again->chunks_duplicate, report->chunks_written);
    EXPECT_EQ(forecasts->LatestVersion().value(), report->chunks_written);
    worker_.reset();
  }
}

TEST_F(ForecastChunksTest, AFailedChunkLeavesTheOthersAndARerunWritesOnlyIt) {
  auto single = NewLake("single");
  ASSERT_TRUE(ForecastSignals(*single, {}).ok());
  auto lake = NewLake("lake");
  auto fail_chunk_one = std::make_shared<std::atomic<bool>>(true);
  auto calls = std::make_shared<std::atomic<int>>(0);
  StartWorker("lake", [fail_chunk_one, calls](jobs::TaskRegistry& registry) {
    jobs::TaskSpec real = *registry.Find("pulse.forecast_chunk");
    jobs::TaskSpec faulty = real;
    faulty.fn = [real, fail_chunk_one, calls](const jobs::TaskContext& c) -> Result<nlohmann::json> {
      ++*calls;
      if (*fail_chunk_one && c.message.kwargs.value("chunk", -1) == 1)
        return Status::InvalidArgument("injected failure");
      return real.fn(c);
    };
    registry.Register("pulse.forecast_chunk", faulty);
  });
  auto failed = ForecastOverBroker(broker_, *lake, Request("lake", 3));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("1 of 3 chunks failed (2 are committed; run the same command again"),
            std::string::npos)
      << failed.status().message();
  EXPECT_NE(failed.status().message().find("pass 2 (write), chunk 1/3: "), std::string::npos);
  EXPECT_NE(failed.status().message().find("injected failure"), std::string::npos) << failed.status().message();
  auto forecasts = lake->OpenTable("forecasts").value();
  EXPECT_EQ(forecasts->LatestVersion().value(), 2);  // the creation, chunks 0 and 2

  *fail_chunk_one = false;
  *calls = 0;
  auto rerun = ForecastOverBroker(broker_, *lake, Request("lake", 3));
  ASSERT_TRUE(rerun.ok()) << rerun.status().message();
  EXPECT_EQ(rerun->chunks_written, 1);
  EXPECT_EQ(rerun->chunks_duplicate, 2);
  EXPECT_EQ(rerun->series_refitted, 0u);
  EXPECT_EQ(StagingObjects(*lake), 0u);
  EXPECT_EQ(*calls, 3);
  EXPECT_EQ(forecasts->LatestVersion().value(), 3);
  EXPECT_EQ(ForecastRows(*lake), ForecastRows(*single));
}

TEST_F(ForecastChunksTest, WorkersServeChampionsFromTheirRegistryAsTheOneProcessRunDoes) {
  auto single = NewLake("single");
  const std::string registry_url = (dir_ / "registry").string();
  auto models = registry::OpenRegistry(registry_url).value();
  TrainOptions train;
  train.series = {"s1", "s4", "s9"};  // champions for three series; the others are fitted
  auto trained = TrainModels(*single, *models, train);
  ASSERT_TRUE(trained.ok()) << trained.status().message();
  ForecastOptions with_registry;
  with_registry.registry = models.get();
  auto expected = ForecastSignals(*single, with_registry);
  ASSERT_TRUE(expected.ok()) << expected.status().message();
  ASSERT_EQ(expected->champions, 3u);

  auto lake = NewLake("lake");
  StartWorker("lake", {}, registry_url);
  auto report = ForecastOverBroker(broker_, *lake, Request("lake", 4));
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->total.champions, 3u);
  EXPECT_EQ(report->series_refitted, 0u);
  EXPECT_EQ(ForecastRows(*lake), ForecastRows(*single));
  // With champions the commit's app id carries their hash; a rerun still writes nothing.
  auto again = ForecastOverBroker(broker_, *lake, Request("lake", 4));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->chunks_written, 0);

  // The coordinator's own registry is refused rather than silently ignored.
  auto request = Request("lake", 2);
  request.options.registry = models.get();
  auto refused = ForecastOverBroker(broker_, *lake, request);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("serves champions from the workers' registry settings"), std::string::npos);
}

TEST_F(ForecastChunksTest, BadChunkCountsAndRequestsWriteNothing) {
  auto lake = NewLake("lake");
  StartWorker("lake");
  for (int chunks : {0, -2, 24, 1000}) {
    auto out = ForecastOverBroker(broker_, *lake, Request("lake", chunks));
    ASSERT_FALSE(out.ok()) << chunks;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(out.status().message().find(chunks < 1 ? "--chunks must be >= 1" : "exceeds the 23 series to forecast"),
              std::string::npos)
        << out.status().message();
  }
  EXPECT_EQ(lake->OpenTable("forecasts").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(StagingObjects(*lake), 0u) << "a run stopped after pass 1 removes the fits it staged";

  // A lake the worker may not open fails pass 1 with the worker's reason; nothing written.
  auto elsewhere = Request("lake", 2);
  elsewhere.lake_url = (dir_ / "other").string();
  auto refused = ForecastOverBroker(broker_, *lake, elsewhere);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("2 of 2 chunks failed before anything was written"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("pass 1 (scores), chunk 0/2:"), std::string::npos);

  // Bad kwargs sent straight to the tasks.
  auto send = [&](const std::string& task, nlohmann::json kwargs) {
    jobs::TaskMessage m;
    m.task = task;
    m.kwargs = std::move(kwargs);
    auto id = jobs::SubmitTask(broker_, m);
    EXPECT_TRUE(id.ok());
    auto result = jobs::AwaitResult(broker_, *id, std::chrono::seconds(60));
    return result.ok() ? std::string("ok") : result.status().message();
  };
  EXPECT_NE(
      send("pulse.forecast_scores", {{"chunk", 2}, {"chunks", 2}, {"signals_version", 1}}).find("0 <= chunk < chunks"),
      std::string::npos);
  EXPECT_NE(send("pulse.forecast_scores", {{"chunk", 0}, {"chunks", 2}}).find("'signals_version' (>= 0) is required"),
            std::string::npos);
  EXPECT_NE(send("pulse.forecast_chunk", {{"chunk", 0}, {"chunks", 2}, {"signals_version", 1}})
                .find("needs kwarg 'calibration'"),
            std::string::npos);
  EXPECT_NE(send("pulse.forecast_chunk",
                 {{"chunk", 0}, {"chunks", 2}, {"signals_version", 1}, {"calibration", {{"levels", "%%"}}}})
                .find("calibration must be"),
            std::string::npos);
  const auto two_bands = CalibrationJson({{{0.5, 1.0, true}, {0.8, 2.0, true}}, 2.0});
  EXPECT_NE(
      send("pulse.forecast_chunk", {{"chunk", 0}, {"chunks", 2}, {"signals_version", 1}, {"calibration", two_bands}})
          .find("2 bands for 3 levels"),
      std::string::npos);
  EXPECT_EQ(lake->OpenTable("forecasts").status().code(), StatusCode::kNotFound);
}

TEST_F(ForecastChunksTest, Pass2FitsAgainWithoutUsableStagingAndWritesTheSameRows) {
  auto single = NewLake("single");
  ASSERT_TRUE(ForecastSignals(*single, {}).ok());
  auto lake = NewLake("lake");
  ForecastOptions options;
  options.signals_version = 1;
  const int n = 4;
  std::vector<double> pooled;
  for (int i = 0; i < n; ++i) {
    auto scores = ForecastChunkScores(*lake, options, {i, n});
    ASSERT_TRUE(scores.ok()) << scores.status().message();
    EXPECT_TRUE(scores->staged) << scores->staging_error;
    pooled.insert(pooled.end(), scores->scores.begin(), scores->scores.end());
  }
  ASSERT_EQ(StagingObjects(*lake), static_cast<size_t>(n));
  lake::FileSystem& store = lake->filesystem();
  // Chunk 0: staging gone. 1: truncated. 2: chunk 3's fits under its key. 3: intact.
  ASSERT_TRUE(store.Delete(ForecastStagingKey(options, {0, n})).ok());
  const std::string one = store.ReadFile(ForecastStagingKey(options, {1, n})).value();
  ASSERT_TRUE(store.WriteFile(ForecastStagingKey(options, {1, n}), one.substr(0, one.size() / 2)).ok());
  const std::string three = store.ReadFile(ForecastStagingKey(options, {3, n})).value();
  ASSERT_TRUE(store.WriteFile(ForecastStagingKey(options, {2, n}), three).ok());

  const ForecastCalibration calibration = CalibrateScores(pooled, options.levels);
  const char* problems[] = {"", "checksum mismatch", "holds another run's fits", ""};
  for (int i = 0; i < n; ++i) {
    auto report = ForecastChunkSeries(*lake, options, {i, n}, calibration);
    ASSERT_TRUE(report.ok()) << report.status().message();
    if (i == 3) {
      EXPECT_EQ(report->refitted, 0u);
      EXPECT_EQ(report->staging_problem, "");
    } else {
      EXPECT_GT(report->refitted, 0u) << i;
      EXPECT_EQ(report->refitted, report->series) << i;
      EXPECT_NE(report->staging_problem.find(problems[i]), std::string::npos) << i << ": " << report->staging_problem;
    }
  }
  EXPECT_EQ(ForecastRows(*lake), ForecastRows(*single));
  EXPECT_EQ(StagingObjects(*lake), 0u);
}

TEST_F(ForecastChunksTest, StaleStagingIsRemovedAndRecentStagingKept) {
  auto lake = NewLake("lake");
  EXPECT_EQ(RemoveStaleForecastStaging(*lake, std::chrono::seconds(0)).value(), 0u);  // never staged: no error
  ForecastOptions options;
  options.signals_version = 1;
  ASSERT_TRUE(ForecastChunkScores(*lake, options, {0, 2}).ok());
  ASSERT_EQ(StagingObjects(*lake), 1u);
  EXPECT_EQ(RemoveStaleForecastStaging(*lake, std::chrono::hours(1)).value(), 0u);
  EXPECT_EQ(StagingObjects(*lake), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(RemoveStaleForecastStaging(*lake, std::chrono::seconds(0)).value(), 1u);
  EXPECT_EQ(StagingObjects(*lake), 0u);
  EXPECT_EQ(RemoveStaleForecastStaging(*lake, std::chrono::seconds(0)).value(), 0u);  // nothing staged: no error
}

internal::StagedChunk SampleStaging() {
  internal::StagedChunk c;
  c.options_key = "12345";
  c.signals_version = 7;
  c.chunk = {2, 5};
  c.skipped = {"macro/short: 3 points (fewer than 8)"};
  for (int s = 0; s < 2; ++s) {
    internal::SeriesData d;
    d.kind = "macro";
    d.name = "s" + std::to_string(s);
    d.ts = {Month(0), Month(39 + s)};
    internal::SeriesForecast f;
    f.ok = s == 0;
    f.problem = s == 0 ? "" : "macro/s1: not finite";
    f.grid = {"monthly", 1, 0, 12, 18};
    f.horizon = 18;
    f.period = 12;
    f.scale = 0.1 + s;
    f.result.ensemble.mean = {0.1, -0.0, 1e-310, 3.141592653589793};
    f.result.ensemble.sd = {INFINITY, 0.2, 0.3, std::nextafter(1.0, 2.0)};
    f.result.weights.weight.fill(0.0);
    f.result.weights.weight[1] = 1.0 / 3;
    f.result.scores.back() = {INFINITY, 0.5, 1e300};
    f.result.backtest_mase.fill(NAN);
    f.result.backtest_mase[0] = 0.7;
    c.series.push_back(d);
    c.forecasts.push_back(f);
  }
  return c;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

TEST(ForecastStaging, RoundTripKeepsEveryDoubleBitForBit) {
  const internal::StagedChunk in = SampleStaging();
  auto out = internal::DecodeStagedChunk(internal::EncodeStagedChunk(in));
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->options_key, in.options_key);
  EXPECT_EQ(out->signals_version, 7);
  EXPECT_EQ(out->chunk.index, 2);
  EXPECT_EQ(out->chunk.count, 5);
  EXPECT_EQ(out->skipped, in.skipped);
  ASSERT_EQ(out->series.size(), 2u);
  for (size_t s = 0; s < 2; ++s) {
    const auto &a = in.forecasts[s], &b = out->forecasts[s];
    EXPECT_EQ(out->series[s].kind, in.series[s].kind);
    EXPECT_EQ(out->series[s].name, in.series[s].name);
    EXPECT_EQ(out->series[s].ts, std::vector<int64_t>{in.series[s].ts.back()});  // the origin alone
    EXPECT_EQ(b.ok, a.ok);
    EXPECT_EQ(b.problem, a.problem);
    EXPECT_EQ(b.grid.name, "monthly");
    EXPECT_EQ(b.grid.Target(Month(0), 3), a.grid.Target(Month(0), 3));
    EXPECT_EQ(b.grid.period, 12);
    EXPECT_EQ(b.grid.horizon, 18);
    EXPECT_EQ(b.horizon, 18);
    EXPECT_EQ(b.period, 12);
    EXPECT_TRUE(SameBits({b.scale}, {a.scale}));
    EXPECT_TRUE(SameBits(b.result.ensemble.mean, a.result.ensemble.mean));
    EXPECT_TRUE(SameBits(b.result.ensemble.sd, a.result.ensemble.sd));
    EXPECT_TRUE(SameBits(b.result.scores.back(), a.result.scores.back()));
    EXPECT_TRUE(SameBits({b.result.weights.weight.begin(), b.result.weights.weight.end()},
                         {a.result.weights.weight.begin(), a.result.weights.weight.end()}));
    EXPECT_TRUE(SameBits({b.result.backtest_mase.begin(), b.result.backtest_mase.end()},
                         {a.result.backtest_mase.begin(), a.result.backtest_mase.end()}));
  }
  EXPECT_EQ(internal::StagingKey("12345", 7, {2, 5}), "_pulse/staging/forecast/12345/7/2-of-5");
}

TEST(ForecastStaging, TruncatedCorruptOrForeignBytesAreParseErrors) {
  const std::string bytes = internal::EncodeStagedChunk(SampleStaging());
  for (size_t size : {size_t{0}, size_t{7}, size_t{8}, size_t{72}, bytes.size() / 2, bytes.size() - 1}) {
    auto out = internal::DecodeStagedChunk(std::string_view(bytes).substr(0, size));
    ASSERT_FALSE(out.ok()) << size;
    EXPECT_EQ(out.status().code(), StatusCode::kParseError) << size;
  }
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x01;
  EXPECT_NE(internal::DecodeStagedChunk(flipped).status().message().find("checksum mismatch"), std::string::npos);
  std::string other_format = bytes;
  other_format[7] = '2';
  EXPECT_NE(internal::DecodeStagedChunk(other_format).status().message().find("not a staging object"),
            std::string::npos);
  EXPECT_EQ(internal::DecodeStagedChunk(bytes + "x").status().code(), StatusCode::kParseError);
}

TEST(ForecastChunkEncoding, DoublesAndCalibrationsRoundTripExactly) {
  const std::vector<double> values = {0.1, -0.0, INFINITY, 1e-310, 3.141592653589793};
  auto back = DecodeDoubles(EncodeDoubles(values));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(std::memcmp(&(*back)[i], &values[i], sizeof(double)), 0);
  EXPECT_TRUE(DecodeDoubles("").value().empty());
  EXPECT_EQ(DecodeDoubles("AAAA").status().code(), StatusCode::kInvalidArgument);  // 3 bytes
  EXPECT_EQ(DecodeDoubles("not base64!").status().code(), StatusCode::kInvalidArgument);

  ForecastCalibration c{{{0.5, 0.43, true}, {0.95, INFINITY, true}, {0.99, 2.57, false}}, 0.88};
  auto round = CalibrationFromJson(CalibrationJson(c));
  ASSERT_TRUE(round.ok());
  ASSERT_EQ(round->bands.size(), 3u);
  EXPECT_EQ(round->bands[1].multiplier, INFINITY);
  EXPECT_FALSE(round->bands[2].calibrated);
  EXPECT_EQ(round->multiplier80, 0.88);
  auto j = CalibrationJson(c);
  j["calibrated"] = {true};
  EXPECT_EQ(CalibrationFromJson(j).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CalibrationFromJson(nlohmann::json::array()).status().code(), StatusCode::kInvalidArgument);
}

TEST(ForecastChunkEncoding, ChunkOfSeriesIsStableAndInRange) {
  // FNV-1a of "macro\0gdp": pinned, so that a change of the assignment (which would make a rerun
  // of a partly written run write its series twice) is noticed.
  EXPECT_EQ(ChunkOfSeries("macro", "gdp", 1000003), 337902);
  EXPECT_EQ(ChunkOfSeries("macro", "gdp", 1), 0);
  EXPECT_EQ(ChunkOfSeries("macro", "gdp", 0), 0);
  std::set<int> seen;
  for (int s = 0; s < 200; ++s) {
    const int c = ChunkOfSeries("k", "s" + std::to_string(s), 4);
    ASSERT_TRUE(c >= 0 && c < 4);
    seen.insert(c);
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_NE(ChunkOfSeries("ab", "c", 1 << 30), ChunkOfSeries("a", "bc", 1 << 30));
}

}  // namespace
}  // namespace pulse::pipeline
