// DeltaTable::AddColumns (schema evolution by a metaData commit). Contract in delta_table.h.
#include <arrow/api.h>

#include "core/log.h"
#include "core/time.h"
#include "lake/commit_metrics.h"
#include "lake/delta_table.h"
#include "lake/internal/delta_files.h"
#include "lake/internal/delta_log.h"
#include "lake/internal/delta_schema.h"

namespace pulse::lake {

using delta::json;

Result<CommitResult> DeltaTable::AddColumns(const std::vector<std::shared_ptr<arrow::Field>>& fields) {
  for (const auto& f : fields) {
    if (!f) return Status::InvalidArgument("add columns: a field is missing");
    if (!f->nullable())
      return Status::InvalidArgument("add columns: '" + f->name() + "' must be nullable (existing rows have no value)");
  }
  CommitResult result;
  detail::CommitProbe probe(fs_->RootUrl());
  for (int attempt = 1; attempt <= options_.max_commit_attempts; ++attempt) {
    result.attempts = attempt;
    PULSE_ASSIGN_OR_RETURN(auto applied, delta::CatchUp(*fs_, state_->log));
    (void)applied;
    PULSE_RETURN_IF_ERROR(delta::CheckWritable(state_->log));
    const Snapshot& snap = state_->log.snapshot;
    arrow::FieldVector all = snap.schema->fields();
    std::vector<std::string> added;
    for (const auto& f : fields) {
      if (auto existing = snap.schema->GetFieldByName(f->name())) {
        if (!existing->type()->Equals(*f->type())) {
          return Status::InvalidArgument("add columns: '" + f->name() + "' already exists with type " +
                                         existing->type()->ToString() + ", not " + f->type()->ToString());
        }
        continue;
      }
      all.push_back(f);
      added.push_back(f->name());
    }
    if (added.empty()) {
      result.version = snap.version;
      result.skipped = true;
      return result;
    }
    probe.Arm();  // a metaData commit to make (a skipped evolution reports nothing)
    PULSE_ASSIGN_OR_RETURN(std::string schema_string, ArrowSchemaToDelta(*arrow::schema(all)));
    json metadata = state_->log.metadata;
    metadata["schemaString"] = schema_string;
    json columns = json::array();
    for (const auto& name : added) columns.push_back(name);
    const int64_t version = snap.version + 1;
    const int64_t now = time::NowMicros() / 1000;
    json info = {{"timestamp", now},
                 {"operation", "ADD COLUMNS"},
                 {"operationParameters", {{"columns", columns.dump()}}},
                 {"readVersion", snap.version},
                 {"isBlindAppend", false},
                 {"engineInfo", "pulse/0.1"},
                 {"clientVersion", "pulse-0.1.0"}};
    const std::string text = json{{"commitInfo", info}}.dump() + "\n" + json{{"metaData", metadata}}.dump() + "\n";
    Status put = fs_->PutIfAbsent(delta::CommitKey(version), text);
    if (put.code() == StatusCode::kAlreadyExists) {  // lost the race: re-read and retry
      probe.LostRace();
      continue;
    }
    if (!put.ok()) return put.WithContext("committing version " + std::to_string(version));
    probe.Committed();
    PULSE_ASSIGN_OR_RETURN(auto summary, delta::ApplyCommit(state_->log, version, text));
    (void)summary;
    result.version = version;
    log::Info("lake", "columns added", {{"table", fs_->RootUrl()}, {"version", version}, {"columns", columns.dump()}});
    if (options_.checkpoint_interval > 0 && version % options_.checkpoint_interval == 0) {
      Status cp = delta::WriteCheckpoint(*fs_, state_->log);
      if (!cp.ok()) {
        log::Warn("lake", "checkpoint failed",
                  {{"table", fs_->RootUrl()}, {"version", version}, {"error", cp.message()}});
      }
    }
    return result;
  }
  return Status::Conflict("add columns: gave up after " + std::to_string(options_.max_commit_attempts) +
                          " commit attempts on " + fs_->RootUrl());
}

}  // namespace pulse::lake
