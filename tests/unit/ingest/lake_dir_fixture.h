// A test fixture owning a scratch directory for lakes and input files: created empty before each
// test (named after the process, suite and test, so parallel test processes never share one) and
// removed after it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "lake/lake.h"

namespace pulse::ingest {

class LakeDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("pulse_" + std::string(test->test_suite_name()) + "_" + std::to_string(::getpid()) + "_" + test->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

 public:
  // The lake at <dir>/<name> (created on first use).
  std::unique_ptr<lake::Lake> OpenLake(const std::string& name) {
    return lake::Lake::Open((dir_ / name).string()).value();
  }
  // Writes <dir>/<name> with `text`; returns its path.
  std::string Write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 protected:
  std::filesystem::path dir_;
};

}  // namespace pulse::ingest
