#include "lake/delta_table.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/io/api.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>
#include <parquet/metadata.h>
#include <parquet/properties.h>
#include <parquet/statistics.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "core/ids.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "core/trace.h"
#include "lake/commit_metrics.h"
#include "lake/internal/arrow_statics.h"
#include "lake/internal/delta_files.h"
#include "lake/internal/delta_log.h"
#include "lake/internal/delta_schema.h"

namespace pulse::lake {

using delta::json;

namespace {

Status FromArrow(const arrow::Status& st, std::string_view what) {
  if (st.ok()) return Status::Ok();
  return Status::IoError(std::string(what) + ": " + st.ToString());
}

template <typename T>
Result<T> FromArrow(arrow::Result<T> r, std::string_view what) {
  if (!r.ok()) return Status::IoError(std::string(what) + ": " + r.status().ToString());
  return std::move(*r);
}

int64_t NowMillis() { return time::NowMicros() / 1000; }

size_t ThreadCount(int configured, size_t jobs) {
  size_t threads = configured > 0 ? static_cast<size_t>(configured) : std::max(1u, std::thread::hardware_concurrency());
  return std::min(threads, jobs);
}

// Runs job(i) for i in [0, n) on the shared pool, at most `threads` at a time; returns the
// first failure in index order.
Status RunParallel(size_t n, size_t threads, const std::function<Status(size_t)>& job) {
  std::vector<Status> errors(n);
  DefaultThreadPool().ParallelFor(
      n, [&](size_t i) { errors[i] = job(i); }, threads);
  for (auto& st : errors) PULSE_RETURN_IF_ERROR(st);
  return Status::Ok();
}

// Rows of `table` that belong to one partition, with the partition's values as Delta text.
struct PartitionGroup {
  std::map<std::string, std::string> values;  // column -> text ("" for null)
  std::map<std::string, bool> is_null;
  std::shared_ptr<arrow::Table> data;       // all input rows, data columns only
  std::shared_ptr<arrow::Int64Array> rows;  // row indices of this group in `data`; null = all
  int64_t num_rows() const { return rows ? rows->length() : data->num_rows(); }
  // Rows [offset, offset + length) of the group, materialised.
  Result<std::shared_ptr<arrow::Table>> Rows(int64_t offset, int64_t length) const {
    if (!rows) return data->Slice(offset, length);
    auto taken = arrow::compute::Take(data, rows->Slice(offset, length));
    if (!taken.ok()) return Status::Internal("take: " + taken.status().ToString());
    return taken->table();
  }
};

// The partition columns of a write, dictionary-encoded: per column its distinct values and each
// row's index into them (null rows are null).
struct PartitionDictionaries {
  std::vector<std::shared_ptr<arrow::Array>> values;
  std::vector<std::shared_ptr<arrow::Int32Array>> indices;
  // Each column's radix in a row's mixed-radix code: distinct values + 1 (digit 0 is null).
  uint64_t Radix(size_t c) const { return static_cast<uint64_t>(values[c]->length()) + 1; }
};

Result<PartitionDictionaries> EncodePartitionColumns(const arrow::Table& table,
                                                     const std::vector<std::string>& partition_columns) {
  const size_t ncols = partition_columns.size();
  PartitionDictionaries out;
  out.values.resize(ncols);
  out.indices.resize(ncols);
  // The columns are encoded in parallel: hashing is most of the split's cost.
  PULSE_RETURN_IF_ERROR(RunParallel(ncols, ncols, [&](size_t c) -> Status {
    auto chunked = table.GetColumnByName(partition_columns[c]);
    std::shared_ptr<arrow::Array> combined;
    if (chunked->num_chunks() == 1) {
      combined = chunked->chunk(0);
    } else {
      PULSE_ASSIGN_OR_RETURN(combined, FromArrow(arrow::Concatenate(chunked->chunks()), "partition column"));
    }
    PULSE_ASSIGN_OR_RETURN(auto encoded, FromArrow(arrow::compute::DictionaryEncode(combined), "dictionary encode"));
    auto dict = std::static_pointer_cast<arrow::DictionaryArray>(encoded.make_array());
    PULSE_ASSIGN_OR_RETURN(auto indices, FromArrow(arrow::compute::Cast(*dict->indices(), arrow::int32()), "cast"));
    out.values[c] = dict->dictionary();
    out.indices[c] = std::static_pointer_cast<arrow::Int32Array>(indices);
    return Status::Ok();
  }));
  return out;
}

// Rows numbered by partition: group_of[row] is a dense group id in order of first appearance, and
// group_code[id] the group's mixed-radix code (PartitionDictionaries::Radix per column).
struct GroupNumbering {
  std::vector<uint32_t> group_of;
  std::vector<uint64_t> group_code;
};

// Numbers the distinct combinations densely through a mixed-radix code (a direct lookup table
// when the code space is small); InvalidArgument when the code space passes 2^40.
Result<GroupNumbering> NumberGroups(const PartitionDictionaries& dicts, int64_t n) {
  uint64_t code_space = 1;
  bool code_fits = true;
  for (size_t c = 0; c < dicts.values.size(); ++c) {
    const uint64_t radix = dicts.Radix(c);
    if (code_space > (uint64_t{1} << 40) / radix) code_fits = false;
    code_space *= radix;
  }
  if (!code_fits) return Status::InvalidArgument("too many distinct partitions in one write");
  std::vector<uint64_t> codes(static_cast<size_t>(n), 0);
  for (size_t c = 0; c < dicts.indices.size(); ++c) {
    const auto& idx = dicts.indices[c];
    const uint64_t radix = dicts.Radix(c);
    const int32_t* raw = idx->raw_values();
    for (int64_t r = 0; r < n; ++r) {
      uint64_t v = idx->IsNull(r) ? 0 : static_cast<uint64_t>(raw[r]) + 1;
      codes[static_cast<size_t>(r)] = codes[static_cast<size_t>(r)] * radix + v;
    }
  }
  GroupNumbering out;
  out.group_of.assign(static_cast<size_t>(n), 0);
  if (code_space <= (uint64_t{1} << 22)) {
    std::vector<int32_t> dense(code_space, -1);
    for (int64_t r = 0; r < n; ++r) {
      uint64_t code = codes[static_cast<size_t>(r)];
      if (dense[code] < 0) {
        dense[code] = static_cast<int32_t>(out.group_code.size());
        out.group_code.push_back(code);
      }
      out.group_of[static_cast<size_t>(r)] = static_cast<uint32_t>(dense[code]);
    }
  } else {
    std::unordered_map<uint64_t, uint32_t> dense;
    for (int64_t r = 0; r < n; ++r) {
      uint64_t code = codes[static_cast<size_t>(r)];
      auto [it, inserted] = dense.emplace(code, static_cast<uint32_t>(out.group_code.size()));
      if (inserted) out.group_code.push_back(code);
      out.group_of[static_cast<size_t>(r)] = it->second;
    }
  }
  return out;
}

// Row indices grouped by group id (a counting sort: input order is kept within a group), and
// `starts`: group g's rows are [starts[g], starts[g + 1]) of the buffer's int64 values.
Result<std::shared_ptr<arrow::Buffer>> OrderRowsByGroup(const GroupNumbering& numbering, std::vector<int64_t>& starts) {
  const auto n = static_cast<int64_t>(numbering.group_of.size());
  starts.assign(numbering.group_code.size() + 1, 0);
  for (uint32_t g : numbering.group_of) ++starts[g + 1];
  for (size_t g = 1; g < starts.size(); ++g) starts[g] += starts[g - 1];
  PULSE_ASSIGN_OR_RETURN(std::shared_ptr<arrow::Buffer> order_buffer,
                         FromArrow(arrow::AllocateBuffer(n * static_cast<int64_t>(sizeof(int64_t))), "allocate"));
  auto* order = reinterpret_cast<int64_t*>(order_buffer->mutable_data());
  std::vector<int64_t> next(starts.begin(), starts.end() - 1);
  for (int64_t r = 0; r < n; ++r) order[next[numbering.group_of[static_cast<size_t>(r)]]++] = r;
  return order_buffer;
}

Result<std::vector<PartitionGroup>> SplitByPartition(const arrow::Table& table,
                                                     const std::vector<std::string>& partition_columns) {
  std::vector<int> data_columns;
  for (int i = 0; i < table.num_columns(); ++i) {
    const auto& name = table.schema()->field(i)->name();
    if (std::find(partition_columns.begin(), partition_columns.end(), name) == partition_columns.end()) {
      data_columns.push_back(i);
    }
  }
  PULSE_ASSIGN_OR_RETURN(auto data, FromArrow(table.SelectColumns(data_columns), "selecting data columns"));
  if (partition_columns.empty()) return std::vector<PartitionGroup>{{{}, {}, data, nullptr}};

  PULSE_ASSIGN_OR_RETURN(const PartitionDictionaries dicts, EncodePartitionColumns(table, partition_columns));
  PULSE_ASSIGN_OR_RETURN(const GroupNumbering numbering, NumberGroups(dicts, table.num_rows()));
  std::vector<int64_t> starts;
  PULSE_ASSIGN_OR_RETURN(std::shared_ptr<arrow::Buffer> order_buffer, OrderRowsByGroup(numbering, starts));
  std::vector<PartitionGroup> groups;
  groups.reserve(numbering.group_code.size());
  for (size_t g = 0; g < numbering.group_code.size(); ++g) {
    PartitionGroup group;
    // Decode the group's code back into per-column dictionary indices (-1 = null).
    std::vector<int32_t> index(partition_columns.size());
    uint64_t code = numbering.group_code[g];
    for (size_t c = partition_columns.size(); c-- > 0;) {
      index[c] = static_cast<int32_t>(code % dicts.Radix(c)) - 1;
      code /= dicts.Radix(c);
    }
    for (size_t c = 0; c < partition_columns.size(); ++c) {
      std::optional<std::string> text;
      if (index[c] >= 0) {
        PULSE_ASSIGN_OR_RETURN(text, PartitionValueText(*dicts.values[c], index[c]));
      }
      group.values[partition_columns[c]] = text.value_or("");
      group.is_null[partition_columns[c]] = !text.has_value();
    }
    group.data = data;
    group.rows = std::make_shared<arrow::Int64Array>(starts[g + 1] - starts[g], order_buffer, nullptr, 0, starts[g]);
    groups.push_back(std::move(group));
  }
  return groups;
}

// An encoded Parquet file and its Delta statistics.
struct EncodedFile {
  std::shared_ptr<arrow::Buffer> bytes;
  json stats;
};

std::string IsoMillis(int64_t ms) {
  std::string t = time::FormatTimestamp(ms * 1000);  // "...:SSZ" or "...:SS.ffffffZ"
  t.pop_back();
  auto dot = t.find('.');
  t = dot == std::string::npos ? t + ".000" : t.substr(0, dot + 4);
  return t + "Z";
}

// Delta file statistics from the statistics the Parquet writer already computed per row group
// (no second pass over the data): numRecords, and per column nullCount, minValues and maxValues
// for numbers, timestamps (ISO-8601 at millisecond precision, rounded outwards so the bounds stay
// valid) and strings of at most 32 bytes. Readers such as delta-rs, Spark and DuckDB skip files
// with them. A column whose statistics are missing is left out, which readers treat as unknown.
json FileStats(const parquet::FileMetaData& meta, const arrow::Schema& schema) {
  json mins = json::object(), maxs = json::object(), nulls = json::object();
  for (int c = 0; c < schema.num_fields() && c < meta.num_columns(); ++c) {
    const auto& field = schema.field(c);
    const auto id = field->type()->id();
    int64_t null_count = 0;
    bool have_minmax = true;
    std::optional<double> dmin, dmax;
    std::optional<int64_t> imin, imax;
    std::optional<std::string> smin, smax;
    for (int rg = 0; rg < meta.num_row_groups(); ++rg) {
      auto chunk = meta.RowGroup(rg)->ColumnChunk(c);
      auto st = chunk->statistics();
      if (!st) {
        have_minmax = false;
        null_count = -1;
        break;
      }
      if (null_count >= 0 && st->HasNullCount()) null_count += st->null_count();
      if (!st->HasMinMax()) {
        if (chunk->num_values() > st->null_count()) have_minmax = false;
        continue;
      }
      switch (st->physical_type()) {
        case parquet::Type::DOUBLE: {
          auto& t = static_cast<const parquet::DoubleStatistics&>(*st);
          dmin = dmin ? std::min(*dmin, t.min()) : t.min();
          dmax = dmax ? std::max(*dmax, t.max()) : t.max();
          break;
        }
        case parquet::Type::INT64: {
          auto& t = static_cast<const parquet::Int64Statistics&>(*st);
          imin = imin ? std::min(*imin, t.min()) : t.min();
          imax = imax ? std::max(*imax, t.max()) : t.max();
          break;
        }
        case parquet::Type::INT32: {
          auto& t = static_cast<const parquet::Int32Statistics&>(*st);
          imin = imin ? std::min<int64_t>(*imin, t.min()) : t.min();
          imax = imax ? std::max<int64_t>(*imax, t.max()) : t.max();
          break;
        }
        case parquet::Type::BYTE_ARRAY: {
          auto& t = static_cast<const parquet::ByteArrayStatistics&>(*st);
          std::string lo(reinterpret_cast<const char*>(t.min().ptr), t.min().len);
          std::string hi(reinterpret_cast<const char*>(t.max().ptr), t.max().len);
          smin = smin ? std::min(*smin, lo) : lo;
          smax = smax ? std::max(*smax, hi) : hi;
          break;
        }
        default: have_minmax = false;
      }
    }
    if (null_count >= 0) nulls[field->name()] = null_count;
    if (!have_minmax) continue;
    const std::string& name = field->name();
    if (id == arrow::Type::DOUBLE && dmin && std::isfinite(*dmin) && std::isfinite(*dmax)) {
      mins[name] = *dmin, maxs[name] = *dmax;
    } else if ((id == arrow::Type::INT64 || id == arrow::Type::INT32) && imin) {
      mins[name] = *imin, maxs[name] = *imax;
    } else if (id == arrow::Type::TIMESTAMP && imin &&
               static_cast<const arrow::TimestampType&>(*field->type()).unit() == arrow::TimeUnit::MICRO) {
      const int64_t lo = *imin, hi = *imax;
      mins[name] = IsoMillis(lo >= 0 ? lo / 1000 : -((-lo + 999) / 1000));
      maxs[name] = IsoMillis(hi >= 0 ? (hi + 999) / 1000 : -((-hi) / 1000));
    } else if (id == arrow::Type::STRING && smin && smin->size() <= 32 && smax->size() <= 32) {
      mins[name] = *smin, maxs[name] = *smax;
    }
  }
  return json{{"numRecords", meta.num_rows()}, {"minValues", mins}, {"maxValues", maxs}, {"nullCount", nulls}};
}

Result<EncodedFile> ToParquet(const arrow::Table& table) {
  PULSE_ASSIGN_OR_RETURN(auto sink, FromArrow(arrow::io::BufferOutputStream::Create(), "buffer"));
  // Dictionary encoding pays off for repetitive text (names, sources, units); numbers and
  // timestamps are mostly distinct, so they are stored plain.
  parquet::WriterProperties::Builder builder;
  builder.compression(parquet::Compression::SNAPPY)->max_row_group_length(1 << 20);
  for (const auto& field : table.schema()->fields()) {
    auto id = field->type()->id();
    if (id == arrow::Type::DOUBLE || id == arrow::Type::FLOAT || id == arrow::Type::TIMESTAMP)
      builder.disable_dictionary(field->name());
  }
  PULSE_ASSIGN_OR_RETURN(
      auto writer,
      FromArrow(parquet::arrow::FileWriter::Open(*table.schema(), arrow::default_memory_pool(), sink, builder.build()),
                "opening Parquet writer"));
  PULSE_RETURN_IF_ERROR(FromArrow(writer->WriteTable(table, 1 << 20), "writing Parquet"));
  PULSE_RETURN_IF_ERROR(FromArrow(writer->Close(), "closing Parquet writer"));
  EncodedFile out;
  out.stats = FileStats(*writer->metadata(), *table.schema());
  PULSE_ASSIGN_OR_RETURN(out.bytes, FromArrow(sink->Finish(), "buffer"));
  return out;
}

bool SameFields(const arrow::Schema& a, const arrow::Schema& b) {
  if (a.num_fields() != b.num_fields()) return false;
  for (int i = 0; i < a.num_fields(); ++i)
    if (a.field(i)->name() != b.field(i)->name() || !a.field(i)->type()->Equals(*b.field(i)->type())) return false;
  return true;
}

bool MatchesPartition(const std::map<std::string, std::string>& file_values,
                      const std::map<std::string, std::string>& partition) {
  for (const auto& [col, value] : partition) {
    auto it = file_values.find(col);
    if (it == file_values.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> Snapshot::sort_columns() const {
  std::vector<std::string> out;
  auto it = configuration.find(kSortColumnsKey);
  if (it == configuration.end()) return out;
  size_t start = 0;
  while (start <= it->second.size()) {
    size_t comma = it->second.find(',', start);
    if (comma == std::string::npos) comma = it->second.size();
    std::string col = it->second.substr(start, comma - start);
    // Only existing data columns count: a hand-edited or foreign value never breaks writes.
    if (!col.empty() && schema && schema->GetFieldByName(col) &&
        std::find(partition_columns.begin(), partition_columns.end(), col) == partition_columns.end())
      out.push_back(col);
    start = comma + 1;
  }
  return out;
}

int64_t Snapshot::num_rows() const {
  int64_t total = 0;
  for (const auto& [path, f] : files) {
    if (f.num_records < 0) return -1;
    total += f.num_records;
  }
  return total;
}

DeltaTable::DeltaTable(std::unique_ptr<FileSystem> fs, TableOptions options)
    : fs_(std::move(fs)), options_(options), state_(std::make_unique<State>()) {
  WarmArrowStatics();
}
DeltaTable::~DeltaTable() = default;

std::shared_ptr<arrow::Schema> DeltaTable::schema() const { return state_->log.snapshot.schema; }
const std::vector<std::string>& DeltaTable::partition_columns() const { return state_->log.snapshot.partition_columns; }
std::vector<std::string> DeltaTable::sort_columns() const { return state_->log.snapshot.sort_columns(); }

Result<std::unique_ptr<DeltaTable>> DeltaTable::Create(std::unique_ptr<FileSystem> fs,
                                                       const std::shared_ptr<arrow::Schema>& schema,
                                                       const std::vector<std::string>& partition_columns,
                                                       const std::string& name, TableOptions options,
                                                       const std::vector<std::string>& sort_columns) {
  if (!schema || schema->num_fields() == 0) return Status::InvalidArgument("a table needs at least one column");
  for (const auto& col : sort_columns) {
    auto field = schema->GetFieldByName(col);
    if (!field) return Status::InvalidArgument("sort column '" + col + "' is not in the schema");
    if (std::find(partition_columns.begin(), partition_columns.end(), col) != partition_columns.end())
      return Status::InvalidArgument("sort column '" + col + "' is a partition column");
    if (col.find(',') != std::string::npos) return Status::InvalidArgument("sort column '" + col + "' contains ','");
    auto id = field->type()->id();
    if (id == arrow::Type::LIST || id == arrow::Type::STRUCT || id == arrow::Type::MAP)
      return Status::InvalidArgument("sort column '" + col + "' has unsortable type " + field->type()->ToString());
  }
  for (const auto& col : partition_columns) {
    auto field = schema->GetFieldByName(col);
    if (!field) return Status::InvalidArgument("partition column '" + col + "' is not in the schema");
    auto id = field->type()->id();
    if (id != arrow::Type::STRING && id != arrow::Type::INT64 && id != arrow::Type::INT32 &&
        id != arrow::Type::DATE32 && id != arrow::Type::TIMESTAMP && id != arrow::Type::BOOL) {
      return Status::InvalidArgument("partition column '" + col + "' has unsupported type " +
                                     field->type()->ToString());
    }
  }
  if (partition_columns.size() == static_cast<size_t>(schema->num_fields()))
    return Status::InvalidArgument("every column is a partition column; a table needs a data column");
  PULSE_ASSIGN_OR_RETURN(std::string schema_string, ArrowSchemaToDelta(*schema));
  json protocol = {{"minReaderVersion", 1}, {"minWriterVersion", 2}};
  json metadata = {{"id", NewUuid()},
                   {"format", {{"provider", "parquet"}, {"options", json::object()}}},
                   {"schemaString", schema_string},
                   {"partitionColumns", partition_columns},
                   {"configuration", json::object()},
                   {"createdTime", NowMillis()}};
  if (!sort_columns.empty()) {
    std::string joined;
    for (const auto& c : sort_columns) joined += (joined.empty() ? "" : ",") + c;
    metadata["configuration"][kSortColumnsKey] = joined;
  }
  if (!name.empty()) metadata["name"] = name;
  json info = {{"timestamp", NowMillis()},
               {"operation", "CREATE TABLE"},
               {"operationParameters", {{"partitionBy", json(partition_columns).dump()}}},
               {"engineInfo", "pulse/0.1"},
               {"clientVersion", "pulse-0.1.0"}};
  std::string text = json{{"commitInfo", info}}.dump() + "\n" + json{{"protocol", protocol}}.dump() + "\n" +
                     json{{"metaData", metadata}}.dump() + "\n";
  Status put = fs->PutIfAbsent(delta::CommitKey(0), text);
  if (put.code() == StatusCode::kAlreadyExists)
    return Status::AlreadyExists("a Delta table already exists at " + fs->RootUrl());
  PULSE_RETURN_IF_ERROR(put);
  return Open(std::move(fs), options);
}

Result<std::unique_ptr<DeltaTable>> DeltaTable::Open(std::unique_ptr<FileSystem> fs, TableOptions options) {
  PULSE_ASSIGN_OR_RETURN(auto log, delta::LoadState(*fs, std::nullopt));
  std::unique_ptr<DeltaTable> table(new DeltaTable(std::move(fs), options));
  table->state_->log = std::move(log);
  return table;
}

Result<std::unique_ptr<DeltaTable>> DeltaTable::OpenOrCreate(std::unique_ptr<FileSystem> fs,
                                                             const std::shared_ptr<arrow::Schema>& schema,
                                                             const std::vector<std::string>& partition_columns,
                                                             const std::string& name, TableOptions options,
                                                             const std::vector<std::string>& sort_columns) {
  auto existing = delta::LoadState(*fs, std::nullopt);
  if (existing.status().code() == StatusCode::kNotFound) {
    auto created = Create(fs->Sub(""), schema, partition_columns, name, options, sort_columns);
    if (created.ok() || created.status().code() != StatusCode::kAlreadyExists) return created;
    existing = delta::LoadState(*fs, std::nullopt);  // another process created it first
  }
  if (!existing.ok()) return existing.status();
  const auto& snap = existing->snapshot;
  // The layout (partitioning, sort columns) of an existing table is its own: writers follow its
  // metadata, so a table created with an older layout stays readable and writable.
  if (!SameFields(*snap.schema, *schema)) {
    return Status::InvalidArgument("table at " + fs->RootUrl() +
                                   " exists with a different schema: " + snap.schema->ToString());
  }
  std::unique_ptr<DeltaTable> table(new DeltaTable(std::move(fs), options));
  table->state_->log = std::move(*existing);
  return table;
}

Result<int64_t> DeltaTable::LatestVersion() {
  PULSE_ASSIGN_OR_RETURN(auto applied, delta::CatchUp(*fs_, state_->log));
  (void)applied;
  return state_->log.snapshot.version;
}

Result<FileInfo> DeltaTable::CommitFile(int64_t version) { return fs_->Stat(delta::CommitKey(version)); }

Result<Snapshot> DeltaTable::LoadSnapshot(std::optional<int64_t> version) {
  if (!version) {
    PULSE_ASSIGN_OR_RETURN(auto applied, delta::CatchUp(*fs_, state_->log));
    (void)applied;
    return state_->log.snapshot;
  }
  if (*version == state_->log.snapshot.version) return state_->log.snapshot;
  PULSE_ASSIGN_OR_RETURN(auto log, delta::LoadState(*fs_, version));
  return std::move(log.snapshot);
}

namespace {

// Three-way comparison of rows i and j of one column (nulls last). Arrow's sort_indices lives in
// libarrow_compute, which Pulse does not link, so the few types a sort column can have are
// compared here.
using RowCompare = std::function<int(int64_t, int64_t)>;

template <typename ArrayT>
RowCompare CompareValues(const std::shared_ptr<arrow::Array>& column) {
  auto a = std::static_pointer_cast<ArrayT>(column);
  return [a](int64_t i, int64_t j) {
    const bool ni = a->IsNull(i), nj = a->IsNull(j);
    if (ni || nj) return ni == nj ? 0 : (ni ? 1 : -1);
    const auto x = a->GetView(i), y = a->GetView(j);
    return x < y ? -1 : (y < x ? 1 : 0);
  };
}

Result<RowCompare> ColumnCompare(const std::shared_ptr<arrow::Array>& column, const std::string& name) {
  switch (column->type_id()) {
    case arrow::Type::STRING: return CompareValues<arrow::StringArray>(column);
    case arrow::Type::INT64: return CompareValues<arrow::Int64Array>(column);
    case arrow::Type::INT32: return CompareValues<arrow::Int32Array>(column);
    case arrow::Type::INT16: return CompareValues<arrow::Int16Array>(column);
    case arrow::Type::INT8: return CompareValues<arrow::Int8Array>(column);
    case arrow::Type::TIMESTAMP: return CompareValues<arrow::TimestampArray>(column);
    case arrow::Type::DATE32: return CompareValues<arrow::Date32Array>(column);
    case arrow::Type::DOUBLE: return CompareValues<arrow::DoubleArray>(column);
    case arrow::Type::FLOAT: return CompareValues<arrow::FloatArray>(column);
    case arrow::Type::BOOL: return CompareValues<arrow::BooleanArray>(column);
    default:
      return Status::InvalidArgument("sort column '" + name + "' has type " + column->type()->ToString() +
                                     ", which Pulse cannot sort by");
  }
}

// Sort keys as integers, when every sort column allows it (no nulls; strings: the rank of the
// row's value among the column's distinct values; integer and timestamp columns: the value).
// Comparing them orders rows exactly as the column comparisons above do, at a fraction of the cost.
std::optional<std::vector<std::vector<int64_t>>> IntegerSortKeys(const arrow::RecordBatch& batch,
                                                                 const std::vector<std::string>& sort_columns) {
  std::vector<std::vector<int64_t>> keys;
  const auto n = static_cast<size_t>(batch.num_rows());
  for (const auto& c : sort_columns) {
    auto column = batch.GetColumnByName(c);
    if (!column || column->null_count() > 0) return std::nullopt;
    std::vector<int64_t> key(n);
    if (column->type_id() == arrow::Type::STRING) {
      const auto& a = static_cast<const arrow::StringArray&>(*column);
      std::unordered_map<std::string_view, int64_t> rank;
      for (size_t i = 0; i < n; ++i) rank.try_emplace(a.GetView(static_cast<int64_t>(i)), 0);
      std::vector<std::string_view> distinct;
      distinct.reserve(rank.size());
      for (const auto& [v, r] : rank) distinct.push_back(v);
      std::sort(distinct.begin(), distinct.end());
      for (size_t r = 0; r < distinct.size(); ++r) rank[distinct[r]] = static_cast<int64_t>(r);
      for (size_t i = 0; i < n; ++i) key[i] = rank[a.GetView(static_cast<int64_t>(i))];
    } else if (column->type_id() == arrow::Type::INT64 || column->type_id() == arrow::Type::TIMESTAMP) {
      const auto* values = column->data()->GetValues<int64_t>(1);
      key.assign(values, values + n);
    } else {
      return std::nullopt;
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

// Sorts every group's rows by `sort_columns` (ascending, nulls last, stable), so that each file
// written from it is ordered and its min/max statistics are tight.
Status SortGroups(std::vector<PartitionGroup>& groups, const std::vector<std::string>& sort_columns, int threads) {
  if (sort_columns.empty()) return Status::Ok();
  return RunParallel(groups.size(), ThreadCount(threads, groups.size()), [&](size_t g) -> Status {
    auto& group = groups[g];
    PULSE_ASSIGN_OR_RETURN(auto rows, group.Rows(0, group.num_rows()));
    PULSE_ASSIGN_OR_RETURN(auto batch, FromArrow(rows->CombineChunksToBatch(), "sorting"));
    std::vector<RowCompare> compares;
    for (const auto& c : sort_columns) {
      auto column = batch->GetColumnByName(c);
      if (!column) return Status::InvalidArgument("sort column '" + c + "' is not a data column");
      PULSE_ASSIGN_OR_RETURN(auto cmp, ColumnCompare(column, c));
      compares.push_back(std::move(cmp));
    }
    std::vector<int64_t> order(static_cast<size_t>(batch->num_rows()));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    if (auto keys = IntegerSortKeys(*batch, sort_columns)) {
      std::stable_sort(order.begin(), order.end(), [&keys](int64_t i, int64_t j) {
        for (const auto& k : *keys) {
          const int64_t a = k[static_cast<size_t>(i)], b = k[static_cast<size_t>(j)];
          if (a != b) return a < b;
        }
        return false;
      });
    } else {
      std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
        for (const auto& cmp : compares)
          if (int c = cmp(i, j); c != 0) return c < 0;
        return false;
      });
    }
    arrow::Int64Builder indices;
    PULSE_RETURN_IF_ERROR(FromArrow(indices.AppendValues(order), "sorting"));
    PULSE_ASSIGN_OR_RETURN(auto index_array, FromArrow(indices.Finish(), "sorting"));
    PULSE_ASSIGN_OR_RETURN(auto sorted, FromArrow(arrow::compute::Take(rows, index_array), "sorting"));
    group.data = sorted.table();
    group.rows = nullptr;
    return Status::Ok();
  });
}

}  // namespace

namespace detail {

Result<std::vector<json>> WriteDataFiles(FileSystem& fs, const arrow::Table& rows,
                                         const std::vector<std::string>& partition_columns,
                                         const std::vector<std::string>& sort_columns, int64_t max_rows_per_file,
                                         int threads, bool data_change) {
  if (max_rows_per_file <= 0) return Status::InvalidArgument("max_rows_per_file must be > 0");
  PULSE_ASSIGN_OR_RETURN(auto groups, SplitByPartition(rows, partition_columns));
  PULSE_RETURN_IF_ERROR(SortGroups(groups, sort_columns, threads));
  struct Job {
    const PartitionGroup* group;
    std::string dir;
    json partition_values;
    int64_t offset;
  };
  std::vector<Job> jobs;
  for (const auto& group : groups) {
    Job job{&group, "", json::object(), 0};
    for (const auto& col : partition_columns) {
      bool null = group.is_null.at(col);
      job.dir +=
          col + "=" +
          (null ? std::string("__HIVE_DEFAULT_PARTITION__") : delta::EscapePartitionValue(group.values.at(col))) + "/";
      job.partition_values[col] = null ? json() : json(group.values.at(col));
    }
    for (int64_t offset = 0; offset < group.num_rows(); offset += max_rows_per_file) {
      job.offset = offset;
      jobs.push_back(job);
    }
  }
  std::vector<json> adds(jobs.size());
  Status st = RunParallel(jobs.size(), ThreadCount(threads, jobs.size()), [&](size_t i) -> Status {
    const Job& job = jobs[i];
    PULSE_ASSIGN_OR_RETURN(auto slice, job.group->Rows(job.offset, max_rows_per_file));
    PULSE_ASSIGN_OR_RETURN(EncodedFile encoded, ToParquet(*slice));
    std::string_view bytes(reinterpret_cast<const char*>(encoded.bytes->data()),
                           static_cast<size_t>(encoded.bytes->size()));
    std::string key = job.dir + "part-" + NewUuid() + "-c000.snappy.parquet";
    PULSE_RETURN_IF_ERROR(fs.WriteFile(key, bytes));
    adds[i] = {{"path", delta::EncodePath(key)},
               {"partitionValues", job.partition_values},
               {"size", static_cast<int64_t>(bytes.size())},
               {"modificationTime", NowMillis()},
               {"dataChange", data_change},
               {"stats", encoded.stats.dump()}};
    return Status::Ok();
  });
  if (!st.ok()) {
    for (const auto& add : adds)
      if (add.contains("path")) (void)fs.Delete(delta::DecodePath(add["path"].get<std::string>()));
    return st;
  }
  return adds;
}

void DeleteDataFiles(FileSystem& fs, const std::vector<json>& adds) {
  for (const auto& add : adds) (void)fs.Delete(delta::DecodePath(add["path"].get<std::string>()));
}

}  // namespace detail

namespace {

using detail::DeleteDataFiles;

Status CheckRows(const arrow::Schema& table_schema, const arrow::Table& rows) {
  if (!SameFields(table_schema, *rows.schema())) {
    return Status::InvalidArgument("rows do not match the table schema: expected " + table_schema.ToString() +
                                   ", got " + rows.schema()->ToString());
  }
  for (int i = 0; i < table_schema.num_fields(); ++i) {
    if (!table_schema.field(i)->nullable() && rows.column(i)->null_count() > 0) {
      return Status::InvalidArgument("column '" + table_schema.field(i)->name() + "' is not nullable but has " +
                                     std::to_string(rows.column(i)->null_count()) + " nulls");
    }
  }
  return Status::Ok();
}

// The transaction fields of `options`: app_version set with app_id, transaction ids unique and
// non-empty, versions >= 0.
Status CheckTransactions(const WriteOptions& options) {
  if (!options.app_id.empty() && options.app_version < 0) {
    return Status::InvalidArgument("WriteOptions.app_version must be >= 0 when app_id is set");
  }
  std::set<std::string> ids;
  if (!options.app_id.empty()) ids.insert(options.app_id);
  for (const auto& [id, v] : options.transactions) {
    if (id.empty() || v < 0 || !ids.insert(id).second) {
      return Status::InvalidArgument("WriteOptions.transactions: empty or repeated appId, or a version < 0");
    }
  }
  return Status::Ok();
}

// The commitInfo action of a write of `num_files` files and `num_rows` rows at `version`.
json CommitInfo(const WriteOptions& options, const std::map<std::string, std::string>* replace, int64_t version,
                int64_t now, size_t num_files, int64_t num_rows) {
  json params = json::object();
  for (const auto& [k, v] : options.operation_parameters) params[k] = v;
  std::string operation = options.operation;
  if (replace != nullptr) {
    json predicate = json::object();
    for (const auto& [k, v] : *replace) predicate[k] = v;
    params["partition"] = predicate.dump();
    if (operation == "WRITE") operation = "REPLACE PARTITION";
  } else {
    params["mode"] = "Append";
  }
  json info = {
      {"timestamp", now},
      {"operation", operation},
      {"operationParameters", params},
      {"readVersion", version - 1},
      {"isBlindAppend", replace == nullptr},
      {"engineInfo", "pulse/0.1"},
      {"clientVersion", "pulse-0.1.0"},
      {"operationMetrics", {{"numFiles", std::to_string(num_files)}, {"numOutputRows", std::to_string(num_rows)}}}};
  // The writing span (core/trace.h), so a table version leads to its trace (commitInfo is free-form).
  if (const std::string traceparent = trace::FormatTraceparent(trace::Current()); !traceparent.empty())
    info["traceparent"] = traceparent;
  return info;
}

// The commit file of a write at `version` (one JSON action a line): commitInfo, the txn actions,
// a remove for every live file of partition `*replace` (when given; counted in `removed`), then
// the adds.
std::string CommitText(const delta::LogState& log, int64_t version, const std::vector<json>& adds, int64_t num_rows,
                       const std::map<std::string, std::string>* replace, const WriteOptions& options,
                       int64_t& removed) {
  const int64_t now = NowMillis();
  std::string text =
      json{{"commitInfo", CommitInfo(options, replace, version, now, adds.size(), num_rows)}}.dump() + "\n";
  if (!options.app_id.empty()) {
    text += json{{"txn", {{"appId", options.app_id}, {"version", options.app_version}, {"lastUpdated", now}}}}.dump() +
            "\n";
  }
  for (const auto& [id, v] : options.transactions) {
    text += json{{"txn", {{"appId", id}, {"version", v}, {"lastUpdated", now}}}}.dump() + "\n";
  }
  removed = 0;
  if (replace != nullptr) {
    for (const auto& [path, body] : log.adds) {
      if (!MatchesPartition(log.snapshot.files.at(path).partition_values, *replace)) continue;
      json remove = {{"path", path},
                     {"deletionTimestamp", now},
                     {"dataChange", true},
                     {"extendedFileMetadata", true},
                     {"partitionValues", body.contains("partitionValues") && body["partitionValues"].is_object()
                                             ? body["partitionValues"]
                                             : json::object()},
                     {"size", log.snapshot.files.at(path).size}};
      text += json{{"remove", remove}}.dump() + "\n";
      ++removed;
    }
  }
  for (const auto& add : adds) text += json{{"add", add}}.dump() + "\n";
  return text;
}

// Whether a commit that lost the race to the `winners` must give up because one of them changed
// (with data) the partition being replaced: kConflict then, naming the version.
Status CheckReplacedPartitionUntouched(const std::vector<delta::CommitSummary>& winners,
                                       const std::map<std::string, std::string>* replace, int64_t base_version) {
  if (replace == nullptr) return Status::Ok();
  for (const auto& w : winners) {
    // A compaction (only dataChange=false actions) changes no rows: the replacement removes
    // whatever files are live in the partition now, compacted ones included.
    if (!w.data_change) continue;
    for (const auto& touched : w.touched_partitions) {
      if (MatchesPartition(touched, *replace)) {
        return Status::Conflict("version " + std::to_string(w.version) +
                                " changed the partition being replaced since version " + std::to_string(base_version) +
                                "; re-read and retry");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CommitResult> DeltaTable::Append(const arrow::Table& rows, const WriteOptions& options) {
  return Commit(rows, nullptr, options);
}

Result<CommitResult> DeltaTable::ReplacePartition(const std::map<std::string, std::string>& partition,
                                                  const arrow::Table& rows, const WriteOptions& options) {
  const auto& cols = partition_columns();
  if (partition.size() != cols.size())
    return Status::InvalidArgument("ReplacePartition needs a value for every partition column");
  for (const auto& col : cols)
    if (!partition.count(col)) return Status::InvalidArgument("ReplacePartition: no value for '" + col + "'");
  // Every row must belong to the partition.
  for (const auto& col : cols) {
    auto chunked = rows.GetColumnByName(col);
    if (!chunked) continue;  // CheckRows reports the schema mismatch
    for (const auto& chunk : chunked->chunks()) {
      for (int64_t r = 0; r < chunk->length(); ++r) {
        PULSE_ASSIGN_OR_RETURN(auto text, PartitionValueText(*chunk, r));
        if (text.value_or("") != partition.at(col)) {
          return Status::InvalidArgument("ReplacePartition: a row has " + col + "='" + text.value_or("") +
                                         "', outside the partition " + col + "='" + partition.at(col) + "'");
        }
      }
    }
  }
  return Commit(rows, &partition, options);
}

Result<CommitResult> DeltaTable::Commit(const arrow::Table& rows, const std::map<std::string, std::string>* replace,
                                        const WriteOptions& options) {
  // The span is current while the commit file is written: CommitInfo records it as traceparent.
  trace::Span span = trace::Span::Start("lake.commit");
  if (span.context().sampled() && trace::Recording()) {
    span.SetAttribute("pulse.lake.table", detail::TableNameOf(fs_->RootUrl()));
    span.SetAttribute("pulse.lake.operation",
                      replace != nullptr ? std::string("REPLACE PARTITION") : options.operation);
    span.SetAttribute("pulse.lake.rows", rows.num_rows());
  }
  auto result = CommitTraced(rows, replace, options);
  if (!result.ok()) {
    span.SetError(result.status().message());
  } else {
    span.SetAttribute("pulse.lake.version", result->version);
    span.SetAttribute("pulse.lake.attempts", result->attempts);
    span.SetAttribute("pulse.lake.skipped", result->skipped);
  }
  return result;
}

Result<CommitResult> DeltaTable::CommitTraced(const arrow::Table& rows,
                                              const std::map<std::string, std::string>* replace,
                                              const WriteOptions& options) {
  PULSE_RETURN_IF_ERROR(CheckTransactions(options));
  auto precondition = [&]() {
    return options.precondition ? options.precondition(state_->log.snapshot.app_versions) : Status::Ok();
  };
  PULSE_ASSIGN_OR_RETURN(auto applied, delta::CatchUp(*fs_, state_->log));
  (void)applied;
  PULSE_RETURN_IF_ERROR(delta::CheckWritable(state_->log));
  PinFingerprints(*schema());
  PinFingerprints(*rows.schema());
  PULSE_RETURN_IF_ERROR(CheckRows(*schema(), rows));
  auto already_applied = [&]() {
    if (options.app_id.empty()) return false;
    auto it = state_->log.snapshot.app_versions.find(options.app_id);
    return it != state_->log.snapshot.app_versions.end() && it->second >= options.app_version;
  };
  detail::CommitProbe probe(fs_->RootUrl());
  CommitResult result;
  PULSE_RETURN_IF_ERROR(precondition());
  if (already_applied()) {
    result.version = state_->log.snapshot.version;
    result.skipped = true;
    return result;
  }

  std::vector<json> adds;
  if (rows.num_rows() > 0) {
    PULSE_ASSIGN_OR_RETURN(adds, detail::WriteDataFiles(*fs_, rows, partition_columns(), sort_columns(),
                                                        options_.max_rows_per_file, options_.write_threads, true));
  }
  const int64_t base_version = state_->log.snapshot.version;
  probe.Arm();
  for (int attempt = 1; attempt <= options_.max_commit_attempts; ++attempt) {
    result.attempts = attempt;
    if (attempt > 1) {
      PULSE_ASSIGN_OR_RETURN(auto winners, delta::CatchUp(*fs_, state_->log));
      if (Status st = CheckReplacedPartitionUntouched(winners, replace, base_version); !st.ok()) {
        DeleteDataFiles(*fs_, adds);
        return st;
      }
      PULSE_RETURN_IF_ERROR(delta::CheckWritable(state_->log));
      if (!SameFields(*schema(), *rows.schema())) {
        DeleteDataFiles(*fs_, adds);
        return Status::Conflict("the table schema changed during the write");
      }
      if (Status pre = precondition(); !pre.ok()) {
        DeleteDataFiles(*fs_, adds);
        return pre;
      }
      if (already_applied()) {
        DeleteDataFiles(*fs_, adds);
        result.version = state_->log.snapshot.version;
        result.skipped = true;
        return result;
      }
    }
    const int64_t version = state_->log.snapshot.version + 1;
    int64_t removed = 0;
    const std::string text = CommitText(state_->log, version, adds, rows.num_rows(), replace, options, removed);
    Status put = fs_->PutIfAbsent(delta::CommitKey(version), text);
    if (put.code() == StatusCode::kAlreadyExists) {  // lost the race: catch up and retry
      probe.LostRace();
      continue;
    }
    if (!put.ok()) {
      DeleteDataFiles(*fs_, adds);
      return put.WithContext("committing version " + std::to_string(version));
    }
    probe.Committed();  // the log entry exists: the write is visible whatever follows
    PULSE_ASSIGN_OR_RETURN(auto summary, delta::ApplyCommit(state_->log, version, text));
    (void)summary;
    result.version = version;
    result.files_added = static_cast<int64_t>(adds.size());
    result.files_removed = removed;
    result.rows_added = rows.num_rows();
    AfterCommit(result, attempt);
    return result;
  }
  DeleteDataFiles(*fs_, adds);
  return Status::Conflict("gave up after " + std::to_string(options_.max_commit_attempts) + " commit attempts on " +
                          fs_->RootUrl());
}

void DeltaTable::AfterCommit(const CommitResult& result, int attempt) {
  const int64_t version = result.version;
  log::Debug("lake", "committed",
             {{"table", fs_->RootUrl()},
              {"version", version},
              {"attempts", attempt},
              {"files_added", result.files_added},
              {"rows", result.rows_added}});
  if (options_.checkpoint_interval > 0 && version % options_.checkpoint_interval == 0) {
    // A failed checkpoint costs readers time, not correctness: the commit stands.
    Status cp = delta::WriteCheckpoint(*fs_, state_->log);
    if (!cp.ok()) {
      log::Warn("lake", "checkpoint failed",
                {{"table", fs_->RootUrl()}, {"version", version}, {"error", cp.message()}});
    }
  }
}

namespace detail {

Result<std::shared_ptr<arrow::Table>> ReadDataFile(FileSystem& fs, const AddFile& file, const arrow::Schema& schema,
                                                   const std::vector<std::string>& partition_columns,
                                                   const std::vector<std::string>& columns) {
  PULSE_ASSIGN_OR_RETURN(auto bytes, fs.ReadBuffer(file.path));
  auto input = std::make_shared<arrow::io::BufferReader>(std::move(bytes));
  PULSE_ASSIGN_OR_RETURN(
      auto reader, FromArrow(parquet::arrow::OpenFile(input, arrow::default_memory_pool()), "opening " + file.path));
  std::shared_ptr<arrow::Schema> file_schema;
  PULSE_RETURN_IF_ERROR(FromArrow(reader->GetSchema(&file_schema), file.path));
  std::vector<int> wanted;
  for (const auto& col : columns) {
    bool is_partition = std::find(partition_columns.begin(), partition_columns.end(), col) != partition_columns.end();
    int idx = is_partition ? -1 : file_schema->GetFieldIndex(col);
    if (idx >= 0) wanted.push_back(idx);
  }
  std::shared_ptr<arrow::Table> data;
  PULSE_RETURN_IF_ERROR(FromArrow(reader->ReadTable(wanted, &data), "reading " + file.path));
  const int64_t n = data->num_rows();
  arrow::ChunkedArrayVector out_columns;
  arrow::FieldVector out_fields;
  for (const auto& col : columns) {
    auto field = schema.GetFieldByName(col);
    std::shared_ptr<arrow::ChunkedArray> column;
    if (std::find(partition_columns.begin(), partition_columns.end(), col) != partition_columns.end()) {
      auto it = file.partition_values.find(col);
      PULSE_ASSIGN_OR_RETURN(
          auto arr, PartitionValueArray(field->type(), it == file.partition_values.end() ? nullptr : &it->second, n));
      column = std::make_shared<arrow::ChunkedArray>(arr);
    } else if (auto c = data->GetColumnByName(col)) {
      column = c;
      if (!column->type()->Equals(*field->type())) {
        PULSE_ASSIGN_OR_RETURN(auto cast, FromArrow(arrow::compute::Cast(column, field->type()), "casting " + col));
        column = cast.chunked_array();
      }
    } else {  // column added after this file was written
      PULSE_ASSIGN_OR_RETURN(auto nulls, FromArrow(arrow::MakeArrayOfNull(field->type(), n), "nulls"));
      column = std::make_shared<arrow::ChunkedArray>(nulls);
    }
    out_columns.push_back(column);
    out_fields.push_back(field);
  }
  return arrow::Table::Make(arrow::schema(out_fields), out_columns, n);
}

}  // namespace detail

Result<std::shared_ptr<arrow::Table>> DeltaTable::Read(const ReadOptions& options) {
  PULSE_ASSIGN_OR_RETURN(Snapshot snap, LoadSnapshot(options.version));
  std::vector<std::string> columns = options.columns;
  if (columns.empty())
    for (const auto& f : snap.schema->fields()) columns.push_back(f->name());
  arrow::FieldVector fields;
  for (const auto& col : columns) {
    auto field = snap.schema->GetFieldByName(col);
    if (!field) return Status::InvalidArgument("no column '" + col + "' in table " + fs_->RootUrl());
    fields.push_back(field);
  }
  for (const auto& filter : options.partition_filters) {
    if (std::find(snap.partition_columns.begin(), snap.partition_columns.end(), filter.column) ==
        snap.partition_columns.end())
      return Status::InvalidArgument("'" + filter.column + "' is not a partition column of " + fs_->RootUrl());
  }

  std::vector<const AddFile*> files;
  for (const auto& [path, file] : snap.files) {
    bool keep = true;
    for (const auto& filter : options.partition_filters) {
      auto it = file.partition_values.find(filter.column);
      std::string value = it == file.partition_values.end() ? "" : it->second;
      if (std::find(filter.values.begin(), filter.values.end(), value) == filter.values.end()) keep = false;
    }
    if (keep) files.push_back(&file);
  }
  std::vector<std::shared_ptr<arrow::Table>> parts(files.size());
  PULSE_RETURN_IF_ERROR(RunParallel(files.size(), ThreadCount(options_.read_threads, files.size()), [&](size_t i) {
    auto r = detail::ReadDataFile(*fs_, *files[i], *snap.schema, snap.partition_columns, columns);
    if (!r.ok()) return r.status();
    parts[i] = *r;
    return Status::Ok();
  }));
  auto out_schema = arrow::schema(fields);
  if (parts.empty()) {
    PULSE_ASSIGN_OR_RETURN(auto empty, FromArrow(arrow::Table::MakeEmpty(out_schema), "empty table"));
    return empty;
  }
  PULSE_ASSIGN_OR_RETURN(auto table, FromArrow(arrow::ConcatenateTables(parts), "concatenating"));
  return table;
}

Result<std::vector<VersionInfo>> DeltaTable::History() {
  PULSE_ASSIGN_OR_RETURN(auto latest, LatestVersion());
  std::vector<VersionInfo> out;
  for (int64_t v = latest; v >= 0; --v) {
    auto text = fs_->ReadFile(delta::CommitKey(v));
    if (text.status().code() == StatusCode::kNotFound) break;  // older commits cleaned up
    if (!text.ok()) return text.status();
    PULSE_ASSIGN_OR_RETURN(auto summary, delta::SummarizeCommit(v, *text));
    VersionInfo info;
    info.version = v;
    // commitInfo is free-form (any writer's): read only fields of the expected type.
    const json& ci = summary.commit_info;
    if (ci.contains("timestamp") && ci["timestamp"].is_number_integer())
      info.timestamp_ms = ci["timestamp"].get<int64_t>();
    if (ci.contains("operation") && ci["operation"].is_string()) info.operation = ci["operation"].get<std::string>();
    if (ci.contains("operationParameters") && ci["operationParameters"].is_object()) {
      for (auto kv = ci["operationParameters"].begin(); kv != ci["operationParameters"].end(); ++kv) {
        info.operation_parameters[kv.key()] =
            kv.value().is_string() ? kv.value().get<std::string>() : kv.value().dump();
      }
    }
    info.files_added = summary.files_added;
    info.files_removed = summary.files_removed;
    info.rows_added = summary.rows_added;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace pulse::lake
