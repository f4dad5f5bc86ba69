// The HTML page of `pulse run` (contract in report.h): a header with the run's provenance, what
// changed, one card per forecast series, one chart per simulated variable, the trust table and
// the models and drift section (model_section.cc).
// Inline CSS only; no script, no external resource. Every number taken from ReportData is shown
// rounded and carried exactly in a data-value attribute.
#include <algorithm>
#include <cmath>
#include <string>

#include "report/internal/model_section.h"
#include "report/internal/svg_chart.h"
#include "report/report.h"

namespace pulse::report {
namespace {

using markup::EscapeHtml;
using markup::ReadableNumber;

constexpr const char* kStyle = R"css(
:root{--ink:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#f5f6fa;--card:#ffffff}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 "DejaVu Sans",system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#1d2330;color:#ffffff;padding:22px 32px}
header h1{margin:0 0 10px;font-size:26px;font-weight:600}
.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:4px 28px;margin:0}
.meta div{display:flex;gap:8px;min-width:0}
.meta dt{color:#aeb8cc;white-space:nowrap}
.meta dd{margin:0;overflow-wrap:anywhere}
main{max-width:1440px;margin:0 auto;padding:12px 32px 40px}
section{margin-top:26px}
h2{font-size:20px;margin:0 0 12px;padding-bottom:4px;border-bottom:2px solid var(--line)}
.changes li{margin:2px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}
.card h3{margin:0;font-size:16px;overflow-wrap:anywhere}
.sub{color:var(--muted);font-size:13px;margin:2px 0 8px}
svg.chart{display:block;width:100%;height:auto}
.next{margin:8px 0 0;font-size:14px}
.note{color:var(--muted);font-size:13px;margin:6px 0}
.num{font-variant-numeric:tabular-nums}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:var(--card);font-size:14px}
th,td{border:1px solid var(--line);padding:6px 10px;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
thead th{font-weight:600}
thead tr:first-child th[colspan]{text-align:center}
th.heuristic{background:#fff0d9}
th.statistical{background:#e0ecff}
th.lifecycle{background:#e6f4ea}
td.text{text-align:left}
tbody tr:nth-child(even){background:#fafbfd}
footer{color:var(--muted);font-size:12px;text-align:center;padding:16px}
@media (max-width:640px){header,main{padding-left:12px;padding-right:12px}.grid{grid-template-columns:1fr}}
)css";

// A rounded number for people with its exact value alongside.
std::string Num(double v, const std::string& field = "") {
  std::string out = "<span class=\"num\"";
  if (!field.empty()) out += " data-field=\"" + field + "\"";
  return out + " data-value=\"" + ExactNumber(v) + "\">" + ReadableNumber(v) + "</span>";
}

// A share (0.8125) shown as a percentage ("81.25%"), exact value alongside.
std::string Share(double v, const std::string& field) {
  std::string shown = std::isfinite(v) ? ReadableNumber(v * 100) + "%" : ReadableNumber(v);
  return "<span class=\"num\" data-field=\"" + field + "\" data-value=\"" + ExactNumber(v) + "\">" + shown + "</span>";
}

std::string Integer(int64_t v, const std::string& field) {
  const std::string text = std::to_string(v);
  return "<span class=\"num\" data-field=\"" + field + "\" data-value=\"" + text + "\">" + text + "</span>";
}

std::string MetaItem(const std::string& label, const std::string& value_html) {
  return "<div><dt>" + EscapeHtml(label) + "</dt><dd>" + value_html + "</dd></div>";
}

std::string TextOrDash(const std::string& text) { return text.empty() ? "\u2014" : EscapeHtml(text); }

std::string Header(const ReportData& d) {
  std::string out = "<header><h1>" + EscapeHtml(d.title) + "</h1><dl class=\"meta\">";
  out += MetaItem("Generated", TextOrDash(d.generated));
  out += MetaItem("Dataset", TextOrDash(d.dataset));
  out += MetaItem("Lake", TextOrDash(d.lake_url));
  out += MetaItem("Signals version", d.signals_version >= 0 ? Integer(d.signals_version, "signals_version") : "\u2014");
  out += MetaItem("Forecasts version",
                  d.forecasts_version >= 0 ? Integer(d.forecasts_version, "forecasts_version") : "\u2014");
  out += MetaItem("Simulation", TextOrDash(d.sim_id));
  out += MetaItem("Runs \u00d7 turns", d.sim_runs == 0
                                           ? std::string("\u2014")
                                           : Integer(static_cast<int64_t>(d.sim_runs), "sim_runs") + " \u00d7 " +
                                                 Integer(static_cast<int64_t>(d.sim_turns), "sim_turns"));
  return out + "</dl></header>";
}

std::string Changes(const ReportData& d) {
  std::string out = "<section id=\"changes\"><h2>What changed since the last run</h2>";
  if (d.changes.empty()) return out + "<p class=\"note\">No changes recorded since the last run.</p></section>";
  out += "<ul class=\"changes\">";
  for (const std::string& c : d.changes) out += "<li>" + EscapeHtml(c) + "</li>";
  return out + "</ul></section>";
}

// "mean X; 80% band [lo, hi]" for the first forecast step, when there is one.
std::string NextStep(const SeriesChart& s) {
  std::string out = "<p class=\"next\">";
  for (size_t i = std::min(s.history.size(), s.history_ts.size()); i-- > 0;) {
    if (!std::isfinite(s.history[i])) continue;
    out += "Last observed (" + EscapeHtml(markup::StepLabel(s.history_ts[i], s.frequency)) +
           "): " + Num(s.history[i], "last") + ". ";
    break;
  }
  if (s.mean.empty() || s.target_ts.empty()) return out + "No forecast.</p>";
  out += "Next step (" + EscapeHtml(markup::StepLabel(s.target_ts.front(), s.frequency)) + "): mean " +
         Num(s.mean.front(), "mean");
  for (const IntervalBand& b : s.bands) {
    if (std::fabs(b.level - 0.8) > 1e-9 || b.lower.empty() || b.upper.empty()) continue;
    out += "; 80% band " + Num(b.lower.front(), "lower80") + " to " + Num(b.upper.front(), "upper80");
    break;
  }
  return out + ".</p>";
}

std::string Forecasts(const ReportData& d) {
  std::string out = "<section id=\"forecasts\"><h2>Forecasts</h2>";
  if (d.series.empty()) return out + "<p class=\"note\">No forecasts in this run.</p></section>";
  out +=
      "<p class=\"note\">Black: history. Dark blue: forecast mean. Shaded: calibrated prediction intervals, "
      "the widest level lightest. The dashed rule marks the forecast origin.</p><div class=\"grid\">";
  for (const SeriesChart& s : d.series) {
    std::string sub;
    for (const std::string* part : {&s.kind, &s.frequency, &s.model}) {
      if (part->empty()) continue;
      if (!sub.empty()) sub += " \u00b7 ";
      sub += EscapeHtml(*part);
    }
    out += "<article class=\"card\" data-series=\"" + EscapeHtml(s.name) + "\"><h3>" + EscapeHtml(s.name) + "</h3>";
    out += "<p class=\"sub\">" + (sub.empty() ? std::string("\u00a0") : sub) + "</p>";
    out += FanChartSvg(s) + NextStep(s) + "</article>";
  }
  return out + "</div></section>";
}

std::string Simulation(const ReportData& d) {
  std::string out = "<section id=\"simulation\"><h2>Simulated world</h2>";
  if (d.simulation.empty()) return out + "<p class=\"note\">No simulation in this run.</p></section>";
  out += "<p class=\"note\">Monte Carlo simulation " + TextOrDash(d.sim_id) + ": " +
         Integer(static_cast<int64_t>(d.sim_runs), "sim_runs") + " runs of " +
         Integer(static_cast<int64_t>(d.sim_turns), "sim_turns") +
         " turns. Line: mean across runs; shaded: quantile bands across runs.</p><div class=\"grid\">";
  for (const SimulationChart& c : d.simulation) {
    out += "<article class=\"card\" data-variable=\"" + EscapeHtml(c.variable) + "\"><h3>" + EscapeHtml(c.variable) +
           "</h3>" + BandChartSvg(c);
    if (!c.mean.empty()) {
      out += "<p class=\"next\">Turn " + std::to_string(c.mean.size() - 1) + ": mean " + Num(c.mean.back(), "mean");
      const QuantileBand* outer = nullptr;
      for (const QuantileBand& b : c.bands) {
        if (b.lower.size() == c.mean.size() && b.upper.size() == c.mean.size() &&
            (outer == nullptr || b.high - b.low > outer->high - outer->low)) {
          outer = &b;
        }
      }
      if (outer != nullptr) {
        out += "; " + ReadableNumber(outer->low * 100) + "\u2013" + ReadableNumber(outer->high * 100) +
               "%: " + Num(outer->lower.back(), "lower") + " to " + Num(outer->upper.back(), "upper");
      }
      out += ".</p>";
    }
    out += "</article>";
  }
  return out + "</div></section>";
}

std::string Trust(const ReportData& d) {
  std::string out = "<section id=\"trust\"><h2>Trust</h2>";
  if (d.trust.empty()) return out + "<p class=\"note\">No trust scores in this run.</p></section>";
  out +=
      "<p class=\"note\">Two kinds of evidence, kept apart. <b>Heuristic</b> columns follow the original Pulse's "
      "formulas (its trust engine, fragility detector and licenser): rules of thumb, not probabilities. "
      "<b>Statistical</b> columns are measured on the forecast engine's calibrated backtests.</p>"
      "<div class=\"table-wrap\"><table><thead><tr><th rowspan=\"2\">Series</th>"
      "<th class=\"heuristic\" colspan=\"5\">Heuristic (original Pulse formulas)</th>"
      "<th class=\"statistical\" colspan=\"3\">Statistical (calibrated backtests)</th>"
      "<th class=\"statistical\">Track record</th><th class=\"lifecycle\" colspan=\"3\">Model lifecycle</th></tr><tr>"
      "<th class=\"heuristic\">Confidence (heuristic)</th><th class=\"heuristic\">Fragility (heuristic)</th>"
      "<th class=\"heuristic\">Risk (heuristic)</th><th class=\"heuristic\">Trust label (heuristic)</th>"
      "<th class=\"heuristic\">Licence (heuristic)</th>"
      "<th class=\"statistical\" title=\"Share of backtest outcomes inside the calibrated 80% band\">"
      "Coverage of 80% band (statistical)</th>"
      "<th class=\"statistical\" title=\"1 - MASE(model) / MASE(naive) on the backtests\">Skill vs naive "
      "(statistical)</th>"
      "<th class=\"statistical\" title=\"Width of the next step's 80% band relative to the level\">80% band width "
      "(statistical)</th>"
      "<th class=\"statistical\" title=\"The original Pulse's Bayesian tracker, Beta(1, 1), fed with whether each "
      "new observation fell inside the previous run's 80% band; 95% interval in brackets\">Band hits (Bayesian)"
      "</th><th class=\"lifecycle\" title=\"The registered version that made the forecast and days since it was "
      "trained\">Model version</th>"
      "<th class=\"lifecycle\" title=\"The newest drift check of the series, and the model health it leads to: "
      "drifted costs confidence 0.2, stale or under-covered 0.1 (the original Pulse's drift penalty)\">Drift "
      "status</th>"
      "<th class=\"lifecycle\" title=\"Share of the newest outcomes of earlier forecasts inside their 80% "
      "band\">Rolling coverage of 80% band</th></tr></thead><tbody>";
  for (const TrustRow& r : d.trust) {
    out += "<tr data-series=\"" + EscapeHtml(r.series) + "\"><td class=\"text\">" + EscapeHtml(r.series) + "</td>";
    out += "<td>" + Num(r.confidence, "confidence") + "</td><td>" + Num(r.fragility, "fragility") + "</td><td>" +
           Num(r.risk, "risk") + "</td>";
    out += "<td class=\"text\" data-field=\"trust_label\">" + TextOrDash(r.trust_label) +
           "</td><td class=\"text\" data-field=\"licence\">" + TextOrDash(r.licence) + "</td>";
    out += "<td>" + Share(r.coverage80, "coverage80") + "</td><td>" + Num(r.skill, "skill") + "</td><td>" +
           Share(r.band80_width, "band80_width") + "</td>";
    out += "<td>" + Share(r.track_record, "track_record") + " (" + std::to_string(r.track_hits) + " of " +
           std::to_string(r.track_checked) + "; " + Share(r.track_low, "track_low") + "\u2013" +
           Share(r.track_high, "track_high") + ")</td>";
    out += "<td class=\"text\">" +
           (r.model_version > 0 ? "v" + Integer(r.model_version, "model_version") + ", " +
                                      Num(r.days_since_training, "days_since_training") + " days"
                                : std::string("fitted at forecast time")) +
           "</td>";
    out += "<td class=\"text\" data-field=\"drift_status\">" + TextOrDash(r.drift_status) +
           (r.model_health.empty()
                ? ""
                : " \u00b7 <span data-field=\"model_health\">" + EscapeHtml(r.model_health) + "</span>") +
           "</td>";
    out += "<td>" +
           (r.rolling_outcomes > 0 ? Share(r.rolling_coverage80, "rolling_coverage80") + " of " +
                                         Integer(r.rolling_outcomes, "rolling_outcomes")
                                   : std::string("\u2014")) +
           "</td></tr>";
  }
  return out + "</tbody></table></div></section>";
}

}  // namespace

std::string RenderReportHtml(const ReportData& data) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
      EscapeHtml(data.title) + "</title><style>" + kStyle + "</style></head><body>";
  html += Header(data);
  html += "<main>" + Changes(data) + Forecasts(data) + Simulation(data) + Trust(data) +
          internal::ModelsSection(data.models) + "</main>";
  html += "<footer>Generated by Pulse. This file is self-contained: no scripts, no network resources.</footer>";
  return html + "</body></html>\n";
}

}  // namespace pulse::report
