// The report's "Models and drift" section: one card per series with the version in production,
// when it was trained, the promotion history with exact numbers, and a drift timeline SVG with one
// mark per drift check and per model event placed in time order; text escaped; an empty section
// and an empty timeline say so.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "core/time.h"
#include "report/report.h"

namespace pulse::report {
namespace {

int64_t Day(int d) { return time::FromCivil(2024, 3, 1).value() + static_cast<int64_t>(d) * 86400000000LL; }

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

ModelCard Demand() {
  ModelCard c;
  c.series = "demand";
  c.kind = "web";
  c.model_name = "pulse.web.demand";
  c.events = {{Day(0), 1, "promoted", 0, 1.25, std::numeric_limits<double>::quiet_NaN(),
               "first version: no champion yet", "manual"},
              {Day(20), 2, "promoted", 1, 0.5721166559774765, 1.0632039882962625, "beats champion v1", "ks: 0.675"},
              {Day(30), 3, "refused", 2, 0.9, 0.6, "does not beat champion v2 <by> the margin", "ks: 0.7"}};
  c.checks = {
      {Day(1), 1, false, ""}, {Day(10), 2, true, "ks"}, {Day(15), 3, true, "adwin, ks"}, {Day(19), 4, true, "ks"}};
  c.champion_version = 2;
  c.trained = Day(20);
  return c;
}

TEST(DriftTimeline, OneMarkPerCheckAndEventInTimeOrder) {
  const std::string svg = DriftTimelineSvg(Demand());
  EXPECT_EQ(svg.rfind("<svg class=\"chart timeline\" data-series=\"demand\"", 0), 0u) << svg.substr(0, 80);
  EXPECT_EQ(Count(svg, "<circle class=\"check ok\""), 1u);
  EXPECT_EQ(Count(svg, "<circle class=\"check drift\""), 3u);
  EXPECT_EQ(Count(svg, "<g class=\"event promoted\""), 2u);
  EXPECT_EQ(Count(svg, "<g class=\"event refused\""), 1u);
  // x grows with time: the first check at the left edge, the last event at the right edge.
  std::regex check_x("class=\"check [a-z]+\" data-time=\"(\\d+)\" data-version=\"\\d+\" cx=\"([0-9.]+)\"");
  double last_x = -1;
  int64_t last_t = -1;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), check_x); it != std::sregex_iterator(); ++it) {
    const int64_t t = std::stoll((*it)[1]);
    const double x = std::stod((*it)[2]);
    EXPECT_GT(t, last_t);
    EXPECT_GT(x, last_x);
    EXPECT_GE(x, 84.0);  // right of the lane labels
    EXPECT_LE(x, 544.0);
    last_t = t, last_x = x;
  }
  EXPECT_NE(svg.find("M544 24L550 30"), std::string::npos) << "the last event (v3) sits at the right edge";
  EXPECT_NE(svg.find(">2024-03-01</text>"), std::string::npos);
  EXPECT_NE(svg.find(">2024-03-31</text>"), std::string::npos);
  EXPECT_NE(svg.find("signals v3: drift (adwin, ks)"), std::string::npos);
  EXPECT_NE(svg.find("v3 refused: does not beat champion v2 &lt;by&gt; the margin"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(DriftTimeline, EmptyAndSingleInstant) {
  ModelCard empty;
  empty.series = "a<b";
  const std::string none = DriftTimelineSvg(empty);
  EXPECT_NE(none.find(">no events</text>"), std::string::npos);
  EXPECT_NE(none.find("data-series=\"a&lt;b\""), std::string::npos);
  ModelCard one;
  one.series = "x";
  one.checks = {{Day(3), 7, true, "ks"}};
  const std::string single = DriftTimelineSvg(one);
  EXPECT_NE(single.find("cx=\"314\""), std::string::npos) << "a single instant is centred";
}

TEST(ModelsSection, CardWithProductionVersionHistoryAndTimeline) {
  ReportData d;
  d.models = {Demand()};
  ModelCard unregistered;
  unregistered.series = "steady";
  unregistered.kind = "web";
  unregistered.checks = {{Day(2), 1, false, ""}};
  d.models.push_back(unregistered);
  const std::string html = RenderReportHtml(d);
  const size_t section = html.find("<section id=\"models\"><h2>Models and drift</h2>");
  ASSERT_NE(section, std::string::npos);
  EXPECT_GT(section, html.find("<section id=\"trust\">")) << "after the trust table";
  EXPECT_EQ(Count(html, "<article class=\"card model\""), 2u);
  EXPECT_EQ(Count(html, "<svg class=\"chart timeline\""), 2u);
  EXPECT_NE(html.find("data-field=\"champion_version\" data-value=\"2\">v2</b>, trained <span "
                      "data-field=\"trained\">2024-03-21</span>"),
            std::string::npos);
  EXPECT_NE(html.find("Drift checks: 4, 3 said drift (latest: drift)"), std::string::npos);
  EXPECT_EQ(Count(html, "<tr data-version="), 3u);
  EXPECT_NE(html.find("<tr data-version=\"3\" data-event=\"refused\">"), std::string::npos);
  EXPECT_NE(html.find("refused (champion was v2)"), std::string::npos);
  EXPECT_NE(html.find("data-field=\"challenger_mase\" data-value=\"0.5721166559774765\""), std::string::npos);
  EXPECT_NE(html.find("data-field=\"champion_mase\" data-value=\"1.0632039882962625\""), std::string::npos);
  EXPECT_NE(html.find("does not beat champion v2 &lt;by&gt; the margin"), std::string::npos);
  EXPECT_EQ(html.find("<by>"), std::string::npos);
  EXPECT_NE(html.find("no registered champion (fitted at forecast time)"), std::string::npos);
  EXPECT_NE(html.find("Drift checks: 1, 0 said drift (latest: no drift)"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(ModelsSection, TrustTableShowsTheModelLifecycle) {
  ReportData d;
  TrustRow served{"demand", 0.477, 0.3, 0.2, "Rejected", "Licensed", 0.8, 0.1, 0.2};
  served.model_health = "drifted";
  served.drift_status = "drift (ks)";
  served.model_version = 2;
  served.days_since_training = 3.25;
  served.rolling_coverage80 = 0.35;
  served.rolling_outcomes = 20;
  TrustRow fitted{"steady", 0.6, 0.3, 0.2, "Trusted", "Licensed", 0.8, 0.1, 0.2};
  d.trust = {served, fitted};
  const std::string html = RenderReportHtml(d);
  EXPECT_NE(html.find(">Model lifecycle</th>"), std::string::npos);
  const size_t at = html.find("<tr data-series=\"demand\">");
  ASSERT_NE(at, std::string::npos);
  const std::string row = html.substr(at, html.find("</tr>", at) - at);
  EXPECT_NE(row.find("v<span class=\"num\" data-field=\"model_version\" data-value=\"2\">2</span>"), std::string::npos)
      << row;
  EXPECT_NE(row.find("data-field=\"days_since_training\" data-value=\"3.25\""), std::string::npos);
  EXPECT_NE(row.find("data-field=\"drift_status\">drift (ks) \u00b7 <span data-field=\"model_health\">drifted</span>"),
            std::string::npos);
  EXPECT_NE(row.find("data-field=\"rolling_coverage80\" data-value=\"0.35\">35%<"), std::string::npos);
  EXPECT_NE(row.find("data-field=\"rolling_outcomes\" data-value=\"20\""), std::string::npos);
  const size_t at2 = html.find("<tr data-series=\"steady\">");
  const std::string row2 = html.substr(at2, html.find("</tr>", at2) - at2);
  EXPECT_NE(row2.find("fitted at forecast time"), std::string::npos);
  EXPECT_EQ(row2.find("rolling_coverage80"), std::string::npos);
}

TEST(ModelsSection, NoModelsSaysSo) {
  const std::string html = RenderReportHtml(ReportData{});
  EXPECT_NE(html.find("<section id=\"models\"><h2>Models and drift</h2><p class=\"note\">No registered models"),
            std::string::npos);
}

}  // namespace
}  // namespace pulse::report
