// pulse run : Pulse's main job on embedded defaults. Today: ingest the bundled US macro dataset
// (quarterly, 1959-2009, public domain) into the lake's signals table, show the latest value
// of every series, forecast every series (pipeline/forecast_signals.h) and show the next quarter.
// Later stages (trust, simulation, report) extend this pipeline.
#include <arrow/api.h>

#include <filesystem>
#include <cmath>
#include <map>
#include <tuple>

#include "cli.h"
#include "core/time.h"
#include "ingest/file_ingest.h"
#include "pipeline/forecast_signals.h"

namespace pulse::cli {
namespace {

constexpr const char* kDatasetName = "us-macro-quarterly.csv";

int Run(const Context& ctx, const std::string& data_path) {
  auto dataset = FindBundledFile(kDatasetName, data_path, ctx.exe_path, "--data");
  if (!dataset.ok()) return Fail(dataset.status());
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  std::printf("[1/3] ingest %s -> %s/signals\n", dataset->c_str(), (*lake)->url().c_str());
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

  std::printf("[2/3] latest observations per series (kind=macro)\n\n");
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
  std::printf("\n%lld signals in %zu series.\n\n", static_cast<long long>((*batch)->num_rows()), series.size());

  std::printf("[3/3] forecast every series (accuracy-weighted ensemble, calibrated intervals)\n");
  auto forecast = pipeline::ForecastSignals(**lake, {});
  if (!forecast.ok()) return Fail(forecast.status());
  if (forecast->duplicate)
    std::printf("      signals version %lld already forecast: forecasts table unchanged\n\n",
                static_cast<long long>(forecast->signals_version));
  else
    std::printf("      %zu series, %lld rows -> forecasts table version %lld\n\n", forecast->series,
                static_cast<long long>(forecast->rows), static_cast<long long>(forecast->forecasts_version));
  auto forecasts = (*lake)->OpenTable("forecasts");
  if (!forecasts.ok()) return Fail(forecasts.status());
  auto next = (*forecasts)->Read({.columns = {"series", "target", "step", "mean", "level", "lower", "upper", "signals_version"}});
  if (!next.ok()) return Fail(next.status());
  auto fb = (*next)->CombineChunksToBatch();
  if (!fb.ok()) return Fail(Status::Internal(fb.status().ToString()));
  // The next step's 80% band from the newest forecast of each series.
  arrow::StringBuilder s_b, t_b;
  arrow::DoubleBuilder m_b, lo_b, hi_b;
  std::map<std::string, std::tuple<int64_t, std::string, double, double, double>> next_step;
  auto f_series = std::static_pointer_cast<arrow::StringArray>((*fb)->column(0));
  auto f_target = std::static_pointer_cast<arrow::TimestampArray>((*fb)->column(1));
  auto f_step = std::static_pointer_cast<arrow::Int32Array>((*fb)->column(2));
  auto f_mean = std::static_pointer_cast<arrow::DoubleArray>((*fb)->column(3));
  auto f_level = std::static_pointer_cast<arrow::DoubleArray>((*fb)->column(4));
  auto f_lo = std::static_pointer_cast<arrow::DoubleArray>((*fb)->column(5));
  auto f_hi = std::static_pointer_cast<arrow::DoubleArray>((*fb)->column(6));
  auto f_version = std::static_pointer_cast<arrow::Int64Array>((*fb)->column(7));
  for (int64_t i = 0; i < (*fb)->num_rows(); ++i) {
    if (f_step->Value(i) != 1 || std::abs(f_level->Value(i) - 0.8) > 1e-9) continue;
    auto& slot = next_step[f_series->GetString(i)];
    if (std::get<0>(slot) <= f_version->Value(i))
      slot = {f_version->Value(i), time::FormatDate(f_target->Value(i)), f_mean->Value(i), f_lo->Value(i), f_hi->Value(i)};
  }
  for (const auto& [name, v] : next_step) {
    (void)s_b.Append(name);
    (void)t_b.Append(std::get<1>(v));
    (void)m_b.Append(std::get<2>(v));
    (void)lo_b.Append(std::get<3>(v));
    (void)hi_b.Append(std::get<4>(v));
  }
  auto fschema = arrow::schema({arrow::field("series", arrow::utf8()), arrow::field("quarter", arrow::utf8()),
                                arrow::field("forecast", arrow::float64()), arrow::field("80% low", arrow::float64()),
                                arrow::field("80% high", arrow::float64())});
  PrintTable(stdout, *arrow::Table::Make(fschema, {s_b.Finish().ValueOrDie(), t_b.Finish().ValueOrDie(),
                                                    m_b.Finish().ValueOrDie(), lo_b.Finish().ValueOrDie(),
                                                    hi_b.Finish().ValueOrDie()}), 0);
  const std::string exe = ctx.exe_path, url = ctx.config.GetString("lake.url");
  std::printf("\nThe lake is at %s. Explore:\n  %s --lake %s lake list\n"
              "  %s --lake %s lake show forecasts --where series=realgdp --where level=0.95\n",
              (*lake)->url().c_str(), exe.c_str(), url.c_str(), exe.c_str(), url.c_str());
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
