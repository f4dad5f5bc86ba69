// pulse forecast eval --train F --test F --period M : the M4 benchmark methods' accuracy on an
// M4-format train/test pair (sMAPE, MASE, OWA vs Naive2, fitting time), as a table or JSON.
#include <arrow/api.h>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "forecast/evaluation.h"
#include "ingest/m4_reader.h"

namespace pulse::cli {
namespace {

struct EvalArgs {
  std::string train, test;
  int period = 1;
  bool json = false;
};

int RunEval(const EvalArgs& args, const Context& ctx) {
  if (args.period < 1) return Fail(Status::InvalidArgument("--period must be >= 1"));
  auto series = ingest::ReadM4TrainTest(args.train, args.test);
  if (!series.ok()) return Fail(series.status());
  auto report = forecast::EvaluateBenchmarks(*series, args.period, static_cast<int>(ctx.config.GetInt("threads")));
  if (!report.ok()) return Fail(report.status());
  if (args.json) {
    nlohmann::json methods = nlohmann::json::array();
    for (const auto& s : report->scores)
      methods.push_back({{"method", forecast::MethodName(s.method)}, {"smape", s.smape}, {"mase", s.mase}, {"owa", s.owa}});
    nlohmann::json out = {{"series", report->series}, {"skipped", report->skipped}, {"problems", report->problems},
                          {"period", args.period}, {"fit_cpu_seconds", report->scores.front().seconds},
                          {"wall_seconds", report->wall_seconds}, {"methods", methods}};
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  arrow::StringBuilder name_b;
  arrow::DoubleBuilder smape_b, mase_b, owa_b;
  for (const auto& s : report->scores) {
    (void)name_b.Append(std::string(forecast::MethodName(s.method)));
    (void)smape_b.Append(std::round(s.smape * 1000) / 1000);
    (void)mase_b.Append(std::round(s.mase * 1000) / 1000);
    (void)owa_b.Append(std::round(s.owa * 1000) / 1000);
  }
  auto schema = arrow::schema({arrow::field("method", arrow::utf8()), arrow::field("sMAPE", arrow::float64()),
                               arrow::field("MASE", arrow::float64()), arrow::field("OWA", arrow::float64())});
  auto table = arrow::Table::Make(schema, {name_b.Finish().ValueOrDie(), smape_b.Finish().ValueOrDie(),
                                           mase_b.Finish().ValueOrDie(), owa_b.Finish().ValueOrDie()});
  std::printf("%zu series (period %d), %zu skipped; all methods fitted in %.2f CPU s, %.2f s wall\n\n",
              report->series, args.period, report->skipped, report->scores.front().seconds, report->wall_seconds);
  PrintTable(stdout, *table, 0);
  for (const auto& p : report->problems) std::fprintf(stderr, "skipped %s\n", p.c_str());
  return kExitOk;
}

}  // namespace

void AddForecastCommands(CLI::App& app, Context& ctx, int& exit_code) {
  auto* forecast = app.add_subcommand("forecast", "Forecasting");
  forecast->require_subcommand(1);
  auto args = std::make_shared<EvalArgs>();
  auto* eval = forecast->add_subcommand("eval", "Accuracy of the M4 benchmark methods on M4-format train/test files");
  eval->add_option("--train", args->train, "M4-format training file")->required();
  eval->add_option("--test", args->test, "M4-format test file (the horizon is its row length)")->required();
  eval->add_option("--period", args->period, "Seasonal period (M4: Hourly 24, Weekly 1)")->required();
  eval->add_flag("--json", args->json, "Print JSON");
  eval->callback([args, &ctx, &exit_code] { exit_code = RunEval(*args, ctx); });
}

}  // namespace pulse::cli
