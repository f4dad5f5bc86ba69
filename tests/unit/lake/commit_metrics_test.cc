// The lake's commit hook (lake/commit_metrics.h): one event per write that reaches its commit loop,
// committed or not, with the races it lost to a concurrent writer; nothing for a skipped or refused
// write or without a hook; and ExportCommitMetrics's families as Prometheus renders them.
#include "lake/commit_metrics.h"

#include <arrow/api.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "lake/delta_table.h"
#include "racing_file_system.h"

namespace pulse::lake {
namespace {

namespace fs = std::filesystem;

class CommitMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pulse_commit_metrics_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name()) /
           "quotes";
    fs::remove_all(dir_.parent_path());
    fs::create_directories(dir_);
    SetCommitHook([this](const CommitEvent& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    });
  }
  void TearDown() override {
    SetCommitHook({});
    fs::remove_all(dir_.parent_path());
  }
  static std::shared_ptr<arrow::Schema> Schema() {
    return arrow::schema({arrow::field("kind", arrow::utf8(), false), arrow::field("value", arrow::float64())});
  }
  static std::shared_ptr<arrow::Table> Rows(const std::string& kind = "a") {
    return arrow::Table::Make(
        Schema(), {arrow::json::ArrayFromJSONString(arrow::utf8(), "[\"" + kind + "\",\"" + kind + "\"]").ValueOrDie(),
                   arrow::json::ArrayFromJSONString(arrow::float64(), "[1,2]").ValueOrDie()});
  }
  std::unique_ptr<DeltaTable> Create() {
    return DeltaTable::Create(NewLocalFileSystem(dir_.string()), Schema(), {"kind"}, "quotes").value();
  }
  std::unique_ptr<DeltaTable> Open() { return DeltaTable::Open(NewLocalFileSystem(dir_.string())).value(); }
  // A table whose next commit loses the race to another writer appending to partition `kind`.
  std::unique_ptr<DeltaTable> Racing(const std::string& kind) {
    auto fsys = std::make_unique<RacingFileSystem>(NewLocalFileSystem(dir_.string()),
                                                   [this, kind] { ASSERT_TRUE(Open()->Append(*Rows(kind)).ok()); });
    return DeltaTable::Open(std::move(fsys)).value();
  }
  std::vector<CommitEvent> Events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  fs::path dir_;
  std::mutex mu_;
  std::vector<CommitEvent> events_;
};

TEST_F(CommitMetricsTest, EveryCommitReportsItsTableAndTime) {
  auto table = Create();
  ASSERT_TRUE(table->Append(*Rows()).ok());
  ASSERT_TRUE(table->ReplacePartition({{"kind", "a"}}, *Rows()).ok());
  ASSERT_TRUE(table->AddColumns({arrow::field("note", arrow::utf8())}).ok());
  const auto events = Events();
  ASSERT_EQ(events.size(), 3u);
  for (const auto& e : events) {
    EXPECT_EQ(e.table, "quotes");
    EXPECT_TRUE(e.committed);
    EXPECT_EQ(e.lost_races, 0);
    EXPECT_GT(e.seconds, 0);
    EXPECT_LT(e.seconds, 60);
  }
}

TEST_F(CommitMetricsTest, ARaceLostToAnotherWriterIsCountedAndTheWriteStillCommits) {
  Create();
  auto result = Racing("b")->Append(*Rows("a"));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->attempts, 2);
  const auto events = Events();
  ASSERT_EQ(events.size(), 2u);  // the winner's, reported first, then this write's
  EXPECT_EQ(events[0].lost_races, 0);
  EXPECT_EQ(events[1].lost_races, 1);
  EXPECT_TRUE(events[1].committed);
}

TEST_F(CommitMetricsTest, AConflictingReplacementReportsAFailedWrite) {
  ASSERT_TRUE(Create()->Append(*Rows()).ok());
  auto replaced = Racing("a")->ReplacePartition({{"kind", "a"}}, *Rows());  // the winner wrote to "a"
  ASSERT_FALSE(replaced.ok());
  EXPECT_EQ(replaced.status().code(), StatusCode::kConflict);
  const auto events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(events[1].committed);
  EXPECT_FALSE(events[2].committed);
  EXPECT_EQ(events[2].lost_races, 1);
}

TEST_F(CommitMetricsTest, SkippedAndRefusedWritesReportNothing) {
  auto table = Create();
  WriteOptions once{.app_id = "job", .app_version = 1};
  ASSERT_TRUE(table->Append(*Rows(), once).ok());
  auto again = table->Append(*Rows(), once);  // already applied: skipped
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->skipped);
  auto wrong = arrow::Table::Make(arrow::schema({arrow::field("x", arrow::int64())}),
                                  {arrow::json::ArrayFromJSONString(arrow::int64(), "[1]").ValueOrDie()});
  EXPECT_FALSE(table->Append(*wrong).ok());  // refused before writing
  EXPECT_EQ(Events().size(), 1u);
}

TEST_F(CommitMetricsTest, WithoutAHookNothingIsReported) {
  SetCommitHook({});
  auto table = Create();
  ASSERT_TRUE(table->Append(*Rows()).ok());
  EXPECT_TRUE(Events().empty());
}

TEST_F(CommitMetricsTest, ExportedFamiliesRenderPerTable) {
  metrics::Registry registry;
  auto hook = ExportCommitMetrics(registry);  // replaces the test's hook
  auto first = Create();
  ASSERT_TRUE(Racing("b")->Append(*Rows()).ok());  // two commits, one race lost
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE pulse_lake_commit_seconds histogram"), std::string::npos) << text;
  EXPECT_NE(text.find("pulse_lake_commit_seconds_count{table=\"quotes\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("pulse_lake_commit_conflicts_total{table=\"quotes\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("pulse_lake_commit_failures_total{table=\"quotes\"} 0"), std::string::npos) << text;
  hook.reset();  // removes the hook: later commits are not recorded
  ASSERT_TRUE(first->Append(*Rows()).ok());
  EXPECT_EQ(registry.Render(), text);
}

TEST(TableNameOf, TakesTheLastComponent) {
  EXPECT_EQ(detail::TableNameOf("file:///x/lake/signals"), "signals");
  EXPECT_EQ(detail::TableNameOf("s3://bucket/prefix/forecasts/"), "forecasts");
  EXPECT_EQ(detail::TableNameOf("plain"), "plain");
}

}  // namespace
}  // namespace pulse::lake
