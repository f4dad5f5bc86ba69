// FileSystem::ReadFileAtMost on a local lake folder (the default: Stat, then the bytes read).
// The S3 implementation is tested against a real server (tests/integration/lake).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "lake/filesystem.h"

namespace pulse::lake {
namespace {

TEST(ReadFileAtMost, LocalObjectsAtTheBoundAreReadLargerOnesAndMissingOnesRefused) {
  const auto root = std::filesystem::temp_directory_path() / ("pulse_read_at_most_" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  auto fs = NewLocalFileSystem(root.string());
  ASSERT_TRUE(fs->WriteFile("in/x.csv", std::string(100, 'x')).ok());
  EXPECT_EQ(fs->ReadFileAtMost("in/x.csv", 100)->size(), 100u);
  auto big = fs->ReadFileAtMost("in/x.csv", 99);
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(big.status().message(),
            "'file://" + root.string() + "/in/x.csv' holds 100 bytes, more than the 99 allowed");
  EXPECT_EQ(fs->ReadFileAtMost("in/absent.csv", 100).status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace pulse::lake
