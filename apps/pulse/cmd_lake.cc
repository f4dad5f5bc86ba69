// pulse lake list | show TABLE | history TABLE : look inside the lake, for people or scripts.
#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "core/time.h"

namespace pulse::cli {
namespace {

struct ShowArgs {
  std::string table;
  int64_t version = -1;
  int64_t limit = 20;
  std::string columns;
  std::vector<std::string> where;
  bool json = false;
};

int RunList(const Context& ctx, bool json) {
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto names = (*lake)->ListTables();
  if (!names.ok()) return Fail(names.status());
  arrow::StringBuilder name_b;
  arrow::Int64Builder version_b, files_b, rows_b;
  for (const auto& name : *names) {
    auto table = (*lake)->OpenTable(name);
    if (!table.ok()) return Fail(table.status());
    auto snap = (*table)->LoadSnapshot();
    if (!snap.ok()) return Fail(snap.status());
    (void)name_b.Append(name);
    (void)version_b.Append(snap->version);
    (void)files_b.Append(static_cast<int64_t>(snap->files.size()));
    int64_t rows = snap->num_rows();
    (void)(rows < 0 ? rows_b.AppendNull() : rows_b.Append(rows));
  }
  auto schema = arrow::schema({arrow::field("table", arrow::utf8()), arrow::field("version", arrow::int64()),
                               arrow::field("files", arrow::int64()), arrow::field("rows", arrow::int64())});
  auto out = arrow::Table::Make(schema, {name_b.Finish().ValueOrDie(), version_b.Finish().ValueOrDie(),
                                         files_b.Finish().ValueOrDie(), rows_b.Finish().ValueOrDie()});
  if (json) PrintJsonRows(stdout, *out, 0);
  else if (names->empty()) std::printf("no tables in %s\n", (*lake)->url().c_str());
  else PrintTable(stdout, *out, 0);
  return kExitOk;
}

int RunShow(const ShowArgs& args, const Context& ctx) {
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto table = (*lake)->OpenTable(args.table);
  if (!table.ok()) return Fail(table.status());
  if (args.limit < 0) return Fail(Status::InvalidArgument("--limit must be >= 0"));
  lake::ReadOptions read;
  if (args.version >= 0) read.version = args.version;
  read.columns = SplitCommas(args.columns);
  // --where on a partition column prunes files; on any other column it filters rows.
  std::vector<std::pair<std::string, std::string>> row_filters;
  const auto& parts = (*table)->partition_columns();
  for (const auto& w : args.where) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) return Fail(Status::InvalidArgument("--where expects column=value, got '" + w + "'"));
    std::string col = w.substr(0, eq), value = w.substr(eq + 1);
    if (!(*table)->schema()->GetFieldByName(col))
      return Fail(Status::InvalidArgument("--where: no column '" + col + "' in table " + args.table));
    if (std::find(parts.begin(), parts.end(), col) != parts.end()) read.partition_filters.push_back({col, {value}});
    else row_filters.emplace_back(col, value);
  }
  auto projected = read.columns;
  if (!projected.empty())
    for (const auto& [col, v] : row_filters)
      if (std::find(projected.begin(), projected.end(), col) == projected.end()) read.columns.push_back(col);
  auto rows = (*table)->Read(read);
  if (!rows.ok()) return Fail(rows.status());
  std::shared_ptr<arrow::Table> result = *rows;
  if (!row_filters.empty()) {
    auto combined = result->CombineChunksToBatch();
    if (!combined.ok()) return Fail(Status::Internal(combined.status().ToString()));
    arrow::BooleanBuilder keep;
    for (int64_t r = 0; r < (*combined)->num_rows(); ++r) {
      bool match = true;
      for (const auto& [col, value] : row_filters)
        if (CellText(*(*combined)->GetColumnByName(col), r) != value) match = false;
      (void)keep.Append(match);
    }
    auto mask = keep.Finish().ValueOrDie();
    auto filtered = arrow::compute::Filter(*combined, mask);
    if (!filtered.ok()) return Fail(Status::Internal(filtered.status().ToString()));
    auto batch = filtered->record_batch();
    auto t = arrow::Table::FromRecordBatches({batch});
    result = *t;
    if (!projected.empty()) {
      std::vector<int> idx;
      for (const auto& c : projected) idx.push_back(result->schema()->GetFieldIndex(c));
      result = *result->SelectColumns(idx);
    }
  }
  if (args.json) PrintJsonRows(stdout, *result, args.limit);
  else PrintTable(stdout, *result, args.limit);
  return kExitOk;
}

int RunHistory(const std::string& name, const Context& ctx, bool json) {
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto table = (*lake)->OpenTable(name);
  if (!table.ok()) return Fail(table.status());
  auto history = (*table)->History();
  if (!history.ok()) return Fail(history.status());
  arrow::Int64Builder version_b, added_b, removed_b, rows_b;
  arrow::StringBuilder time_b, op_b, params_b;
  for (const auto& v : *history) {
    (void)version_b.Append(v.version);
    (void)time_b.Append(time::FormatTimestamp(v.timestamp_ms * 1000));
    (void)op_b.Append(v.operation);
    (void)added_b.Append(v.files_added);
    (void)removed_b.Append(v.files_removed);
    (void)(v.rows_added < 0 ? rows_b.AppendNull() : rows_b.Append(v.rows_added));
    nlohmann::json p = v.operation_parameters;
    (void)params_b.Append(p.dump());
  }
  auto schema = arrow::schema({arrow::field("version", arrow::int64()), arrow::field("time", arrow::utf8()),
                               arrow::field("operation", arrow::utf8()), arrow::field("files_added", arrow::int64()),
                               arrow::field("files_removed", arrow::int64()), arrow::field("rows_added", arrow::int64()),
                               arrow::field("parameters", arrow::utf8())});
  auto out = arrow::Table::Make(schema, {version_b.Finish().ValueOrDie(), time_b.Finish().ValueOrDie(),
                                         op_b.Finish().ValueOrDie(), added_b.Finish().ValueOrDie(),
                                         removed_b.Finish().ValueOrDie(), rows_b.Finish().ValueOrDie(),
                                         params_b.Finish().ValueOrDie()});
  if (json) PrintJsonRows(stdout, *out, 0);
  else PrintTable(stdout, *out, 0);
  return kExitOk;
}

}  // namespace

void AddLakeCommands(CLI::App& app, Context& ctx, int& exit_code) {
  auto* lake = app.add_subcommand("lake", "Look inside the lake's Delta tables");
  lake->require_subcommand(1);

  auto list_json = std::make_shared<bool>(false);
  auto* list = lake->add_subcommand("list", "Tables with their version, files and rows");
  list->add_flag("--json", *list_json, "Print JSON");
  list->callback([list_json, &ctx, &exit_code] { exit_code = RunList(ctx, *list_json); });

  auto show_args = std::make_shared<ShowArgs>();
  auto* show = lake->add_subcommand("show", "Rows of a table");
  show->add_option("table", show_args->table, "Table name")->required();
  show->add_option("--version", show_args->version, "Read the table as of this version");
  show->add_option("--limit", show_args->limit, "Rows to print (0 = all)")->capture_default_str();
  show->add_option("--columns", show_args->columns, "Comma-separated columns to print");
  show->add_option("--where", show_args->where, "Keep rows where column=value (repeatable)");
  show->add_flag("--json", show_args->json, "Print a JSON array of row objects");
  show->callback([show_args, &ctx, &exit_code] { exit_code = RunShow(*show_args, ctx); });

  auto history_name = std::make_shared<std::string>();
  auto history_json = std::make_shared<bool>(false);
  auto* history = lake->add_subcommand("history", "Versions of a table, newest first");
  history->add_option("table", *history_name, "Table name")->required();
  history->add_flag("--json", *history_json, "Print JSON");
  history->callback([history_name, history_json, &ctx, &exit_code] {
    exit_code = RunHistory(*history_name, ctx, *history_json);
  });
}

}  // namespace pulse::cli
