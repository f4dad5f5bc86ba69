// StreamBatch and CommitStreamBatch: one micro-batch of Kafka records, checked and laid out for
// the file path's parser, and its exactly-once commit into the signals table. No Kafka client
// here: the consumer (kafka_consumer.h) feeds records in, unit tests do the same on a local lake.
//
// Records. A record's value is one signal as a JSON object (a JSON-lines row) or one CSV line
// under a configured header, validated by ingest::ParseSignalsBytes exactly as a file's rows are.
// The format is BatchConfig::format unless the record has a "pulse-format" header ("json" or
// "csv"). Rejected before parsing, each with its reason: a tombstone (null value), an empty value,
// a value over max_record_bytes, a key that is not valid UTF-8, an unknown "pulse-format", a CSV
// record without a configured header, a CSV record with an unbalanced quote (it would run into
// the next record), a JSON record with a raw line break inside a string. Line breaks between JSON
// tokens (pretty-printed objects) are read as spaces.
//
// Exactly once. Each topic partition's progress is stored in the signals table itself: a Delta
// `txn` action with appId TxnAppId(group, topic, partition) and version = the next offset to read.
// CommitStreamBatch, for the partitions of the batch:
//  1. reads the table's offsets (the highest over every group, so two groups by mistake on one
//     table still write each record once) and keeps only records at or after them;
//  2. appends the rejects not yet in signal_rejects (whose own txn versions say how far rejects
//     were written) in one commit with their txn actions - before the rows, so a crash between
//     the two loses no reject: the replay finds the rejects written and the rows not;
//  3. appends the rows in one commit of the signals table carrying one txn action per partition
//     (version = last offset + 1), even when no row is left (rejects or duplicates only);
// each commit with a precondition that no other writer advanced those partitions past the first
// record it writes. A concurrent commit that did (another consumer, another group) makes the
// step start over from 1 with fresh offsets; a concurrent commit that did not (an optimize, an
// unrelated append) is retried by the lake. So nothing is written twice and nothing is skipped.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ingest/file_ingest.h"
#include "ingest/signal_sink.h"

namespace pulse::stream {

enum class RecordFormat { kJson, kCsv };

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads the defaulted comparison
};

// "pulse-stream:<group>/<topic>/<partition>": the txn appId recording a partition's progress.
std::string TxnAppId(std::string_view group, const TopicPartition& tp);
// The next offset to read per topic partition as a table's txn versions record it: the highest
// version over every group's appId for that partition.
std::map<TopicPartition, int64_t> TableOffsets(const std::map<std::string, int64_t>& app_versions);
// The signal_rejects "file" of a Kafka record: "kafka:<topic>/<partition>" (its "line" is the offset).
std::string RejectFileName(const TopicPartition& tp);

struct BatchConfig {
  RecordFormat format = RecordFormat::kJson;  // records without a pulse-format header
  std::string csv_header;                     // the header line of CSV records ("" = CSV refused)
  int64_t max_record_bytes = 1 << 20;         // larger values are rejected (not parsed)
  ingest::IngestOptions parse;                // kind/unit defaults and field limits of the parser
};

struct StreamReject {
  TopicPartition tp;
  int64_t offset = 0;
  std::string reason;  // printable
  std::string raw;     // valid UTF-8, cut (ingest::RawForReject)
};

class StreamBatch {
 public:
  explicit StreamBatch(BatchConfig config);
  StreamBatch(StreamBatch&& other) noexcept;
  StreamBatch& operator=(StreamBatch&& other) noexcept;
  StreamBatch(const StreamBatch&) = delete;
  StreamBatch& operator=(const StreamBatch&) = delete;
  ~StreamBatch() = default;
  // Adds one record (offsets of a partition must increase). value == nullptr: a tombstone.
  // `format_header`: the record's "pulse-format" header, if it has one.
  void Add(const TopicPartition& tp, int64_t offset, const char* value, size_t size, std::string_view key,
           std::optional<std::string_view> format_header);
  int64_t records() const { return records_; }
  int64_t bytes() const { return bytes_; }
  bool empty() const { return records_ == 0; }
  // First and last offset added per partition.
  std::map<TopicPartition, std::pair<int64_t, int64_t>> Ranges() const;
  // Drops the records of one partition (revoked without a commit), or all.
  void Drop(const TopicPartition& tp);
  void Clear();
  // Records of the batch whose offset lies before `from` in their partition.
  int64_t CountBefore(const std::map<TopicPartition, int64_t>& from) const;

  // Parses the records of each partition at or after `from` (missing = all): the accepted rows
  // (SignalSchema, concatenated) and every reject with its offset. Used by CommitStreamBatch.
  Result<std::shared_ptr<arrow::Table>> Parse(const std::map<TopicPartition, int64_t>& from, int64_t now_us,
                                              std::vector<StreamReject>& rejects) const;

 private:
  // The records of one format in one partition, back to back as the parser reads a file.
  struct Lines {
    std::string text;                  // each record's value + "\n"
    std::vector<int64_t> offsets;      // per record
    std::vector<size_t> starts;        // byte where each record starts in text
    std::vector<int64_t> first_lines;  // line (1-based, header excluded) where each record starts
    int64_t lines = 0;
  };
  struct Partition {
    TopicPartition tp;  // its key (for the lookup cache)
    int64_t first = -1, last = -1;
    int64_t records = 0, bytes = 0;
    Lines json, csv;
    std::vector<StreamReject> early;  // rejected before parsing
  };
  Status ParseLines(const TopicPartition& tp, const Lines& lines, RecordFormat format, int64_t from, int64_t now_us,
                    std::vector<std::shared_ptr<arrow::Table>>& tables, std::vector<StreamReject>& rejects) const;

  BatchConfig config_;
  std::map<TopicPartition, Partition> partitions_;
  Partition* last_ = nullptr;  // the partition of the last Add (map nodes do not move)
  int64_t records_ = 0;
  int64_t bytes_ = 0;
};

struct CommitOptions {
  std::string group;      // names the txn appIds
  int max_attempts = 50;  // start-overs after a concurrent writer advanced a partition
  int64_t now_us = 0;     // ingest_time; 0 = now
};

struct BatchOutcome {
  int64_t signals_version = -1;                    // the commit holding the rows (the table's version if nothing new)
  int64_t rows = 0;                                // rows appended
  int64_t rejected = 0;                            // rejects appended to signal_rejects
  int64_t duplicates = 0;                          // records skipped: already in the table (another writer or a replay)
  signals::GateCounts gate;                        // gate decisions of the rows appended
  int attempts = 0;                                // start-overs + 1
  std::vector<StreamReject> rejects;               // those appended (for a dead-letter topic)
  std::map<TopicPartition, int64_t> next_offsets;  // last offset + 1 per partition of the batch
};

// Commits `batch` exactly once (see the file comment). On error nothing of the signals commit is
// visible; rejects may be (they are then skipped on the retry).
Result<BatchOutcome> CommitStreamBatch(ingest::SignalSink& sink, const StreamBatch& batch,
                                       const CommitOptions& options);

}  // namespace pulse::stream
