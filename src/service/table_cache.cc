#include "service/table_cache.h"

#include <arrow/table.h>
#include <arrow/util/byte_size.h>

#include <utility>

namespace pulse::service {

TableCache::TableCache(int64_t max_bytes, metrics::Registry* registry) : max_bytes_(max_bytes) {
  if (registry == nullptr) return;
  auto& reads =
      registry->AddCounter("pulse_serve_table_reads_total",
                           "Table reads of the read routes, by whether the rows were already held (hit)", {"result"});
  hits_ = &reads.With({"hit"}), misses_ = &reads.With({"miss"});
}

std::shared_ptr<TableCache::Handle> TableCache::HandleOf(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& handle = handles_[name];
  if (!handle) handle = std::make_shared<Handle>();
  return handle;
}

Result<int64_t> TableCache::LatestVersion(lake::Lake& lake, const std::string& name) {
  const auto handle = HandleOf(name);
  std::lock_guard lock(handle->mu);
  // The handle's state holds while the commit it last applied is the same file; then the log's
  // newer commits bring it up to date. Otherwise (table deleted or re-created, log unreadable
  // now) the handle is dropped and the table looked up afresh.
  if (handle->table) {
    auto applied = handle->table->CommitFile(handle->version);
    if (!applied.ok() || applied->mtime_ms != handle->commit_mtime_ms) handle->table.reset();
  }
  if (!handle->table) {  // a table's id is fixed for the handle's life (re-creation reopens it)
    handle->version = -1;
    PULSE_ASSIGN_OR_RETURN(handle->table, lake.OpenTable(name));
    auto snapshot = handle->table->LoadSnapshot();
    if (!snapshot.ok()) {
      handle->table.reset();
      return snapshot.status();
    }
    handle->table_id = snapshot->table_id;
  }
  auto latest = handle->table->LatestVersion();
  if (latest.ok() && *latest != handle->version) {
    auto commit = handle->table->CommitFile(*latest);
    if (!commit.ok()) {
      handle->table.reset();
      return commit.status();
    }
    handle->version = *latest, handle->commit_mtime_ms = commit->mtime_ms;
  }
  if (!latest.ok()) handle->table.reset();
  return latest;
}

std::shared_ptr<const lake::RowJsonWriter> TableCache::Find(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->rows;
}

void TableCache::Keep(const std::string& key, std::shared_ptr<const lake::RowJsonWriter> rows, int64_t bytes) {
  if (bytes > max_bytes_) return;
  std::lock_guard lock(mu_);
  if (by_key_.count(key) != 0) return;  // another request read them meanwhile
  lru_.push_front(Entry{key, std::move(rows), bytes});
  by_key_[key] = lru_.begin();
  bytes_ += bytes;
  while (bytes_ > max_bytes_) {
    bytes_ -= lru_.back().bytes;
    by_key_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

Result<std::shared_ptr<const lake::RowJsonWriter>> TableCache::Rows(lake::Lake& lake, const std::string& name,
                                                                    int64_t version,
                                                                    const std::vector<std::string>& columns) {
  const auto handle = HandleOf(name);
  std::string table_id;
  {
    std::lock_guard lock(handle->mu);
    table_id = handle->table_id;
  }
  std::string key = name;
  key += '\0', key += table_id, key += '\0', key += std::to_string(version);
  for (const auto& c : columns) key += '\0', key += c;
  if (auto rows = Find(key)) {
    if (hits_ != nullptr) hits_->Inc();
    return rows;
  }
  if (misses_ != nullptr) misses_->Inc();
  std::lock_guard lock(handle->mu);
  if (!handle->table) {
    PULSE_ASSIGN_OR_RETURN(handle->table, lake.OpenTable(name));
  }
  lake::DeltaTable& table = *handle->table;
  lake::ReadOptions read;
  read.version = version;
  if (!columns.empty()) {  // only the columns the table has at that version
    PULSE_ASSIGN_OR_RETURN(auto snapshot, table.LoadSnapshot(version));
    for (const auto& c : columns)
      if (snapshot.schema->GetFieldIndex(c) >= 0) read.columns.push_back(c);
  }
  PULSE_ASSIGN_OR_RETURN(auto rows, table.Read(read));
  PULSE_ASSIGN_OR_RETURN(auto writer, lake::RowJsonWriter::Make(*rows));
  auto shared = std::make_shared<const lake::RowJsonWriter>(std::move(writer));
  Keep(key, shared, static_cast<int64_t>(arrow::util::TotalBufferSize(*rows)));
  return shared;
}

int64_t TableCache::bytes_held() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace pulse::service
