// pulse ingest FILE... : validate signal files and append them to the lake (see ingest/file_ingest.h).
// pulse ingest --stream kafka://BROKERS/TOPICS : the same from Kafka, until stopped (cmd_stream.cc).
// FILE may be "-" (standard input), a pipe or /dev/stdin; each is read once, at most
// ingest.max_file_bytes. Printed reasons and names are escaped (no control bytes reach the terminal).
#include <nlohmann/json.hpp>

#include "cli.h"
#include "core/printable.h"
#include "ingest/file_ingest.h"
#include "pipeline/bundled_data.h"

namespace pulse::cli {
namespace {

struct IngestArgs {
  std::vector<std::string> files;
  FileLayoutArgs layout;
  std::string map;
  bool json = false;
  StreamArgs stream;
};

Result<ingest::IngestOptions> ToOptions(const IngestArgs& a, const IngestSettings& settings) {
  ingest::IngestOptions o;
  PULSE_RETURN_IF_ERROR(ApplyFileLayout(a.layout, settings, o));
  for (const auto& pair : SplitCommas(a.map)) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
      return Status::InvalidArgument("--map expects field=column pairs, got '" + pair + "'");
    }
    o.mapping[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return o;
}

std::string GateText(const signals::GateCounts& g) {
  return "gate: accept " + std::to_string(g.accept) + ", escalate " + std::to_string(g.escalate) + ", suppress " +
         std::to_string(g.suppress);
}

int RunIngest(const IngestArgs& args, const Context& ctx) {
  auto options = ToOptions(args, ctx.settings().ingest);
  if (!options.ok()) return Fail(options.status());
  auto scoring = pipeline::LoadScoringRules(ctx.settings().ingest.scoring_rules, ctx.exe_path);
  if (!scoring.ok()) return Fail(scoring.status());
  options->scoring = *scoring;
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  int exit_code = kExitOk;
  nlohmann::json reports = nlohmann::json::array();
  for (const auto& file : args.files) {
    const std::string shown = file == "-" ? std::string("stdin") : Printable(file, 4096);
    auto report = ingest::IngestFile(**lake, file, *options);
    if (!report.ok()) return Fail(report.status());
    if (report->rejected > 0) exit_code = kExitRejects;
    if (args.json) {
      nlohmann::json rejects = nlohmann::json::array();
      for (const auto& r : report->rejects) rejects.push_back({{"line", r.line}, {"reason", r.reason}});
      reports.push_back({{"file", shown},
                         {"accepted", report->accepted},
                         {"rejected", report->rejected},
                         {"version", report->version},
                         {"duplicate", report->duplicate},
                         {"gate",
                          {{"accept", report->gate.accept},
                           {"escalate", report->gate.escalate},
                           {"suppress", report->gate.suppress}}},
                         {"seconds", report->seconds},
                         {"rejects", rejects}});
      continue;
    }
    constexpr size_t kShown = 20;
    for (size_t i = 0; i < report->rejects.size() && i < kShown; ++i) {
      std::fprintf(stderr, "%s:%lld: %s\n", shown.c_str(), static_cast<long long>(report->rejects[i].line),
                   Printable(report->rejects[i].reason, 4096).c_str());
    }
    if (report->rejects.size() > kShown)
      std::fprintf(stderr, "... and %zu more (all are in the signal_rejects table)\n", report->rejects.size() - kShown);
    if (report->duplicate) {
      std::printf("%s: already ingested (same content), nothing written; table at version %lld\n", shown.c_str(),
                  static_cast<long long>(report->version));
    } else {
      std::printf("%s: accepted %lld, rejected %lld, committed version %lld (%.2f s); %s\n", shown.c_str(),
                  static_cast<long long>(report->accepted), static_cast<long long>(report->rejected),
                  static_cast<long long>(report->version), report->seconds, GateText(report->gate).c_str());
    }
  }
  if (args.json) std::printf("%s\n", reports.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return exit_code;
}

}  // namespace

void AddIngestCommand(CLI::App& app, Context& ctx, int& exit_code) {
  auto args = std::make_shared<IngestArgs>();
  auto* cmd = app.add_subcommand("ingest", "Validate signal files (CSV or JSON lines) and append them to the lake");
  cmd->add_option("files", args->files, "Files to ingest ('-' for standard input)");
  AddFileLayoutOptions(cmd, args->layout);
  cmd->add_option("--map", args->map, "Column mapping, e.g. ts=date,value=close,name=ticker");
  cmd->add_flag("--json", args->json, "Print the report as JSON");
  AddStreamOptions(cmd, args->stream);
  cmd->callback([args, &ctx, &exit_code] {
    const bool streaming = !args->stream.url.empty() || (args->files.empty() && !ctx.settings().stream.url.empty());
    if (streaming && !args->files.empty()) {
      std::fprintf(stderr, "pulse ingest: give files or --stream, not both\n");
      exit_code = kExitUsage;
    } else if (streaming) {
      args->stream.json = args->json;
      exit_code = RunStreamIngestCommand(args->stream, ctx);
    } else if (args->files.empty()) {
      std::fprintf(stderr, "pulse ingest: no file given (FILE..., or --stream kafka://BROKERS/TOPICS)\n");
      exit_code = kExitUsage;
    } else {
      exit_code = RunIngest(*args, ctx);
    }
  });
}

}  // namespace pulse::cli
