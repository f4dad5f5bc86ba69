// Shared pieces of the pulse CLI: the resolved configuration (typed: core/config_sections.h) and
// printing Arrow tables for people (aligned columns) and scripts (JSON).
#pragma once

#include <arrow/type_fwd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "lake/lake.h"

namespace pulse::ingest {
struct IngestOptions;
}  // namespace pulse::ingest

namespace pulse::cli {

// Exit codes of every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;    // a hard error: bad config, unreadable file, lake failure
inline constexpr int kExitUsage = 2;    // bad command line (CLI11)
inline constexpr int kExitRejects = 3;  // the command worked but some input rows were rejected

struct Context {
  Config config = Config::Defaults();  // loaded by main() before any command runs
  std::string exe_path;                // argv[0], to find bundled data
  const Settings& settings() const { return config.settings(); }
};

// Opens the lake the settings name (lake/open_lake.h). Read-only commands pass
// OpenMode::kMustExist: they create nothing and fail with "no lake at URL" when there is none.
Result<std::unique_ptr<lake::Lake>> OpenLake(const Context& ctx,
                                             lake::OpenMode mode = lake::OpenMode::kCreateIfMissing);

// Prints "pulse: <message>" to stderr and returns kExitError.
int Fail(const Status& status);

// Text of one cell: ISO-8601 for timestamps, shortest round-trip form for doubles, "" for null.
std::string CellText(const arrow::Array& column, int64_t row);
// An aligned text table (header, rule, rows) of at most `limit` rows (0 = all).
void PrintTable(std::FILE* out, const arrow::Table& table, int64_t limit);
// A JSON array of row objects (lake/table_json.h: timestamps as ISO-8601 text). Prints nothing
// and returns the error when a column's type has no JSON form.
Status PrintJsonRows(std::FILE* out, const arrow::Table& table, int64_t limit);

// How a signals file is laid out (ingest/file_ingest.h), as pulse ingest FILE and pulse publish
// take it: --format --kind --source --unit --wide --time.
struct FileLayoutArgs {
  std::string format;  // csv | jsonl | json; empty: from the extension (or sniffed)
  std::string kind;    // empty: config ingest.kind
  std::string source;
  std::string unit;
  std::string time;  // wide layout time columns, comma-separated
  bool wide = false;
};
void AddFileLayoutOptions(CLI::App* cmd, FileLayoutArgs& args);
// Sets the layout fields of `options` (format, kind, source, unit, wide, time_columns) and its size
// limits (ingest.max_field_bytes, ingest.max_file_bytes) from the flags and the ingest.* settings;
// InvalidArgument naming the flag for an unknown --format, or --time without --wide.
Status ApplyFileLayout(const FileLayoutArgs& args, const IngestSettings& settings, ingest::IngestOptions& options);

// pulse ingest --stream (cmd_stream.cc): the flags; the rest comes from the stream.* config keys.
struct StreamArgs {
  std::string url;    // kafka://…; empty: config stream.url
  std::string group;  // empty: config stream.group
  int metrics_port = -1;
  std::string metrics_host = "127.0.0.1";
  double idle_exit_seconds = 0;
  int64_t max_records = 0;
  std::string test_crash_at;  // hidden, tests only: stream::StreamOptions::test_crash_at
  int64_t test_crash_batch = 1;
  bool json = false;
};
void AddStreamOptions(CLI::App* cmd, StreamArgs& args);
int RunStreamIngestCommand(const StreamArgs& args, const Context& ctx);

// "50,80,95" -> {0.5, 0.8, 0.95}; kInvalidArgument naming the bad item (pulse forecast, pulse train).
Result<std::vector<double>> ParseLevels(const std::string& text);

// Command registration (each in its own file).
void AddIngestCommand(CLI::App& app, Context& ctx, int& exit_code);
void AddLakeCommands(CLI::App& app, Context& ctx, int& exit_code);
void AddRunCommand(CLI::App& app, Context& ctx, int& exit_code);
void AddForecastCommands(CLI::App& app, Context& ctx, int& exit_code);
void AddSimulateCommand(CLI::App& app, Context& ctx, int& exit_code);
void AddWorkerCommands(CLI::App& app, Context& ctx, int& exit_code);
void AddPublishCommand(CLI::App& app, Context& ctx, int& exit_code);
void AddServeCommands(CLI::App& app, Context& ctx, int& exit_code);
void AddDriftCommand(CLI::App& app, Context& ctx, int& exit_code);
void AddTrainCommand(CLI::App& app, Context& ctx, int& exit_code);

}  // namespace pulse::cli
