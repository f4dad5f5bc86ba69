#!/usr/bin/env python3
"""Simulation speed, Pulse vs the original Python Pulse, side by side in one run.

The original (repengine/pulse at 6a9f1131, run_turn in a loop with its file side effects off and
its logging silenced, under Python 3.13 in the Debian 13 root that scripts/make-sim-golden
builds) steps 200 independent states x 52 turns: the 5 overlays, 5 capital assets and the 10
legacy rule drivers, its 15 causal and 2 static rules; no randomness. Pulse runs the same rules
(data/sim/rules.yaml, checked turn by turn against the original by tests/unit/sim/golden_test.cc)
on the same state, deterministic (--noise 0), for K = 10^3 .. 10^6 runs, on 1 and 2 threads,
then with seeded noise on, and with the full 314-variable state. Pulse's time includes the
streaming aggregation (mean, sd and quantiles of every slot at every turn); the original keeps
no statistics. Prints medians of --repeat runs and the ratio to the original's median rate.

  scripts/build release
  sudo scripts/make-sim-golden          # once: builds the Debian 13 root with the original
  .venv/bin/python bench/sim_bench.py [--repeat 3] [--max-runs 1000000]
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pulse(binary, runs, turns, threads, noise, state):
    cmd = [str(binary), str(ROOT / "data/sim/catalog.yaml"), str(ROOT / "data/sim/rules.yaml"), "--runs", str(runs),
           "--turns", str(turns), "--threads", str(threads), "--noise", str(noise), "--state", state]
    if threads == 1:
        cmd = ["taskset", "-c", "0"] + cmd
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def original(repeat):
    out = subprocess.run([sys.executable, str(ROOT / "bench/sim_original.py"), "--runs", "200", "--turns", "52",
                          "--repeat", str(repeat), "--quiet-logging"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("the original could not run: " + out.stderr.strip())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--turns", type=int, default=52)
    ap.add_argument("--max-runs", type=int, default=1_000_000)
    ap.add_argument("--binary", default=str(ROOT / "build/release/bench/sim_throughput"))
    args = ap.parse_args()

    base = original(args.repeat)
    base_rate = base["run_turns_per_s_median"]
    print(f"original Python Pulse: {base_rate:,.0f} run-turns/s (median of {args.repeat}; 200 runs x 52 turns, one core)")
    print(f"\n{'workload':34s} {'runs':>9s} {'thr':>4s} {'seconds':>9s} {'run-turns/s':>14s} "
          f"{'var-updates/s':>15s} {'MiB':>7s} {'vs original':>12s}")
    cases = []
    k = 1000
    while k <= args.max_runs:
        for threads in (1, 2):
            cases.append(("deterministic, drivers state", k, threads, 0.0, "drivers"))
        k *= 10
    for k in (1000, 10000, 100000):
        if k <= args.max_runs:
            cases.append(("noise on, drivers state", k, 1, 0.01, "drivers"))
            cases.append(("noise on, drivers state", k, 2, 0.01, "drivers"))
    for k in (1000, 10000):
        cases.append(("noise on, full 314-variable state", k, 1, 0.01, "full"))
        cases.append(("noise on, full 314-variable state", k, 2, 0.01, "full"))
    for name, runs, threads, noise, state in cases:
        results = [pulse(args.binary, runs, args.turns, threads, noise, state) for _ in range(args.repeat)]
        rate = statistics.median(r["run_turns_per_s"] for r in results)
        secs = statistics.median(r["seconds"] for r in results)
        upd = statistics.median(r["variable_updates_per_s"] for r in results)
        mib = max(r["max_rss_mib"] for r in results)
        print(f"{name:34s} {runs:9d} {threads:4d} {secs:9.3f} {rate:14,.0f} {upd:15,.0f} {mib:7.1f} "
              f"{rate / base_rate:11,.0f}x", flush=True)


if __name__ == "__main__":
    main()
