// DeltaTable on the local filesystem: commits, reads, time travel, checkpoints, optimistic
// concurrency, application transactions, partition replacement and every bad-input path.
#include "lake/lake.h"

#include <arrow/api.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "lake/internal/delta_log.h"
#include "racing_file_system.h"

#include <nlohmann/json.hpp>

namespace pulse::lake {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<arrow::Array> Json(const std::shared_ptr<arrow::DataType>& type, const std::string& text) {
  return arrow::json::ArrayFromJSONString(type, text).ValueOrDie();
}

class DeltaTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pulse_delta_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Data files (*.parquet outside _delta_log/) on disk, relative to the table root.
  std::set<std::string> DataFilesOnDisk() const {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      const std::string rel = fs::relative(e.path(), dir_).generic_string();
      if (e.is_regular_file() && e.path().extension() == ".parquet" && !rel.starts_with("_delta_log/")) out.insert(rel);
    }
    return out;
  }
  // Paths of the files live in the latest snapshot (the add actions' paths, URL-decoded).
  static std::set<std::string> LiveFiles(DeltaTable& table) {
    std::set<std::string> out;
    auto snap = table.LoadSnapshot();
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    if (snap.ok())
      for (const auto& [path, file] : snap->files) out.insert(path);
    return out;
  }

  static std::shared_ptr<arrow::Schema> Schema() {
    return arrow::schema({arrow::field("name", arrow::utf8(), false), arrow::field("value", arrow::float64()),
                          arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
                          arrow::field("kind", arrow::utf8(), false)});
  }
  // Rows name_<i>, value i + offset, kind from `kinds` round-robin.
  static std::shared_ptr<arrow::Table> Rows(int n, double offset, std::vector<std::string> kinds = {"a", "b"}) {
    arrow::StringBuilder names, kind;
    arrow::DoubleBuilder values;
    arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(names.Append("name_" + std::to_string(i)).ok());
      EXPECT_TRUE(values.Append(i + offset).ok());
      EXPECT_TRUE(ts.Append(int64_t{1600000000000000} + i).ok());
      EXPECT_TRUE(kind.Append(kinds[static_cast<size_t>(i) % kinds.size()]).ok());
    }
    return arrow::Table::Make(Schema(), {names.Finish().ValueOrDie(), values.Finish().ValueOrDie(),
                                         ts.Finish().ValueOrDie(), kind.Finish().ValueOrDie()});
  }
  std::unique_ptr<DeltaTable> Create(TableOptions options = {}) {
    auto t = DeltaTable::Create(NewLocalFileSystem(dir_.string()), Schema(), {"kind"}, "test", options);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return std::move(*t);
  }
  std::unique_ptr<DeltaTable> Open(TableOptions options = {}) {
    auto t = DeltaTable::Open(NewLocalFileSystem(dir_.string()), options);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return std::move(*t);
  }
  static double SumValues(const arrow::Table& t) {
    double sum = 0;
    for (const auto& chunk : t.GetColumnByName("value")->chunks()) {
      const auto& a = static_cast<const arrow::DoubleArray&>(*chunk);
      for (int64_t i = 0; i < a.length(); ++i) sum += a.Value(i);
    }
    return sum;
  }
  fs::path dir_;
};

TEST_F(DeltaTableTest, CreateAppendReadRoundTrip) {
  auto table = Create();
  auto rows = Rows(100, 0);
  auto r = table->Append(*rows);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->files_added, 2);  // one per partition
  EXPECT_EQ(r->rows_added, 100);
  EXPECT_TRUE(fs::exists(dir_ / "kind=a"));
  EXPECT_TRUE(fs::exists(dir_ / "_delta_log/00000000000000000001.json"));

  auto back = Open()->Read();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)->num_rows(), 100);
  EXPECT_TRUE((*back)->schema()->Equals(*Schema(), false));
  EXPECT_DOUBLE_EQ(SumValues(**back), 4950);
}

TEST_F(DeltaTableTest, AddActionsCarryFileStatistics) {
  auto table = Create();
  ASSERT_TRUE(table->Append(*Rows(10, 0.5, {"a"})).ok());
  auto text = NewLocalFileSystem(dir_.string())->ReadFile(delta::CommitKey(1));
  ASSERT_TRUE(text.ok());
  nlohmann::json add;
  for (size_t pos = 0; pos < text->size();) {
    size_t end = text->find('\n', pos);
    auto action = nlohmann::json::parse(text->substr(pos, end - pos));
    if (action.contains("add")) add = action["add"];
    pos = end + 1;
  }
  auto stats = nlohmann::json::parse(add["stats"].get<std::string>());
  EXPECT_EQ(stats["numRecords"], 10);
  EXPECT_DOUBLE_EQ(stats["minValues"]["value"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(stats["maxValues"]["value"].get<double>(), 9.5);
  EXPECT_EQ(stats["minValues"]["name"], "name_0");
  EXPECT_EQ(stats["maxValues"]["name"], "name_9");
  // 1600000000000000 us .. +9 us: milliseconds rounded outwards.
  EXPECT_EQ(stats["minValues"]["ts"], "2020-09-13T12:26:40.000Z");
  EXPECT_EQ(stats["maxValues"]["ts"], "2020-09-13T12:26:40.001Z");
  EXPECT_EQ(stats["nullCount"]["value"], 0);
  EXPECT_FALSE(stats["minValues"].contains("kind"));  // partition columns are not in the file
}

TEST_F(DeltaTableTest, PartitionAndColumnFilters) {
  auto table = Create();
  ASSERT_TRUE(table->Append(*Rows(90, 0, {"a", "b", "c"})).ok());
  auto only_b = table->Read({.columns = {"kind", "value"}, .partition_filters = {{"kind", {"b"}}}});
  ASSERT_TRUE(only_b.ok()) << only_b.status().ToString();
  EXPECT_EQ((*only_b)->num_rows(), 30);
  EXPECT_EQ((*only_b)->num_columns(), 2);
  EXPECT_EQ((*only_b)->schema()->field(0)->name(), "kind");
  auto kinds = (*only_b)->column(0)->chunk(0);
  EXPECT_EQ(static_cast<const arrow::StringArray&>(*kinds).GetString(0), "b");

  auto two = table->Read({.partition_filters = {{"kind", {"a", "c"}}}});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ((*two)->num_rows(), 60);

  EXPECT_EQ(table->Read({.columns = {"nope"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(table->Read({.partition_filters = {{"value", {"1"}}}}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DeltaTableTest, TimeTravelAndHistory) {
  auto table = Create();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(table->Append(*Rows(10, 100.0 * i)).ok());
  for (int64_t v = 0; v <= 3; ++v) {
    auto t = table->Read({.version = v});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ((*t)->num_rows(), 10 * v);
  }
  auto missing = table->Read({.version = 4});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("latest is 3"), std::string::npos);

  auto history = table->History();
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 4u);
  EXPECT_EQ((*history)[0].version, 3);
  EXPECT_EQ((*history)[0].rows_added, 10);
  EXPECT_EQ((*history)[3].operation, "CREATE TABLE");
}

TEST_F(DeltaTableTest, CheckpointsAreWrittenAndUsed) {
  auto table = Create({.checkpoint_interval = 3});
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(table->Append(*Rows(10, i)).ok());
  EXPECT_TRUE(fs::exists(dir_ / "_delta_log/00000000000000000003.checkpoint.parquet"));
  EXPECT_TRUE(fs::exists(dir_ / "_delta_log/00000000000000000006.checkpoint.parquet"));
  auto last = NewLocalFileSystem(dir_.string())->ReadFile("_delta_log/_last_checkpoint");
  ASSERT_TRUE(last.ok());
  EXPECT_NE(last->find("\"version\":6"), std::string::npos);

  auto replayed = Open()->LoadSnapshot();
  ASSERT_TRUE(replayed.ok());
  // Remove the JSON commits the checkpoint covers: the reader must rely on the checkpoint alone.
  for (int v = 0; v <= 6; ++v) ASSERT_TRUE(fs::remove(dir_ / delta::CommitKey(v)));
  auto from_checkpoint = Open()->LoadSnapshot();
  ASSERT_TRUE(from_checkpoint.ok()) << from_checkpoint.status().ToString();
  EXPECT_EQ(from_checkpoint->version, 7);
  EXPECT_EQ(from_checkpoint->files.size(), replayed->files.size());
  EXPECT_EQ(from_checkpoint->num_rows(), 70);
  EXPECT_TRUE(from_checkpoint->schema->Equals(*replayed->schema));
  auto rows = Open()->Read();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)->num_rows(), 70);
}

TEST_F(DeltaTableTest, ConcurrentWritersAllCommit) {
  Create();
  constexpr int kWriters = 4, kCommits = 8;
  std::vector<std::thread> threads;
  std::atomic<int> retries{0}, failures{0};
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      auto t = DeltaTable::Open(NewLocalFileSystem(dir_.string()), {.checkpoint_interval = 5});
      if (!t.ok()) {
        ++failures;
        return;
      }
      for (int c = 0; c < kCommits; ++c) {
        auto r = (*t)->Append(*Rows(5, 1000.0 * w + c));
        if (!r.ok())
          ++failures;
        else
          retries += r->attempts - 1;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto table = Open();
  auto version = table->LatestVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, kWriters * kCommits);
  auto rows = table->Read();
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)->num_rows(), kWriters * kCommits * 5);
  // Every version is a complete, parseable commit.
  auto history = table->History();
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), static_cast<size_t>(kWriters * kCommits + 1));
}

TEST_F(DeltaTableTest, AppTransactionMakesRetriesIdempotent) {
  auto table = Create();
  WriteOptions opts{.app_id = "ingest:file-1", .app_version = 0};
  auto first = table->Append(*Rows(10, 0), opts);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->skipped);
  const std::set<std::string> before_retry = DataFilesOnDisk();
  auto retry = Open()->Append(*Rows(10, 0), opts);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->skipped);
  EXPECT_EQ(retry->version, 1);
  // No orphaned data files from the skipped write: the files on disk are exactly the live ones.
  EXPECT_EQ(DataFilesOnDisk(), before_retry);
  EXPECT_EQ(DataFilesOnDisk(), LiveFiles(*table));
  auto next = table->Append(*Rows(10, 0), {.app_id = "ingest:file-1", .app_version = 1});
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->skipped);
  EXPECT_EQ((*Open()->Read())->num_rows(), 20);
  auto snap = table->LoadSnapshot();
  EXPECT_EQ(snap->app_versions.at("ingest:file-1"), 1);
  // An app transaction needs a version >= 0; the refused write leaves no file behind either.
  EXPECT_EQ(table->Append(*Rows(1, 0), {.app_id = "x", .app_version = -1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DataFilesOnDisk(), LiveFiles(*table));
}

TEST_F(DeltaTableTest, ConcurrentRetriesOfOneTransactionApplyOnce) {
  Create();
  std::vector<std::thread> threads;
  std::atomic<int> applied{0}, skipped{0};
  for (int w = 0; w < 4; ++w)
    threads.emplace_back([&] {
      auto t = DeltaTable::Open(NewLocalFileSystem(dir_.string()));
      auto r = (*t)->Append(*Rows(10, 0), {.app_id = "job-42", .app_version = 7});
      if (r.ok() && r->skipped)
        ++skipped;
      else if (r.ok())
        ++applied;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(applied.load(), 1);
  EXPECT_EQ(skipped.load(), 3);
  EXPECT_EQ((*Open()->Read())->num_rows(), 10);
  // Writers that lost the race had written their data files first; they deleted them on finding
  // the transaction applied, so only the winner's files remain.
  EXPECT_EQ(DataFilesOnDisk(), LiveFiles(*Open()));
}

TEST_F(DeltaTableTest, ReplacePartition) {
  auto table = Create();
  ASSERT_TRUE(table->Append(*Rows(20, 0)).ok());  // 10 in a, 10 in b
  auto replacement = Rows(3, 500, {"a"});
  auto r = table->ReplacePartition({{"kind", "a"}}, *replacement);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files_removed, 1);
  auto a = table->Read({.partition_filters = {{"kind", {"a"}}}});
  EXPECT_EQ((*a)->num_rows(), 3);
  EXPECT_DOUBLE_EQ(SumValues(**a), 1503);
  auto b = table->Read({.partition_filters = {{"kind", {"b"}}}});
  EXPECT_EQ((*b)->num_rows(), 10);
  // The previous version still has the old rows.
  auto old = table->Read({.version = 1, .partition_filters = {{"kind", {"a"}}}});
  EXPECT_EQ((*old)->num_rows(), 10);

  auto outside = table->ReplacePartition({{"kind", "a"}}, *Rows(2, 0, {"b"}));
  EXPECT_EQ(outside.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(table->ReplacePartition({}, *replacement).status().code(), StatusCode::kInvalidArgument);
  // Empty rows delete the partition.
  ASSERT_TRUE(table->ReplacePartition({{"kind", "a"}}, *Rows(0, 0)).ok());
  EXPECT_EQ((*table->Read())->num_rows(), 10);
}

TEST_F(DeltaTableTest, ReplacePartitionConflictsWithConcurrentWriteToSamePartition) {
  ASSERT_TRUE(Create()->Append(*Rows(4, 0)).ok());
  auto racing = [&](std::vector<std::string> kinds) {
    auto fsys = std::make_unique<RacingFileSystem>(
        NewLocalFileSystem(dir_.string()), [this, kinds] { ASSERT_TRUE(Open()->Append(*Rows(2, 0, kinds)).ok()); });
    auto table = DeltaTable::Open(std::move(fsys));
    EXPECT_TRUE(table.ok());
    return std::move(table).value();
  };
  // A concurrent append to partition "a" lands between planning and commit: kConflict, and the
  // competing rows survive.
  auto r = racing({"a"})->ReplacePartition({{"kind", "a"}}, *Rows(1, 9, {"a"}));
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status().ToString();
  EXPECT_EQ((*Open()->Read({.partition_filters = {{"kind", {"a"}}}}))->num_rows(), 4);
  // A concurrent append to another partition does not conflict: the replace retries and lands.
  auto ok = racing({"b"})->ReplacePartition({{"kind", "a"}}, *Rows(1, 9, {"a"}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->attempts, 2);
  EXPECT_EQ((*Open()->Read({.partition_filters = {{"kind", {"a"}}}}))->num_rows(), 1);
  EXPECT_EQ((*Open()->Read({.partition_filters = {{"kind", {"b"}}}}))->num_rows(), 4);
}

TEST_F(DeltaTableTest, BadInputs) {
  auto table = Create();
  // Create twice.
  auto again = DeltaTable::Create(NewLocalFileSystem(dir_.string()), Schema(), {"kind"});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  // Open a folder with no table.
  auto none = DeltaTable::Open(NewLocalFileSystem((dir_ / "nothing").string()));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  // Wrong schema.
  auto wrong = arrow::Table::Make(arrow::schema({arrow::field("x", arrow::int64())}), {Json(arrow::int64(), "[1,2]")});
  auto r = table->Append(*wrong);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("schema"), std::string::npos);
  // Null in a non-nullable column.
  auto nulls = arrow::Table::Make(Schema(), {Json(arrow::utf8(), R"(["a", null])"), Json(arrow::float64(), "[1, 2]"),
                                             Json(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), "[1, 2]"),
                                             Json(arrow::utf8(), R"(["a", "a"])")});
  auto rn = table->Append(*nulls);
  EXPECT_EQ(rn.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rn.status().message().find("'name'"), std::string::npos);
  // Nothing was committed or left behind by the failed writes.
  EXPECT_EQ(*table->LatestVersion(), 0);
  // Bad partition column at create.
  auto bad = DeltaTable::Create(NewLocalFileSystem((dir_ / "t2").string()), Schema(), {"missing"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto all = DeltaTable::Create(NewLocalFileSystem((dir_ / "t3").string()),
                                arrow::schema({arrow::field("k", arrow::utf8())}), {"k"});
  EXPECT_EQ(all.status().code(), StatusCode::kInvalidArgument);
  // Different schema on OpenOrCreate.
  auto mismatch = DeltaTable::OpenOrCreate(NewLocalFileSystem(dir_.string()), wrong->schema(), {});
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DeltaTableTest, CorruptCommitIsAClearError) {
  Create();
  auto fsys = NewLocalFileSystem(dir_.string());
  ASSERT_TRUE(fsys->PutIfAbsent(delta::CommitKey(1), "{not json\n").ok());
  auto t = DeltaTable::Open(NewLocalFileSystem(dir_.string()));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kParseError);
  EXPECT_NE(t.status().message().find("00000000000000000001.json line 1"), std::string::npos);
}

TEST_F(DeltaTableTest, UncommittedDataFilesAreInvisible) {
  auto table = Create();
  ASSERT_TRUE(table->Append(*Rows(10, 0)).ok());
  // A writer that died after writing a data file but before committing.
  auto fsys = NewLocalFileSystem(dir_.string());
  ASSERT_TRUE(fsys->WriteFile("kind=a/part-orphan.snappy.parquet", "garbage").ok());
  auto rows = Open()->Read();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)->num_rows(), 10);
}

TEST_F(DeltaTableTest, OddPartitionValuesRoundTrip) {
  auto table = Create();
  ASSERT_TRUE(table->Append(*Rows(8, 0, {"a b", "x/y", "k=v", "100%", "ünï", "a", "b", "c"})).ok());
  auto rows = Open()->Read({.columns = {"kind"}});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::multiset<std::string> kinds;
  for (const auto& chunk : (*rows)->column(0)->chunks())
    for (int64_t i = 0; i < chunk->length(); ++i)
      kinds.insert(static_cast<const arrow::StringArray&>(*chunk).GetString(i));
  EXPECT_EQ(kinds, (std::multiset<std::string>{"a b", "x/y", "k=v", "100%", "ünï", "a", "b", "c"}));
  auto one = Open()->Read({.partition_filters = {{"kind", {"x/y"}}}});
  EXPECT_EQ((*one)->num_rows(), 1);
}

TEST_F(DeltaTableTest, LakeListsTables) {
  auto lake = Lake::Open(dir_.string());
  ASSERT_TRUE(lake.ok());
  ASSERT_TRUE((*lake)->OpenOrCreateTable("signals", Schema(), {"kind"}).ok());
  ASSERT_TRUE((*lake)->OpenOrCreateTable("forecasts", Schema(), {}).ok());
  auto names = (*lake)->ListTables();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"forecasts", "signals"}));
  EXPECT_EQ((*lake)->OpenTable("absent").status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*lake)->OpenTable("../etc").status().code(), StatusCode::kInvalidArgument);
}

// Stream batches: several txn actions in one commit, and a precondition on the txn versions that
// is re-checked after losing a race (the exactly-once check of src/stream).
TEST_F(DeltaTableTest, SeveralTransactionsAndAPreconditionPerCommit) {
  auto table = Create();
  WriteOptions opts;
  opts.transactions = {{"stream:g/t/0", 10}, {"stream:g/t/1", 4}};
  auto r = table->Append(*Rows(3, 0), opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto snap = Open()->LoadSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->app_versions.at("stream:g/t/0"), 10);
  EXPECT_EQ(snap->app_versions.at("stream:g/t/1"), 4);

  // Repeated or negative entries are refused before anything is written.
  EXPECT_EQ(table->Append(*Rows(1, 0), {.transactions = {{"a", 1}, {"a", 2}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(table->Append(*Rows(1, 0), {.transactions = {{"a", -1}}}).status().code(), StatusCode::kInvalidArgument);

  // The precondition sees the versions and can refuse: nothing is committed.
  WriteOptions guarded;
  guarded.transactions = {{"stream:g/t/0", 20}};
  guarded.precondition = [](const std::map<std::string, int64_t>& v) {
    auto it = v.find("stream:g/t/0");
    return it != v.end() && it->second > 10 ? Status::Conflict("offset 10 already written") : Status::Ok();
  };
  auto before = table->LatestVersion();
  // A competing writer advances the partition between planning and commit: the retry re-checks.
  auto fsys = std::make_unique<RacingFileSystem>(NewLocalFileSystem(dir_.string()), [this] {
    ASSERT_TRUE(Open()->Append(*Rows(2, 0), {.transactions = {{"stream:other/t/0", 15}, {"stream:g/t/0", 15}}}).ok());
  });
  auto racing = DeltaTable::Open(std::move(fsys));
  ASSERT_TRUE(racing.ok());
  auto lost = (*racing)->Append(*Rows(5, 0), guarded);
  EXPECT_EQ(lost.status().code(), StatusCode::kConflict) << lost.status().ToString();
  EXPECT_EQ(*Open()->LatestVersion(), *before + 1);  // only the competitor's commit
  EXPECT_EQ((*Open()->Read())->num_rows(), 5);       // 3 + 2: the guarded rows are not there
  // Its data files were deleted: only the live files remain under the partitions.
  int64_t parquet = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_))
    if (e.path().extension() == ".parquet") ++parquet;
  EXPECT_EQ(parquet, static_cast<int64_t>(Open()->LoadSnapshot()->files.size()));
}

}  // namespace
}  // namespace pulse::lake
