// pulse lake list | show TABLE | history TABLE : look inside the lake, for people or scripts.
// pulse lake optimize TABLE | vacuum TABLE : compact small files; delete unreferenced ones.
// None of them creates a lake: on a URL with no lake they fail with "no lake at URL".
#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <cmath>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "core/time.h"

namespace pulse::cli {
namespace {

// These commands read or maintain an existing lake: they never create its folder.
Result<std::unique_ptr<lake::Lake>> OpenExistingLake(const Context& ctx) {
  return OpenLake(ctx, lake::OpenMode::kMustExist);
}

struct ShowArgs {
  std::string table;
  std::optional<int64_t> version;
  int64_t limit = 20;
  std::string columns;
  std::vector<std::string> where;
  bool json = false;
};

// One row per table. A table that cannot be read (damaged log, unsupported protocol) does not
// hide the others: its row says "error" with the reason, the error is also printed to stderr, and
// the exit code is 1 once every table has been listed.
int RunList(const Context& ctx, bool json) {
  auto lake = OpenExistingLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto names = (*lake)->ListTables();
  if (!names.ok()) return Fail(names.status());
  arrow::StringBuilder name_b, status_b;
  arrow::Int64Builder version_b, files_b, rows_b;
  std::vector<std::pair<std::string, Status>> broken;
  for (const auto& name : *names) {
    auto table = (*lake)->OpenTable(name);
    Result<lake::Snapshot> snap = table.ok() ? (*table)->LoadSnapshot() : Result<lake::Snapshot>(table.status());
    (void)name_b.Append(name);
    if (!snap.ok()) {
      (void)version_b.AppendNull();
      (void)files_b.AppendNull();
      (void)rows_b.AppendNull();
      (void)status_b.Append("error: " + snap.status().message());
      broken.emplace_back(name, snap.status());
      continue;
    }
    (void)version_b.Append(snap->version);
    (void)files_b.Append(static_cast<int64_t>(snap->files.size()));
    int64_t rows = snap->num_rows();
    (void)(rows < 0 ? rows_b.AppendNull() : rows_b.Append(rows));
    (void)status_b.Append("ok");
  }
  auto schema = arrow::schema({arrow::field("table", arrow::utf8()), arrow::field("version", arrow::int64()),
                               arrow::field("files", arrow::int64()), arrow::field("rows", arrow::int64()),
                               arrow::field("status", arrow::utf8())});
  auto out = arrow::Table::Make(
      schema, {name_b.Finish().ValueOrDie(), version_b.Finish().ValueOrDie(), files_b.Finish().ValueOrDie(),
               rows_b.Finish().ValueOrDie(), status_b.Finish().ValueOrDie()});
  if (json) {
    if (Status st = PrintJsonRows(stdout, *out, 0); !st.ok()) return Fail(st);
  } else if (names->empty()) {
    std::printf("no tables in %s\n", (*lake)->url().c_str());
  } else {
    PrintTable(stdout, *out, 0);
  }
  std::fflush(stdout);
  for (const auto& [name, st] : broken)
    std::fprintf(stderr, "pulse: table '%s': %s\n", name.c_str(), st.message().c_str());
  if (!broken.empty()) {
    std::fprintf(stderr, "pulse: %zu of %zu tables could not be read\n", broken.size(), names->size());
    return kExitError;
  }
  return kExitOk;
}

// The rows of `table` whose cells read (as CellText prints them) the value of every row filter,
// with only the `projected` columns (all when empty; the filters' columns were read as well).
Result<std::shared_ptr<arrow::Table>> KeepMatchingRows(const std::shared_ptr<arrow::Table>& table,
                                                       const std::vector<std::pair<std::string, std::string>>& filters,
                                                       const std::vector<std::string>& projected) {
  if (filters.empty()) return table;
  auto combined = table->CombineChunksToBatch();
  if (!combined.ok()) return Status::Internal(combined.status().ToString());
  arrow::BooleanBuilder keep;
  for (int64_t r = 0; r < (*combined)->num_rows(); ++r) {
    bool match = true;
    for (const auto& [col, value] : filters) {
      if (CellText(*(*combined)->GetColumnByName(col), r) != value) match = false;
    }
    (void)keep.Append(match);
  }
  auto mask = keep.Finish().ValueOrDie();
  auto filtered = arrow::compute::Filter(*combined, mask);
  if (!filtered.ok()) return Status::Internal(filtered.status().ToString());
  auto batch = filtered->record_batch();
  std::shared_ptr<arrow::Table> result = *arrow::Table::FromRecordBatches({batch});
  if (!projected.empty()) {
    std::vector<int> idx;
    idx.reserve(projected.size());
    for (const auto& c : projected) idx.push_back(result->schema()->GetFieldIndex(c));
    result = *result->SelectColumns(idx);
  }
  return result;
}

int RunShow(const ShowArgs& args, const Context& ctx) {
  auto lake = OpenExistingLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto table = (*lake)->OpenTable(args.table);
  if (!table.ok()) return Fail(table.status());
  lake::ReadOptions read;
  read.version = args.version;
  read.columns = SplitCommas(args.columns);
  // --where on a partition column prunes files; on any other column it filters rows.
  std::vector<std::pair<std::string, std::string>> row_filters;
  const auto& parts = (*table)->partition_columns();
  for (const auto& w : args.where) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      return Fail(Status::InvalidArgument("--where expects column=value, got '" + w + "'"));
    std::string col = w.substr(0, eq), value = w.substr(eq + 1);
    if (!(*table)->schema()->GetFieldByName(col))
      return Fail(Status::InvalidArgument("--where: no column '" + col + "' in table " + args.table));
    if (std::find(parts.begin(), parts.end(), col) != parts.end()) {
      read.partition_filters.push_back({col, {value}});
    } else {
      row_filters.emplace_back(col, value);
    }
  }
  auto projected = read.columns;
  if (!projected.empty()) {
    for (const auto& [col, v] : row_filters) {
      if (std::find(projected.begin(), projected.end(), col) == projected.end()) read.columns.push_back(col);
    }
  }
  auto rows = (*table)->Read(read);
  if (!rows.ok()) return Fail(rows.status());
  auto result = KeepMatchingRows(*rows, row_filters, projected);
  if (!result.ok()) return Fail(result.status());
  if (args.json) {
    if (Status st = PrintJsonRows(stdout, **result, args.limit); !st.ok()) return Fail(st);
  } else {
    PrintTable(stdout, **result, args.limit);
  }
  return kExitOk;
}

int RunHistory(const std::string& name, const Context& ctx, bool json) {
  auto lake = OpenExistingLake(ctx);
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
                               arrow::field("files_removed", arrow::int64()),
                               arrow::field("rows_added", arrow::int64()), arrow::field("parameters", arrow::utf8())});
  auto out = arrow::Table::Make(
      schema, {version_b.Finish().ValueOrDie(), time_b.Finish().ValueOrDie(), op_b.Finish().ValueOrDie(),
               added_b.Finish().ValueOrDie(), removed_b.Finish().ValueOrDie(), rows_b.Finish().ValueOrDie(),
               params_b.Finish().ValueOrDie()});
  if (json) {
    if (Status st = PrintJsonRows(stdout, *out, 0); !st.ok()) return Fail(st);
  } else {
    PrintTable(stdout, *out, 0);
  }
  return kExitOk;
}

// A bad flag value CLI11 cannot catch (NaN passes CLI::Range): exit 2 like any usage error.
int Usage(const char* message) {
  std::fprintf(stderr, "pulse: %s\n", message);
  return kExitUsage;
}

struct OptimizeArgs {
  std::string table;
  double target_mb = 128;
  double min_mb = -1;
  bool json = false;
};

int RunOptimize(const OptimizeArgs& args, const Context& ctx) {
  auto lake = OpenExistingLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto table = (*lake)->OpenTable(args.table);
  if (!table.ok()) return Fail(table.status());
  // CLI::Range lets NaN through (every comparison with it is false).
  if (!std::isfinite(args.target_mb) || args.target_mb <= 0)
    return Usage("--target-mb must be a positive number of MiB");
  if (std::isnan(args.min_mb)) return Usage("--min-mb must be a number of MiB");
  lake::OptimizeOptions options;
  options.target_file_bytes = static_cast<int64_t>(args.target_mb * 1024 * 1024);
  if (args.min_mb >= 0) options.min_file_bytes = static_cast<int64_t>(args.min_mb * 1024 * 1024);
  auto r = (*table)->Optimize(options);
  if (!r.ok()) return Fail(r.status());
  nlohmann::json out = {{"table", args.table},
                        {"version", r->version},
                        {"noop", r->noop},
                        {"attempts", r->attempts},
                        {"partitions", r->partitions},
                        {"files_removed", r->files_removed},
                        {"files_added", r->files_added},
                        {"bytes_removed", r->bytes_removed},
                        {"bytes_added", r->bytes_added},
                        {"rows", r->rows}};
  if (args.json) {
    std::printf("%s\n", out.dump().c_str());
  } else if (r->noop) {
    std::printf("%s: nothing to compact (version %lld)\n", args.table.c_str(), static_cast<long long>(r->version));
  } else {
    std::printf(
        "%s: version %lld: %lld files (%lld bytes) compacted into %lld files (%lld bytes) in %lld partitions, %lld "
        "rows\n",
        args.table.c_str(), static_cast<long long>(r->version), static_cast<long long>(r->files_removed),
        static_cast<long long>(r->bytes_removed), static_cast<long long>(r->files_added),
        static_cast<long long>(r->bytes_added), static_cast<long long>(r->partitions), static_cast<long long>(r->rows));
  }
  return kExitOk;
}

struct VacuumArgs {
  std::string table;
  double retain_hours = lake::kMinVacuumRetainHours;
  bool force = false;
  bool dry_run = false;
  bool json = false;
};

int RunVacuum(const VacuumArgs& args, const Context& ctx) {
  auto lake = OpenExistingLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  auto table = (*lake)->OpenTable(args.table);
  if (!table.ok()) return Fail(table.status());
  if (!std::isfinite(args.retain_hours)) return Usage("--retain must be a number of hours");
  auto r = (*table)->Vacuum({.retain_hours = args.retain_hours, .dry_run = args.dry_run, .force = args.force});
  if (!r.ok()) return Fail(r.status());
  if (args.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : r->files) files.push_back({{"path", f.key}, {"size", f.size}});
    nlohmann::json out = {{"table", args.table}, {"dry_run", r->dry_run}, {"files", files}, {"bytes", r->bytes}};
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  for (const auto& f : r->files) std::printf("%s\t%lld\n", f.key.c_str(), static_cast<long long>(f.size));
  std::printf("%s: %s %zu files (%lld bytes)\n", args.table.c_str(), r->dry_run ? "would delete" : "deleted",
              r->files.size(), static_cast<long long>(r->bytes));
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
  show->add_option("--version", show_args->version, "Read the table as of this version (>= 0)")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  show->add_option("--limit", show_args->limit, "Rows to print (0 = all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  show->add_option("--columns", show_args->columns, "Comma-separated columns to print");
  show->add_option("--where", show_args->where, "Keep rows where column=value (repeatable)");
  show->add_flag("--json", show_args->json, "Print a JSON array of row objects");
  show->callback([show_args, &ctx, &exit_code] { exit_code = RunShow(*show_args, ctx); });

  auto optimize_args = std::make_shared<OptimizeArgs>();
  auto* optimize = lake->add_subcommand("optimize", "Compact each partition's small files into larger ones");
  optimize->add_option("table", optimize_args->table, "Table name")->required();
  optimize->add_option("--target-mb", optimize_args->target_mb, "Target file size in MiB")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1e6));
  optimize
      ->add_option("--min-mb", optimize_args->min_mb,
                   "Files at least this large are left alone (default: 3/4 of the target)")
      ->check(CLI::Range(0.0, 1e6));
  optimize->add_flag("--json", optimize_args->json, "Print JSON");
  optimize->callback([optimize_args, &ctx, &exit_code] { exit_code = RunOptimize(*optimize_args, ctx); });

  auto vacuum_args = std::make_shared<VacuumArgs>();
  auto* vacuum = lake->add_subcommand("vacuum", "Delete data files no version within the retention window uses");
  vacuum->add_option("table", vacuum_args->table, "Table name")->required();
  vacuum
      ->add_option("--retain", vacuum_args->retain_hours,
                   "Keep files removed less than this many hours ago (minimum 168 without --force)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  vacuum->add_flag("--force", vacuum_args->force, "Allow a retention below 168 hours");
  vacuum->add_flag("--dry-run", vacuum_args->dry_run, "List the files that would be deleted; delete nothing");
  vacuum->add_flag("--json", vacuum_args->json, "Print JSON");
  vacuum->callback([vacuum_args, &ctx, &exit_code] { exit_code = RunVacuum(*vacuum_args, ctx); });

  auto history_name = std::make_shared<std::string>();
  auto history_json = std::make_shared<bool>(false);
  auto* history = lake->add_subcommand("history", "Versions of a table, newest first");
  history->add_option("table", *history_name, "Table name")->required();
  history->add_flag("--json", *history_json, "Print JSON");
  history->callback(
      [history_name, history_json, &ctx, &exit_code] { exit_code = RunHistory(*history_name, ctx, *history_json); });
}

}  // namespace pulse::cli
