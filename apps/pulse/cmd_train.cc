// pulse train [--series a,b] [--kinds k] [--method M] [--reason R] [--horizon H] [--period P]
//             [--levels 50,80,95] [--json]
// Fits, backtests and registers a model version per series in the registry (registry.url), and
// promotes it to champion only when it beats the champion (pipeline/train_models.h).
#include <nlohmann/json.hpp>

#include "cli.h"
#include "cli_options.h"
#include "pipeline/train_models.h"
#include "registry/registry.h"

namespace pulse::cli {
namespace {

struct TrainArgs {
  int horizon = 0, period = 0;
  std::string levels = "50,80,95", kinds, series, method = "Ensemble", reason = "manual";
  bool json = false;
};

std::string Mase(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

int RunTrain(const TrainArgs& args, const Context& ctx) {
  const RegistrySettings& reg = ctx.settings().registry;
  if (reg.url.empty()) return Fail(Status::InvalidArgument("registry.url is empty: pulse train needs a registry"));
  pipeline::TrainOptions options;
  options.forecast.horizon = args.horizon;
  options.forecast.period = args.period;
  auto levels = ParseLevels(args.levels);
  if (!levels.ok()) return Fail(levels.status());
  options.forecast.levels = *levels;
  options.forecast.kinds = SplitCommas(args.kinds);
  options.series = SplitCommas(args.series);
  options.method = args.method;
  options.reason = args.reason;
  options.registry = pipeline::ModelRegistryOptionsFrom(reg);
  auto lake = OpenLake(ctx, lake::OpenMode::kMustExist);
  if (!lake.ok()) return Fail(lake.status());
  auto models = registry::OpenRegistry(reg.url);
  if (!models.ok()) return Fail(models.status());
  auto report = pipeline::TrainModels(**lake, **models, options);
  if (!report.ok()) return Fail(report.status());
  for (const auto& s : report->skipped) std::fprintf(stderr, "skipped %s\n", s.c_str());
  if (args.json) {
    std::printf("%s\n", pipeline::TrainReportJson(*report).dump(2).c_str());
    return kExitOk;
  }
  size_t unchanged = 0;
  for (const auto& t : report->series) {
    if (t.unchanged) {
      ++unchanged;
      continue;
    }
    std::printf(
        "%s v%lld %s: MASE %s vs champion %s; %s\n", t.model_name.c_str(), static_cast<long long>(t.version),
        t.decision.c_str(), Mase(t.challenger_mase).c_str(),
        t.champion_version > 0 ? ("v" + std::to_string(t.champion_version) + " " + Mase(t.champion_mase)).c_str() : "-",
        t.reason.c_str());
  }
  std::printf(
      "trained %zu series from signals version %lld in %s: %zu registered, %zu unchanged (already registered)\n",
      report->series.size(), static_cast<long long>(report->signals_version), reg.url.c_str(),
      report->series.size() - unchanged, unchanged);
  return kExitOk;
}

}  // namespace

void AddTrainCommand(CLI::App& app, Context& ctx, int& exit_code) {
  auto args = std::make_shared<TrainArgs>();
  auto* train = app.add_subcommand(
      "train",
      "Fit, backtest and register a forecasting model version per series; promote it if it beats the champion");
  train->add_option("--series", args->series, "Only these series (comma-separated names)");
  train->add_option("--kinds", args->kinds, "Only these signal kinds (comma-separated)");
  train->add_option("--method", args->method, "Ensemble or one benchmark method (Naive, SES, Holt, Theta, ...)")
      ->capture_default_str();
  train->add_option("--reason", args->reason, "Why this training runs (recorded with each decision)")
      ->capture_default_str();
  AddNumberOption(train, "--horizon", args->horizon, "Steps ahead (0: by frequency)", 0, 10000);
  AddNumberOption(train, "--period", args->period, "Seasonal period (0: by frequency)", 0, 100000);
  train->add_option("--levels", args->levels, "Interval levels in percent")->capture_default_str();
  train->add_flag("--json", args->json, "Print the training report as JSON");
  train->callback([args, &ctx, &exit_code] { exit_code = RunTrain(*args, ctx); });
}

}  // namespace pulse::cli
