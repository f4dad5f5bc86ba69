#include "pipeline/table_read.h"

namespace pulse::pipeline {

Result<std::shared_ptr<arrow::RecordBatch>> ReadBatch(lake::DeltaTable& table, const lake::ReadOptions& options) {
  PULSE_ASSIGN_OR_RETURN(auto rows, table.Read(options));
  auto batch = rows->CombineChunksToBatch();
  if (!batch.ok()) return Status::Internal(batch.status().ToString());
  return *batch;
}

}  // namespace pulse::pipeline
