#include "ingest/file_ingest.h"

#include <arrow/compute/api.h>

#include <set>
#include <unordered_set>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/json_text.h"
#include "core/printable.h"
#include "core/time.h"
#include "ingest/flat_json.h"
#include "ingest/signal_sink.h"
#include "signals/signal_builder.h"

namespace pulse::ingest {
namespace {

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
  if (ec == std::errc::result_out_of_range)
    return Status::InvalidArgument("value '" + Printable(text, 64) + "' is out of range");
  if (ec != std::errc() || end != text.data() + text.size())
    return Status::InvalidArgument("unparseable number '" + Printable(text, 64) + "'");
  if (std::isnan(v)) return Status::InvalidArgument("value is NaN");
  if (std::isinf(v)) return Status::InvalidArgument("value is infinite");
  return v;
}

// Instants Pulse stores: years 0001-9999, the range every Delta, Parquet and Python reader handles.
Status CheckTimeRange(int64_t ts_us) {
  static const int64_t kMin = *time::FromCivil(1, 1, 1);
  static const int64_t kEnd = *time::FromCivil(9999, 12, 31) + 86400LL * 1000000;
  if (ts_us < kMin || ts_us >= kEnd)
    return Status::InvalidArgument("timestamp " + time::FormatTimestamp(ts_us) + " is outside years 0001-9999");
  return Status::Ok();
}

// A kind names a partition folder: short, and no NUL (checked with every field).
Status CheckKind(std::string_view kind) {
  if (kind.size() > kMaxKindBytes) {
    return Status::InvalidArgument("kind is " + std::to_string(kind.size()) + " bytes, over the limit of " +
                                   std::to_string(kMaxKindBytes) + " (it names a lake partition)");
  }
  return Status::Ok();
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
        rq.ptr != qs.data() + qs.size()) {
      return Status::InvalidArgument("bad timestamp: year '" + Printable(ys, 64) + "', quarter '" + Printable(qs, 64) +
                                     "'");
    }
    auto t = time::QuarterStart(year, quarter);
    if (!t.ok()) return Status::InvalidArgument("bad timestamp: " + Printable(t.status().message()));
    PULSE_RETURN_IF_ERROR(CheckTimeRange(*t));
    return t;
  }
  auto text = rec.Get(cols[0]);
  if (!text || Trim(*text).empty()) return Status::InvalidArgument("missing timestamp");
  auto t = time::ParseTimestamp(*text);
  if (!t.ok()) return Status::InvalidArgument("bad timestamp: " + Printable(t.status().message()));
  PULSE_RETURN_IF_ERROR(CheckTimeRange(*t));
  return t;
}

}  // namespace

std::string RawForReject(std::string_view raw) {
  if (raw.size() <= kMaxRejectRawBytes) return LossyUtf8(raw);
  return LossyUtf8(raw.substr(0, kMaxRejectRawBytes)) + "... [cut: the record has " + std::to_string(raw.size()) +
         " bytes]";
}

namespace {

class Parser {
 public:
  Parser(std::string_view bytes, const std::string& name, const IngestOptions& options, IngestReport& report)
      : bytes_(bytes), name_(name), where_(Printable(name)), options_(options), report_(report) {
    now_us_ = options.now_us != 0 ? options.now_us : time::NowMicros();
    default_source_ = !options.source.empty() ? options.source
                      : name == "-"           ? std::string("stdin")
                                              : LossyUtf8(std::filesystem::path(name).filename().string());
  }

  Result<std::shared_ptr<arrow::Table>> Run(bool sniff) {
    FileFormat format;
    if (options_.format) {
      format = *options_.format;
    } else if (auto from_name = FormatFromPath(name_); from_name.ok()) {
      format = *from_name;
    } else if (sniff) {
      format = SniffFormat(bytes_);
    } else {
      return from_name.status();
    }
    ReaderLimits limits;
    limits.max_field_bytes = options_.max_field_bytes;
    PULSE_ASSIGN_OR_RETURN(auto reader, RecordReader::Open(bytes_, name_, format, limits));
    PULSE_RETURN_IF_ERROR(ResolveColumns(reader->header(), format));
    Record rec;
    auto one = [&] {
      if (!rec.error.empty()) {
        Reject(rec, rec.error);
        return;
      }
      if (!CheckFields(rec)) return;
      if (options_.wide) {
        WideRecord(rec);
      } else {
        LongRecord(rec);
      }
    };
    if (format == FileFormat::kJsonLines && FastJsonAllowed()) {
      // Flat records take the fast path; any other line (or one that would be rejected) is read
      // by the general reader, which decides it exactly as without the fast path.
      std::string_view line;
      std::vector<FlatJsonField> fields;
      while (reader->NextJsonLine(line)) {
        if (ScanFlatJson(line, fields) && FastLongRecord(fields)) continue;
        reader->ParseJsonLine(line, rec);
        one();
      }
    } else {
      while (reader->Next(rec)) one();
    }
    report_.lines = reader->lines();
    report_.accepted = builder_.size();
    return builder_.Finish();
  }

 private:
  Status ResolveColumns(const std::vector<std::string>& header, FileFormat format) {
    static const std::vector<std::string> kTargets = {"name", "source", "kind", "ts", "value", "unit", "metadata"};
    for (const auto& [target, column] : options_.mapping) {
      if (std::find(kTargets.begin(), kTargets.end(), target) == kTargets.end()) {
        return Status::InvalidArgument("--map: unknown target field '" + Printable(target) +
                                       "' (known: name, source, kind, ts, value, unit, metadata)");
      }
    }
    const std::unordered_set<std::string_view> columns(header.begin(), header.end());
    auto has = [&](const std::string& c) { return format != FileFormat::kCsv || columns.count(c) > 0; };
    if (options_.wide) {
      time_columns_ = options_.time_columns;
      if (time_columns_.empty()) {
        if (has("year") && has("quarter") && format == FileFormat::kCsv) {
          time_columns_ = {"year", "quarter"};
        } else {
          for (const char* c : {"ts", "timestamp", "time", "date"}) {
            if (format == FileFormat::kCsv && has(c)) {
              time_columns_ = {c};
              break;
            }
          }
        }
      }
      if (time_columns_.empty() || time_columns_.size() > 2)
        return Status::InvalidArgument("--wide needs --time COLUMN or --time year,quarter");
      for (const auto& c : time_columns_)
        if (!has(c)) return Status::InvalidArgument(where_ + ": no time column '" + Printable(c) + "' in the header");
      if (format == FileFormat::kCsv && header.size() <= time_columns_.size())
        return Status::InvalidArgument(where_ + ": wide layout but no value columns besides the time columns");
      return Status::Ok();
    }
    for (const auto& target : kTargets) {
      auto it = options_.mapping.find(target);
      std::string column = it != options_.mapping.end() ? it->second : target;
      if (it == options_.mapping.end() && target == "ts" && format == FileFormat::kCsv && !has("ts")) {
        for (const char* alt : {"timestamp", "time", "date"}) {
          if (has(alt)) {
            column = alt;
            break;
          }
        }
      }
      if (it != options_.mapping.end() && !has(column)) {
        return Status::InvalidArgument("--map " + target + "=" + Printable(column) + ": no column '" +
                                       Printable(column) + "' in " + where_);
      }
      column_[target] = column;
    }
    columns_ = {column_["name"],  column_["source"], column_["kind"],    column_["ts"],
                column_["value"], column_["unit"],   column_["metadata"]};
    if (format == FileFormat::kCsv) {
      for (const char* required : {"name", "ts", "value"}) {
        if (!has(column_[required])) {
          return Status::InvalidArgument(where_ + ":1: no '" + Printable(column_[required]) +
                                         "' column for the signal's " + required + " (map one with --map " + required +
                                         "=COLUMN)");
        }
      }
    }
    return Status::Ok();
  }

  std::string FieldName(const Record& rec, size_t i) const {
    const auto& names = rec.names();
    return i < names.size() ? Printable(names[i], 64) : std::to_string(i + 1);
  }

  bool CheckFields(const Record& rec) {
    const auto& names = rec.names();
    for (size_t i = 0; i < names.size() && i < rec.values.size(); ++i) {
      if (names[i].find('\0') != std::string::npos) {
        Reject(rec, "field name '" + Printable(names[i], 64) + "' contains a NUL character");
        return false;
      }
    }
    for (size_t i = 0; i < rec.values.size(); ++i) {
      const std::string& v = rec.values[i];
      if (static_cast<int64_t>(v.size()) > options_.max_field_bytes) {
        Reject(rec, "field '" + FieldName(rec, i) + "' is " + std::to_string(v.size()) + " bytes, over the limit of " +
                        std::to_string(options_.max_field_bytes));
        return false;
      }
      if (!ValidUtf8(v)) {
        Reject(rec, "field '" + FieldName(rec, i) + "' is not valid UTF-8");
        return false;
      }
      if (v.find('\0') != std::string::npos) {
        Reject(rec, "field '" + FieldName(rec, i) + "' contains a NUL character: '" + Printable(v, 64) + "'");
        return false;
      }
    }
    return true;
  }

  void LongRecord(const Record& rec) {
    if (auto reason = LongRow([&rec](const std::string& column) { return rec.Get(column); }))
      Reject(rec, std::move(*reason));
  }

  // The fast path (flat_json.h) requires what makes its fields read as the general reader's:
  // the long layout, and a field limit no number's printed form can cross.
  bool FastJsonAllowed() const { return options_.fast_json && !options_.wide && options_.max_field_bytes >= 64; }

  // Appends the row of a flat JSON record and returns true; false (nothing appended) when the
  // record would be rejected or its fields might read differently through the general reader.
  bool FastLongRecord(const std::vector<FlatJsonField>& fields) {
    for (const auto& f : fields) {
      if (static_cast<int64_t>(f.text.size()) > options_.max_field_bytes) return false;
      // A decimal number's text is reprinted by the general reader: only the value column's
      // (read as a double, the same either way) may be one.
      const bool mapped = f.key == columns_.name || f.key == columns_.source || f.key == columns_.kind ||
                          f.key == columns_.ts || f.key == columns_.unit || f.key == columns_.metadata;
      if (f.type == FlatJsonField::Type::kNumber && f.key != columns_.value && mapped) return false;
    }
    auto get = [&fields](const std::string& column) -> std::optional<std::string_view> {
      for (const auto& f : fields) {
        if (f.key != column) continue;
        if (f.type == FlatJsonField::Type::kNull) return std::nullopt;
        return f.text;
      }
      return std::nullopt;
    };
    return !LongRow(get).has_value();
  }

  // Validates one long-layout record read through `get` (column -> text, nullopt when absent or
  // null) and appends its row; returns the reason it is rejected instead.
  template <class Get>
  std::optional<std::string> LongRow(const Get& get) {
    auto name = get(columns_.name);
    if (!name || Trim(*name).empty()) return "missing name";
    auto ts_text = get(columns_.ts);
    if (!ts_text || Trim(*ts_text).empty()) return "missing timestamp";
    auto ts = time::ParseTimestamp(*ts_text);
    if (!ts.ok()) return "bad timestamp: " + Printable(ts.status().message());
    if (Status range = CheckTimeRange(*ts); !range.ok()) return range.message();
    auto value_text = get(columns_.value);
    if (!value_text) return "missing value";
    auto value = ParseValue(*value_text);
    if (!value.ok()) return value.status().message();
    auto kind = get(columns_.kind);
    std::string_view kind_v = kind && !Trim(*kind).empty() ? Trim(*kind) : std::string_view(options_.kind);
    if (Status k = CheckKind(kind_v); !k.ok()) return k.message();
    auto source = get(columns_.source);
    std::string_view source_v = source && !Trim(*source).empty() ? Trim(*source) : std::string_view(default_source_);
    auto unit = get(columns_.unit);
    std::string_view unit_v = unit ? Trim(*unit) : std::string_view(options_.unit);
    auto metadata = get(columns_.metadata);
    std::string_view metadata_v = metadata ? Trim(*metadata) : std::string_view();
    if (!metadata_v.empty()) {
      if (!IsJsonObject(metadata_v)) return "metadata is not a JSON object";
    }
    Status st = builder_.Append(Trim(*name), source_v, kind_v, *ts, *value, unit_v, metadata_v, now_us_);
    if (!st.ok()) return st.message();
    return std::nullopt;
  }

  // A JSON object of bounded depth (checked before parsing, so no input exhausts the stack).
  static bool IsJsonObject(std::string_view text) {
    if (JsonNestingDepth(text, kMaxMetadataDepth) > kMaxMetadataDepth) return false;
    const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    return !parsed.is_discarded() && parsed.is_object();
  }

  void WideRecord(const Record& rec) {
    auto ts = WideTime(rec, time_columns_);
    if (!ts.ok()) return Reject(rec, ts.status().message());
    const auto& names = rec.names();
    for (size_t i = 0; i < rec.values.size() && i < names.size(); ++i) {
      const std::string& column = names[i];
      if (std::find(time_columns_.begin(), time_columns_.end(), column) != time_columns_.end()) continue;
      if (i < rec.present.size() && !rec.present[i]) continue;
      const std::string_view text = rec.values[i];
      if (Trim(text).empty()) continue;  // no observation for this series at this time
      auto value = ParseValue(text);
      if (!value.ok()) {
        Reject(rec, "column '" + Printable(column, 64) + "': " + value.status().message());
        continue;
      }
      Status st = builder_.Append(column, default_source_, options_.kind, *ts, *value, options_.unit, "", now_us_);
      if (!st.ok()) Reject(rec, st.message());
    }
  }

  void Reject(const Record& rec, std::string reason) {
    ++report_.rejected;
    report_.rejects.push_back({rec.line, std::move(reason), RawForReject(rec.raw)});
  }

  static constexpr size_t kMaxMetadataDepth = 64;

  std::string_view bytes_;
  const std::string& name_;
  std::string where_;
  const IngestOptions& options_;
  IngestReport& report_;
  int64_t now_us_ = 0;
  std::string default_source_;
  std::map<std::string, std::string> column_;
  struct {
    std::string name, source, kind, ts, value, unit, metadata;
  } columns_;  // column_ resolved once: the source column of each target field
  std::vector<std::string> time_columns_;
  signals::SignalBatchBuilder builder_;
};

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
  PULSE_ASSIGN_OR_RETURN(auto old,
                         table.Read({.columns = {"kind", "name", "ts", "value"},
                                     .partition_filters = {{"kind", {wanted_kinds.begin(), wanted_kinds.end()}}}}));
  std::unordered_set<std::string> seen;
  for (const auto& b : arrow::TableBatchReader(*old)) {
    if (!b.ok()) return Status::Internal(b.status().ToString());
    auto k = std::static_pointer_cast<arrow::StringArray>((*b)->column(0));
    auto n = std::static_pointer_cast<arrow::StringArray>((*b)->column(1));
    auto t = std::static_pointer_cast<arrow::TimestampArray>((*b)->column(2));
    auto v = std::static_pointer_cast<arrow::DoubleArray>((*b)->column(3));
    for (int64_t i = 0; i < (*b)->num_rows(); ++i)
      seen.insert(key(k->GetView(i), n->GetView(i), t->Value(i), v->Value(i)));
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

Result<std::shared_ptr<arrow::Table>> ParseSignalsBytes(std::string_view bytes, const std::string& name, bool sniff,
                                                        const IngestOptions& options, IngestReport& report) {
  report.file = name;
  report.bytes = static_cast<int64_t>(bytes.size());
  if (options.max_field_bytes <= 0) return Status::InvalidArgument("max_field_bytes must be > 0");
  if (options.kind.empty()) return Status::InvalidArgument("the default kind must not be empty");
  if (Status k = CheckKind(options.kind); !k.ok()) return Status::InvalidArgument("--kind: " + k.message());
  if (options.kind.find('\0') != std::string::npos || !ValidUtf8(options.kind))
    return Status::InvalidArgument("--kind must be valid UTF-8 without NUL characters");
  Parser parser(bytes, name, options, report);
  return parser.Run(sniff);
}

Result<std::shared_ptr<arrow::Table>> ParseSignalsFile(const std::string& path, const IngestOptions& options,
                                                       IngestReport& report) {
  PULSE_ASSIGN_OR_RETURN(InputBytes input, ReadInput(path, options.max_file_bytes, options.regular_files_only));
  if (options.on_read) options.on_read(input.bytes);
  report.sha256 = Sha256Hex(input.bytes);
  // Standard input, pipes and device paths have no extension to go by: guess their format.
  const bool sniff = !input.regular_file || path == "-" || path.starts_with("/dev/") || path.starts_with("/proc/");
  return ParseSignalsBytes(input.bytes, path, sniff, options, report);
}

namespace {

// IngestFile and IngestBytes after the parse: the rows of `name` (a path, "-", or an object's
// name) committed once per content (report.sha256).
Result<IngestReport> CommitParsed(lake::Lake& lake, std::shared_ptr<arrow::Table> rows, IngestReport report,
                                  const std::string& name, const IngestOptions& opts,
                                  std::chrono::steady_clock::time_point start) {
  PULSE_ASSIGN_OR_RETURN(auto sink, SignalSink::Open(lake, opts.scoring));
  if (opts.only_new) {
    PULSE_ASSIGN_OR_RETURN(rows, DropExisting(sink->signals(), rows, report.existing));
    if (rows->num_rows() == 0 && report.rejects.empty()) {
      PULSE_ASSIGN_OR_RETURN(report.version, sink->signals().LatestVersion());
      report.duplicate = true;
      report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return report;
    }
  }
  lake::WriteOptions write;
  write.app_id = "pulse-ingest:" + report.sha256;
  write.app_version = 0;
  // The same content committed before: skip scoring (it reads the table); Append would skip too.
  PULSE_ASSIGN_OR_RETURN(auto snapshot, sink->signals().LoadSnapshot());
  if (snapshot.app_versions.count(write.app_id)) {
    report.version = snapshot.version;
    report.duplicate = true;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  }
  write.operation = "INGEST";
  write.operation_parameters = {
      {"file", name == "-" ? std::string("stdin") : LossyUtf8(std::filesystem::path(name).filename().string())},
      {"accepted", std::to_string(report.accepted)},
      {"rejected", std::to_string(report.rejected)}};
  signals::GateCounts gate;
  PULSE_ASSIGN_OR_RETURN(auto commit, sink->AppendSignals(*rows, write, &gate));
  report.version = commit.version;
  report.duplicate = commit.skipped;
  if (!commit.skipped) report.gate = gate;
  if (!report.rejects.empty() && !commit.skipped) {
    const std::string file_name = report.file == "-" ? std::string("stdin") : LossyUtf8(report.file);
    std::vector<RejectRow> rejects;
    rejects.reserve(report.rejects.size());
    for (const auto& r : report.rejects) rejects.push_back({file_name, r.line, r.reason, r.raw});
    write.operation = "INGEST REJECTS";
    PULSE_ASSIGN_OR_RETURN(auto rc, sink->AppendRejects(rejects, opts.now_us, write));
    (void)rc;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace

Result<IngestReport> IngestFile(lake::Lake& lake, const std::string& path, const IngestOptions& options) {
  auto start = std::chrono::steady_clock::now();
  IngestReport report;
  IngestOptions opts = options;
  if (opts.now_us == 0) opts.now_us = time::NowMicros();
  // One read: the rows and the idempotency key come from the same bytes.
  PULSE_ASSIGN_OR_RETURN(auto rows, ParseSignalsFile(path, opts, report));
  return CommitParsed(lake, std::move(rows), std::move(report), path, opts, start);
}

Result<IngestReport> IngestBytes(lake::Lake& lake, std::string_view bytes, const std::string& name,
                                 const IngestOptions& options) {
  auto start = std::chrono::steady_clock::now();
  if (static_cast<int64_t>(bytes.size()) > options.max_file_bytes) {
    return Status::InvalidArgument(LossyUtf8(name) + " exceeds the maximum input size of " +
                                   std::to_string(options.max_file_bytes) + " bytes");
  }
  IngestReport report;
  IngestOptions opts = options;
  if (opts.now_us == 0) opts.now_us = time::NowMicros();
  if (opts.on_read) opts.on_read(bytes);
  report.sha256 = Sha256Hex(bytes);
  PULSE_ASSIGN_OR_RETURN(auto rows, ParseSignalsBytes(bytes, name, /*sniff=*/false, opts, report));
  return CommitParsed(lake, std::move(rows), std::move(report), name, opts, start);
}

}  // namespace pulse::ingest
