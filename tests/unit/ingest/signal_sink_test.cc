// SignalSink's history cache and group commit: scores with the cache (kRecent, kFull) and with
// several batches in one commit equal those of one commit per batch scored from the table, also
// when another writer appends to the same series between batches, when rows arrive out of order
// or repeat one timestamp, and when a commit the cache cannot follow (OPTIMIZE) lands.
#include "ingest/signal_sink.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/time.h"
#include "ingest/file_ingest.h"
#include "ingest/signal_scoring.h"
#include "lake/table_changes.h"
#include "lake_dir_fixture.h"

namespace pulse::ingest {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1800000000LL * 1000000;  // 2027-01-15

class SignalSinkTest : public LakeDirTest {
 public:
  // Every row as "source|name|ts|value -> scores" (a row may repeat: the scores of each copy, in
  // any order, since files are read in path order).
  static std::map<std::string, std::multiset<std::string>> Scores(lake::Lake& lake) {
    auto table = lake.OpenTable("signals").value();
    auto b = table->Read().value()->CombineChunksToBatch().ValueOrDie();
    std::map<std::string, std::multiset<std::string>> out;
    for (int64_t i = 0; i < b->num_rows(); ++i) {
      std::ostringstream key, value;
      auto cell = [&](const char* col) {
        auto s = b->GetColumnByName(col)->GetScalar(i).ValueOrDie();
        return s->is_valid ? s->ToString() : std::string("null");
      };
      key << cell("source") << "|" << cell("name") << "|" << cell("ts") << "|" << cell("value");
      for (const char* c : {"recency", "anomaly_z", "anomaly", "sti", "tag", "gate", "gate_reason"})
        value << cell(c) << "|";
      out[key.str()].insert(value.str());
    }
    return out;
  }
};

// Rows of series "gdp" (and "hope_index" when `two`): months `from`..`to` (exclusive) from 2000-01,
// spikes at 30, 31 and 62; `shift` moves the values (so a repeated month carries another value).
std::string Csv(int from, int to, double shift = 0, bool two = true) {
  std::string text = "name,source,kind,ts,value\n";
  for (int i = from; i < to; ++i) {
    const int64_t ts = time::AddMonths(*time::FromCivil(2000, 1, 1), i);
    const double a = 100 + (i % 5) - 2 + shift + ((i == 30 || i == 31 || i == 62) ? 40 : 0);
    text += "gdp,fred,macro," + time::FormatTimestamp(ts) + "," + std::to_string(a) + "\n";
    if (two)
      text += "hope_index,survey,sentiment," + time::FormatTimestamp(ts) + "," + std::to_string(0.5 * (i % 3) + shift) +
              "\n";
  }
  return text;
}

std::shared_ptr<const arrow::Table> Rows(const std::string& csv) {
  IngestReport report;
  auto rows = ParseSignalsBytes(csv, "t.csv", false, {.format = FileFormat::kCsv, .now_us = kNow}, report);
  EXPECT_TRUE(rows.ok()) << rows.status().message();
  return *rows;
}

// Batches in the orders that matter: in time order, a repeated month with other values, a batch
// older than the rows before it, and the same rows again (as the service benchmark pushes).
std::vector<std::string> Batches() {
  return {Csv(0, 40), Csv(40, 45), Csv(44, 46, 7), Csv(20, 24, 3), Csv(46, 70), Csv(46, 70), Csv(70, 71, 0, false)};
}

// The reference: one commit per batch by a sink without a cache (each reads the table).
std::map<std::string, std::multiset<std::string>> OneCommitEach(lake::Lake& lake,
                                                                const std::vector<std::string>& batches) {
  auto sink = SignalSink::Open(lake).value();
  for (const auto& b : batches) EXPECT_TRUE(sink->AppendSignals(*Rows(b), {}).ok());
  return SignalSinkTest::Scores(lake);
}

TEST_F(SignalSinkTest, CachedSinksScoreAsTheTableDoesInAnyRowOrder) {
  auto ref_lake = OpenLake("ref");
  const auto want = OneCommitEach(*ref_lake, Batches());
  for (HistoryCache mode : {HistoryCache::kRecent, HistoryCache::kFull}) {
    auto lake = OpenLake(mode == HistoryCache::kRecent ? "recent" : "full");
    auto sink = SignalSink::Open(*lake, nullptr, mode).value();
    for (const auto& b : Batches()) ASSERT_TRUE(sink->AppendSignals(*Rows(b), {}).ok());
    EXPECT_EQ(Scores(*lake), want) << (mode == HistoryCache::kRecent ? "kRecent" : "kFull");
  }
}

TEST_F(SignalSinkTest, GroupCommitScoresEachBatchAsIfTheEarlierOnesHadLanded) {
  auto ref_lake = OpenLake("ref");
  const auto batches = Batches();
  const auto want = OneCommitEach(*ref_lake, batches);
  for (HistoryCache mode : {HistoryCache::kNone, HistoryCache::kRecent, HistoryCache::kFull}) {
    auto lake = OpenLake("group" + std::to_string(static_cast<int>(mode)));
    auto sink = SignalSink::Open(*lake, nullptr, mode).value();
    // The first batch alone, the rest as one group (one commit).
    ASSERT_TRUE(sink->AppendSignals(*Rows(batches[0]), {}).ok());
    std::vector<std::shared_ptr<const arrow::Table>> group;
    for (size_t i = 1; i < batches.size(); ++i) group.push_back(Rows(batches[i]));
    std::vector<signals::GateCounts> gates;
    auto commit = sink->AppendSignalBatches(group, {}, &gates);
    ASSERT_TRUE(commit.ok()) << commit.status().message();
    EXPECT_EQ(commit->version, 2);  // created at 0, first batch 1, the group 2
    ASSERT_EQ(gates.size(), group.size());
    for (size_t i = 0; i < group.size(); ++i)
      EXPECT_EQ(gates[i].accept + gates[i].escalate + gates[i].suppress, group[i]->num_rows());
    EXPECT_EQ(Scores(*lake), want) << static_cast<int>(mode);
    auto history = lake->OpenTable("signals").value()->History().value();
    EXPECT_NE(history[0].operation_parameters["batch_gates"].find("; "), std::string::npos);
  }
}

TEST_F(SignalSinkTest, CacheSeesRowsAnotherWriterAppended) {
  // The same sequence with IngestFile (another writer) appending to the cached series between
  // the sink's batches: the sink's next batch is scored with those rows, as the table would.
  const std::vector<std::string> mine = {Csv(0, 30), Csv(40, 50), Csv(60, 70)};
  const std::vector<std::string> theirs = {Csv(30, 40, 50), Csv(50, 60, -30)};
  auto ref_lake = OpenLake("ref");
  {
    auto sink = SignalSink::Open(*ref_lake).value();
    for (size_t i = 0; i < mine.size(); ++i) {
      ASSERT_TRUE(sink->AppendSignals(*Rows(mine[i]), {}).ok());
      if (i < theirs.size()) {
        ASSERT_TRUE(IngestFile(*ref_lake, Write("ref" + std::to_string(i) + ".csv", theirs[i]), {.now_us = kNow}).ok());
      }
    }
  }
  for (HistoryCache mode : {HistoryCache::kRecent, HistoryCache::kFull}) {
    auto lake = OpenLake("cached" + std::to_string(static_cast<int>(mode)));
    auto sink = SignalSink::Open(*lake, nullptr, mode).value();
    for (size_t i = 0; i < mine.size(); ++i) {
      ASSERT_TRUE(sink->AppendSignals(*Rows(mine[i]), {}).ok());
      if (i < theirs.size()) {
        ASSERT_TRUE(IngestFile(*lake, Write("c" + std::to_string(i) + ".csv", theirs[i]), {.now_us = kNow}).ok());
      }
    }
    EXPECT_EQ(Scores(*lake), Scores(*ref_lake)) << static_cast<int>(mode);
  }
}

TEST_F(SignalSinkTest, CacheSurvivesACompactionItCannotFollow) {
  // OPTIMIZE removes files: the cache is dropped and the series read again, nothing twice.
  auto ref_lake = OpenLake("ref");
  const std::vector<std::string> batches = {Csv(0, 20), Csv(20, 40), Csv(40, 60), Csv(60, 70)};
  const auto want = OneCommitEach(*ref_lake, batches);
  auto lake = OpenLake("cached");
  auto sink = SignalSink::Open(*lake, nullptr, HistoryCache::kFull).value();
  for (size_t i = 0; i < batches.size(); ++i) {
    ASSERT_TRUE(sink->AppendSignals(*Rows(batches[i]), {}).ok());
    if (i == 1) {
      auto optimized = lake->OpenTable("signals").value()->Optimize();
      ASSERT_TRUE(optimized.ok() && !optimized->noop);
    }
  }
  EXPECT_EQ(Scores(*lake), want);
}

TEST_F(SignalSinkTest, ChangesSinceListsAppendedFilesOnly) {
  auto lake = OpenLake("lake");
  auto sink = SignalSink::Open(*lake).value();
  ASSERT_TRUE(sink->AppendSignals(*Rows(Csv(0, 3)), {}).ok());
  auto table = lake->OpenTable("signals").value();
  const int64_t v1 = table->LatestVersion().value();
  ASSERT_TRUE(sink->AppendSignals(*Rows(Csv(3, 6)), {}).ok());
  ASSERT_TRUE(sink->AppendSignals(*Rows(Csv(6, 9)), {}).ok());
  auto changes = lake::ChangesSince(*table, v1);
  ASSERT_TRUE(changes.ok()) << changes.status().message();
  EXPECT_TRUE(changes->appends_only);
  EXPECT_EQ(changes->version, v1 + 2);
  EXPECT_EQ(changes->added.size(), 4u);  // two partitions (macro, sentiment) per commit
  auto added = lake::ReadAddedFiles(*table, changes->added, {"name", "kind"});
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_EQ((*added)->num_rows(), 12);
  EXPECT_EQ(lake::ReadAddedFiles(*table, changes->added, {"nope"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(lake::ChangesSince(*table, v1 + 2)->added.size(), 0u);
  EXPECT_EQ(lake::ChangesSince(*table, v1 + 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(lake::ChangesSince(*table, -1).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(table->Optimize().ok());
  auto after = lake::ChangesSince(*table, v1);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->appends_only);
  EXPECT_TRUE(after->added.empty());
}

}  // namespace
}  // namespace pulse::ingest
