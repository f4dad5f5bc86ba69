// Pulse side of bench/lake_bench.py: generates N signals in memory (the same deterministic rows
// the Python side generates), appends them to a fresh signals table in batches, then scans it.
// Prints one JSON object: {"rows":..,"append_s":..,"scan_s":..,"scan_value_s":..,"scan_filtered_s":..}.
//   lake_throughput --rows N --batch B --dir DIR
#include <arrow/api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "lake/delta_table.h"
#include "signals/signal_schema.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Row i: name s{i%1000}, source bench, kind k{i%4}, ts = 2024-01-01 + (i/100000) days + (i%100000) s,
// value (i % 9973) * 0.5, unit u, metadata {}, ingest_time = 2024-06-01, date = date of ts.
std::shared_ptr<arrow::Table> MakeRows(int64_t begin, int64_t end) {
  constexpr int64_t kBase = 1704067200LL * 1000000;  // 2024-01-01T00:00:00Z
  constexpr int64_t kDay = 86400LL * 1000000;
  arrow::StringBuilder name, source, kind, unit, metadata, date;
  arrow::DoubleBuilder value;
  auto ts_type = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  arrow::TimestampBuilder ts(ts_type, arrow::default_memory_pool()), ingest(ts_type, arrow::default_memory_pool());
  char buf[32];
  for (int64_t i = begin; i < end; ++i) {
    int64_t day = i / 100000;
    std::snprintf(buf, sizeof buf, "s%lld", static_cast<long long>(i % 1000));
    (void)name.Append(buf);
    (void)source.Append("bench");
    std::snprintf(buf, sizeof buf, "k%lld", static_cast<long long>(i % 4));
    (void)kind.Append(buf);
    (void)ts.Append(kBase + day * kDay + (i % 100000) * 1000000 / 2);
    (void)value.Append(static_cast<double>(i % 9973) * 0.5);
    (void)unit.Append("u");
    (void)metadata.Append("{}");
    (void)ingest.Append(kBase + 152 * kDay);
    int d = static_cast<int>(day);
    // Dates in January..April 2024 (day < 121 for 10M rows at 100k/day).
    static const int kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int month = 0;
    while (d >= kMonthDays[month]) d -= kMonthDays[month++];
    std::snprintf(buf, sizeof buf, "2024-%02d-%02d", month + 1, d + 1);
    (void)date.Append(buf);
  }
  std::vector<std::shared_ptr<arrow::Array>> cols(9);
  (void)name.Finish(&cols[0]);
  (void)source.Finish(&cols[1]);
  (void)kind.Finish(&cols[2]);
  (void)ts.Finish(&cols[3]);
  (void)value.Finish(&cols[4]);
  (void)unit.Finish(&cols[5]);
  (void)metadata.Finish(&cols[6]);
  (void)ingest.Finish(&cols[7]);
  (void)date.Finish(&cols[8]);
  return arrow::Table::Make(pulse::signals::SignalSchema(), cols);
}

int Fail(const pulse::Status& st) {
  std::fprintf(stderr, "lake_throughput: %s\n", st.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 1000000, batch = 1000000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows"))
      rows = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch"))
      batch = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir"))
      dir = argv[i + 1];
  }
  if (dir.empty() || rows <= 0 || batch <= 0) {
    std::fprintf(stderr, "usage: lake_throughput --rows N --batch B --dir DIR\n");
    return 2;
  }
  auto fs = pulse::lake::OpenFileSystem(dir);
  if (!fs.ok()) return Fail(fs.status());
  // The layout deltalake is given in bench/lake_bench.py (kind + date), not the signals table's
  // current one (kind only; see bench/lake_files_bench.py), so that both sides write the same files.
  auto table =
      pulse::lake::DeltaTable::Create(std::move(*fs), pulse::signals::SignalSchema(), {"kind", "date"}, "signals");
  if (!table.ok()) return Fail(table.status());

  double append_s = 0;
  for (int64_t begin = 0; begin < rows; begin += batch) {
    auto data = MakeRows(begin, std::min(rows, begin + batch));  // generation is not timed
    auto t0 = Clock::now();
    auto r = (*table)->Append(*data);
    append_s += Seconds(t0, Clock::now());
    if (!r.ok()) return Fail(r.status());
  }
  auto t1 = Clock::now();
  auto all = (*table)->Read();
  auto t2 = Clock::now();
  if (!all.ok()) return Fail(all.status());
  auto values = (*table)->Read({.columns = {"value"}});
  auto t3 = Clock::now();
  if (!values.ok()) return Fail(values.status());
  auto filtered = (*table)->Read({.partition_filters = {{"kind", {"k1"}}}});
  auto t4 = Clock::now();
  if (!filtered.ok()) return Fail(filtered.status());
  std::printf(
      "{\"rows\": %lld, \"read_rows\": %lld, \"filtered_rows\": %lld, \"append_s\": %.4f, "
      "\"scan_s\": %.4f, \"scan_value_s\": %.4f, \"scan_filtered_s\": %.4f}\n",
      static_cast<long long>(rows), static_cast<long long>((*all)->num_rows()),
      static_cast<long long>((*filtered)->num_rows()), append_s, Seconds(t1, t2), Seconds(t2, t3), Seconds(t3, t4));
  return 0;
}
