// Pulse side of bench/sim_bench.py: Monte Carlo of the bundled rules (data/sim/rules.yaml) over
// RUNS x TURNS, printing one JSON object with the rate (run-turns/s, variable-updates/s), the
// seconds and the peak memory. --state drivers (default) is the original's benchmark state:
// the 5 overlays, 5 capital assets and the 10 legacy rule drivers; --state full adds the 304
// registry variables. --noise 0 is the deterministic workload the original runs; > 0 adds the
// seeded initial jitter and per-turn shocks (sd = noise x range width).
//   sim_throughput CATALOG RULES --runs K --turns N [--threads T] [--noise X] [--state drivers|full]
#include <sys/resource.h>

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
  }
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
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double run_turns = static_cast<double>(options.runs) * options.turns;
  std::printf(
      "{\"runs\": %llu, \"turns\": %u, \"threads\": %d, \"noise\": %g, \"slots\": %zu, \"seconds\": %.6f, "
      "\"run_turns_per_s\": %.1f, \"variable_updates_per_s\": %.1f, \"max_rss_mib\": %.1f}\n",
      static_cast<unsigned long long>(options.runs), options.turns, options.threads, options.noise_scale,
      catalog.size(), result->seconds, run_turns / result->seconds,
      run_turns * static_cast<double>(catalog.size()) / result->seconds, static_cast<double>(usage.ru_maxrss) / 1024.0);
  return 0;
}
