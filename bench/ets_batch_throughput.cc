// Batched ETS fitting speed and results (forecast/gpu_ets.h) on an M4-format training file, for
// bench/gpu_check: fits every series with one spec or AutoEts's candidate set in one batch on the
// CPU pool or, in a -DPULSE_CUDA=ON build with a device and --gpu 1, on the GPU.
//   ets_batch_throughput TRAIN PERIOD [--spec auto|ETS(A,N,N)|...] [--threads N] [--gpu 0|1]
//                        [--repeat R] [--horizon H] [--dump FILE]
// Prints the SHA-256 of every fit's fields and H-step forecasts (hex, so equal digests mean equal
// bits), then one JSON line: series, failed (per-series errors), the median seconds of R repeats,
// series_per_s, device ("cpu"/"cuda") and gpu_unused (why not the GPU). --dump writes one line per
// series (id, model, -2 log-likelihood, AICc, alpha, beta, gamma, phi, forecasts; %.17g, or the
// error)
// for a tolerance comparison of two runs.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/hash.h"
#include "forecast/exp_smoothing.h"
#include "forecast/gpu_ets.h"
#include "ingest/m4_reader.h"

namespace {

void AppendHex(std::string& out, double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 " ", bits);
  out += buf;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pulse;
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: ets_batch_throughput TRAIN PERIOD [--spec auto|ETS(A,N,N)] [--threads N] [--gpu 0|1] "
                 "[--repeat R] [--horizon H] [--dump FILE]\n");
    return 2;
  }
  const int period = std::atoi(argv[2]);
  std::string spec_name = "auto", dump_path;
  forecast::EtsBatchOptions options;
  options.use_gpu = false;
  int repeat = 1;
  size_t horizon = 8;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--spec") {
      spec_name = v;
    } else if (flag == "--threads") {
      options.threads = std::strtoull(v, nullptr, 10);
    } else if (flag == "--gpu") {
      options.use_gpu = std::strcmp(v, "1") == 0;
    } else if (flag == "--repeat") {
      repeat = std::max(1, std::atoi(v));
    } else if (flag == "--horizon") {
      horizon = std::max<size_t>(1, std::strtoull(v, nullptr, 10));
    } else if (flag == "--dump") {
      dump_path = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::optional<forecast::EtsSpec> spec;
  if (spec_name != "auto") {
    auto parsed = forecast::ParseEtsSpec(spec_name);
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.status().ToString().c_str());
      return 2;
    }
    spec = *parsed;
  }
  auto series = ingest::ReadM4File(argv[1]);
  if (!series.ok()) {
    std::fprintf(stderr, "%s\n", series.status().ToString().c_str());
    return 1;
  }
  std::vector<double> values;
  std::vector<size_t> offsets{0};
  for (const auto& s : *series) {
    values.insert(values.end(), s.values.begin(), s.values.end());
    offsets.push_back(values.size());
  }
  std::vector<double> seconds;
  Result<forecast::EtsBatch> batch = Status::Internal("not run");
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    batch = spec ? forecast::FitEtsBatch(values, offsets, *spec, period, options)
                 : forecast::AutoEtsBatch(values, offsets, period, options);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!batch.ok()) {
      std::fprintf(stderr, "%s\n", batch.status().ToString().c_str());
      return 1;
    }
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::string digest_input;
  FILE* dump = dump_path.empty() ? nullptr : std::fopen(dump_path.c_str(), "w");
  size_t failed = 0;
  std::vector<double> mean(horizon), sd(horizon);
  for (size_t i = 0; i < batch->fits.size(); ++i) {
    const auto& fit = batch->fits[i];
    if (!fit.ok()) {
      ++failed;
      digest_input += fit.status().ToString() + "\n";
      if (dump) std::fprintf(dump, "%s error %s\n", (*series)[i].id.c_str(), fit.status().ToString().c_str());
      continue;
    }
    fit->ForecastInto(mean, sd);
    digest_input += fit->spec.Name() + " ";
    for (double v : {fit->alpha, fit->beta, fit->gamma, fit->phi, fit->level, fit->slope, fit->l0, fit->b0, fit->sse,
                     fit->sum_log_forecast, fit->sigma2})
      AppendHex(digest_input, v);
    for (size_t j = 0; j < static_cast<size_t>(fit->period); ++j) AppendHex(digest_input, fit->season[j]);
    for (size_t k = 0; k < horizon; ++k) AppendHex(digest_input, mean[k]), AppendHex(digest_input, sd[k]);
    digest_input += "\n";
    if (dump) {
      std::fprintf(dump, "%s %s %.17g %.17g %.17g %.17g %.17g %.17g", (*series)[i].id.c_str(), fit->spec.Name().c_str(),
                   fit->constant ? 0.0 : fit->MinusTwoLogLik(), fit->constant ? 0.0 : fit->Aicc(), fit->alpha,
                   fit->beta, fit->gamma, fit->phi);
      for (double m : mean) std::fprintf(dump, " %.17g", m);
      std::fprintf(dump, "\n");
    }
  }
  if (dump) std::fclose(dump);
  std::printf("%s\n", Sha256Hex(digest_input).c_str());
  std::printf(
      "{\"series\": %zu, \"failed\": %zu, \"spec\": \"%s\", \"period\": %d, \"seconds\": %.4f, \"repeats\": %d, "
      "\"series_per_s\": %.1f, \"device\": \"%s\", \"gpu_unused\": \"%s\"}\n",
      batch->fits.size(), failed, spec_name.c_str(), period, median, repeat,
      static_cast<double>(batch->fits.size()) / median, batch->device.c_str(), batch->gpu_unused.c_str());
  return 0;
}
