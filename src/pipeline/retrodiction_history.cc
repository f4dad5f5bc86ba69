#include "pipeline/retrodiction_history.h"

#include <arrow/api.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/time.h"

namespace pulse::pipeline {
namespace {

constexpr int64_t kDayUs = 86400LL * 1000000LL;

// Start of the grid cell holding ts: the UTC day, or the Monday of its ISO week.
int64_t CellStart(int64_t ts, TurnGrid grid) {
  int64_t day = ts >= 0 ? ts / kDayUs : -((-ts + kDayUs - 1) / kDayUs);
  if (grid == TurnGrid::kWeekly) {
    const int64_t since_monday = ((day + 3) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
    day -= since_monday;
  }
  return day * kDayUs;
}

}  // namespace

Result<sim::History> BuildHistory(const arrow::Table& signals, const sim::Catalog& catalog, TurnGrid grid,
                                  const std::map<std::string, SignalMapping>& mapping,
                                  std::vector<std::string>* unmapped) {
  auto names = signals.GetColumnByName("name");
  auto times = signals.GetColumnByName("ts");
  auto values = signals.GetColumnByName("value");
  if (!names || !times || !values) return Status::InvalidArgument("signals need name, ts and value columns");
  struct Point {
    int64_t cell, ts;
    size_t column;
    double value;
  };
  std::vector<Point> points;
  std::map<uint32_t, size_t> column_of;
  sim::History history;
  std::set<std::string> missing;
  for (int chunk = 0; chunk < names->num_chunks(); ++chunk) {
    const auto& n = static_cast<const arrow::StringArray&>(*names->chunk(chunk));
    const auto& t = static_cast<const arrow::TimestampArray&>(*times->chunk(chunk));
    const auto& v = static_cast<const arrow::DoubleArray&>(*values->chunk(chunk));
    for (int64_t i = 0; i < n.length(); ++i) {
      if (n.IsNull(i) || t.IsNull(i) || v.IsNull(i) || !std::isfinite(v.Value(i))) continue;
      std::string name(n.GetView(i));
      double scale = 1;
      if (auto m = mapping.find(name); m != mapping.end()) name = m->second.variable, scale = m->second.scale;
      const auto slot = catalog.Find(name);
      if (!slot) {
        missing.insert(std::string(n.GetView(i)));
        continue;
      }
      auto [it, added] = column_of.emplace(*slot, history.slots.size());
      if (added) history.slots.push_back(*slot);
      points.push_back({CellStart(t.Value(i), grid), t.Value(i), it->second, v.Value(i) * scale});
    }
  }
  if (unmapped) unmapped->assign(missing.begin(), missing.end());
  if (points.empty())
    return Status::InvalidArgument("no signal name matches a variable of the catalog (use --map signal=variable)");
  int64_t first = points.front().cell, last = first;
  for (const Point& p : points) first = std::min(first, p.cell), last = std::max(last, p.cell);
  const int64_t step = grid == TurnGrid::kWeekly ? 7 * kDayUs : kDayUs;
  for (int64_t cell = first; cell <= last; cell += step) history.times.push_back(cell);
  const size_t columns = history.slots.size();
  history.values.assign(history.times.size() * columns, std::numeric_limits<double>::quiet_NaN());
  std::vector<int64_t> latest(history.values.size(), std::numeric_limits<int64_t>::min());
  for (const Point& p : points) {
    const size_t row = static_cast<size_t>((p.cell - first) / step), k = row * columns + p.column;
    if (p.ts >= latest[k]) latest[k] = p.ts, history.values[k] = p.value;
  }
  return history;
}

nlohmann::json RetroReportJson(const sim::RetroReport& report, const sim::Catalog& catalog, const sim::History& history,
                               const std::string& grid, const std::string& mode,
                               const std::vector<std::string>& unmapped) {
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& e : report.errors)
    errors[catalog[e.slot].name] = {{"count", e.count}, {"mse", e.mse}, {"mae", e.mae}};
  nlohmann::json scores = nlohmann::json::array();
  for (double v : report.error_score) scores.push_back(std::isnan(v) ? nlohmann::json() : nlohmann::json(v));
  return {{"grid", grid},
          {"mode", mode},
          {"turns", report.turns},
          {"first", time::FormatTimestamp(history.times.front())},
          {"last", time::FormatTimestamp(history.times.back())},
          {"variables", errors},
          {"overlay_mse", report.overlay_mse},
          {"variable_mse", report.variable_mse},
          {"capital_mse", report.capital_mse},
          {"total_mse", report.total_mse},
          {"error_score", scores},
          {"misaligned_turns", report.misaligned_turns},
          {"unmapped_signals", unmapped}};
}

}  // namespace pulse::pipeline
