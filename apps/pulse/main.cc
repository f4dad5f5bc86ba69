// pulse: the command-line entry point. Global options resolve the configuration (defaults <
// --config YAML < PULSE_* environment < --lake / --set flags); each command lives in its own file.
// Global options are accepted before or after the subcommand (`pulse ingest f.csv --lake ./lake`):
// every subcommand falls through to the main app for options it does not know.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "core/log.h"
#include "core/otlp_exporter.h"
#include "core/trace.h"

namespace {
namespace cli = pulse::cli;
namespace log = pulse::log;
using pulse::Status;

// The global options that resolve the configuration.
struct GlobalOptions {
  std::string config_file, lake_url;
  std::vector<std::string> overrides;
  CLI::Option* lake_option = nullptr;
  std::optional<pulse::trace::Span> command_span;  // the command's root span (not for long-running roles)
};

// Tracing for the parsed command (core/trace.h): the exporter when telemetry.otlp_endpoint is set,
// service.name pulse-<command>; and, except for the long-running roles (serve, worker, beat, whose
// requests and tasks are each their own trace), a span for the whole command that its stages,
// enqueues and lake commits join. It continues a TRACEPARENT environment variable when one is set
// (so a script can make a command part of its own trace).
void StartCommandTracing(CLI::App& app, const cli::Context& ctx, GlobalOptions& options) {
  std::vector<CLI::App*> chosen = app.get_subcommands();
  if (chosen.empty()) return;
  std::string path = "pulse";
  for (CLI::App* level = chosen.front(); level != nullptr;) {
    path += " " + level->get_name();
    std::vector<CLI::App*> below = level->get_subcommands();
    level = below.empty() ? nullptr : below.front();
  }
  const std::string role = chosen.front()->get_name();
  if (Status st = pulse::trace::StartExporterFromSettings(ctx.settings().telemetry, role); !st.ok())
    log::Warn("trace", "traces are not exported", {{"error", st.message()}});
  if (role == "serve" || role == "worker" || role == "beat") return;
  const char* incoming = std::getenv("TRACEPARENT");
  options.command_span.emplace(pulse::trace::Span::StartFromTraceparent(path, incoming != nullptr ? incoming : "",
                                                                        pulse::trace::SpanKind::kInternal));
  options.command_span->SetAttribute("pulse.command", path);
}

// defaults < --config YAML < PULSE_* environment < --lake < --set, then logging as configured.
// A bad value ends the process (exit 1) before any command runs.
void LoadConfiguration(const GlobalOptions& options, cli::Context& ctx) {
  Status st;
  if (!options.config_file.empty()) st = ctx.config.LoadYamlFile(options.config_file);
  if (st.ok()) st = ctx.config.LoadEnvironment(environ);
  // Given, even empty (--lake "$UNSET"): checked, never silently the default ./pulse-lake.
  if (st.ok() && options.lake_option->count() > 0) st = ctx.config.Set("lake.url", options.lake_url, "--lake");
  for (const auto& kv : options.overrides) {
    if (!st.ok()) break;
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      st = Status::InvalidArgument("--set expects key=value, got '" + kv + "'");
    } else {
      st = ctx.config.Set(kv.substr(0, eq), kv.substr(eq + 1), "--set");
    }
  }
  if (!st.ok()) {
    std::fprintf(stderr, "pulse: %s\n", st.message().c_str());
    std::exit(cli::kExitError);
  }
  for (const auto& warning : ctx.config.Warnings()) std::fprintf(stderr, "pulse: warning: %s\n", warning.c_str());
  log::Configure({.level = ctx.settings().log.level,
                  .format = ctx.settings().log.format,
                  .sink = {},
                  .module_levels = ctx.settings().log.modules});
}

// CLI11 answers a mistyped command ("pulse ingset f.csv", "pulse lake lsit") with "A subcommand
// is required": name the word instead. Walks the words that are neither options nor a global
// option's value down the command tree; true when it printed the message.
bool ReportUnknownCommand(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  std::string path = "pulse";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") break;
    if (word.starts_with('-')) {
      if (word == "--config" || word == "--lake" || word == "--set") ++i;  // its value follows
      continue;
    }
    const std::vector<CLI::App*> below = level->get_subcommands([](CLI::App*) { return true; });
    if (below.empty()) break;
    CLI::App* match = nullptr;
    std::string names;
    for (CLI::App* command : below) {
      if (command->check_name(word)) match = command;
      names += (names.empty() ? "" : ", ") + command->get_name();
    }
    if (match == nullptr) {
      std::fprintf(stderr, "%s: unknown command '%s' (commands: %s; see %s --help)\n", path.c_str(), word.c_str(),
                   names.c_str(), path.c_str());
      return true;
    }
    level = match;
    path += " " + match->get_name();
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Context ctx;
  ctx.exe_path = argc > 0 ? argv[0] : "pulse";
  int exit_code = cli::kExitOk;

  CLI::App app{"Pulse: trust-scored probabilistic forecasts and Monte Carlo scenarios from real-world signals"};
  app.require_subcommand(1);
  app.fallthrough();  // inherited by every subcommand created below (and theirs)
  app.set_version_flag("--version", "pulse 0.1.0");
  GlobalOptions global;
  app.add_option("--config", global.config_file, "YAML configuration file");
  global.lake_option = app.add_option("--lake", global.lake_url,
                                      "Lake URL: a folder, file://… or s3://bucket/prefix (config key lake.url)");
  // One key=value per --set, so that `pulse ingest --set a=b f.csv` keeps f.csv for ingest.
  app.add_option("--set", global.overrides, "Override a config key: --set key=value (repeatable)")
      ->allow_extra_args(false);
  // Resolve configuration once the command line is parsed, before any command runs.
  app.parse_complete_callback([&] {
    LoadConfiguration(global, ctx);
    StartCommandTracing(app, ctx, global);
  });

  cli::AddIngestCommand(app, ctx, exit_code);
  cli::AddLakeCommands(app, ctx, exit_code);
  cli::AddRunCommand(app, ctx, exit_code);
  cli::AddForecastCommands(app, ctx, exit_code);
  cli::AddTrainCommand(app, ctx, exit_code);
  cli::AddSimulateCommand(app, ctx, exit_code);
  cli::AddWorkerCommands(app, ctx, exit_code);
  cli::AddPublishCommand(app, ctx, exit_code);
  cli::AddServeCommands(app, ctx, exit_code);
  cli::AddDriftCommand(app, ctx, exit_code);
  app.add_subcommand("version", "Print the version")->callback([] { std::puts("pulse 0.1.0"); });
  // Subcommand help lists only the subcommand's own options: point at the global ones.
  std::vector<CLI::App*> commands = app.get_subcommands([](CLI::App*) { return true; });
  for (size_t i = 0; i < commands.size(); ++i) {
    commands[i]->footer("Global options (--config FILE, --lake URL, --set key=value) work here too; see pulse --help.");
    for (CLI::App* sub : commands[i]->get_subcommands([](CLI::App*) { return true; })) commands.push_back(sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && ReportUnknownCommand(app, argc, argv))
      return cli::kExitUsage;
    int code = app.exit(e);
    global.command_span.reset();
    pulse::trace::StopExporter();
    return code == 0 ? 0 : cli::kExitUsage;
  }
  if (global.command_span) {
    if (exit_code != cli::kExitOk) global.command_span->SetError("exit code " + std::to_string(exit_code));
    global.command_span.reset();
  }
  pulse::trace::StopExporter();  // sends what is queued (bounded), after the command's span ended
  return exit_code;
}
