// Pulse side of bench/forecast_bench.py: fits ETS(A,N,N), ETS(A,A,N), ETS(A,Ad,N) and the
// AICc-selected ETS model (AutoEts with seasonal period PERIOD) to every series of an M4-format
// training file on ONE thread, forecasts h steps with 80% and 95% intervals, and prints per model
// the fitting time, the mean MASE (m = 1) and sMAPE, and the 95% coverage against the test file, as one JSON
// object per model.
//   forecast_throughput TRAIN TEST [PERIOD]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "forecast/exp_smoothing.h"
#include "forecast/metrics.h"
#include "ingest/m4_reader.h"

int main(int argc, char** argv) {
  using namespace pulse;
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: forecast_throughput TRAIN TEST [PERIOD]\n");
    return 2;
  }
  auto series = ingest::ReadM4TrainTest(argv[1], argv[2]);
  if (!series.ok()) {
    std::fprintf(stderr, "%s\n", series.status().ToString().c_str());
    return 1;
  }
  const int period = argc == 4 ? std::atoi(argv[3]) : 1;
  const std::pair<const char*, std::optional<forecast::Trend>> models[] = {{"ANN", forecast::Trend::kNone},
                                                                           {"AAN", forecast::Trend::kAdditive},
                                                                           {"AAdN", forecast::Trend::kDamped},
                                                                           {"Auto", std::nullopt}};
  for (const auto& [name, trend] : models) {
    double seconds = 0, mase = 0, smape = 0, covered = 0, points = 0;
    size_t scored = 0;
    for (const auto& s : *series) {
      const size_t h = s.test.size();
      std::vector<double> mean(h), sd(h), lo80(h), hi80(h), lo95(h), hi95(h);
      auto t0 = std::chrono::steady_clock::now();
      auto fit = trend ? forecast::FitEts(s.train, *trend) : forecast::AutoEts(s.train, period);
      if (!fit.ok()) continue;
      fit->ForecastInto(mean, sd);
      for (size_t k = 0; k < h; ++k) {
        lo80[k] = mean[k] - 1.2815516 * sd[k], hi80[k] = mean[k] + 1.2815516 * sd[k];
        lo95[k] = mean[k] - 1.959964 * sd[k], hi95[k] = mean[k] + 1.959964 * sd[k];
      }
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      auto scale = forecast::MaseScale(s.train, 1);
      if (!scale.ok()) continue;
      mase += forecast::Mase(s.test, mean, *scale);
      smape += forecast::Smape(s.test, mean);
      covered += forecast::Coverage(s.test, lo95, hi95) * static_cast<double>(h);
      points += static_cast<double>(h);
      ++scored;
    }
    std::printf(
        "{\"model\": \"%s\", \"series\": %zu, \"seconds\": %.4f, \"mase\": %.4f, \"smape\": %.4f, \"coverage95\": "
        "%.4f}\n",
        name, scored, seconds, mase / static_cast<double>(scored), smape / static_cast<double>(scored),
        covered / points);
  }
  return 0;
}
