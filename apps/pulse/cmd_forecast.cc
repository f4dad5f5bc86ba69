// pulse forecast [--broker redis://... --chunks N] : every series of the lake's signals into the
// forecasts table, in this process or as chunk tasks on pulse workers (pipeline/forecast_chunks.h).
// pulse forecast eval --train F --test F --period M : the M4 benchmark methods' accuracy on an
// M4-format train/test pair (sMAPE, MASE, OWA vs Naive2, fitting time), as a table or JSON.
#include <arrow/api.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "cli_options.h"
#include "forecast/evaluation.h"
#include "ingest/m4_reader.h"
#include "jobs/backends.h"
#include "pipeline/forecast_chunks.h"
#include "pipeline/forecast_signals.h"
#include "registry/registry.h"

namespace pulse::cli {

Result<std::vector<double>> ParseLevels(const std::string& text) {
  std::vector<double> levels;
  for (const auto& item : SplitCommas(text)) {
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != 0 || !(v > 0 && v < 100))
      return Status::InvalidArgument("--levels expects percentages in (0, 100), got '" + item + "'");
    levels.push_back(v / 100);
  }
  return levels;
}

namespace {

struct EvalArgs {
  std::string train, test;
  int period = 1;
  std::string levels = "50,80,95";
  bool json = false;
};

void PrintEvalJson(const forecast::EvalReport& report, int period) {
  nlohmann::json methods = nlohmann::json::array();
  for (const auto& s : report.scores) {
    nlohmann::json intervals = nlohmann::json::array();
    for (const auto& iv : s.intervals) {
      intervals.push_back({{"level", iv.level},
                           {"coverage_analytic", iv.coverage_analytic},
                           {"coverage_calibrated", iv.coverage_calibrated},
                           {"multiplier_analytic", iv.multiplier_analytic},
                           {"multiplier_calibrated", iv.multiplier_calibrated}});
    }
    methods.push_back({{"method", forecast::MethodName(s.method)},
                       {"smape", s.smape},
                       {"mase", s.mase},
                       {"owa", s.owa},
                       {"msis_analytic", s.msis_analytic},
                       {"msis_calibrated", s.msis_calibrated},
                       {"fit_seconds", s.fit_seconds},
                       {"intervals", intervals}});
  }
  nlohmann::json out = {{"series", report.series},
                        {"skipped", report.skipped},
                        {"problems", report.problems},
                        {"period", period},
                        {"calibration_scores", report.calibration_scores},
                        {"fit_cpu_seconds", report.fit_cpu_seconds},
                        {"wall_seconds", report.wall_seconds},
                        {"methods", methods}};
  std::printf("%s\n", out.dump(2).c_str());
}

// One row per method: sMAPE, MASE, OWA, MSIS and coverage (model and calibrated), fit time.
std::shared_ptr<arrow::Table> EvalTable(const forecast::EvalReport& report, const std::vector<double>& levels) {
  auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
  arrow::FieldVector fields = {arrow::field("method", arrow::utf8()), arrow::field("sMAPE", arrow::float64()),
                               arrow::field("MASE", arrow::float64()), arrow::field("OWA", arrow::float64())};
  const double widest = *std::max_element(levels.begin(), levels.end());
  char name[64];
  std::snprintf(name, sizeof name, "MSIS%g", widest * 100);
  fields.push_back(arrow::field(std::string(name) + " model", arrow::float64()));
  fields.push_back(arrow::field(std::string(name) + " calib", arrow::float64()));
  for (double level : levels) {
    std::snprintf(name, sizeof name, "cover%g", level * 100);
    fields.push_back(arrow::field(std::string(name) + " model", arrow::float64()));
    fields.push_back(arrow::field(std::string(name) + " calib", arrow::float64()));
  }
  fields.push_back(arrow::field("fit s", arrow::float64()));
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> builders;
  builders.push_back(std::make_unique<arrow::StringBuilder>());
  for (size_t i = 1; i < fields.size(); ++i) builders.push_back(std::make_unique<arrow::DoubleBuilder>());
  for (const auto& s : report.scores) {
    size_t c = 0;
    (void)static_cast<arrow::StringBuilder&>(*builders[c++]).Append(std::string(forecast::MethodName(s.method)));
    auto put = [&](double v) { (void)static_cast<arrow::DoubleBuilder&>(*builders[c++]).Append(round3(v)); };
    put(s.smape), put(s.mase), put(s.owa), put(s.msis_analytic), put(s.msis_calibrated);
    for (const auto& iv : s.intervals) put(iv.coverage_analytic * 100), put(iv.coverage_calibrated * 100);
    put(s.fit_seconds);
  }
  arrow::ArrayVector columns;
  for (auto& b : builders) columns.push_back(b->Finish().ValueOrDie());
  return arrow::Table::Make(arrow::schema(fields), columns);
}

int RunEval(const EvalArgs& args, const Context& ctx) {
  forecast::EvalOptions options;
  options.period = args.period;
  options.threads = ctx.settings().threads;
  auto levels = ParseLevels(args.levels);
  if (!levels.ok()) return Fail(levels.status());
  options.levels = *levels;
  if (args.period < 1) return Fail(Status::InvalidArgument("--period must be >= 1"));
  auto series = ingest::ReadM4TrainTest(args.train, args.test);
  if (!series.ok()) return Fail(series.status());
  auto report = forecast::EvaluateBenchmarks(*series, options);
  if (!report.ok()) return Fail(report.status());
  if (args.json) {
    PrintEvalJson(*report, args.period);
    return kExitOk;
  }
  std::printf(
      "%zu series (period %d), %zu skipped; %zu backtest scores per method for calibration;\n"
      "all methods fitted (forecast + 2 backtest windows) in %.2f CPU s, %.2f s wall\n\n",
      report->series, args.period, report->skipped, report->calibration_scores, report->fit_cpu_seconds,
      report->wall_seconds);
  PrintTable(stdout, *EvalTable(*report, options.levels), 0);
  std::printf(
      "\nmodel: Gaussian intervals from each model's own variance; calib: split-conformal multipliers\n"
      "from a backtest window before the test period (coverage in %%, MSIS scaled like MASE).\n");
  for (const auto& p : report->problems) std::fprintf(stderr, "skipped %s\n", p.c_str());
  return kExitOk;
}

struct LakeForecastArgs {
  int horizon = 0, period = 0;
  std::string levels = "50,80,95", kinds;
  std::string broker;
  int chunks = 4;
  bool chunks_given = false;
};

// --broker: the forecast as chunk tasks on the pulse workers behind a Redis broker
// (pipeline/forecast_chunks.h).
int RunChunkedForecast(const LakeForecastArgs& args, pipeline::ForecastOptions options, const Context& ctx) {
  if (args.broker.rfind("redis://", 0) != 0) {
    return Fail(Status::InvalidArgument("--broker must be redis://host:port/db (the workers must share it), got '" +
                                        args.broker + "'"));
  }
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  pipeline::ChunkedForecastRequest request;
  request.lake_url = ctx.settings().lake.url;
  if (request.lake_url.find("://") == std::string::npos)  // the workers resolve no relative path of ours
    request.lake_url = std::filesystem::absolute(request.lake_url).lexically_normal().string();
  request.options = std::move(options);
  request.chunks = args.chunks;
  auto broker = jobs::OpenBroker(args.broker, {.shared_only = true});
  if (!broker.ok()) return Fail(broker.status());
  auto report = pipeline::ForecastOverBroker(**broker, **lake, request);
  if (!report.ok()) return Fail(report.status());
  const auto& total = report->total;
  for (const auto& s : total.skipped) std::fprintf(stderr, "skipped %s\n", s.c_str());
  std::printf(
      "forecast %zu series from signals version %lld in %d chunks: %d written (%lld rows), %d already there, "
      "%d empty; forecasts table version %lld\n",
      total.series, static_cast<long long>(total.signals_version), report->chunks, report->chunks_written,
      static_cast<long long>(total.rows), report->chunks_duplicate, report->chunks_empty,
      static_cast<long long>(total.forecasts_version));
  std::printf("  pass 1 (fit, stage, pool scores) %.2f s, pass 2 (write) %.2f s: %.0f series/s; %zu series refitted\n",
              report->scores_seconds, report->write_seconds,
              static_cast<double>(total.series) / std::max(1e-9, report->scores_seconds + report->write_seconds),
              report->series_refitted);
  if (total.champions > 0) std::printf("  %zu series forecast with their registered champion\n", total.champions);
  for (const auto& [level, q] : total.multipliers)
    std::printf("  %g%% band = mean +- %.3f model sd (calibrated on backtests)\n", level * 100, q);
  return kExitOk;
}

int RunLakeForecast(const LakeForecastArgs& args, const Context& ctx) {
  pipeline::ForecastOptions options;
  options.horizon = args.horizon;
  options.period = args.period;
  auto levels = ParseLevels(args.levels);
  if (!levels.ok()) return Fail(levels.status());
  options.levels = *levels;
  options.kinds = SplitCommas(args.kinds);
  if (!args.broker.empty()) return RunChunkedForecast(args, std::move(options), ctx);
  if (args.chunks_given) return Fail(Status::InvalidArgument("--chunks needs --broker"));
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  // Each series' registered champion forecasts it when there is one (registry.*).
  std::unique_ptr<registry::Registry> models;
  const RegistrySettings& reg = ctx.settings().registry;
  if (reg.serve_champion && !reg.url.empty()) {
    auto opened = registry::OpenRegistry(reg.url);
    if (!opened.ok()) return Fail(opened.status());
    models = std::move(*opened);
    options.registry = models.get();
    options.model_prefix = reg.model_prefix;
  }
  auto report = pipeline::ForecastSignals(**lake, options);
  if (!report.ok()) return Fail(report.status());
  for (const auto& s : report->skipped) std::fprintf(stderr, "skipped %s\n", s.c_str());
  if (report->duplicate) {
    std::printf(
        "signals version %lld was already forecast with these options; forecasts table unchanged (version %lld)\n",
        static_cast<long long>(report->signals_version), static_cast<long long>(report->forecasts_version));
    return kExitOk;
  }
  std::printf("forecast %zu series from signals version %lld: %lld rows, forecasts table version %lld\n",
              report->series, static_cast<long long>(report->signals_version), static_cast<long long>(report->rows),
              static_cast<long long>(report->forecasts_version));
  if (report->champions > 0) {
    std::printf("  %zu series forecast with their registered champion (%s)\n", report->champions,
                ctx.settings().registry.url.c_str());
  }
  for (const auto& [level, q] : report->multipliers)
    std::printf("  %g%% band = mean +- %.3f model sd (calibrated on backtests)\n", level * 100, q);
  return kExitOk;
}

}  // namespace

void AddForecastCommands(CLI::App& app, Context& ctx, int& exit_code) {
  auto* forecast = app.add_subcommand(
      "forecast", "Forecast every series in the lake's signals table into the forecasts table (or: forecast eval)");
  forecast->require_subcommand(0, 1);
  auto lake_args = std::make_shared<LakeForecastArgs>();
  AddNumberOption(forecast, "--horizon", lake_args->horizon,
                  "Steps ahead (0: by frequency: quarterly 8, monthly 18, ...)", 0, 10000);
  AddNumberOption(forecast, "--period", lake_args->period,
                  "Seasonal period (0: by frequency: quarterly 4, monthly 12, ...)", 0, 100000);
  forecast->add_option("--levels", lake_args->levels, "Interval levels in percent")->capture_default_str();
  forecast->add_option("--kinds", lake_args->kinds, "Only these signal kinds (comma-separated)");
  forecast->add_option("--broker", lake_args->broker,
                       "Forecast as chunk tasks on the pulse workers behind this Redis (redis://host:port/db): "
                       "two passes (fit and pool the calibration scores; fit and write), one idempotent commit "
                       "per chunk, the same rows as in one process. Champions come from the workers' registry "
                       "settings. A failed chunk: run the same command again to finish the missing ones");
  auto* chunks = AddNumberOption(forecast, "--chunks", lake_args->chunks,
                                 "Chunk tasks for --broker (1..number of series)", 0, 1000000);
  forecast->callback([forecast, lake_args, chunks, &ctx, &exit_code] {
    lake_args->chunks_given = chunks->count() > 0;
    if (forecast->get_subcommands().empty()) exit_code = RunLakeForecast(*lake_args, ctx);
  });
  auto args = std::make_shared<EvalArgs>();
  auto* eval = forecast->add_subcommand("eval", "Accuracy of the M4 benchmark methods on M4-format train/test files");
  eval->add_option("--train", args->train, "M4-format training file")->required();
  eval->add_option("--test", args->test, "M4-format test file (the horizon is its row length)")->required();
  AddNumberOption(eval, "--period", args->period, "Seasonal period (M4: Hourly 24, Weekly 1)", 0, 100000)->required();
  eval->add_option("--levels", args->levels, "Interval levels in percent")->capture_default_str();
  eval->add_flag("--json", args->json, "Print JSON");
  eval->callback([args, &ctx, &exit_code] { exit_code = RunEval(*args, ctx); });
}

}  // namespace pulse::cli
