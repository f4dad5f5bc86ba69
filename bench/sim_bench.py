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

The real workload (full 314-variable state, noise on, one core) is also run against its honest
peer, bench/sim_numpy.py: the same rules and noise model vectorised over runs with NumPy, computing
the same per-step statistics. Both run in turn, --repeat times, on core 0; the table gives wall and
CPU-time rates (the CPU-time rate is the steadier one on a shared machine) and the ratio, and the
last step's mean and quantiles of a few columns are checked to agree within Monte Carlo error.
The same real workload also runs in the original, as a user would add noise to it
(bench/sim_original.py --noise: the original's WorldState with the registry's 304 variables + the 10
drivers, random.gauss jitter and per-turn shocks clipped to the ranges, run_turn per turn, every
step's values kept and summarised with NumPy at the end), --original-runs runs (default 20: with the
full registry each of its turns takes tens of milliseconds, almost all in rules/rule_audit_layer.py's
audit_rule, which deep-copies the variables dict once per variable for every static rule that fires),
alternating with the other two; its ratio is printed next to Pulse / NumPy.
Without the original's Debian root (or not as root) the original's rows are skipped with a note.

  scripts/build release
  sudo scripts/make-sim-golden          # once: builds the Debian 13 root with the original
  .venv/bin/python bench/sim_bench.py [--repeat 3] [--max-runs 1000000] [--only real] [--real-runs 10000]
                                      [--original-runs 20] [--original-rng gauss|numpy]
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
        print("original Python Pulse: not run here: " + out.stderr.strip().splitlines()[-1])
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


STATS = "hope,tension,fragility,us_10y_yield,ppi_final_demand,delta.hope"


def copy_bandwidth():
    """A STREAM-like copy on one core (NumPy copyto of 256 MiB, best of 5): bytes read + written per second."""
    code = ("import numpy as np, time\n"
            "a = np.ones(32 << 20); b = np.empty_like(a); best = 1e9\n"
            "for _ in range(5):\n"
            "    t = time.perf_counter(); np.copyto(b, a); best = min(best, time.perf_counter() - t)\n"
            "print(2 * a.nbytes / best)")
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def original_noisy(runs, turns, seed, rng):
    """One run of the original with noise (bench/sim_original.py --noise 0.01) on core 0; None if it
    cannot run here (no Debian root, not root), with the reason printed."""
    cmd = ["taskset", "-c", "0", sys.executable, str(ROOT / "bench/sim_original.py"), "--noise", "0.01",
           "--rng", rng, "--runs", str(runs), "--turns", str(turns), "--repeat", "1", "--seed", str(seed),
           "--quiet-logging", "--stats", STATS]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print("original Python Pulse with noise: not run here: " + (out.stderr.strip().splitlines() or ["?"])[-1])
        return None
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return dict(res, seconds=res["seconds"][0], cpu_seconds=res["cpu_seconds"][0])


def real_workload(binary, runs, turns, repeat, original_runs, original_rng):
    """Pulse vs the NumPy peer (and the original with noise, original_runs runs, if it can run here;
    0: not run) on the full state with noise, one core, side by side."""
    common = ["--runs", str(runs), "--turns", str(turns), "--noise", "0.01", "--state", "full", "--stats", STATS]
    pulse_cmd = ["taskset", "-c", "0", str(binary), str(ROOT / "data/sim/catalog.yaml"),
                 str(ROOT / "data/sim/rules.yaml"), "--threads", "1"] + common
    numpy_cmd = ["taskset", "-c", "0", sys.executable, str(ROOT / "bench/sim_numpy.py")] + common
    rows = {"pulse": [], "numpy": [], "original": []}
    run_count = {"pulse": runs, "numpy": runs, "original": original_runs}
    stats = {}
    for i in range(repeat):
        for name, cmd in (("pulse", pulse_cmd), ("numpy", numpy_cmd)):
            lines = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()
            objs = [json.loads(x) for x in lines]
            result = next(o for o in objs if "run_turns_per_s" in o)
            stats[name] = next(o["stats"] for o in objs if "stats" in o)
            rows[name].append(result)
        if original_runs > 0 and (i == 0 or rows["original"]):
            res = original_noisy(original_runs, turns, i + 1, original_rng)
            if res:
                rows["original"].append(res)
                stats["original"] = res["stats"]
    print(f"\nreal workload: full 314-variable state, noise 0.01, {turns} turns, one core "
          f"(median of {repeat}, alternating)")
    print(f"{'implementation':26s} {'runs':>6s} {'wall s':>8s} {'run-turns/s':>12s} {'cpu s':>8s} "
          f"{'run-turns/cpu-s':>16s} {'var-updates/cpu-s':>18s} {'MiB':>7s}")
    med = {}
    label = {"pulse": "pulse", "numpy": "numpy", "original": f"original + noise ({original_rng})"}
    for name in ("pulse", "numpy", "original"):
        r = rows[name]
        if not r:
            continue
        k = run_count[name]
        wall = statistics.median(x["seconds"] for x in r)
        cpu = statistics.median(x["cpu_seconds"] for x in r)
        slots = r[0]["slots"]
        med[name] = (k * turns / wall, k * turns / cpu)
        print(f"{label[name]:26s} {k:6d} {wall:8.2f} {k * turns / wall:12,.0f} {cpu:8.2f} {k * turns / cpu:16,.0f} "
              f"{k * turns * slots / cpu:18,.0f} {max(x['max_rss_mib'] for x in r):7.1f}")
    print(f"Pulse / NumPy: {med['pulse'][0] / med['numpy'][0]:.2f}x wall, {med['pulse'][1] / med['numpy'][1]:.2f}x "
          "per CPU second")
    if "original" in med:
        summary = statistics.median(x["summary_cpu_seconds"][0] for x in rows["original"])
        print(f"Pulse / original with noise: {med['pulse'][0] / med['original'][0]:,.0f}x wall, "
              f"{med['pulse'][1] / med['original'][1]:,.0f}x per CPU second (the original's CPU time includes "
              f"{summary:.2f} s of NumPy summary at the end)")
    bw = copy_bandwidth()
    slots = rows["pulse"][0]["slots"]
    # Each variable update reads and writes its 8-byte value at least once: 16 bytes.
    print(f"memory bandwidth (one core, copy): {bw / 1e9:.1f} GB/s = {bw / 16 / 1e6:,.0f}M variable updates/s at "
          f"16 bytes each; Pulse does {med['pulse'][1] * slots / 1e6:,.0f}M per CPU second "
          f"({med['pulse'][1] * slots * 16 / bw:.1%} of it)")
    # Same model, different random streams: means within 5 standard errors of the difference,
    # quantiles within 5% of the spread (plus Pulse's 2^-8 relative sketch bound).
    worst = 0.0
    for col in STATS.split(","):
        p, q = stats["pulse"][col], stats["numpy"][col]
        se = ((p["sd"] ** 2 + q["sd"] ** 2) / runs) ** 0.5
        z = abs(p["mean"] - q["mean"]) / se if se > 0 else (0.0 if p["mean"] == q["mean"] else float("inf"))
        worst = max(worst, z)
        spread = max(p["sd"], q["sd"], 1e-12)
        qdiff = max(abs(a - b) / spread for a, b in zip(p["quantiles"], q["quantiles"]))
        print(f"  {col:20s} mean {p['mean']:.6g} vs {q['mean']:.6g} ({z:.1f} s.e.); 5/50/95%: "
              + " ".join(f"{a:.5g}/{b:.5g}" for a, b in zip(p["quantiles"], q["quantiles"]))
              + f" (max diff {qdiff:.2f} sd)")
    print("agreement: " + ("within Monte Carlo error" if worst < 5 else f"MEANS DIFFER ({worst:.1f} s.e.)"))
    if "original" in stats:
        # Slot columns only: the original's run keeps the slots, not the derived columns.
        worst = 0.0
        for col, q in stats["original"].items():
            p = stats["pulse"][col]
            se = (p["sd"] ** 2 / runs + q["sd"] ** 2 / original_runs) ** 0.5
            z = abs(p["mean"] - q["mean"]) / se if se > 0 else (0.0 if p["mean"] == q["mean"] else float("inf"))
            worst = max(worst, z)
            print(f"  original {col:20s} mean {q['mean']:.6g} vs Pulse {p['mean']:.6g} ({z:.1f} s.e.); 5/50/95%: "
                  + " ".join(f"{b:.5g}/{a:.5g}" for a, b in zip(p["quantiles"], q["quantiles"])))
        print("original vs Pulse: " + ("within Monte Carlo error" if worst < 5 else f"MEANS DIFFER ({worst:.1f} s.e.)"))
    return med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--turns", type=int, default=52)
    ap.add_argument("--max-runs", type=int, default=1_000_000)
    ap.add_argument("--binary", default=str(ROOT / "build/release/bench/sim_throughput"))
    ap.add_argument("--only", choices=["all", "real"], default="all", help="real: only Pulse vs NumPy (and the original)")
    ap.add_argument("--real-runs", type=int, default=10000)
    ap.add_argument("--original-runs", type=int, default=20, help="runs of the original with noise (0: skip it)")
    ap.add_argument("--original-rng", choices=["gauss", "numpy"], default="gauss",
                    help="how the original's noise is drawn: random.gauss per slot, or NumPy per state")
    args = ap.parse_args()

    base = original(args.repeat)
    base_rate = base["run_turns_per_s_median"] if base else None
    if base:
        print(f"original Python Pulse: {base_rate:,.0f} run-turns/s (median of {args.repeat}; 200 runs x 52 turns, "
              "one core, drivers state, no noise)")
    med = real_workload(args.binary, args.real_runs, args.turns, args.repeat, args.original_runs if base else 0,
                        args.original_rng)
    if base:
        print(f"real workload vs the original's deterministic drivers-state rate: Pulse {med['pulse'][0] / base_rate:,.0f}x, "
              f"NumPy {med['numpy'][0] / base_rate:,.0f}x (wall)")
    if args.only == "real":
        return
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
        ratio = f"{rate / base_rate:11,.0f}x" if base_rate else f"{'-':>12s}"
        print(f"{name:34s} {runs:9d} {threads:4d} {secs:9.3f} {rate:14,.0f} {upd:15,.0f} {mib:7.1f} {ratio}",
              flush=True)


if __name__ == "__main__":
    main()
