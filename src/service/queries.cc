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

// The table's rows at the page's version as JSON objects; nullopt version when the table (or the
// lake) does not exist yet. A version the table does not have is 404.
struct Rows {
  std::vector<nlohmann::json> rows;
  std::optional<int64_t> version;
};

Result<Rows> ReadRows(ServiceState& state, const Call& call, const std::string& name, const Page& page,
                      const std::vector<std::string>& columns = {}) {
  Rows out;
  auto lake = state.OpenLake();
  if (!lake.ok()) {
    if (lake.status().code() == StatusCode::kNotFound) return out;
    return lake.status();
  }
  auto table = (*lake)->OpenTable(name);
  if (!table.ok()) {
    if (table.status().code() == StatusCode::kNotFound) return out;
    return table.status();
  }
  PULSE_ASSIGN_OR_RETURN(int64_t latest, (*table)->LatestVersion());
  const int64_t version = page.version.value_or(latest);
  if (version > latest) return Status::NotFound("table " + name + " has no version " + std::to_string(version));
  PULSE_RETURN_IF_ERROR(call.CheckDeadline());
  lake::ReadOptions read;
  read.version = version;
  // Only columns the table has at that version.
  if (!columns.empty()) {
    PULSE_ASSIGN_OR_RETURN(auto snapshot, (*table)->LoadSnapshot(version));
    for (const auto& c : columns)
      if (snapshot.schema->GetFieldIndex(c) >= 0) read.columns.push_back(c);
  }
  auto rows = (*table)->Read(read);
  if (!rows.ok()) {
    if (rows.status().code() == StatusCode::kNotFound)
      return Status::NotFound("table " + name + " version " + std::to_string(version) + " cannot be read (vacuumed?)");
    return rows.status();
  }
  PULSE_RETURN_IF_ERROR(call.CheckDeadline());
  PULSE_ASSIGN_OR_RETURN(out.rows, lake::RowsToJson(**rows));
  out.version = version;
  return out;
}

// Keeps the rows whose `column` equals one of the comma-separated `wanted` values.
void FilterRows(std::vector<nlohmann::json>& rows, const std::string& column,
                const std::optional<std::string>& wanted) {
  if (!wanted) return;
  const auto values = SplitCommas(*wanted);
  std::erase_if(rows, [&](const nlohmann::json& row) {
    auto it = row.find(column);
    if (it == row.end() || !it->is_string()) return true;
    return std::find(values.begin(), values.end(), it->get<std::string>()) == values.end();
  });
}

}  // namespace

Result<HttpReply> GetTableRows(ServiceState& state, Call& call, const std::string& table) {
  PULSE_ASSIGN_OR_RETURN(Page page, ReadPage(call));
  PULSE_ASSIGN_OR_RETURN(Rows rows, ReadRows(state, call, table, page));
  FilterRows(rows.rows, "series", call.Query("series"));
  return JsonReply(200, PageJson(std::move(rows.rows), page, rows.version));
}

Result<HttpReply> GetSeries(ServiceState& state, Call& call) {
  PULSE_ASSIGN_OR_RETURN(Page page, ReadPage(call));
  PULSE_ASSIGN_OR_RETURN(Rows rows, ReadRows(state, call, "signals", page, {"kind", "name", "ts"}));
  FilterRows(rows.rows, "kind", call.Query("kind"));
  struct Summary {
    int64_t count = 0;
    std::string first, last;  // ISO-8601 UTC, same format: compared through the parsed instant
    int64_t first_us = INT64_MAX, last_us = INT64_MIN;
  };
  std::map<std::pair<std::string, std::string>, Summary> series;
  for (const auto& row : rows.rows) {
    if (!row.value("kind", nlohmann::json()).is_string() || !row.value("name", nlohmann::json()).is_string()) continue;
    Summary& s = series[{row["kind"].get<std::string>(), row["name"].get<std::string>()}];
    ++s.count;
    if (auto ts = row.find("ts"); ts != row.end() && ts->is_string()) {
      if (auto us = time::ParseTimestamp(ts->get<std::string>()); us.ok()) {
        if (*us < s.first_us) s.first_us = *us, s.first = ts->get<std::string>();
        if (*us > s.last_us) s.last_us = *us, s.last = ts->get<std::string>();
      }
    }
  }
  std::vector<nlohmann::json> items;
  items.reserve(series.size());
  for (const auto& [key, s] : series) {
    items.push_back(
        {{"kind", key.first}, {"name", key.second}, {"observations", s.count}, {"first", s.first}, {"last", s.last}});
  }
  return JsonReply(200, PageJson(std::move(items), page, rows.version));
}

Result<HttpReply> GetForecasts(ServiceState& state, Call& call) {
  PULSE_ASSIGN_OR_RETURN(Page page, ReadPage(call));
  PULSE_ASSIGN_OR_RETURN(Rows rows, ReadRows(state, call, "forecasts", page));
  FilterRows(rows.rows, "series", call.Query("series"));
  // Latest per series: the rows of the newest signals_version each series was forecast from.
  std::map<std::string, int64_t> newest;
  for (const auto& row : rows.rows) {
    const auto sv = row.value("signals_version", nlohmann::json());
    const auto name = row.value("series", nlohmann::json());
    if (!sv.is_number_integer() || !name.is_string()) continue;
    auto [it, fresh] = newest.emplace(name.get<std::string>(), sv.get<int64_t>());
    if (!fresh) it->second = std::max(it->second, sv.get<int64_t>());
  }
  std::erase_if(rows.rows, [&](const nlohmann::json& row) {
    const auto sv = row.value("signals_version", nlohmann::json());
    const auto name = row.value("series", nlohmann::json());
    if (!sv.is_number_integer() || !name.is_string()) return true;
    return sv.get<int64_t>() != newest[name.get<std::string>()];
  });
  // A series forecast twice from that version (again once a champion was registered): the newest
  // forecast's rows.
  const auto created_of = [](const nlohmann::json& row) -> int64_t {
    const auto created = row.value("created", nlohmann::json());
    if (!created.is_string()) return 0;
    auto us = time::ParseTimestamp(created.get<std::string>());
    return us.ok() ? *us : 0;
  };
  std::map<std::string, int64_t> newest_created;
  for (const auto& row : rows.rows) {
    int64_t& n = newest_created[row["series"].get<std::string>()];
    n = std::max(n, created_of(row));
  }
  std::erase_if(rows.rows, [&](const nlohmann::json& row) {
    return created_of(row) != newest_created[row["series"].get<std::string>()];
  });
  return JsonReply(200, PageJson(std::move(rows.rows), page, rows.version));
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
