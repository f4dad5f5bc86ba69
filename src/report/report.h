// Public API of the report module (with report_data.h and forecast_table.h); src/report/internal/
// is the module's own.
//
// The HTML report of `pulse run`: one self-contained file that opens from disk (inline SVG charts
// and CSS, no JavaScript, no network). Rendering is pure: the caller gathers every number from the
// lake's tables into ReportData; RenderReportHtml only formats it, so the numbers in the report
// are the tables' numbers. Every number that comes from a table is also written, at full
// precision (shortest round-trip form), in a `data-value` attribute of the element that shows it,
// so a test can compare the report with the tables exactly.
//
// Contracts of the charts (each an inline <svg> with class "chart" and data-series / data-variable
// naming what it plots):
// - FanChartSvg: one per forecast series: the history as a line, the forecast mean as a line,
//   and the interval bands as filled polygons, widest level underneath (95%, then 80%, then 50%);
//   axes with a few date ticks and value ticks; a vertical rule at the forecast origin.
// - DriftTimelineSvg: one per model card of the "Models and drift" section (below).
// - BandChartSvg: one per simulated variable: quantile bands (outer pair underneath, e.g. 5-95,
//   then 25-75) and the mean line over the turns 0..T.
// Non-finite values are skipped (never written as "nan" into a path); a chart with no finite
// value renders an empty frame with the text "no data". Text is HTML-escaped everywhere.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace pulse::report {

struct IntervalBand {
  double level = 0;                  // e.g. 0.95
  std::vector<double> lower, upper;  // one per forecast step
};

struct SeriesChart {
  std::string name, kind, frequency, model;
  std::vector<int64_t> history_ts;  // microseconds since the epoch, UTC, ascending
  std::vector<double> history;
  std::vector<int64_t> target_ts;  // forecast steps 1..h
  std::vector<double> mean;
  std::vector<IntervalBand> bands;  // any order; drawn widest first
};

struct QuantileBand {
  double low = 0, high = 0;          // quantile levels, e.g. 0.05 and 0.95
  std::vector<double> lower, upper;  // one per turn 0..T
};

struct SimulationChart {
  std::string variable;
  std::vector<double> mean;  // one per turn 0..T
  std::vector<QuantileBand> bands;
};

// One row of the trust table. Heuristic fields follow the original Pulse's formulas; the
// statistical ones come from the forecast engine's calibrated backtests. The report says which is
// which in the column headings.
struct TrustRow {
  std::string series;
  // heuristic (the original Pulse's TrustEngine / fragility detector / licenser)
  double confidence = 0, fragility = 0, risk = 0;
  std::string trust_label, licence;
  // statistical (calibrated)
  double coverage80 = 0;    // backtest share of outcomes inside the calibrated 80% band
  double skill = 0;         // 1 - backtest MASE(model) / MASE(naive)
  double band80_width = 0;  // relative width of the next step's 80% band
  // track record (the original's Bayesian tracker fed with outcomes vs earlier runs' 80% bands)
  double track_record = 0.5, track_low = 0, track_high = 1;
  int64_t track_hits = 0, track_checked = 0;
  // model lifecycle (trust/model_health.h; empty, 0 or NaN when the trust_scores table predates it
  // or the forecast was fitted without a registered model)
  std::string model_health, drift_status;
  int64_t model_version = 0;
  double days_since_training = std::numeric_limits<double>::quiet_NaN();
  double rolling_coverage80 = std::numeric_limits<double>::quiet_NaN();
  int64_t rolling_outcomes = 0;
};

// "Models and drift" (issue 15): per series, its registered model's lifecycle - every promotion
// and refusal (model_events) and every drift check (drift_events) - in the lake's own times.
struct ModelEvent {
  int64_t time = 0;  // when it was decided (microseconds since the epoch, UTC)
  int64_t version = 0;
  std::string event;             // promoted | refused
  int64_t champion_version = 0;  // the champion before (0: none)
  double challenger_mase = std::numeric_limits<double>::quiet_NaN();
  double champion_mase = std::numeric_limits<double>::quiet_NaN();
  std::string reason, trigger;
};

struct DriftCheck {
  int64_t time = 0;  // detected_at
  int64_t signals_version = 0;
  bool drift = false;
  std::string detectors;  // those that said drift, comma-separated (the default input test, outcome detectors)
};

struct ModelCard {
  std::string series, kind, model_name;  // model_name "" : no registered model
  int64_t champion_version = 0;          // in production: the newest promoted version (0: none)
  int64_t trained = 0;                   // when that version was registered (0: unknown)
  std::vector<ModelEvent> events;        // oldest first
  std::vector<DriftCheck> checks;        // oldest first
};

struct ReportData {
  std::string title = "Pulse report";
  std::string generated;  // ISO-8601 UTC
  std::string dataset, lake_url;
  int64_t signals_version = -1, forecasts_version = -1;
  std::string sim_id;
  uint64_t sim_runs = 0;
  uint32_t sim_turns = 0;
  std::vector<std::string> changes;  // "what changed since the last run", one sentence each
  std::vector<SeriesChart> series;
  std::vector<SimulationChart> simulation;
  std::vector<TrustRow> trust;
  std::vector<ModelCard> models;  // by series; empty: no model_events or drift_events
};

std::string FanChartSvg(const SeriesChart& chart);
std::string BandChartSvg(const SimulationChart& chart);
std::string RenderReportHtml(const ReportData& data);

// The drift timeline of one model card: an inline <svg class="chart timeline" data-series=…> with
// time left to right; one circle per drift check on the lower lane (class "check ok" / "check
// drift", data-time, data-version = the signals version), one marker per model event on the upper
// lane (class "event promoted" / "event refused", data-time, data-version = the model version,
// labelled "v<N>"); two date ticks (first and last). Nothing to draw: an empty frame saying
// "no events".
std::string DriftTimelineSvg(const ModelCard& card);

// Shortest text that parses back to the same double ("0.1", "1e+20", "-3"); "nan"/"inf" for
// non-finite values (never used inside SVG geometry).
std::string ExactNumber(double v);

}  // namespace pulse::report
