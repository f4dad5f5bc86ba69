// The report's inline SVG charts (contracts in report.h) and the text helpers they share with the
// page (svg_chart.h). Geometry is written with 2 decimals in a 640x260 viewBox; non-finite values
// never reach a path: lines break at them and bands skip them.
#include "report/internal/svg_chart.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include "core/time.h"
#include "report/report.h"

namespace pulse::report {
namespace markup {
namespace {

std::string ToChars(double v, std::chars_format format, int precision) {
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, format, precision);
  if (ec != std::errc()) return "0";
  return std::string(buf.data(), end);
}

// "12.500" -> "12.5", "3.00" -> "3", "1.2500e+12" -> "1.25e+12"; text without a point is kept.
std::string TrimZeros(std::string s) {
  const size_t point = s.find('.');
  if (point == std::string::npos) return s;
  const size_t exp = s.find_first_of("eE", point);
  std::string tail = exp == std::string::npos ? "" : s.substr(exp);
  std::string head = s.substr(0, exp == std::string::npos ? s.size() : exp);
  while (!head.empty() && head.back() == '0') head.pop_back();
  if (!head.empty() && head.back() == '.') head.pop_back();
  if (head == "-0") head = "0";
  return head + tail;
}

bool IsQuarterly(std::string_view frequency) {
  std::string f(frequency);
  std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return f == "quarterly" || f == "q" || f == "qs" || f == "qe";
}

}  // namespace

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string ReadableNumber(double v) {
  if (!std::isfinite(v)) return "\u2014";
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e9) {
    const int magnitude = static_cast<int>(std::floor(std::log10(a)));
    return TrimZeros(ToChars(v, std::chars_format::fixed, std::max(0, 3 - magnitude)));
  }
  return TrimZeros(ToChars(v, std::chars_format::scientific, 3));
}

std::string Coord(double v) {
  std::string s = TrimZeros(ToChars(v, std::chars_format::fixed, 2));
  return s == "-0" ? "0" : s;
}

std::string StepLabel(int64_t micros, std::string_view frequency) {
  std::string date = time::FormatDate(micros);
  if (!IsQuarterly(frequency) || date.size() < 7) return date;
  const size_t dash = date.find('-', 1);  // skip a leading minus of years before 0
  if (dash == std::string::npos || dash + 2 >= date.size()) return date;
  const int month = (date[dash + 1] - '0') * 10 + (date[dash + 2] - '0');
  return date.substr(0, dash) + " Q" + std::to_string((month - 1) / 3 + 1);
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  const double range = hi - lo;
  if (!(std::isfinite(range) && range > 0) || target < 1) return {lo, hi};
  const double raw = range / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * power;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  }
  const double first = std::floor(lo / step) * step;
  const double last = std::ceil(hi / step) * step;
  const double count = std::round((last - first) / step);
  if (!(std::isfinite(count) && count >= 1 && count <= 11) || first + step == first) return {lo, hi};
  std::vector<double> ticks;
  for (int i = 0; i <= static_cast<int>(count); ++i) {
    double t = first + i * step;
    if (std::fabs(t) < step * 1e-9) t = 0;  // 0.30000000000000004 - 0.3 style residue at zero
    ticks.push_back(t);
  }
  return ticks;
}

std::string TickLabel(double v, double step) {
  if (std::fabs(v) < std::fabs(step) * 1e-9) return "0";
  const double a = std::max(std::fabs(v), std::fabs(step));
  if (a >= 1e7 || std::fabs(step) < 1e-4 || !(step > 0)) return ReadableNumber(v);
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return TrimZeros(ToChars(v, std::chars_format::fixed, decimals));
}

}  // namespace markup

namespace {

using markup::Coord;
using markup::EscapeHtml;

constexpr double kWidth = 640, kHeight = 260;
constexpr double kLeft = 62, kRight = 16, kTop = 26, kBottom = 36;
constexpr int64_t kDayMicros = 86'400'000'000;

// Band fills from the widest (underneath, lightest) to the narrowest.
constexpr std::array<const char*, 3> kFanFills = {"#9ecae1", "#6baed6", "#2f7fc1"};
constexpr std::array<const char*, 3> kSimFills = {"#fdd0a2", "#fd9f5a", "#e6550d"};
constexpr const char* kFanMean = "#0b3d91";
constexpr const char* kSimMean = "#7f2704";
constexpr const char* kHistory = "#333333";

// Maps data coordinates into the plot area. Fractions are computed on halves so that a range
// spanning most of the double range cannot overflow.
struct Frame {
  double x_lo, x_hi, y_lo, y_hi;
  double X(double x) const { return kLeft + (kWidth - kLeft - kRight) * Fraction(x, x_lo, x_hi); }
  double Y(double y) const { return kHeight - kBottom - (kHeight - kTop - kBottom) * Fraction(y, y_lo, y_hi); }
  static double Fraction(double v, double lo, double hi) {
    const double span = hi / 2 - lo / 2;
    return span > 0 ? (v / 2 - lo / 2) / span : 0.5;
  }
};

struct Extent {
  double lo = INFINITY, hi = -INFINITY;
  void Add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

// An "M x,y L x,y ..." path through the finite points; a non-finite y lifts the pen.
std::string LinePath(const std::vector<std::pair<double, double>>& points) {
  std::string d;
  bool pen_down = false;
  for (const auto& [x, y] : points) {
    if (!std::isfinite(x) || !std::isfinite(y)) {
      pen_down = false;
      continue;
    }
    d += pen_down ? 'L' : 'M';
    d += Coord(x) + ',' + Coord(y);
    pen_down = true;
  }
  return d;
}

std::string PolygonPoints(const std::vector<std::pair<double, double>>& upper,
                          const std::vector<std::pair<double, double>>& lower) {
  std::string points;
  auto add = [&](double x, double y) {
    if (!points.empty()) points += ' ';
    points += Coord(x) + ',' + Coord(y);
  };
  for (const auto& [x, y] : upper) add(x, y);
  for (auto it = lower.rbegin(); it != lower.rend(); ++it) add(it->first, it->second);
  return points;
}

std::string OpenSvg(const std::string& kind, const std::string& data_attr, const std::string& name) {
  const std::string escaped = EscapeHtml(name);
  return "<svg class=\"chart " + kind + "\" " + data_attr + "=\"" + escaped + "\" viewBox=\"0 0 " + Coord(kWidth) +
         ' ' + Coord(kHeight) + "\" width=\"100%\" role=\"img\" aria-label=\"" + escaped +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\"><title>" + escaped +
         "</title><rect class=\"frame\" x=\"0.5\" y=\"0.5\" width=\"" + Coord(kWidth - 1) + "\" height=\"" +
         Coord(kHeight - 1) + "\" fill=\"#ffffff\" stroke=\"#d9dee7\"/>";
}

std::string NoData(std::string svg) {
  svg += "<text class=\"no-data\" x=\"" + Coord(kWidth / 2) + "\" y=\"" + Coord(kHeight / 2) +
         "\" text-anchor=\"middle\" fill=\"#777777\" font-size=\"14\">no data</text></svg>";
  return svg;
}

// Widens a degenerate or empty-looking range so that a flat line sits mid-chart.
void Widen(double& lo, double& hi, double pad) {
  if (hi > lo) return;
  lo -= pad;
  hi += pad;
}

// Value axis: nice ticks, grid lines and labels; returns the frame's y range (the outer ticks).
std::string ValueAxis(const Extent& values, double& y_lo, double& y_hi) {
  y_lo = values.lo;
  y_hi = values.hi;
  Widen(y_lo, y_hi, std::max(1.0, std::fabs(y_lo) * 0.1));
  const std::vector<double> ticks = markup::NiceTicks(y_lo, y_hi, 4);
  y_lo = ticks.front();
  y_hi = ticks.back();
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : y_hi - y_lo;
  Frame frame{0, 1, y_lo, y_hi};
  std::string out = "<g class=\"y-axis\" fill=\"#555555\" text-anchor=\"end\">";
  for (double t : ticks) {
    const std::string y = Coord(frame.Y(t));
    out += "<line x1=\"" + Coord(kLeft) + "\" x2=\"" + Coord(kWidth - kRight) + "\" y1=\"" + y + "\" y2=\"" + y +
           "\" stroke=\"#eceff4\"/><text x=\"" + Coord(kLeft - 6) + "\" y=\"" + y + "\" dy=\"4\">" +
           EscapeHtml(markup::TickLabel(t, step)) + "</text>";
  }
  out += "</g>";
  return out;
}

std::string XTick(double x, const std::string& label, const char* anchor) {
  const std::string xs = Coord(x);
  const double base = kHeight - kBottom;
  return "<line x1=\"" + xs + "\" x2=\"" + xs + "\" y1=\"" + Coord(base) + "\" y2=\"" + Coord(base + 4) +
         "\" stroke=\"#888888\"/><text x=\"" + xs + "\" y=\"" + Coord(base + 17) + "\" text-anchor=\"" + anchor +
         "\">" + EscapeHtml(label) + "</text>";
}

std::string Axes() {
  const double base = kHeight - kBottom;
  return "<path class=\"axes\" d=\"M" + Coord(kLeft) + ',' + Coord(kTop) + 'L' + Coord(kLeft) + ',' + Coord(base) +
         'L' + Coord(kWidth - kRight) + ',' + Coord(base) + "\" fill=\"none\" stroke=\"#888888\"/>";
}

// A legend entry in the top margin; `x` advances past it.
std::string LegendSwatch(double& x, const std::string& label, const char* colour, bool line, const char* opacity) {
  const double y = 14;
  std::string out;
  if (line) {
    out = "<line x1=\"" + Coord(x) + "\" x2=\"" + Coord(x + 14) + "\" y1=\"" + Coord(y - 4) + "\" y2=\"" +
          Coord(y - 4) + "\" stroke=\"" + colour + "\" stroke-width=\"2\"/>";
  } else {
    out = "<rect x=\"" + Coord(x) + "\" y=\"" + Coord(y - 9) + "\" width=\"14\" height=\"10\" fill=\"" + colour +
          "\" fill-opacity=\"" + opacity + "\"/>";
  }
  out += "<text x=\"" + Coord(x + 18) + "\" y=\"" + Coord(y) + "\" fill=\"#444444\">" + EscapeHtml(label) + "</text>";
  x += 26 + 6.5 * static_cast<double>(label.size());
  return out;
}

const char* Fill(const std::array<const char*, 3>& fills, size_t rank, size_t count) {
  // The narrowest band always gets the darkest fill, the widest the lightest.
  if (count <= 1) return fills[1];
  const size_t from_narrowest = count - 1 - rank;
  return fills[from_narrowest == 0 ? 2 : (rank == 0 ? 0 : 1)];
}

std::string Percent(double level) { return markup::ReadableNumber(level * 100) + "%"; }

}  // namespace

std::string ExactNumber(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc() ? std::string(buf.data(), end) : std::string("nan");
}

namespace {

// A step's value, NaN past the end of a short vector.
double StepValue(const std::vector<double>& v, size_t i) { return i < v.size() ? v[i] : NAN; }

// What a fan chart draws: x and y extents, the timestamps of the drawn points (history and the
// steps that draw a mean or a band), and the index of the last finite history point (the
// forecast origin; n_hist when none).
struct FanExtent {
  Extent xs, ys;
  std::vector<int64_t> ticks_ts;
  size_t origin = 0;
};

FanExtent MeasureFan(const SeriesChart& chart, const std::vector<const IntervalBand*>& bands, size_t n_hist,
                     size_t n_steps) {
  FanExtent out;
  out.origin = n_hist;
  for (size_t i = 0; i < n_hist; ++i) {
    if (!std::isfinite(chart.history[i])) continue;
    out.ys.Add(chart.history[i]);
    out.xs.Add(static_cast<double>(chart.history_ts[i]));
    out.ticks_ts.push_back(chart.history_ts[i]);
    out.origin = i;
  }
  for (size_t i = 0; i < chart.target_ts.size(); ++i) {
    bool drawn = i < n_steps && std::isfinite(chart.mean[i]);
    out.ys.Add(StepValue(chart.mean, i));
    for (const IntervalBand* b : bands) {
      const double lo = StepValue(b->lower, i), hi = StepValue(b->upper, i);
      if (std::isfinite(lo) && std::isfinite(hi)) {
        out.ys.Add(lo);
        out.ys.Add(hi);
        drawn = true;
      }
    }
    if (drawn) {
      out.xs.Add(static_cast<double>(chart.target_ts[i]));
      out.ticks_ts.push_back(chart.target_ts[i]);
    }
  }
  return out;
}

// Date ticks at up to 5 evenly spaced drawn timestamps.
std::string DateAxis(std::vector<int64_t> ticks_ts, const Frame& f, const std::string& frequency) {
  std::sort(ticks_ts.begin(), ticks_ts.end());
  ticks_ts.erase(std::unique(ticks_ts.begin(), ticks_ts.end()), ticks_ts.end());
  std::string svg = "<g class=\"x-axis\" fill=\"#555555\">";
  const size_t n_ticks = std::min<size_t>(5, ticks_ts.size());
  for (size_t k = 0; k < n_ticks; ++k) {
    const size_t idx = n_ticks == 1 ? 0 : k * (ticks_ts.size() - 1) / (n_ticks - 1);
    const char* anchor = n_ticks == 1 ? "middle" : (k == 0 ? "start" : (k + 1 == n_ticks ? "end" : "middle"));
    svg += XTick(f.X(static_cast<double>(ticks_ts[idx])), markup::StepLabel(ticks_ts[idx], frequency), anchor);
  }
  return svg + "</g>";
}

// The interval bands, widest first (`bands` is in that order), each anchored at `origin` when
// given (the last observation).
std::string FanBands(const SeriesChart& chart, const std::vector<const IntervalBand*>& bands, const Frame& f,
                     const std::optional<std::pair<double, double>>& origin) {
  std::string svg;
  for (size_t r = 0; r < bands.size(); ++r) {
    const IntervalBand& b = *bands[r];
    std::vector<std::pair<double, double>> upper, lower;
    for (size_t i = 0; i < chart.target_ts.size(); ++i) {
      const double lo = StepValue(b.lower, i), hi = StepValue(b.upper, i);
      if (!std::isfinite(lo) || !std::isfinite(hi)) continue;
      const double x = f.X(static_cast<double>(chart.target_ts[i]));
      upper.emplace_back(x, f.Y(hi));
      lower.emplace_back(x, f.Y(lo));
    }
    if (upper.empty()) continue;
    if (origin) {
      upper.insert(upper.begin(), *origin);
      lower.insert(lower.begin(), *origin);
    }
    svg += "<polygon class=\"band\" data-level=\"" + ExactNumber(b.level) + "\" points=\"" +
           PolygonPoints(upper, lower) + "\" fill=\"" + Fill(kFanFills, r, bands.size()) +
           "\" fill-opacity=\"0.6\" stroke=\"none\"/>";
  }
  return svg;
}

// The forecast origin (a dashed line), the history and the mean (joined to the last observation).
std::string FanLines(const SeriesChart& chart, const Frame& f, size_t n_hist, size_t n_steps,
                     const std::optional<std::pair<double, double>>& origin) {
  std::string svg;
  if (origin) {
    const std::string x = Coord(origin->first);
    svg += "<line class=\"origin\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + Coord(kTop) + "\" y2=\"" +
           Coord(kHeight - kBottom) + "\" stroke=\"#999999\" stroke-dasharray=\"4 3\"/>";
  }
  std::vector<std::pair<double, double>> points;
  for (size_t i = 0; i < n_hist; ++i) {
    points.emplace_back(f.X(static_cast<double>(chart.history_ts[i])),
                        std::isfinite(chart.history[i]) ? f.Y(chart.history[i]) : NAN);
  }
  const std::string history_d = LinePath(points);
  if (!history_d.empty()) {
    svg += "<path class=\"history\" d=\"" + history_d + "\" fill=\"none\" stroke=\"" + kHistory +
           "\" stroke-width=\"1.5\" stroke-linejoin=\"round\"/>";
  }
  points.clear();
  if (origin) points.push_back(*origin);
  for (size_t i = 0; i < n_steps; ++i) {
    points.emplace_back(f.X(static_cast<double>(chart.target_ts[i])),
                        std::isfinite(chart.mean[i]) ? f.Y(chart.mean[i]) : NAN);
  }
  const bool any_mean = std::any_of(chart.mean.begin(), chart.mean.begin() + static_cast<long>(n_steps),
                                    [](double v) { return std::isfinite(v); });
  if (any_mean) {
    svg += "<path class=\"mean\" d=\"" + LinePath(points) + "\" fill=\"none\" stroke=\"" + kFanMean +
           "\" stroke-width=\"2\" stroke-linejoin=\"round\"/>";
  }
  return svg;
}

}  // namespace

std::string FanChartSvg(const SeriesChart& chart) {
  const size_t n_hist = std::min(chart.history_ts.size(), chart.history.size());
  const size_t n_steps = std::min(chart.target_ts.size(), chart.mean.size());
  std::vector<const IntervalBand*> bands;
  for (const IntervalBand& b : chart.bands) bands.push_back(&b);
  std::stable_sort(bands.begin(), bands.end(),
                   [](const IntervalBand* a, const IntervalBand* b) { return a->level > b->level; });

  const FanExtent extent = MeasureFan(chart, bands, n_hist, n_steps);
  std::string svg = OpenSvg("fan", "data-series", chart.name);
  if (extent.ys.empty() || extent.xs.empty()) return NoData(std::move(svg));

  Frame f{extent.xs.lo, extent.xs.hi, 0, 1};
  Widen(f.x_lo, f.x_hi, static_cast<double>(kDayMicros));
  svg += ValueAxis(extent.ys, f.y_lo, f.y_hi);
  svg += DateAxis(extent.ticks_ts, f, chart.frequency);

  std::optional<std::pair<double, double>> origin;  // the last observation, where the bands start
  if (extent.origin < n_hist) {
    origin = std::pair{f.X(static_cast<double>(chart.history_ts[extent.origin])), f.Y(chart.history[extent.origin])};
  }
  svg += FanBands(chart, bands, f, origin);
  svg += FanLines(chart, f, n_hist, n_steps, origin);

  double lx = kLeft;
  svg += "<g class=\"legend\">";  // one swatch per statement: each advances lx
  svg += LegendSwatch(lx, "history", kHistory, true, "1");
  svg += LegendSwatch(lx, "mean", kFanMean, true, "1");
  for (size_t r = 0; r < bands.size(); ++r) {
    svg += LegendSwatch(lx, Percent(bands[r]->level), Fill(kFanFills, r, bands.size()), false, "0.6");
  }
  svg += "</g>" + Axes() + "</svg>";
  return svg;
}

std::string BandChartSvg(const SimulationChart& chart) {
  std::vector<const QuantileBand*> bands;
  for (const QuantileBand& b : chart.bands) bands.push_back(&b);
  std::stable_sort(bands.begin(), bands.end(),
                   [](const QuantileBand* a, const QuantileBand* b) { return a->high - a->low > b->high - b->low; });
  size_t turns = chart.mean.size();
  for (const QuantileBand* b : bands) turns = std::max(turns, std::min(b->lower.size(), b->upper.size()));

  Extent ys;
  for (double v : chart.mean) ys.Add(v);
  for (const QuantileBand* b : bands) {
    for (size_t t = 0; t < std::min(b->lower.size(), b->upper.size()); ++t) {
      if (!std::isfinite(b->lower[t]) || !std::isfinite(b->upper[t])) continue;
      ys.Add(b->lower[t]);
      ys.Add(b->upper[t]);
    }
  }
  std::string svg = OpenSvg("band", "data-variable", chart.variable);
  if (ys.empty()) return NoData(std::move(svg));

  Frame f{0, std::max(1.0, static_cast<double>(turns) - 1), 0, 1};
  svg += ValueAxis(ys, f.y_lo, f.y_hi);
  std::vector<double> ticks = markup::NiceTicks(f.x_lo, f.x_hi, 5);
  if (ticks.size() > 1 && ticks[1] - ticks[0] < 1) ticks = {f.x_lo, f.x_hi};
  svg += "<g class=\"x-axis\" fill=\"#555555\">";
  for (double t : ticks) {
    if (t < f.x_lo || t > f.x_hi) continue;
    svg += XTick(f.X(t), markup::TickLabel(t, 1), "middle");
  }
  svg +=
      "<text x=\"" + Coord(kWidth - kRight) + "\" y=\"" + Coord(kHeight - 4) + "\" text-anchor=\"end\">turn</text></g>";

  for (size_t r = 0; r < bands.size(); ++r) {
    const QuantileBand& b = *bands[r];
    std::vector<std::pair<double, double>> upper, lower;
    for (size_t t = 0; t < std::min(b.lower.size(), b.upper.size()); ++t) {
      if (!std::isfinite(b.lower[t]) || !std::isfinite(b.upper[t])) continue;
      upper.emplace_back(f.X(static_cast<double>(t)), f.Y(b.upper[t]));
      lower.emplace_back(f.X(static_cast<double>(t)), f.Y(b.lower[t]));
    }
    if (upper.empty()) continue;
    svg += "<polygon class=\"band\" data-low=\"" + ExactNumber(b.low) + "\" data-high=\"" + ExactNumber(b.high) +
           "\" points=\"" + PolygonPoints(upper, lower) + "\" fill=\"" + Fill(kSimFills, r, bands.size()) +
           "\" fill-opacity=\"0.6\" stroke=\"none\"/>";
  }
  std::vector<std::pair<double, double>> points;
  for (size_t t = 0; t < chart.mean.size(); ++t) {
    points.emplace_back(f.X(static_cast<double>(t)), std::isfinite(chart.mean[t]) ? f.Y(chart.mean[t]) : NAN);
  }
  const std::string mean_d = LinePath(points);
  if (!mean_d.empty()) {
    svg += "<path class=\"mean\" d=\"" + mean_d + "\" fill=\"none\" stroke=\"" + kSimMean +
           "\" stroke-width=\"2\" stroke-linejoin=\"round\"/>";
  }

  double lx = kLeft;
  svg += "<g class=\"legend\">";
  svg += LegendSwatch(lx, "mean", kSimMean, true, "1");
  for (size_t r = 0; r < bands.size(); ++r) {
    svg += LegendSwatch(lx, Percent(bands[r]->low) + "\u2013" + Percent(bands[r]->high),
                        Fill(kSimFills, r, bands.size()), false, "0.6");
  }
  svg += "</g>" + Axes() + "</svg>";
  return svg;
}

}  // namespace pulse::report
