#include "lake/internal/delta_log.h"

#include <arrow/api.h>
#include <arrow/io/api.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>

#include "lake/internal/arrow_json.h"
#include "lake/internal/delta_schema.h"

namespace pulse::lake::delta {
namespace {

Status FromArrow(const arrow::Status& st, std::string_view what) {
  if (st.ok()) return Status::Ok();
  return Status::IoError(std::string(what) + ": " + st.ToString());
}

// Parses "_delta_log/<20 digits>.json" or ".checkpoint[.<part>.<parts>].parquet".
struct LogFileName {
  int64_t version = -1;
  bool is_commit = false;
  bool is_checkpoint = false;
  int part = 0, parts = 0;  // multi-part checkpoints
};

std::optional<LogFileName> ParseLogFileName(std::string_view key) {
  if (!key.starts_with(kLogDir)) return std::nullopt;
  std::string_view name = key.substr(std::string_view(kLogDir).size());
  if (name.size() < 21 || name.find('/') != std::string_view::npos) return std::nullopt;
  for (size_t i = 0; i < 20; ++i)
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
  LogFileName out;
  // 20 digits can exceed int64: such a name is not a log file of ours (never a throw).
  auto [end, ec] = std::from_chars(name.data(), name.data() + 20, out.version);
  if (ec != std::errc() || end != name.data() + 20) return std::nullopt;
  std::string_view rest = name.substr(20);
  if (rest == ".json") {
    out.is_commit = true;
    return out;
  }
  if (rest == ".checkpoint.parquet") {
    out.is_checkpoint = true;
    return out;
  }
  int part = 0, parts = 0;
  if (std::sscanf(std::string(rest).c_str(), ".checkpoint.%10d.%10d.parquet", &part, &parts) == 2 && part > 0 &&
      parts > 0) {
    out.is_checkpoint = true;
    out.part = part;
    out.parts = parts;
    return out;
  }
  return std::nullopt;
}

std::map<std::string, std::string> PartitionValuesOf(const json& action) {
  std::map<std::string, std::string> out;
  if (!action.is_object()) return out;
  auto it = action.find("partitionValues");
  if (it == action.end() || !it->is_object()) return out;
  for (auto kv = it->begin(); kv != it->end(); ++kv)
    out[kv.key()] = kv.value().is_string() ? kv.value().get_ref<const std::string&>() : std::string();
  return out;
}

int64_t NumRecordsOf(const json& add) {
  if (!add.is_object()) return -1;
  auto it = add.find("stats");
  if (it == add.end() || !it->is_string()) return -1;
  json stats = json::parse(it->get_ref<const std::string&>(), nullptr, false);
  if (stats.is_discarded() || !stats.is_object()) return -1;
  auto n = stats.find("numRecords");
  if (n == stats.end() || !n->is_number_integer()) return -1;
  return n->get<int64_t>();
}

// Checks that `body[key]`, when present (or always, if `required`), has the JSON type `want`
// ("string", "integer", "boolean", "object", "array", "string array", "string map"). The error
// names the action and field: "add.size must be an integer, got string".
Status CheckField(const json& body, std::string_view action, const char* key, std::string_view want, bool required) {
  auto it = body.find(key);
  if (it == body.end() || (it->is_null() && !required)) {
    if (!required) return Status::Ok();
    return Status::ParseError(std::string(action) + " action without '" + key + "'");
  }
  bool ok = false;
  if (want == "string") {
    ok = it->is_string();
  } else if (want == "integer") {
    ok = it->is_number_integer();
  } else if (want == "boolean") {
    ok = it->is_boolean();
  } else if (want == "object") {
    ok = it->is_object();
  } else if (want == "string array") {
    ok = it->is_array() && std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_string(); });
  } else if (want == "string map") {
    ok = it->is_object() &&
         std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_string() || v.is_null(); });
  }
  if (ok) return Status::Ok();
  return Status::ParseError(std::string(action) + "." + key + " must be " +
                            (std::string_view("aeiou").find(want[0]) != std::string_view::npos ? "an " : "a ") +
                            std::string(want) + ", got " + it->type_name());
}

// Validates the fields this reader uses, so that later accesses cannot throw.
Status ValidateAction(std::string_view kind, const json& body) {
  if (kind == "commitInfo") return body.is_object() ? Status::Ok() : Status::ParseError("commitInfo must be an object");
  if (kind != "add" && kind != "remove" && kind != "txn" && kind != "metaData" && kind != "protocol")
    return Status::Ok();  // cdc, domainMetadata, unknown: ignored
  if (!body.is_object()) return Status::ParseError(std::string(kind) + " action must be an object");
  if (kind == "add") {
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "path", "string", true));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "partitionValues", "string map", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "size", "integer", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "modificationTime", "integer", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "dataChange", "boolean", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "stats", "string", false));
  } else if (kind == "remove") {
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "path", "string", true));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "partitionValues", "string map", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "size", "integer", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "deletionTimestamp", "integer", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "dataChange", "boolean", false));
  } else if (kind == "txn") {
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "appId", "string", true));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "version", "integer", true));
  } else if (kind == "metaData") {
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "schemaString", "string", true));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "id", "string", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "name", "string", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "partitionColumns", "string array", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "configuration", "string map", false));
  } else if (kind == "protocol") {
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "minReaderVersion", "integer", true));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "minWriterVersion", "integer", true));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "readerFeatures", "string array", false));
    PULSE_RETURN_IF_ERROR(CheckField(body, kind, "writerFeatures", "string array", false));
  }
  return Status::Ok();
}

// body[key] as an integer, `fallback` when absent or null (validated by ValidateAction).
int64_t IntOr(const json& body, const char* key, int64_t fallback) {
  auto it = body.find(key);
  return it != body.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::shared_ptr<arrow::DataType> StringMap() { return arrow::map(arrow::utf8(), arrow::utf8()); }

// The checkpoint schema of the Delta protocol (reader 1 / writer 2 actions).
std::shared_ptr<arrow::Schema> CheckpointSchema() {
  auto txn = arrow::struct_({arrow::field("appId", arrow::utf8()), arrow::field("version", arrow::int64()),
                             arrow::field("lastUpdated", arrow::int64())});
  auto add = arrow::struct_({arrow::field("path", arrow::utf8()), arrow::field("partitionValues", StringMap()),
                             arrow::field("size", arrow::int64()), arrow::field("modificationTime", arrow::int64()),
                             arrow::field("dataChange", arrow::boolean()), arrow::field("tags", StringMap()),
                             arrow::field("stats", arrow::utf8())});
  auto remove = arrow::struct_({arrow::field("path", arrow::utf8()), arrow::field("deletionTimestamp", arrow::int64()),
                                arrow::field("dataChange", arrow::boolean()),
                                arrow::field("extendedFileMetadata", arrow::boolean()),
                                arrow::field("partitionValues", StringMap()), arrow::field("size", arrow::int64())});
  auto format = arrow::struct_({arrow::field("provider", arrow::utf8()), arrow::field("options", StringMap())});
  auto metadata = arrow::struct_(
      {arrow::field("id", arrow::utf8()), arrow::field("name", arrow::utf8()),
       arrow::field("description", arrow::utf8()), arrow::field("format", format),
       arrow::field("schemaString", arrow::utf8()), arrow::field("partitionColumns", arrow::list(arrow::utf8())),
       arrow::field("configuration", StringMap()), arrow::field("createdTime", arrow::int64())});
  auto protocol = arrow::struct_({arrow::field("minReaderVersion", arrow::int32()),
                                  arrow::field("minWriterVersion", arrow::int32()),
                                  arrow::field("readerFeatures", arrow::list(arrow::utf8())),
                                  arrow::field("writerFeatures", arrow::list(arrow::utf8()))});
  return arrow::schema({arrow::field("txn", txn), arrow::field("add", add), arrow::field("remove", remove),
                        arrow::field("metaData", metadata), arrow::field("protocol", protocol)});
}

// The schema a (validated) metaData action declares, with its partition columns checked.
Result<std::shared_ptr<arrow::Schema>> MetadataSchema(const json& m) {
  PULSE_ASSIGN_OR_RETURN(auto schema, DeltaSchemaToArrow(m["schemaString"].get<std::string>()));
  if (m.contains("partitionColumns") && m["partitionColumns"].is_array()) {
    for (const auto& c : m["partitionColumns"]) {
      if (!schema->GetFieldByName(c.get<std::string>())) {
        return Status::ParseError("metaData.partitionColumns names '" + c.get<std::string>() +
                                  "', which is not in the schema");
      }
    }
  }
  return schema;
}

Status ApplyMetadata(LogState& state, const json& m) {
  // ValidateAction has checked every field's type.
  PULSE_ASSIGN_OR_RETURN(state.snapshot.schema, MetadataSchema(m));
  state.snapshot.table_id = m.contains("id") && m["id"].is_string() ? m["id"].get<std::string>() : "";
  state.snapshot.name = m.contains("name") && m["name"].is_string() ? m["name"].get<std::string>() : "";
  state.snapshot.partition_columns.clear();
  if (m.contains("partitionColumns") && m["partitionColumns"].is_array())
    for (const auto& c : m["partitionColumns"]) state.snapshot.partition_columns.push_back(c.get<std::string>());
  state.snapshot.configuration.clear();
  if (m.contains("configuration") && m["configuration"].is_object()) {
    for (auto kv = m["configuration"].begin(); kv != m["configuration"].end(); ++kv)
      if (kv.value().is_string()) state.snapshot.configuration[kv.key()] = kv.value().get<std::string>();
  }
  state.metadata = m;
  return Status::Ok();
}

}  // namespace

std::string CommitKey(int64_t version) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "_delta_log/%020lld.json", static_cast<long long>(version));
  return buf;
}

std::string CheckpointKey(int64_t version) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "_delta_log/%020lld.checkpoint.parquet", static_cast<long long>(version));
  return buf;
}

namespace {
bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' || c == '=';
}
constexpr char kHex[] = "0123456789ABCDEF";
std::string PercentEncode(std::string_view s, bool (*keep)(unsigned char)) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (keep(c)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}
}  // namespace

std::string EncodePath(std::string_view path) { return PercentEncode(path, IsUnreserved); }

std::string DecodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex(path[i + 1]) >= 0 && hex(path[i + 2]) >= 0) {
      out += static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2]));
      i += 2;
    } else {
      out += path[i];
    }
  }
  return out;
}

std::string EscapePartitionValue(std::string_view value) {
  // Hive escapes control characters and characters special in paths or in "k=v" folder names.
  return PercentEncode(value, [](unsigned char c) {
    return c >= 0x20 && c != 0x7f &&
           std::string_view("\"#%'*/:=?\\{[]^").find(static_cast<char>(c)) == std::string_view::npos;
  });
}

Status ApplyAction(LogState& state, const json& action) {
  if (!action.is_object() || action.size() != 1) return Status::ParseError("an action must be an object with one key");
  const std::string& kind = action.begin().key();
  const json& body = action.begin().value();
  PULSE_RETURN_IF_ERROR(ValidateAction(kind, body));
  if (kind == "add") {
    std::string path = body["path"].get<std::string>();
    AddFile f;
    f.path = DecodePath(path);
    f.partition_values = PartitionValuesOf(body);
    f.size = IntOr(body, "size", 0);
    f.modification_time = IntOr(body, "modificationTime", 0);
    f.num_records = NumRecordsOf(body);
    state.tombstones.erase(path);
    state.snapshot.files[path] = std::move(f);
    state.adds[path] = body;
  } else if (kind == "remove") {
    std::string path = body["path"].get<std::string>();
    state.snapshot.files.erase(path);
    state.adds.erase(path);
    state.tombstones[path] = body;
  } else if (kind == "txn") {
    state.snapshot.app_versions[body["appId"].get<std::string>()] = body["version"].get<int64_t>();
  } else if (kind == "metaData") {
    return ApplyMetadata(state, body);
  } else if (kind == "protocol") {
    state.protocol = body;
  }
  // commitInfo, cdc, domainMetadata and unknown actions do not change the file set.
  return Status::Ok();
}

namespace {
Result<CommitSummary> ParseCommitLines(int64_t version, std::string_view text, LogState* state) {
  CommitSummary summary;
  summary.version = version;
  summary.commit_info = json::object();
  int64_t line_no = 0;
  int64_t actions = 0;
  std::vector<json> parsed;  // applied only once every line has parsed, so a bad commit changes nothing
  size_t pos = 0;
  bool rows_known = true;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json action = json::parse(line, nullptr, false);
    if (action.is_discarded() || !action.is_object() || action.size() != 1)
      return Status::ParseError(CommitKey(version) + " line " + std::to_string(line_no) + ": not a Delta action");
    const std::string kind = action.begin().key();
    const json& body = action.begin().value();
    const std::string where = CommitKey(version) + " line " + std::to_string(line_no);
    Status valid = ValidateAction(kind, body);
    if (!valid.ok()) return valid.WithContext(where);
    ++actions;
    try {  // nothing below throws on validated actions; the catch is a second line of defence
      if (kind == "commitInfo") {
        summary.commit_info = body;
      } else if (kind == "add" || kind == "remove") {
        summary.touched_partitions.push_back(PartitionValuesOf(body));
        if (!body.contains("dataChange") || body["dataChange"].is_null() || body["dataChange"].get<bool>())
          summary.data_change = true;
        if (kind == "add") {
          ++summary.files_added;
          AddFile f;
          f.path = DecodePath(body["path"].get<std::string>());
          f.partition_values = PartitionValuesOf(body);
          f.size = IntOr(body, "size", 0);
          f.modification_time = IntOr(body, "modificationTime", 0);
          f.num_records = NumRecordsOf(body);
          summary.added_files.push_back(std::move(f));
          int64_t n = NumRecordsOf(body);
          if (n < 0) {
            rows_known = false;
          } else {
            summary.rows_added += n;
          }
        } else {
          ++summary.files_removed;
          summary.removed_paths.push_back(body["path"].get<std::string>());
        }
      } else if (kind == "txn") {
        summary.txns.emplace_back(body["appId"].get<std::string>(), body["version"].get<int64_t>());
      } else if (kind == "metaData" || kind == "protocol") {
        summary.data_change = true;
        summary.metadata_changed = true;
      }
      if (kind == "metaData") {  // the one action whose application can fail: check it up front
        auto schema = MetadataSchema(body);
        if (!schema.ok()) return schema.status().WithContext(where);
      }
      if (state != nullptr) parsed.push_back(std::move(action));
    } catch (const std::exception& e) {
      return Status::ParseError(where + ": " + e.what());
    }
  }
  if (actions == 0) {
    return Status::ParseError(CommitKey(version) + " is " + (text.empty() ? std::string("empty (0 bytes)") : "blank") +
                              ": a Delta commit holds at least one action (the file is damaged or was "
                              "truncated)");
  }
  if (!rows_known) summary.rows_added = -1;
  if (state != nullptr) {
    for (const auto& action : parsed)
      PULSE_RETURN_IF_ERROR(ApplyAction(*state, action).WithContext(CommitKey(version)));
    state->snapshot.version = version;
  }
  return summary;
}
}  // namespace

Result<CommitSummary> ApplyCommit(LogState& state, int64_t version, std::string_view text) {
  if (state.snapshot.version != version - 1) {
    return Status::Internal("commit " + std::to_string(version) + " applied to state at version " +
                            std::to_string(state.snapshot.version));
  }
  return ParseCommitLines(version, text, &state);
}

Result<CommitSummary> SummarizeCommit(int64_t version, std::string_view text) {
  return ParseCommitLines(version, text, nullptr);
}

Status CheckReadable(const LogState& state) {
  if (state.protocol.is_null() || state.metadata.is_null())
    return Status::ParseError("Delta log has no protocol or metaData action");
  const int64_t reader = IntOr(state.protocol, "minReaderVersion", 1);
  if (reader > 3)
    return Status::InvalidArgument("Delta reader version " + std::to_string(reader) + " is not supported");
  if (reader == 2 || reader == 3) {
    auto it = state.snapshot.configuration.find("delta.columnMapping.mode");
    if (it != state.snapshot.configuration.end() && it->second != "none")
      return Status::InvalidArgument("Delta column mapping is not supported");
  }
  if (reader == 3 && state.protocol.contains("readerFeatures")) {
    static const std::set<std::string> kSupported = {"timestampNtz", "columnMapping"};
    for (const auto& f : state.protocol["readerFeatures"]) {
      if (!kSupported.count(f.get<std::string>()))
        return Status::InvalidArgument("Delta reader feature '" + f.get<std::string>() + "' is not supported");
    }
  }
  return Status::Ok();
}

Status CheckWritable(const LogState& state) {
  PULSE_RETURN_IF_ERROR(CheckReadable(state));
  const int64_t writer = IntOr(state.protocol, "minWriterVersion", 2);
  if (writer <= 2) return Status::Ok();
  if (writer == 7 && state.protocol.contains("writerFeatures")) {
    static const std::set<std::string> kSupported = {"appendOnly", "invariants", "timestampNtz"};
    for (const auto& f : state.protocol["writerFeatures"]) {
      if (!kSupported.count(f.get<std::string>()))
        return Status::InvalidArgument("Delta writer feature '" + f.get<std::string>() + "' is not supported");
    }
    return Status::Ok();
  }
  return Status::InvalidArgument("Delta writer version " + std::to_string(writer) +
                                 " needs features Pulse does not write (CHECK constraints, generated columns, ...)");
}

namespace {

Status LoadCheckpoint(FileSystem& fs, LogState& state, int64_t version, const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    PULSE_ASSIGN_OR_RETURN(std::string bytes, fs.ReadFile(key));
    auto buffer = arrow::Buffer::FromString(std::move(bytes));
    auto input = std::make_shared<arrow::io::BufferReader>(buffer);
    auto reader = parquet::arrow::OpenFile(input, arrow::default_memory_pool());
    if (!reader.ok()) return Status::ParseError(key + ": " + reader.status().ToString());
    std::shared_ptr<arrow::Table> table;
    PULSE_RETURN_IF_ERROR(FromArrow((*reader)->ReadTable(&table), key));
    auto combined = table->CombineChunksToBatch();
    if (!combined.ok()) return Status::Internal(combined.status().ToString());
    const auto& batch = **combined;
    for (int c = 0; c < batch.num_columns(); ++c) {
      const std::string& action = batch.schema()->field(c)->name();
      if (action != "add" && action != "remove" && action != "txn" && action != "metaData" && action != "protocol")
        continue;
      const auto& column = *batch.column(c);
      for (int64_t r = 0; r < batch.num_rows(); ++r) {
        if (column.IsNull(r)) continue;
        PULSE_ASSIGN_OR_RETURN(json body, ArrayElementToJson(column, r));
        if (action == "add" || action == "remove") {
          if (!body.contains("path")) continue;  // delta-rs writes all-null structs as non-null rows
          if (action == "add" && body.contains("stats_parsed")) body.erase("stats_parsed");
          if (action == "add" && body.contains("partitionValues_parsed")) body.erase("partitionValues_parsed");
        }
        if (action == "txn" && !body.contains("appId")) continue;
        if (action == "metaData" && !body.contains("schemaString")) continue;
        if (action == "protocol" && !body.contains("minReaderVersion")) continue;
        Status st = ApplyAction(state, json{{action, std::move(body)}});
        if (!st.ok()) return st.WithContext(key);
      }
    }
  }
  state.snapshot.version = version;
  return Status::Ok();
}

}  // namespace

Result<LogState> LoadState(FileSystem& fs, std::optional<int64_t> version) {
  PULSE_ASSIGN_OR_RETURN(auto files, fs.List(kLogDir));
  int64_t latest = -1;
  std::map<int64_t, std::map<int, std::string>> checkpoints;  // version -> part -> key
  std::map<int64_t, int> checkpoint_parts;
  std::set<int64_t> commits;
  for (const auto& f : files) {
    auto name = ParseLogFileName(f.key);
    if (!name) continue;
    if (name->is_commit) {
      commits.insert(name->version);
      latest = std::max(latest, name->version);
    } else {
      checkpoints[name->version][name->part] = f.key;
      checkpoint_parts[name->version] = std::max(1, name->parts);
    }
  }
  if (latest < 0 && checkpoints.empty()) return Status::NotFound("no Delta table at " + fs.RootUrl());
  if (!checkpoints.empty()) latest = std::max(latest, checkpoints.rbegin()->first);
  int64_t target = version.value_or(latest);
  if (target < 0 || target > latest) {
    return Status::NotFound("version " + std::to_string(target) + " of " + fs.RootUrl() +
                            " does not exist (latest is " + std::to_string(latest) + ")");
  }

  LogState state;
  // Newest complete checkpoint at or before the target; a damaged one is skipped (older
  // checkpoints or the JSON commits still describe the table), but remembered for the error.
  std::string checkpoint_errors;
  for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it) {
    if (it->first > target) continue;
    if (static_cast<int>(it->second.size()) != checkpoint_parts[it->first]) continue;  // incomplete
    std::vector<std::string> keys;
    for (const auto& [part, key] : it->second) keys.push_back(key);
    LogState from_checkpoint;
    Status loaded = LoadCheckpoint(fs, from_checkpoint, it->first, keys);
    if (loaded.ok()) {
      state = std::move(from_checkpoint);
      break;
    }
    checkpoint_errors += "; checkpoint " + std::to_string(it->first) + " unreadable: " + loaded.message();
  }
  const std::string url = fs.RootUrl();
  for (int64_t v = state.snapshot.version + 1; v <= target; ++v) {
    if (!commits.count(v)) {
      // Commits older than the oldest one present were cleaned up (legitimate after a checkpoint);
      // a hole between present commits, or after the checkpoint we start from, is damage.
      const bool cleaned_up =
          state.snapshot.version < 0 && !commits.empty() && v < *commits.begin() && target < *commits.begin();
      if (cleaned_up) {
        return Status::NotFound("version " + std::to_string(target) + " of " + url +
                                " is no longer available (its commits were cleaned up; oldest is " +
                                std::to_string(*commits.begin()) + ")" + checkpoint_errors);
      }
      return Status::ParseError("Delta log of " + url + " is broken: version " + std::to_string(v) + " missing (" +
                                CommitKey(v) + " does not exist, but version " + std::to_string(target) + " needs it" +
                                (state.snapshot.version >= 0
                                     ? ", replaying from the checkpoint at " + std::to_string(state.snapshot.version)
                                     : std::string()) +
                                ")" + checkpoint_errors);
    }
    auto text = fs.ReadFile(CommitKey(v));
    if (!text.ok()) return text.status().WithContext(url);
    auto summary = ApplyCommit(state, v, *text);
    if (!summary.ok()) return summary.status().WithContext(url);
  }
  Status readable = CheckReadable(state);
  if (!readable.ok()) return readable.WithContext(url);
  return state;
}

Result<std::vector<CommitSummary>> CatchUp(FileSystem& fs, LogState& state) {
  std::vector<CommitSummary> applied;
  for (;;) {
    int64_t next = state.snapshot.version + 1;
    auto text = fs.ReadFile(CommitKey(next));
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) break;
      return text.status();
    }
    auto summary = ApplyCommit(state, next, *text);
    if (!summary.ok()) return summary.status().WithContext(fs.RootUrl());
    applied.push_back(std::move(*summary));
  }
  if (!applied.empty()) {
    Status readable = CheckReadable(state);
    if (!readable.ok()) return readable.WithContext(fs.RootUrl());
  }
  return applied;
}

Status WriteCheckpoint(FileSystem& fs, const LogState& state) {
  auto schema = CheckpointSchema();
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> builders;
  for (const auto& field : schema->fields()) {
    auto b = arrow::MakeBuilder(field->type());
    if (!b.ok()) return Status::Internal(b.status().ToString());
    builders.push_back(std::move(*b));
  }
  int64_t rows = 0;
  auto append_row = [&](int column, const json& body) -> Status {
    for (int c = 0; c < static_cast<int>(builders.size()); ++c)
      PULSE_RETURN_IF_ERROR(AppendJson(*builders[static_cast<size_t>(c)], c == column ? body : json()));
    ++rows;
    return Status::Ok();
  };
  PULSE_RETURN_IF_ERROR(append_row(4, state.protocol));
  PULSE_RETURN_IF_ERROR(append_row(3, state.metadata));
  for (const auto& [app, v] : state.snapshot.app_versions)
    PULSE_RETURN_IF_ERROR(append_row(0, json{{"appId", app}, {"version", v}}));
  for (const auto& [path, body] : state.adds) {
    json add = body;
    add["dataChange"] = false;
    PULSE_RETURN_IF_ERROR(append_row(1, add));
  }
  for (const auto& [path, body] : state.tombstones) {
    json remove = body;
    remove["dataChange"] = false;
    PULSE_RETURN_IF_ERROR(append_row(2, remove));
  }
  arrow::ArrayVector columns;
  for (auto& b : builders) {
    auto a = b->Finish();
    if (!a.ok()) return Status::Internal(a.status().ToString());
    columns.push_back(*a);
  }
  auto table = arrow::Table::Make(schema, columns, rows);
  auto sink = arrow::io::BufferOutputStream::Create();
  if (!sink.ok()) return Status::Internal(sink.status().ToString());
  PULSE_RETURN_IF_ERROR(FromArrow(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), *sink, 1 << 20),
                                  "writing checkpoint"));
  auto buffer = (*sink)->Finish();
  if (!buffer.ok()) return Status::Internal(buffer.status().ToString());
  int64_t v = state.snapshot.version;
  PULSE_RETURN_IF_ERROR(fs.WriteFile(CheckpointKey(v), (*buffer)->ToString()));
  json last = {{"version", v}, {"size", rows}};
  return fs.WriteFile(kLastCheckpointKey, last.dump());
}

}  // namespace pulse::lake::delta
