// Public API of the lake module (see lake/lake.h for the list of public headers).
//
// FileSystem: the storage under a Delta table, addressed by keys relative to a root.
//
// Two implementations: a local directory (file:///abs/path or a plain path; the embedded default)
// and S3-compatible object storage (s3://bucket/prefix; endpoint and credentials from S3Options).
// Keys use '/' separators and never start with '/', e.g. "_delta_log/00000000000000000003.json".
//
// Contracts every implementation keeps (the Delta log relies on them):
//  - WriteFile makes the whole object visible at once or not at all (local: temp file + fsync +
//    rename; S3: a single PUT). A reader never sees a partial object.
//  - PutIfAbsent is atomic create-if-absent: of two concurrent callers for one key exactly one
//    gets OK, the other gets kAlreadyExists, and the winner's bytes are never overwritten
//    (local: link(2) of a fully written temp file; S3: PUT with "If-None-Match: *").
//  - List(prefix) returns every object whose key starts with `prefix`, sorted by key.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/type_fwd.h>

#include "core/status.h"

namespace pulse::lake {

struct FileInfo {
  std::string key;       // relative to the filesystem root
  int64_t size = 0;      // bytes
  int64_t mtime_ms = 0;  // last modification, milliseconds since the Unix epoch (UTC)
};

struct S3Options {
  std::string endpoint;  // e.g. "http://127.0.0.1:9000"; empty = AWS default for region
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // optional
  bool path_style = true;     // http://endpoint/bucket/key (MinIO, moto) vs bucket.endpoint
  int timeout_ms = 30000;
  int max_retries = 3;  // for transient failures (connection errors, 5xx); never for 412
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Whole-object read. kNotFound if the key does not exist.
  virtual Result<std::string> ReadFile(std::string_view key) = 0;
  // The same bytes as an Arrow buffer, for Parquet readers. The default wraps ReadFile; the local
  // filesystem maps the file instead of copying it.
  virtual Result<std::shared_ptr<arrow::Buffer>> ReadBuffer(std::string_view key);
  // Whole-object read of an object of at most `max_bytes` (> 0): kNotFound if the key does not
  // exist, kInvalidArgument "... holds more than N bytes" if it is larger. S3 asks the size first
  // (HEAD) and stops the GET once its body passes the bound (an object replaced in between), so
  // memory stays bounded; the default checks Stat, then the size of what ReadFile returns.
  virtual Result<std::string> ReadFileAtMost(std::string_view key, int64_t max_bytes);
  // Atomic create-or-replace (see contract above). Parent "directories" are created as needed.
  virtual Status WriteFile(std::string_view key, std::string_view data) = 0;
  // Atomic create-if-absent; kAlreadyExists if the key exists (see contract above).
  virtual Status PutIfAbsent(std::string_view key, std::string_view data) = 0;
  // All objects under `prefix` (a key prefix, e.g. "_delta_log/"), sorted by key.
  virtual Result<std::vector<FileInfo>> List(std::string_view prefix) = 0;
  // Removes an object; OK if it did not exist.
  virtual Status Delete(std::string_view key) = 0;
  // kNotFound if absent.
  virtual Result<FileInfo> Stat(std::string_view key) = 0;
  // A URL naming the root, e.g. "file:///data/lake/signals" or "s3://bucket/lake/signals".
  virtual std::string RootUrl() const = 0;
  // A filesystem rooted at RootUrl()/subdir (shares connections/credentials).
  virtual std::unique_ptr<FileSystem> Sub(std::string_view subdir) const = 0;
};

// Whether opening a local root may create its directory. Opening S3 never creates anything.
enum class OpenMode {
  kCreateIfMissing,  // writers: a missing local root directory is created
  kMustExist,        // readers: kNotFound when the local root directory does not exist; creates nothing
};

// Opens "file:///abs", "/abs", "relative/dir" (local) or "s3://bucket[/prefix]" (S3).
// kInvalidArgument for an unknown scheme, for file://HOST/... (file:// needs an absolute path:
// file:///abs) and for a local root that exists but is not a directory. See OpenMode for a
// missing local root.
Result<std::unique_ptr<FileSystem>> OpenFileSystem(std::string_view url, const S3Options& s3 = {},
                                                   OpenMode mode = OpenMode::kCreateIfMissing);

std::unique_ptr<FileSystem> NewLocalFileSystem(const std::string& root_dir);
Result<std::unique_ptr<FileSystem>> NewS3FileSystem(std::string bucket, std::string prefix, S3Options options);
// Creates a bucket (OK if it already exists and is yours).
Status CreateS3Bucket(const std::string& bucket, const S3Options& options);

}  // namespace pulse::lake
