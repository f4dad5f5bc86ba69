// Pulse side of bench/forecast_bench.py: fits ETS(A,N,N), ETS(A,A,N) and ETS(A,Ad,N) to every
// series of an M4-format training file on ONE thread, forecasts h steps with 80% and 95%
// intervals, and prints per model the fitting time and the mean MASE (m = 1) and 95% coverage
// against the test file, as one JSON object per model.
//   forecast_throughput TRAIN TEST
#include <chrono>
#include <cmath>
#include <cstdio>

#include "forecast/exp_smoothing.h"
#include "forecast/metrics.h"
#include "ingest/m4_reader.h"

int main(int argc, char** argv) {
  using namespace pulse;
  if (argc != 3) {
    std::fprintf(stderr, "usage: forecast_throughput TRAIN TEST\n");
    return 2;
  }
  auto series = ingest::ReadM4TrainTest(argv[1], argv[2]);
  if (!series.ok()) {
    std::fprintf(stderr, "%s\n", series.status().ToString().c_str());
    return 1;
  }
  const std::pair<const char*, forecast::Trend> models[] = {
      {"ANN", forecast::Trend::kNone}, {"AAN", forecast::Trend::kAdditive}, {"AAdN", forecast::Trend::kDamped}};
  for (const auto& [name, trend] : models) {
    double seconds = 0, mase = 0, covered = 0, points = 0;
    size_t scored = 0;
    for (const auto& s : *series) {
      const size_t h = s.test.size();
      std::vector<double> mean(h), lo80(h), hi80(h), lo95(h), hi95(h);
      auto t0 = std::chrono::steady_clock::now();
      auto fit = forecast::FitEts(s.train, trend);
      if (!fit.ok()) continue;
      for (size_t k = 1; k <= h; ++k) {
        double f = fit->Forecast(k), sd = fit->ForecastSd(k);
        mean[k - 1] = f;
        lo80[k - 1] = f - 1.2815516 * sd, hi80[k - 1] = f + 1.2815516 * sd;
        lo95[k - 1] = f - 1.959964 * sd, hi95[k - 1] = f + 1.959964 * sd;
      }
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      auto scale = forecast::MaseScale(s.train, 1);
      if (!scale.ok()) continue;
      mase += forecast::Mase(s.test, mean, *scale);
      covered += forecast::Coverage(s.test, lo95, hi95) * static_cast<double>(h);
      points += static_cast<double>(h);
      ++scored;
    }
    std::printf("{\"model\": \"%s\", \"series\": %zu, \"seconds\": %.4f, \"mase\": %.4f, \"coverage95\": %.4f}\n", name,
                scored, seconds, mase / static_cast<double>(scored), covered / points);
  }
  return 0;
}
