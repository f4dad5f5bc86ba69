// The read routes' view of lake tables in pulse serve (internal to src/service):
//   - one long-lived handle per table that follows its Delta log, so learning the latest version
//     costs a look for the next commit and a check that the current one is still there (a fresh
//     handle replays the log from its last checkpoint on every request);
//   - the rows read at (table, version, columns), ready to write as JSON, kept least recently used
//     within a byte budget (serve.read_cache_mb). A Delta version never changes, so a kept read is
//     the read: replies are the same bytes with or without the cache.
// A table deleted or re-created under the service is noticed: before trusting its state, a handle
// checks that the commit file it last applied is still there with the same modification time
// (else it is dropped and the table looked up again), and rows are kept by the table's id. Rows
// kept for a version later vacuumed keep answering for it (they are that version's rows).
// Thread-safe; reads of different tables do not wait for each other.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "lake/lake.h"
#include "lake/table_json.h"

namespace pulse::service {

class TableCache {
 public:
  // max_bytes 0: no rows are kept (every request reads them); handles are kept regardless.
  // `registry` (optional) gets pulse_serve_table_reads_total{result="hit"|"miss"}.
  explicit TableCache(int64_t max_bytes, metrics::Registry* registry = nullptr);

  // The latest version of table `name` of `lake`; kNotFound when there is no such table.
  Result<int64_t> LatestVersion(lake::Lake& lake, const std::string& name);

  // The rows of `name` at `version` (at most the latest LatestVersion gave), with only `columns`
  // that the table has at that version (all columns when empty). kNotFound when the version's
  // files are gone (vacuumed) or the table is.
  Result<std::shared_ptr<const lake::RowJsonWriter>> Rows(lake::Lake& lake, const std::string& name, int64_t version,
                                                          const std::vector<std::string>& columns);

  int64_t bytes_held() const;

 private:
  struct Handle {
    std::mutex mu;
    std::unique_ptr<lake::DeltaTable> table;  // null until opened (or after the table vanished)
    int64_t version = -1;                     // the version it holds, and its commit file's mtime
    int64_t commit_mtime_ms = 0;
    std::string table_id;  // the table's metaData id
  };
  struct Entry {
    std::string key;
    std::shared_ptr<const lake::RowJsonWriter> rows;
    int64_t bytes = 0;
  };
  std::shared_ptr<Handle> HandleOf(const std::string& name);
  std::shared_ptr<const lake::RowJsonWriter> Find(const std::string& key);  // and marks it used
  void Keep(const std::string& key, std::shared_ptr<const lake::RowJsonWriter> rows, int64_t bytes);

  const int64_t max_bytes_;
  metrics::Counter* hits_ = nullptr;
  metrics::Counter* misses_ = nullptr;
  mutable std::mutex mu_;  // guards handles_, lru_, by_key_, bytes_
  std::map<std::string, std::shared_ptr<Handle>> handles_;
  std::list<Entry> lru_;  // most recently used first
  std::map<std::string, std::list<Entry>::iterator> by_key_;
  int64_t bytes_ = 0;
};

}  // namespace pulse::service
