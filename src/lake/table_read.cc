#include "lake/table_read.h"

namespace pulse::lake {

Result<std::shared_ptr<arrow::RecordBatch>> ReadBatch(DeltaTable& table, const ReadOptions& options) {
  PULSE_ASSIGN_OR_RETURN(auto rows, table.Read(options));
  auto batch = rows->CombineChunksToBatch();
  if (!batch.ok()) return Status::Internal(batch.status().ToString());
  return *batch;
}

}  // namespace pulse::lake
