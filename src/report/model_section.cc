// The "Models and drift" section of the report (contract in report.h): one card per series with a
// model lifecycle - the version in production, when it was trained, its promotion history and the
// drift checks, with a small SVG timeline (DriftTimelineSvg). Pure formatting, like report.cc.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/time.h"
#include "report/internal/model_section.h"
#include "report/internal/svg_chart.h"
#include "report/report.h"

namespace pulse::report {
namespace {

using markup::Coord;
using markup::EscapeHtml;
using markup::ReadableNumber;

constexpr double kWidth = 560, kHeight = 96, kLeft = 84, kRight = 16;  // lane labels in the left gutter
constexpr double kEventLane = 30, kCheckLane = 62, kAxis = 84;

std::string Date(int64_t micros) { return micros > 0 ? time::FormatDate(micros) : "\u2014"; }

std::string Exact(double v, const char* field) {
  return "<span class=\"num\" data-field=\"" + std::string(field) + "\" data-value=\"" + ExactNumber(v) + "\">" +
         ReadableNumber(v) + "</span>";
}

std::string History(const ModelCard& card) {
  if (card.events.empty()) return "<p class=\"note\">No promotion or refusal recorded.</p>";
  std::string out =
      "<div class=\"table-wrap\"><table class=\"events\"><thead><tr><th>When</th><th>Version</th><th>Decision</th>"
      "<th>Challenger MASE</th><th>Champion MASE</th><th>Trigger</th><th>Reason</th></tr></thead><tbody>";
  for (const ModelEvent& e : card.events) {
    out += "<tr data-version=\"" + std::to_string(e.version) + "\" data-event=\"" + EscapeHtml(e.event) +
           "\"><td class=\"text\">" + EscapeHtml(Date(e.time)) + "</td><td>v" + std::to_string(e.version) +
           "</td><td class=\"text\">" + EscapeHtml(e.event) +
           (e.champion_version > 0 ? " (champion was v" + std::to_string(e.champion_version) + ")" : "") + "</td><td>" +
           Exact(e.challenger_mase, "challenger_mase") + "</td><td>" + Exact(e.champion_mase, "champion_mase") +
           "</td><td class=\"text\">" + EscapeHtml(e.trigger) + "</td><td class=\"text\">" + EscapeHtml(e.reason) +
           "</td></tr>";
  }
  return out + "</tbody></table></div>";
}

}  // namespace

std::string DriftTimelineSvg(const ModelCard& card) {
  const std::string name = EscapeHtml(card.series);
  std::string svg = "<svg class=\"chart timeline\" data-series=\"" + name + "\" viewBox=\"0 0 " + Coord(kWidth) + " " +
                    Coord(kHeight) + "\" width=\"100%\" role=\"img\" aria-label=\"drift timeline of " + name +
                    "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\"><title>drift "
                    "timeline of " +
                    name + "</title><rect class=\"frame\" x=\"0.5\" y=\"0.5\" width=\"" + Coord(kWidth - 1) +
                    "\" height=\"" + Coord(kHeight - 1) + "\" fill=\"#ffffff\" stroke=\"#d9dee7\"/>";
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& e : card.events) lo = std::min(lo, e.time), hi = std::max(hi, e.time);
  for (const auto& c : card.checks) lo = std::min(lo, c.time), hi = std::max(hi, c.time);
  if (lo > hi) {
    return svg + "<text x=\"" + Coord(kWidth / 2) + "\" y=\"" + Coord(kHeight / 2) +
           "\" text-anchor=\"middle\" fill=\"#5b6475\">no events</text></svg>";
  }
  const double span = hi > lo ? static_cast<double>(hi - lo) : 1.0;
  auto x = [&](int64_t t) {
    return hi > lo ? kLeft + (kWidth - kLeft - kRight) * (static_cast<double>(t - lo) / span)
                   : (kLeft + kWidth - kRight) / 2;
  };
  svg += "<line class=\"axis\" x1=\"" + Coord(kLeft) + "\" y1=\"" + Coord(kAxis) + "\" x2=\"" + Coord(kWidth - kRight) +
         "\" y2=\"" + Coord(kAxis) + "\" stroke=\"#5b6475\"/>";
  svg += "<text x=\"" + Coord(kLeft) + "\" y=\"" + Coord(kHeight - 1) + "\" fill=\"#5b6475\" font-size=\"10\">" +
         EscapeHtml(Date(lo)) + "</text>";
  if (hi > lo) {
    svg += "<text x=\"" + Coord(kWidth - kRight) + "\" y=\"" + Coord(kHeight - 1) +
           "\" text-anchor=\"end\" fill=\"#5b6475\" font-size=\"10\">" + EscapeHtml(Date(hi)) + "</text>";
  }
  svg += "<text x=\"6\" y=\"" + Coord(kEventLane + 4) + "\" fill=\"#5b6475\" font-size=\"10\">models</text>";
  svg += "<text x=\"6\" y=\"" + Coord(kCheckLane + 4) + "\" fill=\"#5b6475\" font-size=\"10\">drift checks</text>";
  for (const DriftCheck& c : card.checks) {
    const std::string tip = "signals v" + std::to_string(c.signals_version) + ": " +
                            (c.drift ? "drift (" + c.detectors + ")" : std::string("no drift"));
    svg += "<circle class=\"check " + std::string(c.drift ? "drift" : "ok") + "\" data-time=\"" +
           std::to_string(c.time) + "\" data-version=\"" + std::to_string(c.signals_version) + "\" cx=\"" +
           Coord(x(c.time)) + "\" cy=\"" + Coord(kCheckLane) + "\" r=\"" + (c.drift ? "5" : "3.5") + "\" fill=\"" +
           (c.drift ? "#c62828" : "#2e7d32") + "\"><title>" + EscapeHtml(tip) + "</title></circle>";
  }
  for (const ModelEvent& e : card.events) {
    const bool promoted = e.event == "promoted";
    const double cx = x(e.time);
    svg += "<g class=\"event " + EscapeHtml(e.event) + "\" data-time=\"" + std::to_string(e.time) +
           "\" data-version=\"" + std::to_string(e.version) + "\"><title>" +
           EscapeHtml("v" + std::to_string(e.version) + " " + e.event + ": " + e.reason) + "</title>";
    svg += "<path d=\"M" + Coord(cx) + " " + Coord(kEventLane - 6) + "L" + Coord(cx + 6) + " " + Coord(kEventLane) +
           "L" + Coord(cx) + " " + Coord(kEventLane + 6) + "L" + Coord(cx - 6) + " " + Coord(kEventLane) +
           "Z\" fill=\"" + (promoted ? "#1f4e9c" : "#ffffff") + "\" stroke=\"" + (promoted ? "#1f4e9c" : "#8a93a6") +
           "\" stroke-width=\"1.5\"/>";
    svg += "<text x=\"" + Coord(cx) + "\" y=\"" + Coord(kEventLane - 10) + "\" text-anchor=\"middle\" fill=\"" +
           (promoted ? "#1f4e9c" : "#8a93a6") + "\" font-size=\"10\">v" + std::to_string(e.version) + "</text></g>";
  }
  return svg + "</svg>";
}

namespace internal {

std::string ModelsSection(const std::vector<ModelCard>& models) {
  std::string out = "<section id=\"models\"><h2>Models and drift</h2>";
  if (models.empty()) {
    return out +
           "<p class=\"note\">No registered models or drift checks in this lake (pulse train, pulse "
           "drift).</p></section>";
  }
  out +=
      "<p class=\"note\">Per series: the registered model version in production (the <code>champion</code> alias), "
      "when it was trained, every promotion and refusal with its backtest numbers, and the drift checks. "
      "Timeline: filled diamonds are promotions, hollow ones refusals; red dots are checks that said drift, "
      "green ones checks that did not.</p><div class=\"grid\">";
  for (const ModelCard& m : models) {
    out += "<article class=\"card model\" data-series=\"" + EscapeHtml(m.series) + "\"><h3>" + EscapeHtml(m.series) +
           "</h3><p class=\"sub\">" + EscapeHtml(m.kind) +
           (m.model_name.empty() ? "" : " \u00b7 " + EscapeHtml(m.model_name)) + "</p>";
    out += "<p class=\"next\">In production: ";
    if (m.champion_version > 0) {
      out += "<b data-field=\"champion_version\" data-value=\"" + std::to_string(m.champion_version) + "\">v" +
             std::to_string(m.champion_version) + "</b>, trained <span data-field=\"trained\">" +
             EscapeHtml(Date(m.trained)) + "</span>";
    } else {
      out += "no registered champion (fitted at forecast time)";
    }
    const auto drifts = std::count_if(m.checks.begin(), m.checks.end(), [](const DriftCheck& c) { return c.drift; });
    out += ". Drift checks: " + std::to_string(m.checks.size()) + ", " + std::to_string(drifts) + " said drift";
    if (!m.checks.empty()) out += " (latest: " + std::string(m.checks.back().drift ? "drift" : "no drift") + ")";
    out += ".</p>" + DriftTimelineSvg(m) + History(m) + "</article>";
  }
  return out + "</div></section>";
}

}  // namespace internal
}  // namespace pulse::report
