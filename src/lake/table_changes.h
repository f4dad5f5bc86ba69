// Public API of the lake module: following a Delta table's appends without re-reading it.
//
// A reader that holds a view of a table as of version V (a cache) asks what the commits after V
// did; when they only appended files it reads just those files (ReadAddedFiles) and is current
// again, whatever process wrote them. Anything else (a commit that removed files: OPTIMIZE,
// ReplacePartition; a metaData or protocol change; a log entry no longer there) it cannot follow
// that way and must drop its view.
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/delta_table.h"

namespace pulse::lake {

struct TableChanges {
  int64_t version = -1;        // the latest version, which the changes reach
  bool appends_only = false;   // every commit after `since` only added files (txn and commitInfo aside)
  std::vector<AddFile> added;  // the files they added, in commit order; empty unless appends_only
};

// Catches `table` up to its latest version (>= since >= 0, else kInvalidArgument) and reads the
// log entries after `since` (one per version).
Result<TableChanges> ChangesSince(DeltaTable& table, int64_t since);

// The rows of `files` (TableChanges::added of this table) projected to `columns`, file by file.
Result<std::shared_ptr<arrow::Table>> ReadAddedFiles(DeltaTable& table, const std::vector<AddFile>& files,
                                                     const std::vector<std::string>& columns);

}  // namespace pulse::lake
