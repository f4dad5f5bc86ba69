// Benchmark driver for bench/drift_bench.py: src/drift on data the script wrote (raw float64, native
// byte order), timed in this process, results as JSON on stdout.
//   drift_throughput streams VALUES.f64 BINARY.f64 N LEN
//       N streams of LEN values each (and N 0/1 streams): the indices where ADWIN and Page-Hinkley
//       (on VALUES) and DDM (on BINARY) detect drift, river's defaults; and the seconds each took.
//   drift_throughput input REF.f64 CUR.f64 S N
//       S series, N reference and N current values each: KS (statistic and p-value), PSI, normed
//       Wasserstein (and Jensen-Shannon) per series through drift::CompareWindows, one thread; the
//       CPU seconds and a checksum of the numbers.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drift/input_drift.h"
#include "drift/streaming.h"

namespace {

std::vector<double> ReadDoubles(const std::string& path, size_t count) {
  std::vector<double> out(count);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(count * sizeof(double)));
  if (static_cast<size_t>(in.gcount()) != count * sizeof(double)) {
    std::fprintf(stderr, "%s: expected %zu doubles\n", path.c_str(), count);
    std::exit(2);
  }
  return out;
}

// CPU seconds of this process since `since` (std::clock): the machine is shared, so wall time
// measures the neighbours too; the script times the peer the same way (time.process_time).
double Seconds(std::clock_t since) { return static_cast<double>(std::clock() - since) / CLOCKS_PER_SEC; }

int Streams(const std::string& values_path, const std::string& binary_path, size_t n, size_t len) {
  const auto values = ReadDoubles(values_path, n * len);
  const auto binary = ReadDoubles(binary_path, n * len);
  nlohmann::json out;
  auto run = [&](const char* name, const std::vector<double>& data, auto detect) {
    nlohmann::json all = nlohmann::json::array();
    const std::clock_t start = std::clock();
    for (size_t s = 0; s < n; ++s) {
      const std::vector<double> stream(data.begin() + static_cast<std::ptrdiff_t>(s * len),
                                       data.begin() + static_cast<std::ptrdiff_t>((s + 1) * len));
      all.push_back(detect(stream).value());
    }
    out["seconds"][name] = Seconds(start);
    out[name] = std::move(all);
  };
  run("adwin", values, [](const std::vector<double>& v) { return pulse::drift::AdwinDetections(v); });
  run("page_hinkley", values, [](const std::vector<double>& v) { return pulse::drift::PageHinkleyDetections(v); });
  run("ddm", binary, [](const std::vector<double>& v) { return pulse::drift::DdmDetections(v); });
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int Input(const std::string& ref_path, const std::string& cur_path, size_t series, size_t n) {
  const auto ref = ReadDoubles(ref_path, series * n);
  const auto cur = ReadDoubles(cur_path, series * n);
  double checksum = 0;
  const std::clock_t start = std::clock();
  for (size_t s = 0; s < series; ++s) {
    const std::span<const double> r(ref.data() + s * n, n);
    const std::span<const double> c(cur.data() + s * n, n);
    auto report = pulse::drift::CompareWindows(r, c);
    if (!report.ok()) {
      std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
      return 1;
    }
    for (const auto& m : report->measures) {
      if (m.detector == "ks") checksum += m.statistic + m.p_value;
      if (m.detector == "psi" || m.detector == "wasserstein") checksum += m.statistic;
    }
  }
  const double seconds = Seconds(start);
  std::printf("%s\n", nlohmann::json{{"seconds", seconds}, {"checksum", checksum}}.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 5 && args[0] == "streams") {
    return Streams(args[1], args[2], std::stoul(args[3]), std::stoul(args[4]));
  }
  if (args.size() == 5 && args[0] == "input") return Input(args[1], args[2], std::stoul(args[3]), std::stoul(args[4]));
  std::fprintf(stderr,
               "usage: drift_throughput streams VALUES.f64 BINARY.f64 N LEN | input REF.f64 CUR.f64 SERIES POINTS\n");
  return 2;
}
