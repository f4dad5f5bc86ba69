// The HTML report: fan and band charts draw what they are given (history, mean, one polygon per
// band, widest first) inside their viewBox, skip non-finite values, say "no data" when there is
// nothing to draw; the page escapes text, carries every trust number exactly in data-value, has
// one chart per series and per simulated variable, and needs no script and no network.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "core/time.h"
#include "report/internal/svg_chart.h"
#include "report/report.h"

namespace pulse::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t Quarter(int year, int q) { return time::QuarterStart(year, q).value(); }

// 40 quarters of a rising series from 2000 Q1 and 8 forecast steps, bands given out of order.
SeriesChart Gdp(std::string name = "gdp") {
  SeriesChart c;
  c.name = std::move(name);
  c.kind = "macro";
  c.frequency = "quarterly";
  c.model = "ensemble";
  for (int i = 0; i < 40; ++i) {
    c.history_ts.push_back(Quarter(2000 + i / 4, i % 4 + 1));
    c.history.push_back(100 + 2.0 * i + std::sin(i));
  }
  for (int h = 1; h <= 8; ++h) {
    const int i = 39 + h;
    c.target_ts.push_back(Quarter(2000 + i / 4, i % 4 + 1));
    c.mean.push_back(178 + 2.0 * h);
  }
  for (double level : {0.8, 0.5, 0.95}) {
    IntervalBand b;
    b.level = level;
    for (int h = 1; h <= 8; ++h) {
      const double half = (level == 0.5 ? 1.0 : level == 0.8 ? 2.5 : 4.0) * std::sqrt(h);
      b.lower.push_back(c.mean[static_cast<size_t>(h - 1)] - half);
      b.upper.push_back(c.mean[static_cast<size_t>(h - 1)] + half);
    }
    c.bands.push_back(std::move(b));
  }
  return c;
}

SimulationChart Hope(std::string variable = "hope") {
  SimulationChart c;
  c.variable = std::move(variable);
  QuantileBand inner{0.25, 0.75, {}, {}}, outer{0.05, 0.95, {}, {}};
  for (int t = 0; t <= 52; ++t) {
    const double m = 0.5 + 0.004 * t, s = 0.01 * std::sqrt(t);
    c.mean.push_back(m);
    inner.lower.push_back(m - 0.67 * s);
    inner.upper.push_back(m + 0.67 * s);
    outer.lower.push_back(m - 1.64 * s);
    outer.upper.push_back(m + 1.64 * s);
  }
  c.bands = {inner, outer};  // narrow first: the chart must reorder
  return c;
}

// Every value of `attr="..."` in the text.
std::vector<std::string> Attributes(const std::string& text, const std::string& attr) {
  std::vector<std::string> out;
  const std::string key = " " + attr + "=\"";
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    const size_t begin = at + key.size();
    out.push_back(text.substr(begin, text.find('"', begin) - begin));
  }
  return out;
}

// The d / points attribute of the first element that starts with `open` (e.g. `<path class="mean"`).
std::string Geometry(const std::string& svg, const std::string& open) {
  const size_t at = svg.find(open);
  if (at == std::string::npos) return "";
  const std::string element = svg.substr(at, svg.find('>', at) - at);
  for (const char* attr : {" d=\"", " points=\""}) {
    const size_t a = element.find(attr);
    if (a == std::string::npos) continue;
    const size_t begin = a + std::strlen(attr);
    return element.substr(begin, element.find('"', begin) - begin);
  }
  return "";
}

std::vector<double> Numbers(const std::string& geometry) {
  static const std::regex kNumber(R"(-?[0-9]+(\.[0-9]+)?)");
  std::vector<double> out;
  for (auto it = std::sregex_iterator(geometry.begin(), geometry.end(), kNumber); it != std::sregex_iterator(); ++it) {
    out.push_back(std::strtod(it->str().c_str(), nullptr));
  }
  return out;
}

// All path and polygon geometry is made of finite numbers inside the 640x260 viewBox.
void ExpectGeometryInsideViewBox(const std::string& svg) {
  ASSERT_NE(svg.find("viewBox=\"0 0 640 260\""), std::string::npos) << svg.substr(0, 200);
  std::vector<std::string> geometries = Attributes(svg, "d");
  for (const std::string& p : Attributes(svg, "points")) geometries.push_back(p);
  ASSERT_FALSE(geometries.empty());
  for (const std::string& g : geometries) {
    EXPECT_EQ(g.find("nan"), std::string::npos) << g;
    EXPECT_EQ(g.find("inf"), std::string::npos) << g;
    EXPECT_TRUE(std::regex_match(g, std::regex(R"([MLZ0-9.,\- ]*)"))) << g;
    const std::vector<double> v = Numbers(g);
    ASSERT_EQ(v.size() % 2, 0u) << g;
    for (size_t i = 0; i < v.size(); i += 2) {
      EXPECT_TRUE(std::isfinite(v[i]) && v[i] >= 0 && v[i] <= 640) << "x " << v[i] << " in " << g;
      EXPECT_TRUE(std::isfinite(v[i + 1]) && v[i + 1] >= 0 && v[i + 1] <= 260) << "y " << v[i + 1] << " in " << g;
    }
  }
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ReportFanChart, DrawsHistoryMeanAndOnePolygonPerBandWidestFirst) {
  const std::string svg = FanChartSvg(Gdp());
  EXPECT_EQ(svg.rfind("<svg class=\"chart fan\" data-series=\"gdp\"", 0), 0u) << svg.substr(0, 120);
  EXPECT_NE(svg.find("width=\"100%\""), std::string::npos);
  ExpectGeometryInsideViewBox(svg);

  const std::string history = Geometry(svg, "<path class=\"history\"");
  const std::string mean = Geometry(svg, "<path class=\"mean\"");
  ASSERT_FALSE(history.empty());
  ASSERT_FALSE(mean.empty());
  EXPECT_EQ(Numbers(history).size(), 2u * 40);  // one point per observation, one segment
  EXPECT_EQ(Count(history, "M"), 1u);
  EXPECT_EQ(Numbers(mean).size(), 2u * 9);  // joined to the last observation, then 8 steps

  EXPECT_EQ(Count(svg, "<polygon class=\"band\""), 3u);
  EXPECT_EQ(Attributes(svg, "data-level"), (std::vector<std::string>{"0.95", "0.8", "0.5"}));
  for (const char* level : {"0.95", "0.8", "0.5"}) {
    const std::string points = Geometry(svg, "<polygon class=\"band\" data-level=\"" + std::string(level) + "\"");
    EXPECT_EQ(Numbers(points).size(), 2u * 2 * 9) << level;  // origin + 8 steps, up and back
  }

  // Time runs left to right; a rising series rises (smaller y) on the page.
  const std::vector<double> h = Numbers(history), m = Numbers(mean);
  for (size_t i = 2; i < h.size(); i += 2) EXPECT_GT(h[i], h[i - 2]);
  EXPECT_LT(h.back(), h[1]);
  EXPECT_LT(m.back(), m[1]);
  EXPECT_DOUBLE_EQ(m[0], h[h.size() - 2]);  // the mean starts at the last observation
  EXPECT_DOUBLE_EQ(m[1], h[h.size() - 1]);
  EXPECT_GT(m[2], m[0]);

  // Axes: quarterly date labels, value ticks, the forecast origin rule, a legend.
  EXPECT_NE(svg.find(">2000 Q1<"), std::string::npos);
  EXPECT_NE(svg.find(">2011 Q4<"), std::string::npos);  // the last forecast step
  EXPECT_NE(svg.find("class=\"y-axis\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"origin\""), std::string::npos);
  EXPECT_NE(svg.find("fill-opacity="), std::string::npos);
  // The legend reads left to right: history, mean, then the bands widest first, none overlapping.
  const size_t legend = svg.find("<g class=\"legend\">");
  ASSERT_NE(legend, std::string::npos);
  const std::string entries = svg.substr(legend, svg.find("</g>", legend) - legend);
  std::vector<double> text_x;
  std::vector<std::string> labels;
  static const std::regex kText(R"re(<text x="([0-9.]+)"[^>]*>([^<]*)</text>)re");
  for (auto it = std::sregex_iterator(entries.begin(), entries.end(), kText); it != std::sregex_iterator(); ++it) {
    text_x.push_back(std::strtod((*it)[1].str().c_str(), nullptr));
    labels.push_back((*it)[2].str());
  }
  EXPECT_EQ(labels, (std::vector<std::string>{"history", "mean", "95%", "80%", "50%"}));
  for (size_t i = 1; i < text_x.size(); ++i) EXPECT_GT(text_x[i], text_x[i - 1] + 20) << labels[i];
}

TEST(ReportFanChart, DailyDatesAndSingleBand) {
  SeriesChart c;
  c.name = "price";
  c.frequency = "daily";
  const int64_t day = 86'400'000'000;
  const int64_t start = time::FromCivil(2024, 2, 27).value();
  for (int i = 0; i < 5; ++i) {
    c.history_ts.push_back(start + i * day);
    c.history.push_back(10 + i);
  }
  c.target_ts = {start + 5 * day};
  c.mean = {15};
  c.bands = {IntervalBand{0.8, {14}, {16}}};
  const std::string svg = FanChartSvg(c);
  ExpectGeometryInsideViewBox(svg);
  EXPECT_NE(svg.find(">2024-02-27<"), std::string::npos);
  EXPECT_NE(svg.find(">2024-03-03<"), std::string::npos);  // 2024 is a leap year
  EXPECT_EQ(Count(svg, "<polygon class=\"band\""), 1u);
}

TEST(ReportFanChart, SkipsNonFiniteValues) {
  SeriesChart c = Gdp();
  c.history[10] = kNaN;
  c.history[11] = std::numeric_limits<double>::infinity();
  c.mean[3] = kNaN;
  c.bands[0].lower[5] = kNaN;
  c.bands[1].upper[0] = -std::numeric_limits<double>::infinity();
  const std::string svg = FanChartSvg(c);
  ExpectGeometryInsideViewBox(svg);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  const std::string history = Geometry(svg, "<path class=\"history\"");
  EXPECT_EQ(Count(history, "M"), 2u);  // the line breaks at the gap
  EXPECT_EQ(Numbers(history).size(), 2u * 38);
  EXPECT_EQ(Count(Geometry(svg, "<path class=\"mean\""), "M"), 2u);
  EXPECT_EQ(Count(svg, "<polygon class=\"band\""), 3u);
}

TEST(ReportFanChart, NoFiniteValueRendersNoData) {
  SeriesChart c;
  c.name = "empty";
  EXPECT_NE(FanChartSvg(c).find(">no data<"), std::string::npos);

  c.history_ts = {0, 1};
  c.history = {kNaN, kNaN};
  c.target_ts = {2};
  c.mean = {kNaN};
  c.bands = {IntervalBand{0.8, {kNaN}, {kNaN}}};
  const std::string svg = FanChartSvg(c);
  EXPECT_NE(svg.find(">no data<"), std::string::npos);
  EXPECT_EQ(svg.find("<path"), std::string::npos);
  EXPECT_EQ(svg.find("<polygon"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.rfind("<svg class=\"chart fan\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");

  EXPECT_EQ(FanChartSvg(Gdp()).find("no data"), std::string::npos);
}

TEST(ReportFanChart, FlatSeriesAndHugeValuesStayInside) {
  SeriesChart flat = Gdp();
  for (double& v : flat.history) v = 5;
  for (double& v : flat.mean) v = 5;
  flat.bands.clear();
  ExpectGeometryInsideViewBox(FanChartSvg(flat));

  SeriesChart huge = Gdp();
  huge.history.front() = -1e308;
  huge.history.back() = 1e308;
  ExpectGeometryInsideViewBox(FanChartSvg(huge));
}

TEST(ReportBandChart, DrawsBandsWidestFirstAndMean) {
  const std::string svg = BandChartSvg(Hope());
  EXPECT_EQ(svg.rfind("<svg class=\"chart band\" data-variable=\"hope\"", 0), 0u);
  ExpectGeometryInsideViewBox(svg);
  EXPECT_EQ(Count(svg, "<polygon class=\"band\""), 2u);
  EXPECT_EQ(Attributes(svg, "data-low"), (std::vector<std::string>{"0.05", "0.25"}));
  EXPECT_EQ(Attributes(svg, "data-high"), (std::vector<std::string>{"0.95", "0.75"}));
  const std::vector<double> mean = Numbers(Geometry(svg, "<path class=\"mean\""));
  ASSERT_EQ(mean.size(), 2u * 53);
  EXPECT_DOUBLE_EQ(mean.front(), 62);  // turn 0 at the left edge of the plot
  EXPECT_DOUBLE_EQ(mean[104], 624);    // turn 52 at the right edge
  EXPECT_LT(mean.back(), mean[1]);     // a rising mean rises
  EXPECT_NE(svg.find(">turn<"), std::string::npos);
  EXPECT_NE(svg.find(">5%\u201395%<"), std::string::npos);
}

TEST(ReportBandChart, SkipsNonFiniteAndSaysNoData) {
  SimulationChart c = Hope();
  c.mean[7] = kNaN;
  c.bands[1].upper[3] = std::numeric_limits<double>::infinity();
  const std::string svg = BandChartSvg(c);
  ExpectGeometryInsideViewBox(svg);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(Count(Geometry(svg, "<path class=\"mean\""), "M"), 2u);

  SimulationChart empty;
  empty.variable = "void";
  empty.mean = {kNaN, kNaN};
  const std::string none = BandChartSvg(empty);
  EXPECT_NE(none.find(">no data<"), std::string::npos);
  EXPECT_EQ(none.find("<path"), std::string::npos);
  EXPECT_NE(BandChartSvg(SimulationChart{}).find(">no data<"), std::string::npos);
}

TEST(ReportCharts, EscapeNames) {
  const std::string evil = "<script>alert(\"x\")</script>&'";
  const std::string fan = FanChartSvg(Gdp(evil));
  const std::string band = BandChartSvg(Hope(evil));
  for (const std::string& svg : {fan, band}) {
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_NE(svg.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"), std::string::npos);
  }
}

TEST(ReportExactNumber, ShortestRoundTrip) {
  EXPECT_EQ(ExactNumber(0.1), "0.1");
  EXPECT_EQ(ExactNumber(1e-300), "1e-300");
  EXPECT_EQ(ExactNumber(-2.5), "-2.5");
  EXPECT_EQ(ExactNumber(123456789.123), "123456789.123");
  EXPECT_EQ(ExactNumber(-3), "-3");
  EXPECT_EQ(ExactNumber(1e20), "1e+20");
  EXPECT_EQ(ExactNumber(kNaN), "nan");
  EXPECT_EQ(ExactNumber(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(ExactNumber(-std::numeric_limits<double>::infinity()), "-inf");
  for (double v : {0.1, 1e-300, -2.5, 123456789.123, 0.1 + 0.2, 1.0 / 3, 5e-324, 1.7976931348623157e308, -0.0,
                   2.0 / 3 * 1e-7, 4.35}) {
    const std::string s = ExactNumber(v);
    const double back = std::strtod(s.c_str(), nullptr);
    EXPECT_EQ(std::memcmp(&back, &v, sizeof v), 0) << s;
  }
}

TEST(ReportText, Helpers) {
  using namespace markup;
  EXPECT_EQ(EscapeHtml("a<b>&\"c\"'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;");
  EXPECT_EQ(ReadableNumber(1234.5678), "1235");
  EXPECT_EQ(ReadableNumber(0.123456), "0.1235");
  EXPECT_EQ(ReadableNumber(-2.5), "-2.5");
  EXPECT_EQ(ReadableNumber(1.5e12), "1.5e+12");
  EXPECT_EQ(ReadableNumber(0), "0");
  EXPECT_EQ(ReadableNumber(kNaN), "\u2014");
  EXPECT_EQ(Coord(12.345), "12.35");
  EXPECT_EQ(Coord(3.0), "3");
  EXPECT_EQ(Coord(-0.001), "0");
  EXPECT_EQ(StepLabel(Quarter(1959, 2), "quarterly"), "1959 Q2");
  EXPECT_EQ(StepLabel(time::FromCivil(1959, 12, 1).value(), "Q"), "1959 Q4");
  EXPECT_EQ(StepLabel(Quarter(1959, 2), "monthly"), "1959-04-01");

  for (auto [lo, hi] : {std::pair{0.0, 1.0}, {-3.7, 12.2}, {1e9, 1.0000001e9}, {0.0012, 0.0019}, {-5.0, -4.0}}) {
    const std::vector<double> t = NiceTicks(lo, hi, 4);
    ASSERT_GE(t.size(), 2u);
    EXPECT_LE(t.size(), 12u);
    EXPECT_LE(t.front(), lo);
    EXPECT_GE(t.back(), hi);
  }
  EXPECT_EQ(NiceTicks(0, 1, 4), (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(NiceTicks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(TickLabel(0.6000000000000001, 0.2), "0.6");
  EXPECT_EQ(TickLabel(1500, 500), "1500");
  EXPECT_EQ(NiceTicks(-1e308, 1e308, 4), (std::vector<double>{-1e308, 1e308}));
}

ReportData SampleReport() {
  ReportData d;
  d.title = "Pulse report";
  d.generated = "2024-03-01T12:00:00Z";
  d.dataset = "US macro 1959-2009";
  d.lake_url = "file:///tmp/pulse-lake";
  d.signals_version = 3;
  d.forecasts_version = 7;
  d.sim_id = "abc123def4567890";
  d.sim_runs = 10000;
  d.sim_turns = 52;
  d.changes = {"gdp: next-step mean rose 1.2%", "New series <cpi> & \"m1\""};
  d.series = {Gdp("gdp"), Gdp("<script>alert(1)</script>"), Gdp("unemp")};
  d.simulation = {Hope("hope"), Hope("trust"), Hope("energy_price_index"), Hope("fatigue")};
  d.trust = {
      TrustRow{"gdp", 0.1 + 0.2, 1.0 / 3, 2.0 / 7, "\U0001F7E2 Trusted", "\u2705 Approved", 0.8125, -0.0123456789,
               0.04},
      TrustRow{"<script>alert(1)</script>", 1e-300, 0.99999999999, 123456789.123, "<b>", "x&y", 0.1, 1.5, 2.5},
      TrustRow{"unemp", kNaN, 0, -2.5, "", "", 1, 0.5, 0.25},
  };
  return d;
}

TEST(ReportHtml, OneChartPerSeriesAndVariable) {
  const ReportData d = SampleReport();
  const std::string html = RenderReportHtml(d);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(Count(html, "<svg class=\"chart fan\""), d.series.size());
  EXPECT_EQ(Count(html, "<svg class=\"chart band\""), d.simulation.size());
  for (const SimulationChart& c : d.simulation) {
    EXPECT_NE(html.find("<svg class=\"chart band\" data-variable=\"" + c.variable + "\""), std::string::npos);
  }
  EXPECT_NE(html.find("<svg class=\"chart fan\" data-series=\"gdp\""), std::string::npos);
  EXPECT_NE(html.find("<svg class=\"chart fan\" data-series=\"unemp\""), std::string::npos);
  for (const char* section : {"id=\"changes\"", "id=\"forecasts\"", "id=\"simulation\"", "id=\"trust\""}) {
    EXPECT_NE(html.find(section), std::string::npos) << section;
  }
  EXPECT_NE(html.find("What changed since the last run"), std::string::npos);
  EXPECT_NE(html.find("<li>gdp: next-step mean rose 1.2%</li>"), std::string::npos);
  EXPECT_NE(html.find("New series &lt;cpi&gt; &amp; &quot;m1&quot;"), std::string::npos);
  EXPECT_NE(html.find("file:///tmp/pulse-lake"), std::string::npos);
  EXPECT_NE(html.find("abc123def4567890"), std::string::npos);
  EXPECT_NE(html.find("data-field=\"forecasts_version\" data-value=\"7\""), std::string::npos);
  EXPECT_NE(html.find("data-field=\"sim_runs\" data-value=\"10000\""), std::string::npos);
  // The next step's mean and 80% band of gdp, in text with exact values.
  EXPECT_NE(
      html.find("Next step (2010 Q1): mean <span class=\"num\" data-field=\"mean\" data-value=\"180\">180</span>; "
                "80% band <span class=\"num\" data-field=\"lower80\" data-value=\"177.5\">177.5</span>"),
      std::string::npos);
}

TEST(ReportHtml, SelfContainedAndEscaped) {
  const std::string html = RenderReportHtml(SampleReport());
  std::string lower = html;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(lower.find("<script"), std::string::npos);
  EXPECT_EQ(lower.find("http://"), std::string::npos);
  EXPECT_EQ(lower.find("https://"), std::string::npos);
  EXPECT_EQ(lower.find("<link"), std::string::npos);
  EXPECT_EQ(lower.find("<img"), std::string::npos);
  EXPECT_EQ(lower.find("url("), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"text\" data-field=\"trust_label\">&lt;b&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("x&amp;y"), std::string::npos);
  // No geometry anywhere in the page holds a non-finite number.
  for (const std::string& g : Attributes(html, "d")) EXPECT_EQ(g.find("nan"), std::string::npos);
  for (const std::string& g : Attributes(html, "points")) EXPECT_EQ(g.find("nan"), std::string::npos);
}

TEST(ReportHtml, TrustNumbersCarryExactValues) {
  const ReportData d = SampleReport();
  const std::string html = RenderReportHtml(d);
  const size_t table = html.find("<table");
  ASSERT_NE(table, std::string::npos);
  const std::string head = html.substr(table, html.find("</thead>", table) - table);
  for (const char* heading : {"Confidence (heuristic)", "Fragility (heuristic)", "Risk (heuristic)",
                              "Trust label (heuristic)", "Licence (heuristic)", "Coverage of 80% band (statistical)",
                              "Skill vs naive (statistical)", "80% band width (statistical)"}) {
    EXPECT_NE(head.find(heading), std::string::npos) << heading;
  }
  for (const TrustRow& r : d.trust) {
    const std::string open = "<tr data-series=\"" + markup::EscapeHtml(r.series) + "\">";
    const size_t at = html.find(open);
    ASSERT_NE(at, std::string::npos) << open;
    const std::string row = html.substr(at, html.find("</tr>", at) - at);
    const std::pair<const char*, double> fields[] = {
        {"confidence", r.confidence}, {"fragility", r.fragility}, {"risk", r.risk},
        {"coverage80", r.coverage80}, {"skill", r.skill},         {"band80_width", r.band80_width}};
    for (const auto& [field, value] : fields) {
      const std::string attr = "data-field=\"" + std::string(field) + "\" data-value=\"" + ExactNumber(value) + "\"";
      EXPECT_NE(row.find(attr), std::string::npos) << attr << " in " << row;
    }
  }
  EXPECT_NE(html.find("data-value=\"0.30000000000000004\""), std::string::npos);
  EXPECT_NE(html.find("data-value=\"1e-300\""), std::string::npos);
  EXPECT_NE(html.find("data-value=\"123456789.123\""), std::string::npos);
  EXPECT_NE(html.find("data-value=\"0.8125\">81.25%<"), std::string::npos);  // shown as a percentage
}

TEST(ReportHtml, EmptyReportStillRenders) {
  ReportData d;
  const std::string html = RenderReportHtml(d);
  EXPECT_NE(html.find("<h1>Pulse report</h1>"), std::string::npos);
  EXPECT_NE(html.find("No forecasts in this run."), std::string::npos);
  EXPECT_NE(html.find("No simulation in this run."), std::string::npos);
  EXPECT_EQ(Count(html, "<svg"), 0u);
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
}

}  // namespace
}  // namespace pulse::report
