// The S3 FileSystem against a real S3-compatible server (moto, started by scripts/test).
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "lake/filesystem.h"
#include "s3_test_env.h"

namespace pulse::lake {
namespace {

using testing::NewBucket;
using testing::TestS3Options;

std::unique_ptr<FileSystem> Open(const std::string& bucket, const std::string& prefix = "lake") {
  auto fs = OpenFileSystem("s3://" + bucket + "/" + prefix, TestS3Options());
  EXPECT_TRUE(fs.ok()) << fs.status().ToString();
  return std::move(fs).value();
}

TEST(S3FileSystem, WriteReadOverwriteDelete) {
  auto fs = Open(NewBucket());
  ASSERT_TRUE(fs->WriteFile("a/b.txt", "hello").ok());
  EXPECT_EQ(*fs->ReadFile("a/b.txt"), "hello");
  ASSERT_TRUE(fs->WriteFile("a/b.txt", std::string(3 << 20, 'x')).ok());  // 3 MiB, overwritten
  EXPECT_EQ(fs->ReadFile("a/b.txt")->size(), size_t{3} << 20);
  auto info = fs->Stat("a/b.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 3 << 20);
  EXPECT_GT(info->mtime_ms, 1600000000000);
  ASSERT_TRUE(fs->Delete("a/b.txt").ok());
  EXPECT_EQ(fs->ReadFile("a/b.txt").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs->Stat("a/b.txt").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs->Delete("a/b.txt").ok());  // deleting the absent is fine
  EXPECT_EQ(fs->RootUrl().rfind("s3://pulse-", 0), 0u);
}

TEST(S3FileSystem, PutIfAbsentKeepsTheFirstWriter) {
  auto fs = Open(NewBucket());
  ASSERT_TRUE(fs->PutIfAbsent("_delta_log/00000000000000000000.json", "first").ok());
  Status again = fs->PutIfAbsent("_delta_log/00000000000000000000.json", "second");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(*fs->ReadFile("_delta_log/00000000000000000000.json"), "first");
}

TEST(S3FileSystem, PutIfAbsentRaceHasExactlyOneWinner) {
  auto fs = Open(NewBucket());
  for (int round = 0; round < 5; ++round) {
    std::string key = "race/" + std::to_string(round);
    std::vector<std::thread> threads;
    std::vector<Status> results(8);
    for (int t = 0; t < 8; ++t)
      threads.emplace_back(
          [&, t] { results[static_cast<size_t>(t)] = fs->PutIfAbsent(key, "writer-" + std::to_string(t)); });
    for (auto& t : threads) t.join();
    int winners = 0;
    std::string winner;
    for (int t = 0; t < 8; ++t) {
      if (results[static_cast<size_t>(t)].ok()) {
        ++winners;
        winner = "writer-" + std::to_string(t);
      } else {
        EXPECT_EQ(results[static_cast<size_t>(t)].code(), StatusCode::kAlreadyExists)
            << results[static_cast<size_t>(t)].ToString();
      }
    }
    EXPECT_EQ(winners, 1);
    EXPECT_EQ(*fs->ReadFile(key), winner);
  }
}

TEST(S3FileSystem, ListPaginatesFiltersAndSorts) {
  auto fs = Open(NewBucket());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < 1100; i += 4) {
        char key[64];
        std::snprintf(key, sizeof key, "many/%05d", i);
        EXPECT_TRUE(fs->WriteFile(key, "x").ok());
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(fs->WriteFile("other/1", "y").ok());
  auto all = fs->List("many/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1100u);  // > 1000: needs a continuation token
  EXPECT_EQ((*all)[0].key, "many/00000");
  EXPECT_EQ((*all)[1099].key, "many/01099");
  EXPECT_TRUE(std::is_sorted(all->begin(), all->end(), [](auto& a, auto& b) { return a.key < b.key; }));
  EXPECT_EQ(fs->List("many/0109")->size(), 10u);
  EXPECT_EQ(fs->List("nothing/")->size(), 0u);
}

TEST(S3FileSystem, OddKeysAndSubFileSystems) {
  auto fs = Open(NewBucket());
  std::vector<std::string> keys = {"kind=macro/date=2020-01-01/part-1.parquet", "a b/c+d.txt", "ünïcode/ключ",
                                   "x%20y/(1)&[2]"};
  for (const auto& k : keys) ASSERT_TRUE(fs->WriteFile(k, k).ok()) << k;
  for (const auto& k : keys) EXPECT_EQ(*fs->ReadFile(k), k);
  auto listed = fs->List("");
  ASSERT_TRUE(listed.ok());
  std::set<std::string> got;
  for (const auto& f : *listed) got.insert(f.key);
  EXPECT_EQ(got, std::set<std::string>(keys.begin(), keys.end()));
  auto sub = fs->Sub("kind=macro");
  EXPECT_EQ(*sub->ReadFile("date=2020-01-01/part-1.parquet"), keys[0]);
  EXPECT_EQ(sub->List("")->size(), 1u);
}

TEST(S3FileSystem, ReadFileAtMostRefusesLargerObjectsAndMissingOnes) {
  auto fs = Open(NewBucket());
  ASSERT_TRUE(fs->WriteFile("in/x.csv", std::string(1000, 'x')).ok());
  EXPECT_EQ(fs->ReadFileAtMost("in/x.csv", 1000)->size(), 1000u);  // at the bound
  auto big = fs->ReadFileAtMost("in/x.csv", 999);
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("holds 1000 bytes, more than the 999 allowed"), std::string::npos)
      << big.status().ToString();
  EXPECT_EQ(fs->ReadFileAtMost("in/absent.csv", 1000).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs->WriteFile("in/empty.csv", "").ok());
  EXPECT_EQ(*fs->ReadFileAtMost("in/empty.csv", 1), "");
}

TEST(S3FileSystem, ReadFileAtMostNeverReturnsMoreThanTheBoundWhileTheObjectGrows) {
  // A writer flips the object between 1 KiB and 4 MiB while readers with a 64 KiB bound read it:
  // each read is the small object or refused (the HEAD, or the GET stopped at the bound when the
  // object grew after the HEAD); never more bytes than the bound.
  auto fs = Open(NewBucket());
  const std::string small(1024, 's'), large(4 << 20, 'l');
  ASSERT_TRUE(fs->WriteFile("grow.csv", small).ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) (void)fs->WriteFile("grow.csv", i % 2 ? small : large);
  });
  int ok = 0, refused = 0;
  for (int i = 0; i < 60; ++i) {
    auto r = fs->ReadFileAtMost("grow.csv", 64 << 10);
    if (r.ok()) {
      EXPECT_EQ(*r, small);
      ++ok;
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
      ++refused;
    }
  }
  stop = true;
  writer.join();
  EXPECT_EQ(ok + refused, 60);
}

TEST(S3FileSystem, ClearErrors) {
  auto opts = TestS3Options();
  auto missing_bucket = OpenFileSystem("s3://no-such-bucket-pulse/x", opts);
  ASSERT_TRUE(missing_bucket.ok());
  Status st = (*missing_bucket)->WriteFile("k", "v");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no-such-bucket-pulse"), std::string::npos) << st.ToString();

  opts.endpoint = "http://127.0.0.1:1";  // nothing listens there
  opts.max_retries = 1;
  auto dead = OpenFileSystem("s3://bucket/x", opts);
  ASSERT_TRUE(dead.ok());
  auto r = (*dead)->ReadFile("k");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();

  auto no_creds = OpenFileSystem("s3://bucket/x", S3Options{});
  EXPECT_EQ(no_creds.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenFileSystem("s3:///x", TestS3Options()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pulse::lake
