// DeltaTable::Optimize and DeltaTable::Vacuum: compaction keeps every row, is one dataChange=false
// commit, sorts rows by the table's sort columns, survives racing appends and refuses to commit
// over a concurrent removal; vacuum deletes exactly the files outside the retention window.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "lake/delta_table.h"
#include "lake/internal/delta_log.h"

namespace pulse::lake {
namespace {

namespace fs = std::filesystem;
using Row = std::tuple<std::string, double, int64_t, std::string>;

class MaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_maint_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::shared_ptr<arrow::Schema> Schema() {
    return arrow::schema({arrow::field("name", arrow::utf8(), false), arrow::field("value", arrow::float64()),
                          arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
                          arrow::field("kind", arrow::utf8(), false)});
  }
  // n rows; row i: name "s<(i*7+seed)%5>", value seed*1000+i, ts descending in i, kind round-robin.
  static std::shared_ptr<arrow::Table> Rows(int n, int seed, std::vector<std::string> kinds = {"a", "b"}) {
    arrow::StringBuilder names, kind;
    arrow::DoubleBuilder values;
    arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(names.Append("s" + std::to_string((i * 7 + seed) % 5)).ok());
      EXPECT_TRUE(values.Append(seed * 1000.0 + i).ok());
      EXPECT_TRUE(ts.Append(int64_t{1600000000000000} + int64_t{seed} * 1000000 - i).ok());
      EXPECT_TRUE(kind.Append(kinds[static_cast<size_t>(i) % kinds.size()]).ok());
    }
    return arrow::Table::Make(Schema(), {names.Finish().ValueOrDie(), values.Finish().ValueOrDie(),
                                         ts.Finish().ValueOrDie(), kind.Finish().ValueOrDie()});
  }
  std::unique_ptr<DeltaTable> Create(TableOptions options = {}) {
    auto t = DeltaTable::Create(NewLocalFileSystem(dir_.string()), Schema(), {"kind"}, "t", options, {"name", "ts"});
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return std::move(*t);
  }
  std::unique_ptr<DeltaTable> Open(TableOptions options = {}) {
    auto t = DeltaTable::Open(NewLocalFileSystem(dir_.string()), options);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return std::move(*t);
  }
  static std::multiset<Row> RowsOf(const arrow::Table& t) {
    std::multiset<Row> out;
    auto batch = t.CombineChunksToBatch().ValueOrDie();
    auto n = std::static_pointer_cast<arrow::StringArray>(batch->GetColumnByName("name"));
    auto v = std::static_pointer_cast<arrow::DoubleArray>(batch->GetColumnByName("value"));
    auto s = std::static_pointer_cast<arrow::TimestampArray>(batch->GetColumnByName("ts"));
    auto k = std::static_pointer_cast<arrow::StringArray>(batch->GetColumnByName("kind"));
    for (int64_t i = 0; i < batch->num_rows(); ++i)
      out.emplace(n->GetString(i), v->Value(i), s->Value(i), k->GetString(i));
    return out;
  }
  std::multiset<Row> ReadAll(std::optional<int64_t> version = std::nullopt) {
    auto t = Open()->Read({.version = version});
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? RowsOf(**t) : std::multiset<Row>{};
  }
  // Parquet files on disk (relative keys), outside _delta_log.
  std::set<std::string> DataFilesOnDisk() {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_))
      if (e.is_regular_file() && e.path().extension() == ".parquet" &&
          e.path().string().find("_delta_log") == std::string::npos)
        out.insert(fs::relative(e.path(), dir_).string());
    return out;
  }
  Snapshot Latest() {
    auto snap = Open()->LoadSnapshot();
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    return snap.ok() ? std::move(*snap) : Snapshot{};
  }
  std::set<std::string> LiveFiles() {
    std::set<std::string> out;
    Snapshot snap = Latest();
    for (const auto& [path, f] : snap.files) out.insert(f.path);
    return out;
  }
  nlohmann::json CommitLines(int64_t version) {
    auto text = NewLocalFileSystem(dir_.string())->ReadFile(delta::CommitKey(version));
    EXPECT_TRUE(text.ok());
    nlohmann::json lines = nlohmann::json::array();
    size_t pos = 0;
    while (pos < text->size()) {
      size_t end = text->find('\n', pos);
      if (end == std::string::npos) end = text->size();
      if (end > pos) lines.push_back(nlohmann::json::parse(text->substr(pos, end - pos)));
      pos = end + 1;
    }
    return lines;
  }
  fs::path dir_;
};

TEST_F(MaintenanceTest, OptimizeCompactsSmallFilesIntoOneCommitWithoutChangingRows) {
  auto table = Create();
  for (int i = 0; i < 12; ++i) {
    auto r = table->Append(*Rows(10, i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  const auto before = ReadAll();
  ASSERT_EQ(before.size(), 120u);
  ASSERT_EQ(LiveFiles().size(), 24u);  // 12 appends x 2 kinds
  const int64_t version_before = *table->LatestVersion();

  auto r = table->Optimize();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->noop);
  EXPECT_EQ(r->version, version_before + 1);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->partitions, 2);
  EXPECT_EQ(r->files_removed, 24);
  EXPECT_EQ(r->files_added, 2);
  EXPECT_EQ(r->rows, 120);
  EXPECT_EQ(LiveFiles().size(), 2u);
  EXPECT_EQ(ReadAll(), before);
  EXPECT_EQ(Latest().num_rows(), 120);
  // Time travel still sees the old files (they are only tombstoned).
  EXPECT_EQ(ReadAll(version_before), before);

  // One commit: commitInfo OPTIMIZE, 24 removes and 2 adds, every one with dataChange false.
  auto lines = CommitLines(r->version);
  int removes = 0, adds = 0;
  for (const auto& line : lines) {
    if (line.contains("commitInfo")) {
      EXPECT_EQ(line["commitInfo"]["operation"], "OPTIMIZE");
      EXPECT_EQ(line["commitInfo"]["isBlindAppend"], false);
    }
    if (line.contains("remove")) {
      ++removes;
      EXPECT_EQ(line["remove"]["dataChange"], false);
    }
    if (line.contains("add")) {
      ++adds;
      EXPECT_EQ(line["add"]["dataChange"], false);
      auto stats = nlohmann::json::parse(line["add"]["stats"].get<std::string>());
      EXPECT_EQ(stats["numRecords"], 60);
      EXPECT_TRUE(stats["minValues"].contains("ts"));
      EXPECT_TRUE(stats["maxValues"].contains("name"));
    }
  }
  EXPECT_EQ(removes, 24);
  EXPECT_EQ(adds, 2);
  auto history = table->History();
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->front().operation, "OPTIMIZE");

  // Nothing left to compact: a no-op that commits nothing.
  auto again = table->Optimize();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->noop);
  EXPECT_EQ(*table->LatestVersion(), r->version);
}

TEST_F(MaintenanceTest, WritersSortRowsBySortColumns) {
  auto table = Create();
  EXPECT_EQ(table->sort_columns(), (std::vector<std::string>{"name", "ts"}));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(table->Append(*Rows(40, i, {"a"})).ok());
  ASSERT_TRUE(table->Optimize().ok());
  ASSERT_EQ(LiveFiles().size(), 1u);
  auto rows = Open()->Read();  // one file: its order is the file's order
  ASSERT_TRUE(rows.ok());
  auto batch = (*rows)->CombineChunksToBatch().ValueOrDie();
  auto n = std::static_pointer_cast<arrow::StringArray>(batch->GetColumnByName("name"));
  auto s = std::static_pointer_cast<arrow::TimestampArray>(batch->GetColumnByName("ts"));
  for (int64_t i = 1; i < batch->num_rows(); ++i)
    ASSERT_LE(std::make_pair(n->GetString(i - 1), s->Value(i - 1)), std::make_pair(n->GetString(i), s->Value(i)))
        << "row " << i;
  // A table without sort columns keeps append order; sort columns are validated at creation.
  auto bad = DeltaTable::Create(NewLocalFileSystem((dir_ / "x").string()), Schema(), {"kind"}, "x", {}, {"kind"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto missing = DeltaTable::Create(NewLocalFileSystem((dir_ / "y").string()), Schema(), {"kind"}, "y", {}, {"nope"});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MaintenanceTest, OptimizeRespectsTargetSizeAndLeavesBigFilesAlone) {
  auto table = Create();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(table->Append(*Rows(10, i, {"a"})).ok());
  const Snapshot snap = Latest();
  ASSERT_FALSE(snap.files.empty());
  // The largest file (sizes differ by a few bytes with the values): every file is a candidate below
  // one + 1, and bins hold two files each.
  int64_t one = 0;
  for (const auto& [path, file] : snap.files) one = std::max(one, file.size);
  auto r = table->Optimize({.target_file_bytes = 2 * one + one / 2, .min_file_bytes = one + 1});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files_removed, 6);
  EXPECT_EQ(r->files_added, 3);
  // Files at or above min_file_bytes are not candidates.
  auto none = table->Optimize({.target_file_bytes = 1 << 20, .min_file_bytes = one});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->noop);
  EXPECT_EQ(table->Optimize({.target_file_bytes = 0}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MaintenanceTest, AppendRacingOptimizeIsKept) {
  auto table = Create();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(table->Append(*Rows(10, i)).ok());
  auto expected = ReadAll();
  auto extra = Rows(7, 99);
  for (const auto& row : RowsOf(*extra)) expected.insert(row);
  OptimizeOptions options;
  options.before_commit = [&] { ASSERT_TRUE(Open()->Append(*extra).ok()); };  // wins the next version
  auto r = table->Optimize(options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attempts, 2);  // lost the race once, re-checked, committed
  EXPECT_EQ(ReadAll(), expected);
  EXPECT_EQ(LiveFiles().size(), 4u);  // 2 compacted + the racing append's 2
}

TEST_F(MaintenanceTest, OptimizeConflictsWhenAConcurrentCommitRemovedItsInput) {
  auto table = Create();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(table->Append(*Rows(10, i)).ok());
  const auto files_before = DataFilesOnDisk();
  auto replacement = Rows(3, 50, {"a"});
  OptimizeOptions options;
  options.before_commit = [&] { ASSERT_TRUE(Open()->ReplacePartition({{"kind", "a"}}, *replacement).ok()); };
  auto r = table->Optimize(options);
  ASSERT_EQ(r.status().code(), StatusCode::kConflict) << r.status().ToString();
  EXPECT_NE(r.status().message().find("removed by a concurrent commit"), std::string::npos);
  // The table is exactly what the winner left: the replacement plus the untouched "b" rows.
  auto rows = ReadAll();
  EXPECT_EQ(rows.size(), 3u + 25u);
  // The abandoned compaction left no files behind: on disk = before + the replacement's file.
  auto after = DataFilesOnDisk();
  EXPECT_EQ(after.size(), files_before.size() + 1);
}

TEST_F(MaintenanceTest, ReplacePartitionAfterConcurrentOptimizeRemovesTheCompactedFiles) {
  auto table = Create();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(table->Append(*Rows(10, i)).ok());
  // A DeltaTable object that read the log before the optimize, then replaces partition "a".
  auto stale = Open();
  ASSERT_TRUE(Open()->Optimize().ok());
  auto r = stale->ReplacePartition({{"kind", "a"}}, *Rows(3, 60, {"a"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files_removed, 1);  // the compacted file
  EXPECT_EQ(ReadAll().size(), 3u + 25u);
}

TEST_F(MaintenanceTest, ConcurrentAppendsAndOptimizesLoseNothing) {
  Create();
  std::atomic<bool> done{false};
  std::multiset<Row> expected;
  std::thread writer([&] {
    auto t = Open();
    for (int i = 0; i < 30; ++i) {
      auto rows = Rows(5, i);
      ASSERT_TRUE(t->Append(*rows).ok());
    }
    done = true;
  });
  for (int i = 0; i < 30; ++i)
    for (const auto& row : RowsOf(*Rows(5, i))) expected.insert(row);
  int optimizes = 0;
  auto optimizer = Open();
  while (!done) {
    auto r = optimizer->Optimize();
    ASSERT_TRUE(r.ok()) << r.status().ToString();  // appends never conflict with compaction
    if (!r->noop) ++optimizes;
  }
  writer.join();
  ASSERT_TRUE(optimizer->Optimize().ok());
  EXPECT_EQ(ReadAll(), expected);
  EXPECT_EQ(LiveFiles().size(), 2u);
  std::printf("optimize commits while appending: %d\n", optimizes);
}

TEST_F(MaintenanceTest, VacuumDeletesOnlyFilesOutsideTheRetentionWindow) {
  auto table = Create();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(table->Append(*Rows(10, i)).ok());
  const int64_t before_optimize = *table->LatestVersion();
  const auto rows = ReadAll();
  ASSERT_TRUE(table->Optimize().ok());
  // A file left by a writer that died before committing.
  ASSERT_TRUE(NewLocalFileSystem(dir_.string())->WriteFile("kind=a/part-orphan.snappy.parquet", "junk").ok());
  const auto live = LiveFiles();
  ASSERT_EQ(DataFilesOnDisk().size(), 8u + 2u + 1u);

  // Default retention: everything was removed moments ago, nothing goes.
  auto keep = table->Vacuum();
  ASSERT_TRUE(keep.ok()) << keep.status().ToString();
  EXPECT_TRUE(keep->files.empty());
  // Below the safe minimum without force: refused, naming the minimum.
  auto refused = table->Vacuum({.retain_hours = 1});
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("168"), std::string::npos);
  EXPECT_EQ(table->Vacuum({.retain_hours = -1, .force = true}).status().code(), StatusCode::kInvalidArgument);

  // Eight days later with the default window: the 8 removed files and the orphan are outside it.
  const int64_t later = time::NowMicros() / 1000 + 8 * 24 * 3600 * 1000LL;
  auto dry = table->Vacuum({.dry_run = true, .now_ms = later});
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_TRUE(dry->dry_run);
  EXPECT_EQ(dry->files.size(), 9u);
  EXPECT_EQ(DataFilesOnDisk().size(), 11u);  // a dry run deletes nothing
  for (const auto& f : dry->files) EXPECT_FALSE(live.count(f.key)) << f.key;

  auto done = table->Vacuum({.now_ms = later});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->files.size(), 9u);
  EXPECT_EQ(DataFilesOnDisk(), live);
  EXPECT_EQ(ReadAll(), rows);
  EXPECT_TRUE(fs::exists(dir_ / delta::CommitKey(0)));  // the log is untouched
  // Time travel to before the optimize now fails with an error naming a missing file.
  auto old = Open()->Read({.version = before_optimize});
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find(".parquet"), std::string::npos);
  // A forced short window on a fresh table removes what the last optimize tombstoned.
  ASSERT_TRUE(table->Append(*Rows(4, 9)).ok());
  ASSERT_TRUE(table->Optimize().ok());
  auto forced = table->Vacuum({.retain_hours = 0, .force = true, .now_ms = time::NowMicros() / 1000 + 1000});
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->files.size(), 4u);
  EXPECT_EQ(DataFilesOnDisk(), LiveFiles());
  EXPECT_EQ(ReadAll().size(), rows.size() + 4);
}

TEST_F(MaintenanceTest, OpenOrCreateKeepsAnExistingTablesLayout) {
  // A table created with an older layout (here: partitioned by kind and name, no sort columns).
  ASSERT_TRUE(DeltaTable::Create(NewLocalFileSystem(dir_.string()), Schema(), {"kind", "name"}).ok());
  auto t = DeltaTable::OpenOrCreate(NewLocalFileSystem(dir_.string()), Schema(), {"kind"}, "t", {}, {"name", "ts"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->partition_columns(), (std::vector<std::string>{"kind", "name"}));
  EXPECT_TRUE((*t)->sort_columns().empty());
  ASSERT_TRUE((*t)->Append(*Rows(20, 1)).ok());
  ASSERT_TRUE((*t)->Append(*Rows(20, 2)).ok());
  const auto rows = ReadAll();
  auto r = (*t)->Optimize();  // compacts within each (kind, name) partition
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files_added, r->partitions);
  EXPECT_EQ(ReadAll(), rows);
}

}  // namespace
}  // namespace pulse::lake
