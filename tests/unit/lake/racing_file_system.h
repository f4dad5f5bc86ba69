// Test helper: a FileSystem that runs a hook just before the first log entry (PutIfAbsent of a
// `_delta_log/` key) its writer puts — the place where a competing writer can win the race for the
// version this writer planned. Every other call goes straight to the wrapped FileSystem.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lake/filesystem.h"

namespace pulse::lake {

class RacingFileSystem final : public FileSystem {
 public:
  RacingFileSystem(std::unique_ptr<FileSystem> inner, std::function<void()> hook)
      : inner_(std::move(inner)), hook_(std::move(hook)) {}
  Result<std::string> ReadFile(std::string_view k) override { return inner_->ReadFile(k); }
  Status WriteFile(std::string_view k, std::string_view d) override { return inner_->WriteFile(k, d); }
  Status PutIfAbsent(std::string_view k, std::string_view d) override {
    if (hook_ && k.starts_with("_delta_log/")) std::exchange(hook_, nullptr)();
    return inner_->PutIfAbsent(k, d);
  }
  Result<std::vector<FileInfo>> List(std::string_view p) override { return inner_->List(p); }
  Status Delete(std::string_view k) override { return inner_->Delete(k); }
  Result<FileInfo> Stat(std::string_view k) override { return inner_->Stat(k); }
  std::string RootUrl() const override { return inner_->RootUrl(); }
  std::unique_ptr<FileSystem> Sub(std::string_view s) const override { return inner_->Sub(s); }

 private:
  std::unique_ptr<FileSystem> inner_;
  std::function<void()> hook_;
};

}  // namespace pulse::lake
