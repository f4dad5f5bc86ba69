#include "lake/table_changes.h"

#include <arrow/api.h>

#include "lake/internal/delta_files.h"
#include "lake/internal/delta_log.h"

namespace pulse::lake {

Result<TableChanges> ChangesSince(DeltaTable& table, int64_t since) {
  PULSE_ASSIGN_OR_RETURN(const int64_t latest, table.LatestVersion());
  if (since < 0 || since > latest) {
    return Status::InvalidArgument("ChangesSince(" + std::to_string(since) + ") on " + table.filesystem().RootUrl() +
                                   " at version " + std::to_string(latest));
  }
  TableChanges out;
  out.version = latest;
  out.appends_only = true;
  for (int64_t v = since + 1; v <= latest; ++v) {
    auto text = table.filesystem().ReadFile(delta::CommitKey(v));
    if (text.status().code() == StatusCode::kNotFound) {  // cleaned up: cannot be followed
      out.appends_only = false;
      break;
    }
    if (!text.ok()) return text.status();
    PULSE_ASSIGN_OR_RETURN(auto summary, delta::SummarizeCommit(v, *text));
    if (summary.files_removed > 0 || summary.metadata_changed) {
      out.appends_only = false;
      break;
    }
    for (auto& f : summary.added_files) out.added.push_back(std::move(f));
  }
  if (!out.appends_only) out.added.clear();
  return out;
}

Result<std::shared_ptr<arrow::Table>> ReadAddedFiles(DeltaTable& table, const std::vector<AddFile>& files,
                                                     const std::vector<std::string>& columns) {
  const auto schema = table.schema();
  arrow::FieldVector fields;
  for (const auto& col : columns) {
    auto field = schema->GetFieldByName(col);
    if (!field) return Status::InvalidArgument("no column '" + col + "' in table " + table.filesystem().RootUrl());
    fields.push_back(field);
  }
  std::vector<std::shared_ptr<arrow::Table>> parts;
  parts.reserve(files.size());
  for (const auto& f : files) {
    PULSE_ASSIGN_OR_RETURN(auto part,
                           detail::ReadDataFile(table.filesystem(), f, *schema, table.partition_columns(), columns));
    parts.push_back(std::move(part));
  }
  if (parts.empty()) {
    auto empty = arrow::Table::MakeEmpty(arrow::schema(fields));
    if (!empty.ok()) return Status::Internal(empty.status().ToString());
    return *empty;
  }
  auto all = arrow::ConcatenateTables(parts);
  if (!all.ok()) return Status::Internal("concatenating added files: " + all.status().ToString());
  return *all;
}

}  // namespace pulse::lake
