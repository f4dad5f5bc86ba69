// Pulse side of bench/sim_bench.py: Monte Carlo of the bundled rules (data/sim/rules.yaml) over
// RUNS x TURNS, printing one JSON object with the rate (run-turns/s, variable-updates/s), the
// seconds and the peak memory. --state drivers (default) is the original's benchmark state:
// the 5 overlays, 5 capital assets and the 10 legacy rule drivers; --state full adds the 304
// registry variables. --noise 0 is the deterministic workload the original runs; > 0 adds the
// seeded initial jitter and per-turn shocks (sd = noise x range width).
//   sim_throughput CATALOG RULES --runs K --turns N [--threads T] [--noise X] [--state drivers|full]
//                  [--digest P] [--serialized 1] [--stats COLUMN,...] [--gpu 1] [--digest-quantiles 1]   (prints a hash
//                  of the results and P sampled paths first)
#include <sys/resource.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/monte_carlo.h"

namespace {
std::string Read(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

int main(int argc, char** argv) {
  using namespace pulse::sim;
  if (argc < 3) {
    std::fprintf(
        stderr,
        "usage: sim_throughput CATALOG RULES --runs K --turns N [--threads T] [--noise X] [--state drivers|full]\n");
    return 2;
  }
  MonteCarloOptions options;
  options.noise_scale = 0;
  std::string state = "drivers";
  std::string stats_columns;      // --stats a,b: the last step's mean, sd and 5/50/95% quantiles of these columns
  bool serialized_bytes = false;  // --serialized 1: report the size of Summary::Serialize()
  bool digest_quantiles = false;  // --digest-quantiles 1: the digest covers min, max and 5/50/95% too
  uint64_t digest_paths = 0;      // --digest P: also print a hash of the means, sds, rule counts and P paths
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--runs")
      options.runs = std::strtoull(v, nullptr, 10);
    else if (flag == "--turns")
      options.turns = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if (flag == "--threads")
      options.threads = std::atoi(v);
    else if (flag == "--noise")
      options.noise_scale = std::strtod(v, nullptr);
    else if (flag == "--state")
      state = v;
    else if (flag == "--serialized")
      serialized_bytes = std::strcmp(v, "1") == 0;
    else if (flag == "--gpu")
      options.use_gpu = std::strcmp(v, "1") == 0;
    else if (flag == "--stats")
      stats_columns = v;
    else if (flag == "--digest-quantiles")
      digest_quantiles = std::strcmp(v, "1") == 0;
    else if (flag == "--digest")
      digest_paths = std::strtoull(v, nullptr, 10);
  }
  options.sample_paths = digest_paths;
  auto full = Catalog::Parse(Read(argv[1]), argv[1]);
  if (!full.ok()) {
    std::fprintf(stderr, "%s\n", full.status().ToString().c_str());
    return 1;
  }
  Catalog catalog;
  if (state == "full") {
    catalog = *full;
  } else {
    for (const SlotInfo& s : full->slots())
      if (s.kind != SlotKind::kVariable || s.type == "driver") (void)catalog.Add(s);
  }
  auto rules = ParseRules(Read(argv[2]), argv[2], catalog);
  if (!rules.ok()) {
    std::fprintf(stderr, "%s\n", rules.status().ToString().c_str());
    return 1;
  }
  TurnEngine engine(catalog, *rules, {});
  auto result = RunMonteCarlo(engine, catalog.Initial(), options);
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
    return 1;
  }
  if (digest_paths > 0) {
    // FNV-1a over the bits of every mean and sd, the rule counts and the sampled paths: equal
    // digests before and after an optimisation mean the same results.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint64_t v) {
      for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xFF)) * 1099511628211ull;
    };
    const Summary& s = result->summary;
    for (size_t step = 0; step < s.steps(); ++step) {
      for (size_t c = 0; c < s.columns().size(); ++c) {
        const auto st = s.Get(step, c, digest_quantiles ? std::vector<double>{0.05, 0.5, 0.95} : std::vector<double>{});
        mix(st.count), mix(std::bit_cast<uint64_t>(st.mean)), mix(std::bit_cast<uint64_t>(st.sd));
        if (digest_quantiles) {
          mix(std::bit_cast<uint64_t>(st.min)), mix(std::bit_cast<uint64_t>(st.max));
          for (double q : st.quantiles) mix(std::bit_cast<uint64_t>(q));
        }
      }
    }
    for (uint64_t f : result->rule_fired) mix(f);
    for (double p : result->paths) mix(std::bit_cast<uint64_t>(p));
    std::printf("{\"digest\": \"%016llx\"}\n", static_cast<unsigned long long>(h));
  }
  if (!stats_columns.empty()) {
    const Summary& s = result->summary;
    std::string out = "{\"stats\": {";
    std::stringstream names(stats_columns);
    bool first = true;
    for (std::string name; std::getline(names, name, ',');) {
      const auto it = std::find(s.columns().begin(), s.columns().end(), name);
      if (it == s.columns().end()) {
        std::fprintf(stderr, "no column %s\n", name.c_str());
        return 1;
      }
      const auto st = s.Get(s.steps() - 1, static_cast<size_t>(it - s.columns().begin()), {0.05, 0.5, 0.95});
      char buf[512];
      std::snprintf(buf, sizeof buf, "%s\"%s\": {\"mean\": %.17g, \"sd\": %.17g, \"quantiles\": [%.17g, %.17g, %.17g]}",
                    first ? "" : ", ", name.c_str(), st.mean, st.sd, st.quantiles[0], st.quantiles[1], st.quantiles[2]);
      out += buf;
      first = false;
    }
    std::printf("%s}}\n", out.c_str());
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double run_turns = static_cast<double>(options.runs) * options.turns;
  // CPU seconds of the whole process (parsing included): on a shared, loaded machine the rate per
  // CPU second is the steadier one-core figure; wall-clock seconds are the Monte Carlo's alone.
  const double cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                             static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  std::printf(
      "{\"runs\": %llu, \"turns\": %u, \"threads\": %d, \"noise\": %g, \"slots\": %zu, \"seconds\": %.6f, "
      "\"cpu_seconds\": %.6f, \"run_turns_per_s\": %.1f, \"run_turns_per_cpu_s\": %.1f, "
      "\"variable_updates_per_s\": %.1f, \"max_rss_mib\": %.1f, \"summary_buckets\": %zu, "
      "\"summary_bytes\": %zu, \"device\": \"%s\", \"gpu_unused\": \"%s\"}\n",
      static_cast<unsigned long long>(options.runs), options.turns, options.threads, options.noise_scale,
      catalog.size(), result->seconds, cpu_seconds, run_turns / result->seconds, run_turns / cpu_seconds,
      run_turns * static_cast<double>(catalog.size()) / result->seconds, static_cast<double>(usage.ru_maxrss) / 1024.0,
      result->summary.buckets_held(), serialized_bytes ? result->summary.Serialize().size() : size_t{0},
      result->device.c_str(), result->gpu_unused.c_str());
  return 0;
}
