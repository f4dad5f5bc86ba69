// The read routes: series, forecasts (latest with bands, or as of a table version), trust
// scores, simulation summaries, lake tables, and the latest HTML report.
//
// Paging: `limit` (1..1000, default 100) and `page_token` (opaque; from the previous page's
// next_page_token). A token pins the table version the first page read, so a paged walk sees one
// snapshot even while writers commit. `version=N` reads the table as of version N (time travel).
// A table that does not exist yet reads as empty (items [], version null).
#include <arrow/api.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/config.h"
#include "core/files.h"
#include "core/json_text.h"
#include "core/time.h"
#include "lake/table_json.h"
#include "lake/table_read.h"
#include "service/internal/service_state.h"

namespace pulse::service {
namespace {

constexpr int64_t kDefaultLimit = 100, kMaxLimit = 1000;

struct Page {
  int64_t limit = kDefaultLimit;
  int64_t offset = 0;
  std::optional<int64_t> version;  // pinned by the token or asked for with ?version=
};

Result<Page> ReadPage(const Call& call) {
  Page page;
  if (auto limit = call.Query("limit")) {
    auto n = ParseInt64(*limit);
    if (!n || *n < 1 || *n > kMaxLimit)
      return Status::InvalidArgument("limit must be an integer in 1.." + std::to_string(kMaxLimit));
    page.limit = *n;
  }
  if (auto version = call.Query("version")) {
    auto n = ParseInt64(*version);
    if (!n || *n < 0) return Status::InvalidArgument("version must be a table version (an integer >= 0)");
    page.version = *n;
  }
  if (auto token = call.Query("page_token")) {
    // "<version>.<offset>"
    const size_t dot = token->find('.');
    std::optional<int64_t> v, o;
    if (dot != std::string::npos) {
      v = ParseInt64(std::string_view(*token).substr(0, dot));
      o = ParseInt64(std::string_view(*token).substr(dot + 1));
    }
    if (!v || !o || *v < 0 || *o < 0) return Status::InvalidArgument("page_token is not one this server issued");
    page.version = *v;
    page.offset = *o;
  }
  return page;
}

nlohmann::json PageJson(std::vector<nlohmann::json> all, const Page& page, std::optional<int64_t> version) {
  nlohmann::json items = nlohmann::json::array();
  const int64_t total = static_cast<int64_t>(all.size());
  for (int64_t i = page.offset; i < total && i < page.offset + page.limit; ++i)
    items.push_back(std::move(all[static_cast<size_t>(i)]));
  nlohmann::json out = {{"items", std::move(items)}, {"total", total}};
  out["version"] = version ? nlohmann::json(*version) : nlohmann::json(nullptr);
  const int64_t next = page.offset + page.limit;
  out["next_page_token"] = version && next < total
                               ? nlohmann::json(std::to_string(*version) + "." + std::to_string(next))
                               : nlohmann::json(nullptr);
  return out;
}

// The table's rows at the page's version, ready to write as JSON; nullopt version when the table
// (or the lake) does not exist yet. A version the table does not have is 404.
struct Rows {
  std::shared_ptr<const lake::RowJsonWriter> table;  // set when version is
  std::optional<int64_t> version;
  std::vector<int64_t> kept;  // the rows the route answers, in order

  const arrow::Array* Column(std::string_view name) const { return table ? table->Column(name) : nullptr; }
};

Result<Rows> ReadRows(ServiceState& state, const Call& call, const std::string& name, const Page& page,
                      const std::vector<std::string>& columns = {}) {
  Rows out;
  auto lake = state.OpenLake();
  if (!lake.ok()) {
    if (lake.status().code() == StatusCode::kNotFound) return out;
    return lake.status();
  }
  auto latest = state.tables->LatestVersion(**lake, name);
  if (!latest.ok()) {
    if (latest.status().code() == StatusCode::kNotFound) return out;
    return latest.status();
  }
  const int64_t version = page.version.value_or(*latest);
  if (version > *latest) return Status::NotFound("table " + name + " has no version " + std::to_string(version));
  PULSE_RETURN_IF_ERROR(call.CheckDeadline());
  auto rows = state.tables->Rows(**lake, name, version, columns);
  if (!rows.ok()) {
    if (rows.status().code() == StatusCode::kNotFound)
      return Status::NotFound("table " + name + " version " + std::to_string(version) + " cannot be read (vacuumed?)");
    return rows.status();
  }
  PULSE_RETURN_IF_ERROR(call.CheckDeadline());
  out.kept.resize(static_cast<size_t>((*rows)->num_rows()));
  for (int64_t r = 0; r < (*rows)->num_rows(); ++r) out.kept[static_cast<size_t>(r)] = r;
  out.table = std::move(*rows);
  out.version = version;
  return out;
}

// A cell as the string its JSON value is (lake/table_json.h CellToJson), or nullopt when that
// value is not a string (null, a number, an object...). `scratch` holds text the view may point to.
std::optional<std::string_view> StringCell(const arrow::Array* column, int64_t row, std::string& scratch) {
  if (column == nullptr || column->IsNull(row)) return std::nullopt;
  switch (column->type_id()) {
    case arrow::Type::STRING: return static_cast<const arrow::StringArray&>(*column).GetView(row);
    case arrow::Type::LARGE_STRING: return static_cast<const arrow::LargeStringArray&>(*column).GetView(row);
    case arrow::Type::STRING_VIEW: return static_cast<const arrow::StringViewArray&>(*column).GetView(row);
    case arrow::Type::BINARY: return static_cast<const arrow::BinaryArray&>(*column).GetView(row);
    case arrow::Type::TIMESTAMP: scratch = time::FormatTimestamp(*lake::TimestampMicros(*column, row)); return scratch;
    default: return std::nullopt;  // numbers, booleans, structs, lists, maps: not strings
  }
}

// A cell's value when its JSON value is an integer (nlohmann is_number_integer), else nullopt.
std::optional<int64_t> IntegerCell(const arrow::Array* column, int64_t row) {
  if (column == nullptr || column->IsNull(row)) return std::nullopt;
  switch (column->type_id()) {
    case arrow::Type::INT8: return static_cast<const arrow::Int8Array&>(*column).Value(row);
    case arrow::Type::INT16: return static_cast<const arrow::Int16Array&>(*column).Value(row);
    case arrow::Type::INT32: return static_cast<const arrow::Int32Array&>(*column).Value(row);
    case arrow::Type::DATE32: return static_cast<const arrow::Date32Array&>(*column).Value(row);
    case arrow::Type::INT64: return static_cast<const arrow::Int64Array&>(*column).Value(row);
    case arrow::Type::UINT8: return static_cast<const arrow::UInt8Array&>(*column).Value(row);
    case arrow::Type::UINT16: return static_cast<const arrow::UInt16Array&>(*column).Value(row);
    case arrow::Type::UINT32: return static_cast<const arrow::UInt32Array&>(*column).Value(row);
    case arrow::Type::UINT64: return static_cast<int64_t>(static_cast<const arrow::UInt64Array&>(*column).Value(row));
    default: return std::nullopt;
  }
}

// A cell's instant in microseconds: a timestamp column's value, or a string cell parsed as
// ISO-8601; nullopt otherwise.
std::optional<int64_t> InstantCell(const arrow::Array* column, int64_t row) {
  if (column == nullptr) return std::nullopt;
  if (column->type_id() == arrow::Type::TIMESTAMP) return lake::TimestampMicros(*column, row);
  std::string scratch;
  auto text = StringCell(column, row, scratch);
  if (!text) return std::nullopt;
  auto us = time::ParseTimestamp(*text);
  if (!us.ok()) return std::nullopt;
  return *us;
}

// Keeps the rows whose `column` is a string equal to one of the comma-separated `wanted` values.
void FilterRows(Rows& rows, const std::string& column, const std::optional<std::string>& wanted) {
  if (!wanted) return;
  const auto values = SplitCommas(*wanted);
  const arrow::Array* col = rows.Column(column);
  std::string scratch;
  std::erase_if(rows.kept, [&](int64_t r) {
    auto v = StringCell(col, r, scratch);
    return !v || std::find(values.begin(), values.end(), *v) == values.end();
  });
}

// {"items": [...], "next_page_token": ..., "total": N, "version": ...} (keys in nlohmann's
// sorted order), the page's items written by `item(i, out)` for i in [offset, offset + limit).
template <typename ItemFn>
Result<HttpReply> PageReply(int64_t total, const Page& page, std::optional<int64_t> version, ItemFn&& item) {
  HttpReply r;
  std::string& out = r.body;
  out += "{\"items\":[";
  for (int64_t i = page.offset; i < total && i < page.offset + page.limit; ++i) {
    if (i > page.offset) out += ',';
    PULSE_RETURN_IF_ERROR(item(i, out));
  }
  out += "],\"next_page_token\":";
  const int64_t next = page.offset + page.limit;
  if (version && next < total) {
    AppendJsonString(out, std::to_string(*version) + "." + std::to_string(next));
  } else {
    out += "null";
  }
  out += ",\"total\":";
  AppendJsonNumber(out, total);
  out += ",\"version\":";
  if (version) {
    AppendJsonNumber(out, *version);
  } else {
    out += "null";
  }
  out += '}';
  return r;
}

Result<HttpReply> RowsReply(const Rows& rows, const Page& page) {
  return PageReply(static_cast<int64_t>(rows.kept.size()), page, rows.version, [&](int64_t i, std::string& out) {
    return rows.table->AppendRow(rows.kept[static_cast<size_t>(i)], out);
  });
}

}  // namespace

Result<HttpReply> GetTableRows(ServiceState& state, Call& call, const std::string& table) {
  PULSE_ASSIGN_OR_RETURN(Page page, ReadPage(call));
  PULSE_ASSIGN_OR_RETURN(Rows rows, ReadRows(state, call, table, page));
  FilterRows(rows, "series", call.Query("series"));
  return RowsReply(rows, page);
}

Result<HttpReply> GetSeries(ServiceState& state, Call& call) {
  PULSE_ASSIGN_OR_RETURN(Page page, ReadPage(call));
  PULSE_ASSIGN_OR_RETURN(Rows rows, ReadRows(state, call, "signals", page, {"kind", "name", "ts"}));
  FilterRows(rows, "kind", call.Query("kind"));
  struct Summary {
    int64_t count = 0;
    std::string first, last;  // ISO-8601 UTC, same format: compared through the parsed instant
    int64_t first_us = INT64_MAX, last_us = INT64_MIN;
  };
  std::map<std::pair<std::string, std::string>, Summary> series;
  const arrow::Array* kind_col = rows.Column("kind");
  const arrow::Array* name_col = rows.Column("name");
  const arrow::Array* ts_col = rows.Column("ts");
  std::string kind_scratch, name_scratch, ts_scratch;
  std::pair<std::string, std::string> key;
  for (int64_t r : rows.kept) {
    auto kind = StringCell(kind_col, r, kind_scratch);
    auto name = StringCell(name_col, r, name_scratch);
    if (!kind || !name) continue;
    key.first.assign(*kind);
    key.second.assign(*name);
    auto it = series.find(key);
    if (it == series.end()) it = series.emplace(key, Summary{}).first;
    Summary& s = it->second;
    ++s.count;
    if (auto us = InstantCell(ts_col, r)) {
      if (*us < s.first_us || *us > s.last_us) {
        auto text = StringCell(ts_col, r, ts_scratch);  // a timestamp prints as it parses back
        if (*us < s.first_us) s.first_us = *us, s.first = std::string(*text);
        if (*us > s.last_us) s.last_us = *us, s.last = std::string(*text);
      }
    }
  }
  std::vector<const std::pair<const std::pair<std::string, std::string>, Summary>*> items;
  items.reserve(series.size());
  for (const auto& entry : series) items.push_back(&entry);
  // {"first", "kind", "last", "name", "observations"}: nlohmann's sorted key order.
  return PageReply(static_cast<int64_t>(items.size()), page, rows.version, [&](int64_t i, std::string& out) {
    const auto& [k, s] = *items[static_cast<size_t>(i)];
    out += "{\"first\":";
    AppendJsonString(out, s.first);
    out += ",\"kind\":";
    AppendJsonString(out, k.first);
    out += ",\"last\":";
    AppendJsonString(out, s.last);
    out += ",\"name\":";
    AppendJsonString(out, k.second);
    out += ",\"observations\":";
    AppendJsonNumber(out, s.count);
    out += '}';
    return Status::Ok();
  });
}

Result<HttpReply> GetForecasts(ServiceState& state, Call& call) {
  PULSE_ASSIGN_OR_RETURN(Page page, ReadPage(call));
  PULSE_ASSIGN_OR_RETURN(Rows rows, ReadRows(state, call, "forecasts", page));
  FilterRows(rows, "series", call.Query("series"));
  const arrow::Array* series_col = rows.Column("series");
  const arrow::Array* sv_col = rows.Column("signals_version");
  const arrow::Array* created_col = rows.Column("created");
  std::string scratch;
  // Latest per series: the rows of the newest signals_version each series was forecast from.
  std::map<std::string, int64_t, std::less<>> newest;
  for (int64_t r : rows.kept) {
    const auto sv = IntegerCell(sv_col, r);
    const auto name = StringCell(series_col, r, scratch);
    if (!sv || !name) continue;
    auto it = newest.find(*name);
    if (it == newest.end()) {
      newest.emplace(std::string(*name), *sv);
    } else {
      it->second = std::max(it->second, *sv);
    }
  }
  std::erase_if(rows.kept, [&](int64_t r) {
    const auto sv = IntegerCell(sv_col, r);
    const auto name = StringCell(series_col, r, scratch);
    if (!sv || !name) return true;
    return *sv != newest.find(*name)->second;
  });
  // A series forecast twice from that version (again once a champion was registered): the newest
  // forecast's rows.
  const auto created_of = [&](int64_t r) -> int64_t { return InstantCell(created_col, r).value_or(0); };
  std::map<std::string, int64_t, std::less<>> newest_created;
  for (int64_t r : rows.kept) {
    const auto name = StringCell(series_col, r, scratch);
    auto it = newest_created.find(*name);
    if (it == newest_created.end()) it = newest_created.emplace(std::string(*name), 0).first;
    it->second = std::max(it->second, created_of(r));
  }
  std::erase_if(rows.kept, [&](int64_t r) {
    return created_of(r) != newest_created.find(*StringCell(series_col, r, scratch))->second;
  });
  return RowsReply(rows, page);
}

Result<HttpReply> GetTables(ServiceState& state, Call& call) {
  PULSE_ASSIGN_OR_RETURN(Page page, ReadPage(call));
  if (page.version) page.version.reset();  // no single table version pins a list of tables
  std::vector<nlohmann::json> items;
  auto lake = state.OpenLake();
  if (!lake.ok() && lake.status().code() != StatusCode::kNotFound) return lake.status();
  if (lake.ok()) {
    PULSE_ASSIGN_OR_RETURN(auto names, (*lake)->ListTables());
    const auto wanted = call.Query("table");
    for (const auto& name : names) {
      if (wanted && *wanted != name) continue;
      PULSE_RETURN_IF_ERROR(call.CheckDeadline());
      PULSE_ASSIGN_OR_RETURN(auto table, (*lake)->OpenTable(name));
      PULSE_ASSIGN_OR_RETURN(auto snapshot, table->LoadSnapshot());
      nlohmann::json item = {{"name", name},
                             {"version", snapshot.version},
                             {"rows", snapshot.num_rows()},
                             {"files", snapshot.files.size()},
                             {"partition_columns", snapshot.partition_columns}};
      if (wanted) {  // one table: its versions too, newest first
        PULSE_ASSIGN_OR_RETURN(auto history, table->History());
        nlohmann::json versions = nlohmann::json::array();
        for (const auto& v : history) {
          versions.push_back({{"version", v.version},
                              {"timestamp", time::FormatTimestamp(v.timestamp_ms * 1000)},
                              {"operation", v.operation},
                              {"rows_added", v.rows_added}});
        }
        item["versions"] = std::move(versions);
      }
      items.push_back(std::move(item));
    }
  }
  // The list is paged by offset; the token's version part is unused (0).
  nlohmann::json out = PageJson(std::move(items), page, 0);
  out["version"] = nullptr;
  return JsonReply(200, out);
}

Result<HttpReply> GetReport(ServiceState& state, Call&) {
  const std::string path = (std::filesystem::path(state.settings.run.out) / "report.html").string();
  auto html = ReadTextFile(path);
  if (!html.ok())
    return ProblemReply(MakeProblem(404, "no-report", "no report yet: run `pulse run` (or a run job) first"));
  HttpReply r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(*html);
  return r;
}

}  // namespace pulse::service
