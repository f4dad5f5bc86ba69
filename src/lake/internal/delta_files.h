// Internal to src/lake: writing and reading a Delta table's Parquet data files, shared by the
// commit path (delta_table.cc) and table maintenance (delta_maintenance.cc). Not a public API.
#pragma once

#include <arrow/type_fwd.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "lake/delta_table.h"
#include "lake/filesystem.h"
#include "lake/internal/delta_log.h"

namespace pulse::lake {
// A DeltaTable's cached log state (latest version it has seen).
struct DeltaTable::State {
  delta::LogState log;
};
}  // namespace pulse::lake

namespace pulse::lake::detail {

// Writes `rows` (table schema, partition columns included) as Parquet files: one or more per
// partition (at most `max_rows_per_file` rows each) under Hive-style folders, each file's rows
// sorted by `sort_columns` when given, in parallel on up to `threads` threads (0 = hardware).
// Returns the files' Delta add actions (path, partitionValues, size, modificationTime,
// dataChange = `data_change`, stats). On failure the files already written are deleted.
Result<std::vector<nlohmann::json>> WriteDataFiles(FileSystem& fs, const arrow::Table& rows,
                                                   const std::vector<std::string>& partition_columns,
                                                   const std::vector<std::string>& sort_columns,
                                                   int64_t max_rows_per_file, int threads, bool data_change);

// Best-effort removal of the data files named by add actions (used when a commit is abandoned).
void DeleteDataFiles(FileSystem& fs, const std::vector<nlohmann::json>& adds);

// Reads one data file projected to `columns` (in that order), with partition columns filled in
// from the file's partition values and columns missing from older files filled with nulls.
Result<std::shared_ptr<arrow::Table>> ReadDataFile(FileSystem& fs, const AddFile& file, const arrow::Schema& schema,
                                                   const std::vector<std::string>& partition_columns,
                                                   const std::vector<std::string>& columns);

}  // namespace pulse::lake::detail
