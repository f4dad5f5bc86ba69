#include "stream/stream_batch.h"

#include <arrow/api.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

#include "core/json_text.h"
#include "core/printable.h"
#include "core/time.h"
#include "signals/signal_builder.h"
#include "stream/topics.h"

namespace pulse::stream {
namespace {

constexpr std::string_view kAppIdPrefix = "pulse-stream:";

// Physical lines a value adds beyond its first ("\n", "\r\n" and a lone "\r" end a line).
int64_t LineBreaks(std::string_view v) {
  int64_t n = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const bool lone_cr = v[i] == '\r' && (i + 1 == v.size() || v[i + 1] != '\n');
    if (v[i] == '\n' || lone_cr) {
      ++n;
    }
  }
  return n;
}

// memchr twice, not find_first_of("\r\n"), which tests every byte against the set one by one.
bool HasLineBreak(std::string_view v) {
  return std::memchr(v.data(), '\n', v.size()) != nullptr || std::memchr(v.data(), '\r', v.size()) != nullptr;
}

bool Blank(std::string_view v) { return v.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// A JSON text with line breaks outside strings turned into spaces (JSON whitespace either way),
// or nullopt when a raw line break sits inside a string (invalid JSON that would split the line).
std::optional<std::string> JoinJsonLines(std::string_view v) {
  std::string out(v);
  JsonStringTracker strings;
  for (char& c : out) {
    const bool outside = strings.Feed(c);
    if (c != '\n' && c != '\r') continue;
    if (!outside) return std::nullopt;
    c = ' ';
  }
  return out;
}

}  // namespace

std::string TxnAppId(std::string_view group, const TopicPartition& tp) {
  return std::string(kAppIdPrefix) + std::string(group) + "/" + tp.topic + "/" + std::to_string(tp.partition);
}

std::string RejectFileName(const TopicPartition& tp) {
  return "kafka:" + tp.topic + "/" + std::to_string(tp.partition);
}

std::map<TopicPartition, int64_t> TableOffsets(const std::map<std::string, int64_t>& app_versions) {
  std::map<TopicPartition, int64_t> out;
  for (auto it = app_versions.lower_bound(std::string(kAppIdPrefix));
       it != app_versions.end() && std::string_view(it->first).starts_with(kAppIdPrefix); ++it) {
    std::string_view id = std::string_view(it->first).substr(kAppIdPrefix.size());
    const size_t p = id.rfind('/');
    if (p == std::string_view::npos || p == 0) continue;
    const size_t t = id.rfind('/', p - 1);
    if (t == std::string_view::npos) continue;  // no group part
    int32_t partition = 0;
    auto [end, ec] = std::from_chars(id.data() + p + 1, id.data() + id.size(), partition);
    if (ec != std::errc() || end != id.data() + id.size()) continue;
    TopicPartition tp{std::string(id.substr(t + 1, p - t - 1)), partition};
    auto [slot, inserted] = out.emplace(std::move(tp), it->second);
    if (!inserted) slot->second = std::max(slot->second, it->second);
  }
  return out;
}

StreamBatch::StreamBatch(BatchConfig config) : config_(std::move(config)) {}

// The map's nodes move with it, so last_ stays valid in the target; the source is left without
// records (and without its config: assign it a new batch before adding to it).
StreamBatch::StreamBatch(StreamBatch&& other) noexcept
    : config_(std::move(other.config_)),
      partitions_(std::move(other.partitions_)),
      last_(std::exchange(other.last_, nullptr)),
      records_(std::exchange(other.records_, 0)),
      bytes_(std::exchange(other.bytes_, 0)) {
  other.partitions_.clear();
}

StreamBatch& StreamBatch::operator=(StreamBatch&& other) noexcept {
  if (this == &other) return *this;
  config_ = std::move(other.config_);
  partitions_ = std::move(other.partitions_);
  other.partitions_.clear();
  last_ = std::exchange(other.last_, nullptr);
  records_ = std::exchange(other.records_, 0);
  bytes_ = std::exchange(other.bytes_, 0);
  return *this;
}

void StreamBatch::Add(const TopicPartition& tp, int64_t offset, const char* value, size_t size, std::string_view key,
                      std::optional<std::string_view> format_header) {
  ++records_;
  bytes_ += static_cast<int64_t>(size);
  if (last_ == nullptr || last_->tp != tp) last_ = &partitions_[tp];  // runs of one partition: one lookup
  Partition& p = *last_;
  if (p.records == 0) p.tp = tp;
  ++p.records;
  p.bytes += static_cast<int64_t>(size);
  if (p.first < 0) p.first = offset;
  p.last = offset;
  const std::string_view v = value != nullptr ? std::string_view(value, size) : std::string_view();
  auto early = [&](std::string reason) {
    // Keep at most 64 KiB of a record rejected unparsed (an oversized one may be megabytes).
    p.early.push_back({tp, offset, std::move(reason), ingest::RawForReject(v.substr(0, 65536))});
  };
  if (!ValidUtf8(key)) return early("the record key is not valid UTF-8: '" + Printable(key, 64) + "'");
  if (value == nullptr) return early("tombstone: the record has no value");
  if (static_cast<int64_t>(size) > config_.max_record_bytes) {
    return early("the record is " + std::to_string(size) + " bytes, over the limit of " +
                 std::to_string(config_.max_record_bytes) + " (stream.max_record_bytes)");
  }
  RecordFormat format = config_.format;
  if (format_header) {
    if (*format_header == "json" || *format_header == "jsonl") {
      format = RecordFormat::kJson;
    } else if (*format_header == "csv") {
      format = RecordFormat::kCsv;
    } else {
      return early("unknown record format '" + Printable(*format_header, 64) + "' in header " + kFormatHeader +
                   " (known: json, csv)");
    }
  }
  if (Blank(v)) return early("empty record");
  Lines* lines = &p.json;
  std::optional<std::string> joined;
  std::string_view text = v;
  if (format == RecordFormat::kCsv) {
    if (config_.csv_header.empty()) return early("a CSV record, but no CSV header is configured (stream.csv_header)");
    if (std::count(v.begin(), v.end(), '"') % 2 != 0) return early("unterminated quote in the CSV record");
    lines = &p.csv;
  } else if (HasLineBreak(v)) {
    joined = JoinJsonLines(v);
    if (!joined) return early("a raw line break inside a JSON string");
    text = *joined;
  }
  lines->offsets.push_back(offset);
  lines->starts.push_back(lines->text.size());
  lines->first_lines.push_back(lines->lines + 1);
  lines->text.append(text);
  lines->text.push_back('\n');
  lines->lines += 1 + (HasLineBreak(text) ? LineBreaks(text) : 0);
}

std::map<TopicPartition, std::pair<int64_t, int64_t>> StreamBatch::Ranges() const {
  std::map<TopicPartition, std::pair<int64_t, int64_t>> out;
  for (const auto& [tp, p] : partitions_) out[tp] = {p.first, p.last};
  return out;
}

void StreamBatch::Drop(const TopicPartition& tp) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return;
  records_ -= it->second.records;
  bytes_ -= it->second.bytes;
  if (last_ == &it->second) last_ = nullptr;
  partitions_.erase(it);
}

void StreamBatch::Clear() {
  last_ = nullptr;
  partitions_.clear();
  records_ = 0;
  bytes_ = 0;
}

int64_t StreamBatch::CountBefore(const std::map<TopicPartition, int64_t>& from) const {
  int64_t n = 0;
  for (const auto& [tp, p] : partitions_) {
    auto it = from.find(tp);
    if (it == from.end()) continue;
    const int64_t f = it->second;
    auto below = [f](const std::vector<int64_t>& offsets) {
      return static_cast<int64_t>(std::lower_bound(offsets.begin(), offsets.end(), f) - offsets.begin());
    };
    n += below(p.json.offsets) + below(p.csv.offsets);
    for (const auto& r : p.early) n += r.offset < f ? 1 : 0;
  }
  return n;
}

Status StreamBatch::ParseLines(const TopicPartition& tp, const Lines& lines, RecordFormat format, int64_t from,
                               int64_t now_us, std::vector<std::shared_ptr<arrow::Table>>& tables,
                               std::vector<StreamReject>& rejects) const {
  const size_t k0 =
      static_cast<size_t>(std::lower_bound(lines.offsets.begin(), lines.offsets.end(), from) - lines.offsets.begin());
  if (k0 == lines.offsets.size()) return Status::Ok();
  std::string_view text = std::string_view(lines.text).substr(lines.starts[k0]);
  std::string with_header;
  int64_t header_lines = 0;
  if (format == RecordFormat::kCsv) {
    with_header.reserve(config_.csv_header.size() + 1 + text.size());
    with_header.append(config_.csv_header).push_back('\n');
    with_header.append(text);
    text = with_header;
    header_lines = 1 + LineBreaks(config_.csv_header);
  }
  ingest::IngestOptions options = config_.parse;
  options.format = format == RecordFormat::kCsv ? ingest::FileFormat::kCsv : ingest::FileFormat::kJsonLines;
  options.now_us = now_us;
  options.wide = false;
  if (options.source.empty()) options.source = tp.topic;
  if (auto kind = KindFromTopic(tp.topic)) options.kind = *kind;
  ingest::IngestReport report;
  PULSE_ASSIGN_OR_RETURN(auto rows, ingest::ParseSignalsBytes(text, RejectFileName(tp), false, options, report));
  const int64_t line_shift = lines.first_lines[k0] - 1 - header_lines;
  for (auto& r : report.rejects) {
    const int64_t line = r.line + line_shift;
    auto at = std::upper_bound(lines.first_lines.begin(), lines.first_lines.end(), line);
    const size_t index = at == lines.first_lines.begin() ? 0 : static_cast<size_t>(at - lines.first_lines.begin()) - 1;
    rejects.push_back({tp, lines.offsets[index], std::move(r.reason), std::move(r.raw)});
  }
  if (rows->num_rows() > 0) tables.push_back(std::move(rows));
  return Status::Ok();
}

Result<std::shared_ptr<arrow::Table>> StreamBatch::Parse(const std::map<TopicPartition, int64_t>& from, int64_t now_us,
                                                         std::vector<StreamReject>& rejects) const {
  std::vector<std::shared_ptr<arrow::Table>> tables;
  const size_t first_reject = rejects.size();
  for (const auto& [tp, p] : partitions_) {
    auto it = from.find(tp);
    const int64_t f = it == from.end() ? std::numeric_limits<int64_t>::min() : it->second;
    for (const auto& r : p.early)
      if (r.offset >= f) rejects.push_back(r);
    PULSE_RETURN_IF_ERROR(ParseLines(tp, p.json, RecordFormat::kJson, f, now_us, tables, rejects));
    PULSE_RETURN_IF_ERROR(ParseLines(tp, p.csv, RecordFormat::kCsv, f, now_us, tables, rejects));
  }
  std::stable_sort(
      rejects.begin() + static_cast<std::ptrdiff_t>(first_reject), rejects.end(),
      [](const StreamReject& a, const StreamReject& b) { return std::tie(a.tp, a.offset) < std::tie(b.tp, b.offset); });
  if (tables.empty()) {
    signals::SignalBatchBuilder empty;
    return empty.Finish();
  }
  if (tables.size() == 1) return tables.front();
  auto combined = arrow::ConcatenateTables(tables);
  if (!combined.ok()) return Status::Internal("combining stream rows: " + combined.status().ToString());
  return *combined;
}

namespace {

// Conflict unless every partition in `first` is recorded (by any group) no further than its value.
Status NotAdvanced(const std::map<std::string, int64_t>& versions, const std::map<TopicPartition, int64_t>& first) {
  const auto now = TableOffsets(versions);
  for (const auto& [tp, offset] : first) {
    auto it = now.find(tp);
    if (it != now.end() && it->second > offset) {
      return Status::Conflict("another writer recorded " + tp.topic + "/" + std::to_string(tp.partition) +
                              " up to offset " + std::to_string(it->second) + " past " + std::to_string(offset));
    }
  }
  return Status::Ok();
}

std::map<std::string, std::string> Params(const CommitOptions& options, int64_t records) {
  return {{"group", options.group}, {"records", std::to_string(records)}};
}

}  // namespace

Result<BatchOutcome> CommitStreamBatch(ingest::SignalSink& sink, const StreamBatch& batch,
                                       const CommitOptions& options) {
  BatchOutcome outcome;
  const int64_t now = options.now_us != 0 ? options.now_us : time::NowMicros();
  const auto ranges = batch.Ranges();
  for (const auto& [tp, range] : ranges) outcome.next_offsets[tp] = range.second + 1;
  for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
    outcome.attempts = attempt;
    PULSE_ASSIGN_OR_RETURN(auto snapshot, sink.signals().LoadSnapshot());
    const auto done = TableOffsets(snapshot.app_versions);
    std::map<TopicPartition, int64_t> from;   // first offset still to write per partition
    std::map<TopicPartition, int64_t> fresh;  // partitions with something to write -> their from
    for (const auto& [tp, range] : ranges) {
      auto it = done.find(tp);
      const int64_t f = it == done.end() ? range.first : std::max(range.first, it->second);
      from[tp] = f;
      if (f <= range.second) fresh[tp] = f;
    }
    outcome.duplicates = batch.CountBefore(from);
    if (fresh.empty()) {  // every record is in the table already
      outcome.signals_version = snapshot.version;
      return outcome;
    }
    std::vector<StreamReject> rejects;
    PULSE_ASSIGN_OR_RETURN(auto rows, batch.Parse(from, now, rejects));

    // Rejects first, those signal_rejects does not hold yet (its own txn versions say how far).
    if (!rejects.empty()) {
      PULSE_ASSIGN_OR_RETURN(lake::DeltaTable * rejects_table, sink.rejects());
      PULSE_ASSIGN_OR_RETURN(auto rejects_snapshot, rejects_table->LoadSnapshot());
      const auto written = TableOffsets(rejects_snapshot.app_versions);
      std::erase_if(rejects, [&](const StreamReject& r) {
        auto it = written.find(r.tp);
        return it != written.end() && r.offset < it->second;
      });
    }
    if (!rejects.empty()) {
      std::map<TopicPartition, int64_t> first_reject;
      std::vector<ingest::RejectRow> reject_rows;
      reject_rows.reserve(rejects.size());
      for (const auto& r : rejects) {
        first_reject.emplace(r.tp, r.offset);  // rejects are sorted by partition and offset
        reject_rows.push_back({RejectFileName(r.tp), r.offset, r.reason, r.raw});
      }
      lake::WriteOptions write;
      write.operation = "STREAM REJECTS";
      write.operation_parameters = Params(options, static_cast<int64_t>(rejects.size()));
      for (const auto& [tp, offset] : first_reject)
        write.transactions.emplace_back(TxnAppId(options.group, tp), ranges.at(tp).second + 1);
      write.precondition = [&first_reject](const std::map<std::string, int64_t>& v) {
        return NotAdvanced(v, first_reject);
      };
      auto committed = sink.AppendRejects(reject_rows, now, write);
      if (committed.status().code() == StatusCode::kConflict) continue;
      if (!committed.ok()) return committed.status();
    }

    lake::WriteOptions write;
    write.operation = "STREAM INGEST";
    write.operation_parameters = Params(options, rows->num_rows());
    write.operation_parameters["rejected"] = std::to_string(rejects.size());
    for (const auto& [tp, f] : fresh)
      write.transactions.emplace_back(TxnAppId(options.group, tp), ranges.at(tp).second + 1);
    write.precondition = [&fresh](const std::map<std::string, int64_t>& v) { return NotAdvanced(v, fresh); };
    auto committed = sink.AppendSignals(*rows, write, &outcome.gate);
    if (committed.status().code() == StatusCode::kConflict) continue;
    if (!committed.ok()) return committed.status();
    outcome.signals_version = committed->version;
    outcome.rows = rows->num_rows();
    outcome.rejected = static_cast<int64_t>(rejects.size());
    outcome.rejects = std::move(rejects);
    return outcome;
  }
  return Status::Conflict("stream batch: gave up after " + std::to_string(options.max_attempts) +
                          " attempts, other writers kept advancing its partitions");
}

}  // namespace pulse::stream
