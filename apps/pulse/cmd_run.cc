// pulse run : Pulse's main job on embedded defaults. Today: ingest the bundled US macro dataset
// (quarterly, 1959-2009, public domain) into the lake's signals table and show the latest value
// of every series. Later stages (forecast, trust, simulation, report) extend this pipeline.
#include <arrow/api.h>

#include <filesystem>
#include <map>

#include "cli.h"
#include "core/time.h"
#include "ingest/file_ingest.h"

namespace pulse::cli {
namespace {

constexpr const char* kDatasetName = "us-macro-quarterly.csv";

// The bundled dataset: --data, then $PULSE_DATA_DIR, then data/ of the source tree the binary was
// built from (found by walking up from the executable and from the working directory).
Result<std::string> FindDataset(const std::string& explicit_path, const std::string& exe_path) {
  namespace fs = std::filesystem;
  if (!explicit_path.empty()) {
    if (!fs::exists(explicit_path)) return Status::NotFound("--data: no file '" + explicit_path + "'");
    return explicit_path;
  }
  if (const char* dir = std::getenv("PULSE_DATA_DIR")) {
    fs::path p = fs::path(dir) / kDatasetName;
    if (fs::exists(p)) return p.string();
    return Status::NotFound("PULSE_DATA_DIR is set but has no " + std::string(kDatasetName));
  }
  std::error_code ec;
  for (fs::path start : {fs::weakly_canonical(fs::path(exe_path), ec).parent_path(), fs::current_path(ec)}) {
    for (fs::path dir = start; !dir.empty(); dir = dir.parent_path()) {
      for (const char* sub : {"data", "shared/data", "../shared/data"}) {
        fs::path p = dir / sub / kDatasetName;
        if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
      }
      if (dir == dir.parent_path()) break;
    }
  }
  return Status::NotFound(std::string("cannot find the bundled dataset ") + kDatasetName +
                          "; pass --data FILE or set PULSE_DATA_DIR");
}

int Run(const Context& ctx, const std::string& data_path) {
  auto dataset = FindDataset(data_path, ctx.exe_path);
  if (!dataset.ok()) return Fail(dataset.status());
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  std::printf("[1/2] ingest %s -> %s/signals\n", dataset->c_str(), (*lake)->url().c_str());
  ingest::IngestOptions options;
  options.wide = true;
  options.time_columns = {"year", "quarter"};
  options.kind = "macro";
  options.source = "us-macro-quarterly";
  auto report = ingest::IngestFile(**lake, *dataset, options);
  if (!report.ok()) return Fail(report.status());
  if (report->duplicate)
    std::printf("      already ingested: the signals table (version %lld) has this file's rows\n",
                static_cast<long long>(report->version));
  else
    std::printf("      accepted %lld signals, rejected %lld, committed version %lld in %.2f s\n",
                static_cast<long long>(report->accepted), static_cast<long long>(report->rejected),
                static_cast<long long>(report->version), report->seconds);
  for (const auto& r : report->rejects)
    std::fprintf(stderr, "%s:%lld: %s\n", dataset->c_str(), static_cast<long long>(r.line), r.reason.c_str());

  std::printf("[2/2] latest observations per series (kind=macro)\n\n");
  auto table = (*lake)->OpenTable("signals");
  if (!table.ok()) return Fail(table.status());
  auto rows = (*table)->Read({.columns = {"name", "ts", "value"}, .partition_filters = {{"kind", {"macro"}}}});
  if (!rows.ok()) return Fail(rows.status());
  auto batch = (*rows)->CombineChunksToBatch();
  if (!batch.ok()) return Fail(Status::Internal(batch.status().ToString()));
  const auto& names = static_cast<const arrow::StringArray&>(*(*batch)->column(0));
  const auto& ts = static_cast<const arrow::TimestampArray&>(*(*batch)->column(1));
  const auto& values = static_cast<const arrow::DoubleArray&>(*(*batch)->column(2));
  struct Latest {
    int64_t ts = INT64_MIN, prev_ts = INT64_MIN, count = 0, first_ts = INT64_MAX;
    double value = 0, prev = 0;
  };
  std::map<std::string, Latest> series;
  for (int64_t i = 0; i < (*batch)->num_rows(); ++i) {
    Latest& s = series[std::string(names.GetView(i))];
    ++s.count;
    s.first_ts = std::min(s.first_ts, ts.Value(i));
    if (ts.Value(i) > s.ts) {
      s.prev_ts = s.ts, s.prev = s.value;
      s.ts = ts.Value(i), s.value = values.Value(i);
    } else if (ts.Value(i) > s.prev_ts) {
      s.prev_ts = ts.Value(i), s.prev = values.Value(i);
    }
  }
  arrow::StringBuilder name_b, first_b, last_b;
  arrow::Int64Builder count_b;
  arrow::DoubleBuilder value_b, prev_b, change_b;
  for (const auto& [name, s] : series) {
    (void)name_b.Append(name);
    (void)count_b.Append(s.count);
    (void)first_b.Append(time::FormatDate(s.first_ts));
    (void)last_b.Append(time::FormatDate(s.ts));
    (void)value_b.Append(s.value);
    (void)prev_b.Append(s.prev);
    (void)change_b.Append(s.value - s.prev);
  }
  auto schema = arrow::schema({arrow::field("series", arrow::utf8()), arrow::field("points", arrow::int64()),
                               arrow::field("first", arrow::utf8()), arrow::field("latest", arrow::utf8()),
                               arrow::field("value", arrow::float64()), arrow::field("previous", arrow::float64()),
                               arrow::field("change", arrow::float64())});
  auto out = arrow::Table::Make(schema, {name_b.Finish().ValueOrDie(), count_b.Finish().ValueOrDie(),
                                         first_b.Finish().ValueOrDie(), last_b.Finish().ValueOrDie(),
                                         value_b.Finish().ValueOrDie(), prev_b.Finish().ValueOrDie(),
                                         change_b.Finish().ValueOrDie()});
  PrintTable(stdout, *out, 0);
  std::printf("\n%lld signals in %zu series. Explore: pulse --lake %s lake show signals --where name=realgdp\n",
              static_cast<long long>((*batch)->num_rows()), series.size(), ctx.config.GetString("lake.url").c_str());
  return report->rejected > 0 ? kExitRejects : kExitOk;
}

}  // namespace

void AddRunCommand(CLI::App& app, Context& ctx, int& exit_code) {
  auto data = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("run", "Run Pulse's main job on the bundled dataset (embedded defaults)");
  cmd->add_option("--data", *data, "The US macro CSV (default: the bundled data/us-macro-quarterly.csv)");
  cmd->callback([data, &ctx, &exit_code] { exit_code = Run(ctx, *data); });
}

}  // namespace pulse::cli
