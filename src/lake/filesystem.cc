#include "lake/filesystem.h"

#include <arrow/buffer.h>

#include <filesystem>

#include "lake/internal/object_size.h"

namespace pulse::lake {

Result<std::shared_ptr<arrow::Buffer>> FileSystem::ReadBuffer(std::string_view key) {
  PULSE_ASSIGN_OR_RETURN(std::string bytes, ReadFile(key));
  return std::shared_ptr<arrow::Buffer>(arrow::Buffer::FromString(std::move(bytes)));
}

Status ObjectTooLarge(const std::string& url, int64_t size, int64_t max_bytes) {
  if (size < 0)
    return Status::InvalidArgument("'" + url + "' holds more than the " + std::to_string(max_bytes) + " bytes allowed");
  return Status::InvalidArgument("'" + url + "' holds " + std::to_string(size) + " bytes, more than the " +
                                 std::to_string(max_bytes) + " allowed");
}

Result<std::string> FileSystem::ReadFileAtMost(std::string_view key, int64_t max_bytes) {
  PULSE_ASSIGN_OR_RETURN(FileInfo info, Stat(key));
  const std::string url = RootUrl() + "/" + std::string(key);
  if (info.size > max_bytes) return ObjectTooLarge(url, info.size, max_bytes);
  PULSE_ASSIGN_OR_RETURN(std::string bytes, ReadFile(key));
  if (static_cast<int64_t>(bytes.size()) > max_bytes)
    return ObjectTooLarge(url, static_cast<int64_t>(bytes.size()), max_bytes);
  return bytes;
}

Result<std::unique_ptr<FileSystem>> OpenFileSystem(std::string_view url, const S3Options& s3, OpenMode mode) {
  if (url.empty()) return Status::InvalidArgument("empty lake URL");
  if (url.starts_with("s3://")) {
    std::string_view rest = url.substr(5);
    size_t slash = rest.find('/');
    std::string bucket(rest.substr(0, slash));
    std::string prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (bucket.empty()) return Status::InvalidArgument("S3 URL '" + std::string(url) + "' has no bucket");
    return NewS3FileSystem(std::move(bucket), std::move(prefix), s3);
  }
  std::string_view path = url;
  if (url.starts_with("file://")) {
    path = url.substr(7);
    // file://HOST/path names a host; Pulse reads only this machine's files (file:///path or a path).
    if (!path.starts_with('/')) {
      return Status::InvalidArgument("lake URL '" + std::string(url) +
                                     "' names a host; a file:// URL needs an absolute path (file:///abs/dir), or "
                                     "give the folder itself (" +
                                     std::string(path) + ")");
    }
  } else if (url.find("://") != std::string_view::npos) {
    return Status::InvalidArgument("unsupported lake URL scheme in '" + std::string(url) +
                                   "' (expected file://, s3:// or a path)");
  }
  if (path.empty()) return Status::InvalidArgument("lake URL '" + std::string(url) + "' names no folder");
  const std::filesystem::path dir{std::string(path)};
  std::error_code ec;
  const auto status = std::filesystem::status(dir, ec);
  if (std::filesystem::exists(status)) {
    if (!std::filesystem::is_directory(status))
      return Status::InvalidArgument("'" + std::string(path) + "' exists but is not a directory");
  } else if (mode == OpenMode::kMustExist) {
    return Status::NotFound("no folder '" + std::string(path) + "'");
  } else {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create lake directory '" + std::string(path) + "': " + ec.message());
  }
  return NewLocalFileSystem(std::string(path));
}

}  // namespace pulse::lake
