// Public API of the report module (see report.h).
//
// Gathers pulse run's report from the lake's tables (one signals version, one simulation) into
// report/report.h's ReportData and a JSON summary with the same numbers, and writes both into
// an output folder (report.html, summary.json) atomically: each file is written to a temporary
// name and renamed, so a failed run never leaves a half-written report.
//
// "What changed since the last run" compares with the previous run: the summary.json already in
// the output folder (same signals version: nothing changed) and the forecasts and trust scores of
// the newest earlier signals version in the lake (new observations against the earlier 80%
// bands, moved next-step forecasts, changed trust labels).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/lake.h"
#include "report/report.h"

namespace pulse::report {

struct ReportRequest {
  int64_t signals_version = -1;
  std::string sim_id;
  std::vector<std::string> key_variables;
  std::string kind;                        // the signals' kind charted; empty: every kind
  size_t history_points = 40;              // history drawn per fan chart
  std::optional<nlohmann::json> previous;  // the last run's summary.json, if any
  std::string dataset;
};

struct Report {
  ReportData data;
  nlohmann::json summary;
};

Result<Report> GatherReport(lake::Lake& lake, const ReportRequest& request);

// The "Models and drift" cards (report.h ModelCard), one per series that has model_events or
// drift_events rows of signals versions <= signals_version (-1: all), sorted by series; events and
// checks oldest first; champion_version / trained from the newest promotion. Missing tables are no
// cards; a table with a missing column or another type is kInvalidArgument naming it.
Result<std::vector<ModelCard>> ReadModelCards(lake::Lake& lake, int64_t signals_version);
// The cards for summary.json: series -> {model_name, champion_version, events, drift_checks,
// drift_detections}.
nlohmann::json ModelCardsJson(const std::vector<ModelCard>& cards);

// The summary.json in `out_dir`, if present and valid JSON (a malformed one is ignored: nullopt).
std::optional<nlohmann::json> ReadPreviousSummary(const std::string& out_dir);

// Creates `out_dir` if needed and writes report.html and summary.json (atomic per file).
// kIoError naming the path when the folder cannot be created or written.
Status WriteReport(const std::string& out_dir, const Report& report);

}  // namespace pulse::report
