// Public API of the lake module: the entry point. Other modules include lake/lake.h (a lake of
// tables), lake/delta_table.h (one table), lake/filesystem.h (the storage under it),
// lake/table_read.h (a small table as one record batch) and lake/table_json.h (rows as JSON).
// Everything under src/lake/internal/ (Delta log and schema, Arrow<->JSON, SigV4 signer, S3 XML)
// is the lake's own: the CTest include_rules fails when another module includes it.
//
// Lake: a folder (or S3 prefix) of Delta tables, one per subfolder, opened from its URL by one
// factory, Lake::Open:
//   file:///abs/dir  or  /abs/dir  or  relative/dir   a local folder
//   s3://bucket[/prefix]                              S3-compatible storage (S3Options: endpoint,
//                                                     credentials)
// Any other scheme (http://, redis://, file://HOST/...) is kInvalidArgument naming the URL.
// OpenMode::kCreateIfMissing (writers: ingest, run) creates a missing local folder;
// OpenMode::kMustExist (readers: `pulse lake list/show/history`, maintenance) creates nothing and
// answers kNotFound "no lake at <url>" when the local folder is absent. Opening an S3 lake never
// creates anything and makes no request (a missing bucket surfaces on first access).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lake/delta_table.h"
#include "lake/filesystem.h"

namespace pulse::lake {

class Lake {
 public:
  // `defaults` apply to every table opened without explicit options (checkpoint interval, threads).
  static Result<std::unique_ptr<Lake>> Open(std::string_view url, const S3Options& s3 = {}, TableOptions defaults = {},
                                            OpenMode mode = OpenMode::kCreateIfMissing);
  // Names of the tables (subfolders holding a _delta_log), sorted.
  Result<std::vector<std::string>> ListTables();
  // kNotFound "no table 'NAME' in lake URL" when the lake has no such table.
  Result<std::unique_ptr<DeltaTable>> OpenTable(std::string_view name,
                                                std::optional<TableOptions> options = std::nullopt);
  // See DeltaTable::OpenOrCreate (partitioning and sort columns apply to a new table only).
  Result<std::unique_ptr<DeltaTable>> OpenOrCreateTable(std::string_view name,
                                                        const std::shared_ptr<arrow::Schema>& schema,
                                                        const std::vector<std::string>& partition_columns,
                                                        std::optional<TableOptions> options = std::nullopt,
                                                        const std::vector<std::string>& sort_columns = {});
  std::string url() const { return fs_->RootUrl(); }
  FileSystem& filesystem() { return *fs_; }

 private:
  Lake(std::unique_ptr<FileSystem> fs, TableOptions defaults) : fs_(std::move(fs)), defaults_(defaults) {}
  std::unique_ptr<FileSystem> fs_;
  TableOptions defaults_;
};

}  // namespace pulse::lake
