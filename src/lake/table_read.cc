#include "lake/table_read.h"

#include "lake/lake.h"

namespace pulse::lake {

Result<std::shared_ptr<arrow::RecordBatch>> ReadBatch(DeltaTable& table, const ReadOptions& options) {
  PULSE_ASSIGN_OR_RETURN(auto rows, table.Read(options));
  auto batch = rows->CombineChunksToBatch();
  if (!batch.ok()) return Status::Internal(batch.status().ToString());
  return *batch;
}

Result<std::unique_ptr<DeltaTable>> OpenTableIfPresent(Lake& lake, const std::string& name) {
  auto table = lake.OpenTable(name);
  if (!table.ok() && table.status().code() == StatusCode::kNotFound) return std::unique_ptr<DeltaTable>();
  return table;
}

}  // namespace pulse::lake
