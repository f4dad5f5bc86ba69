#include "ingest/file_ingest.h"

#include <arrow/compute/api.h>

#include <set>
#include <unordered_set>

#include <openssl/evp.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "signals/signal_builder.h"

namespace pulse::ingest {
namespace {

// Hex SHA-256 of a file's bytes: the identity of its content for idempotent re-ingest.
Result<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open '" + path + "'");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Status::IoError("error reading '" + path + "'");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A finite float64 from text, or the reason it is not one.
Result<double> ParseValue(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return Status::InvalidArgument("missing value");
  if (text.front() == '+') text.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) return Status::InvalidArgument("value '" + std::string(text) + "' is out of range");
  if (ec != std::errc() || end != text.data() + text.size())
    return Status::InvalidArgument("unparseable number '" + std::string(text.substr(0, 64)) + "'");
  if (std::isnan(v)) return Status::InvalidArgument("value is NaN");
  if (std::isinf(v)) return Status::InvalidArgument("value is infinite");
  return v;
}

// Rows of the wide layout's time columns -> instant.
Result<int64_t> WideTime(const Record& rec, const std::vector<std::string>& cols) {
  if (cols.size() == 2) {
    auto y = rec.Get(cols[0]);
    auto q = rec.Get(cols[1]);
    if (!y || !q || Trim(*y).empty() || Trim(*q).empty()) return Status::InvalidArgument("missing timestamp");
    int year = 0, quarter = 0;
    auto ys = Trim(*y), qs = Trim(*q);
    auto ry = std::from_chars(ys.data(), ys.data() + ys.size(), year);
    auto rq = std::from_chars(qs.data(), qs.data() + qs.size(), quarter);
    if (ry.ec != std::errc() || ry.ptr != ys.data() + ys.size() || rq.ec != std::errc() ||
        rq.ptr != qs.data() + qs.size())
      return Status::InvalidArgument("bad timestamp: year '" + std::string(ys) + "', quarter '" + std::string(qs) + "'");
    auto t = time::QuarterStart(year, quarter);
    if (!t.ok()) return Status::InvalidArgument("bad timestamp: " + t.status().message());
    return t;
  }
  auto text = rec.Get(cols[0]);
  if (!text || Trim(*text).empty()) return Status::InvalidArgument("missing timestamp");
  auto t = time::ParseTimestamp(*text);
  if (!t.ok()) return Status::InvalidArgument("bad timestamp: " + t.status().message());
  return t;
}

class Parser {
 public:
  Parser(const std::string& path, const IngestOptions& options, IngestReport& report)
      : path_(path), options_(options), report_(report) {
    now_us_ = options.now_us != 0 ? options.now_us : time::NowMicros();
    default_source_ = options.source.empty() ? std::filesystem::path(path).filename().string() : options.source;
  }

  Result<std::shared_ptr<arrow::Table>> Run() {
    FileFormat format;
    if (options_.format) {
      format = *options_.format;
    } else {
      PULSE_ASSIGN_OR_RETURN(format, FormatFromPath(path_));
    }
    PULSE_ASSIGN_OR_RETURN(auto reader, RecordReader::Open(path_, format));
    PULSE_RETURN_IF_ERROR(ResolveColumns(reader->header(), format));
    Record rec;
    while (reader->Next(rec)) {
      if (!rec.error.empty()) {
        Reject(rec, rec.error);
        continue;
      }
      if (!CheckFields(rec)) continue;
      if (options_.wide) WideRecord(rec); else LongRecord(rec);
    }
    PULSE_RETURN_IF_ERROR(reader->status());
    report_.accepted = builder_.size();
    return builder_.Finish();
  }

 private:
  Status ResolveColumns(const std::vector<std::string>& header, FileFormat format) {
    static const std::vector<std::string> kTargets = {"name", "source", "kind", "ts", "value", "unit", "metadata"};
    for (const auto& [target, column] : options_.mapping)
      if (std::find(kTargets.begin(), kTargets.end(), target) == kTargets.end())
        return Status::InvalidArgument("--map: unknown target field '" + target +
                                       "' (known: name, source, kind, ts, value, unit, metadata)");
    auto has = [&](const std::string& c) {
      return format != FileFormat::kCsv || std::find(header.begin(), header.end(), c) != header.end();
    };
    if (options_.wide) {
      time_columns_ = options_.time_columns;
      if (time_columns_.empty()) {
        if (has("year") && has("quarter") && format == FileFormat::kCsv) time_columns_ = {"year", "quarter"};
        else for (const char* c : {"ts", "timestamp", "time", "date"}) if (format == FileFormat::kCsv && has(c)) { time_columns_ = {c}; break; }
      }
      if (time_columns_.empty() || time_columns_.size() > 2)
        return Status::InvalidArgument("--wide needs --time COLUMN or --time year,quarter");
      for (const auto& c : time_columns_)
        if (!has(c)) return Status::InvalidArgument(path_ + ": no time column '" + c + "' in the header");
      for (const auto& c : header)
        if (std::find(time_columns_.begin(), time_columns_.end(), c) == time_columns_.end()) value_columns_.push_back(c);
      if (format == FileFormat::kCsv && value_columns_.empty())
        return Status::InvalidArgument(path_ + ": wide layout but no value columns besides the time columns");
      return Status::Ok();
    }
    for (const auto& target : kTargets) {
      auto it = options_.mapping.find(target);
      std::string column = it != options_.mapping.end() ? it->second : target;
      if (it == options_.mapping.end() && target == "ts" && format == FileFormat::kCsv && !has("ts"))
        for (const char* alt : {"timestamp", "time", "date"})
          if (has(alt)) { column = alt; break; }
      if (it != options_.mapping.end() && !has(column))
        return Status::InvalidArgument("--map " + target + "=" + column + ": no column '" + column + "' in " + path_);
      column_[target] = column;
    }
    if (format == FileFormat::kCsv)
      for (const char* required : {"name", "ts", "value"})
        if (!has(column_[required]))
          return Status::InvalidArgument(path_ + ":1: no '" + column_[required] + "' column for the signal's " +
                                         required + " (map one with --map " + required + "=COLUMN)");
    return Status::Ok();
  }

  bool CheckFields(const Record& rec) {
    for (size_t i = 0; i < rec.values.size(); ++i) {
      if (static_cast<int64_t>(rec.values[i].size()) > options_.max_field_bytes) {
        Reject(rec, "field '" + (i < rec.names.size() ? rec.names[i] : std::to_string(i + 1)) + "' is " +
                        std::to_string(rec.values[i].size()) + " bytes, over the limit of " +
                        std::to_string(options_.max_field_bytes));
        return false;
      }
      if (!ValidUtf8(rec.values[i])) {
        Reject(rec, "field '" + (i < rec.names.size() ? rec.names[i] : std::to_string(i + 1)) +
                        "' is not valid UTF-8");
        return false;
      }
    }
    return true;
  }

  void LongRecord(const Record& rec) {
    auto name = rec.Get(column_["name"]);
    if (!name || Trim(*name).empty()) return Reject(rec, "missing name");
    auto ts_text = rec.Get(column_["ts"]);
    if (!ts_text || Trim(*ts_text).empty()) return Reject(rec, "missing timestamp");
    auto ts = time::ParseTimestamp(*ts_text);
    if (!ts.ok()) return Reject(rec, "bad timestamp: " + ts.status().message());
    auto value_text = rec.Get(column_["value"]);
    if (!value_text) return Reject(rec, "missing value");
    auto value = ParseValue(*value_text);
    if (!value.ok()) return Reject(rec, value.status().message());
    auto kind = rec.Get(column_["kind"]);
    std::string_view kind_v = kind && !Trim(*kind).empty() ? Trim(*kind) : std::string_view(options_.kind);
    auto source = rec.Get(column_["source"]);
    std::string_view source_v = source && !Trim(*source).empty() ? Trim(*source) : std::string_view(default_source_);
    auto unit = rec.Get(column_["unit"]);
    std::string_view unit_v = unit ? Trim(*unit) : std::string_view(options_.unit);
    auto metadata = rec.Get(column_["metadata"]);
    std::string_view metadata_v = metadata ? Trim(*metadata) : std::string_view();
    if (!metadata_v.empty()) {
      auto parsed = nlohmann::json::parse(metadata_v, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) return Reject(rec, "metadata is not a JSON object");
    }
    Status st = builder_.Append(Trim(*name), source_v, kind_v, *ts, *value, unit_v, metadata_v, now_us_);
    if (!st.ok()) Reject(rec, st.message());
  }

  void WideRecord(const Record& rec) {
    auto ts = WideTime(rec, time_columns_);
    if (!ts.ok()) return Reject(rec, ts.status().message());
    const auto& columns = value_columns_.empty() ? rec.names : value_columns_;
    for (const auto& column : columns) {
      if (std::find(time_columns_.begin(), time_columns_.end(), column) != time_columns_.end()) continue;
      auto text = rec.Get(column);
      if (!text || Trim(*text).empty()) continue;  // no observation for this series at this time
      auto value = ParseValue(*text);
      if (!value.ok()) {
        Reject(rec, "column '" + column + "': " + value.status().message());
        continue;
      }
      Status st = builder_.Append(column, default_source_, options_.kind, *ts, *value, options_.unit, "", now_us_);
      if (!st.ok()) Reject(rec, st.message());
    }
  }

  void Reject(const Record& rec, std::string reason) {
    ++report_.rejected;
    report_.rejects.push_back({rec.line, std::move(reason), rec.raw.substr(0, 4096)});
  }

  const std::string& path_;
  const IngestOptions& options_;
  IngestReport& report_;
  int64_t now_us_ = 0;
  std::string default_source_;
  std::map<std::string, std::string> column_;
  std::vector<std::string> time_columns_, value_columns_;
  signals::SignalBatchBuilder builder_;
};

Result<std::shared_ptr<arrow::Table>> RejectsTable(const IngestReport& report, int64_t now_us) {
  arrow::StringBuilder file, reason, raw;
  arrow::Int64Builder line;
  arrow::TimestampBuilder ingest(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
  for (const auto& r : report.rejects) {
    if (!file.Append(report.file).ok() || !line.Append(r.line).ok() || !reason.Append(r.reason).ok() ||
        !raw.Append(r.raw).ok() || !ingest.Append(now_us).ok())
      return Status::Internal("building the rejects table");
  }
  std::vector<std::shared_ptr<arrow::Array>> cols(5);
  if (!file.Finish(&cols[0]).ok() || !line.Finish(&cols[1]).ok() || !reason.Finish(&cols[2]).ok() ||
      !raw.Finish(&cols[3]).ok() || !ingest.Finish(&cols[4]).ok())
    return Status::Internal("building the rejects table");
  return arrow::Table::Make(signals::RejectSchema(), cols);
}

// The rows of `rows` whose (kind, name, ts, value) the signals table does not hold yet.
Result<std::shared_ptr<arrow::Table>> DropExisting(lake::DeltaTable& table, const std::shared_ptr<arrow::Table>& rows,
                                                   int64_t& existing) {
  auto key = [](std::string_view kind, std::string_view name, int64_t ts, double value) {
    std::string k;
    k.reserve(kind.size() + name.size() + 18);
    k.append(kind).push_back('\0');
    k.append(name).push_back('\0');
    k.append(reinterpret_cast<const char*>(&ts), sizeof ts).append(reinterpret_cast<const char*>(&value), sizeof value);
    return k;
  };
  auto combined = rows->CombineChunksToBatch();
  if (!combined.ok()) return Status::Internal(combined.status().ToString());
  const auto& batch = **combined;
  auto kinds = std::static_pointer_cast<arrow::StringArray>(batch.GetColumnByName("kind"));
  auto names = std::static_pointer_cast<arrow::StringArray>(batch.GetColumnByName("name"));
  auto tss = std::static_pointer_cast<arrow::TimestampArray>(batch.GetColumnByName("ts"));
  auto values = std::static_pointer_cast<arrow::DoubleArray>(batch.GetColumnByName("value"));
  std::set<std::string> wanted_kinds;
  for (int64_t i = 0; i < batch.num_rows(); ++i) wanted_kinds.insert(kinds->GetString(i));
  if (wanted_kinds.empty()) return rows;
  PULSE_ASSIGN_OR_RETURN(auto old, table.Read({.columns = {"kind", "name", "ts", "value"},
                                               .partition_filters = {{"kind", {wanted_kinds.begin(), wanted_kinds.end()}}}}));
  std::unordered_set<std::string> seen;
  for (const auto& b : arrow::TableBatchReader(*old)) {
    if (!b.ok()) return Status::Internal(b.status().ToString());
    auto k = std::static_pointer_cast<arrow::StringArray>((*b)->column(0));
    auto n = std::static_pointer_cast<arrow::StringArray>((*b)->column(1));
    auto t = std::static_pointer_cast<arrow::TimestampArray>((*b)->column(2));
    auto v = std::static_pointer_cast<arrow::DoubleArray>((*b)->column(3));
    for (int64_t i = 0; i < (*b)->num_rows(); ++i) seen.insert(key(k->GetView(i), n->GetView(i), t->Value(i), v->Value(i)));
  }
  arrow::BooleanBuilder keep;
  for (int64_t i = 0; i < batch.num_rows(); ++i) {
    const bool fresh = !seen.count(key(kinds->GetView(i), names->GetView(i), tss->Value(i), values->Value(i)));
    if (!fresh) ++existing;
    if (!keep.Append(fresh).ok()) return Status::Internal("building the ingest filter");
  }
  std::shared_ptr<arrow::Array> mask;
  if (!keep.Finish(&mask).ok()) return Status::Internal("building the ingest filter");
  auto filtered = arrow::compute::Filter(rows, mask);
  if (!filtered.ok()) return Status::Internal(filtered.status().ToString());
  return filtered->table();
}

}  // namespace

Result<std::shared_ptr<arrow::Table>> ParseSignalsFile(const std::string& path, const IngestOptions& options,
                                                       IngestReport& report) {
  report.file = path;
  if (options.max_field_bytes <= 0) return Status::InvalidArgument("max_field_bytes must be > 0");
  if (options.kind.empty()) return Status::InvalidArgument("the default kind must not be empty");
  Parser parser(path, options, report);
  return parser.Run();
}

Result<IngestReport> IngestFile(lake::Lake& lake, const std::string& path, const IngestOptions& options) {
  auto start = std::chrono::steady_clock::now();
  IngestReport report;
  IngestOptions opts = options;
  if (opts.now_us == 0) opts.now_us = time::NowMicros();
  PULSE_ASSIGN_OR_RETURN(std::string digest, FileSha256(path));
  PULSE_ASSIGN_OR_RETURN(auto rows, ParseSignalsFile(path, opts, report));
  PULSE_ASSIGN_OR_RETURN(auto signals_table, lake.OpenOrCreateTable(signals::kSignalsTable, signals::SignalSchema(),
                                                                    signals::SignalPartitionColumns(), std::nullopt,
                                                                    signals::SignalSortColumns()));
  if (opts.only_new) {
    PULSE_ASSIGN_OR_RETURN(rows, DropExisting(*signals_table, rows, report.existing));
    if (rows->num_rows() == 0 && report.rejects.empty()) {
      PULSE_ASSIGN_OR_RETURN(report.version, signals_table->LatestVersion());
      report.duplicate = true;
      report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return report;
    }
  }
  lake::WriteOptions write;
  write.app_id = "pulse-ingest:" + digest;
  write.app_version = 0;
  write.operation = "INGEST";
  write.operation_parameters = {{"file", std::filesystem::path(path).filename().string()},
                                {"accepted", std::to_string(report.accepted)},
                                {"rejected", std::to_string(report.rejected)}};
  PULSE_ASSIGN_OR_RETURN(auto commit, signals_table->Append(*rows, write));
  report.version = commit.version;
  report.duplicate = commit.skipped;
  if (!report.rejects.empty() && !commit.skipped) {
    PULSE_ASSIGN_OR_RETURN(auto rejects_table, lake.OpenOrCreateTable(signals::kRejectsTable, signals::RejectSchema(), {}));
    PULSE_ASSIGN_OR_RETURN(auto rejects, RejectsTable(report, opts.now_us));
    write.operation = "INGEST REJECTS";
    PULSE_ASSIGN_OR_RETURN(auto rc, rejects_table->Append(*rejects, write));
    (void)rc;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace pulse::ingest
