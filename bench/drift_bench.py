#!/usr/bin/env python3
"""Drift detection, Pulse (src/drift) vs river and scipy, side by side in one run.

1. Streaming detectors: --streams synthetic streams of --length values with a known change point
   (uniform in the middle half): Gaussian noise whose mean moves by --shift (ADWIN, Page-Hinkley)
   and 0/1 errors whose rate moves from 0.1 to 0.3 (DDM). Pulse's bench/drift_throughput and
   river's detectors (default parameters) see the same streams; the script scores both sides' detections
   the same way: detection rate (a detection at or after the change), median delay (first
   detection at or after the change, minus the change), false alarms (streams with a detection
   before the change; alarms per 10^4 pre-change values), and whether both sides detected at
   exactly the same indices. Time: all streams through each detector, one thread each side.
Times are CPU seconds of each side's process (the machine is shared: wall time would include the
neighbours), medians of --repeat runs.
2. Input drift: --series series x --points reference and current values each (the current window
   shifted by a per-series amount): Pulse's drift::CompareWindows (KS with its exact p-value, PSI,
   Jensen-Shannon, normed Wasserstein) vs scipy.stats.ks_2samp + Evidently's PSI binning with numpy
   + scipy.stats.wasserstein_distance / std, one thread each side, with a checksum of KS statistic
   + p-value + PSI + Wasserstein that must agree.

  cmake --preset release && cmake --build --preset release --target drift_throughput
  python3 -m venv build/bench-venv && build/bench-venv/bin/pip install -r bench/requirements.txt
  build/bench-venv/bin/python bench/drift_bench.py [--streams 1000] [--series 10000] [--repeat 3]
"""
import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import river
import scipy
from river import drift
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]


def pulse(binary, *args):
    out = subprocess.run(["taskset", "-c", "0", str(binary), *map(str, args)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def river_detections(make, streams):
    all_hits, start = [], time.process_time()
    for s in streams:
        det, hits = make(), []
        for i, v in enumerate(s):
            det.update(v)
            if det.drift_detected:
                hits.append(i)
        all_hits.append(hits)
    return all_hits, time.process_time() - start


def score(hits, changes, length):
    delays, detected, false_streams, false_alarms = [], 0, 0, 0
    for h, cp in zip(hits, changes):
        after = [i for i in h if i >= cp]
        before = [i for i in h if i < cp]
        if after:
            detected += 1
            delays.append(after[0] - cp)
        false_streams += bool(before)
        false_alarms += len(before)
    pre = sum(changes)
    return {"detected": detected / len(hits), "median_delay": statistics.median(delays) if delays else None,
            "false_alarm_streams": false_streams / len(hits), "false_alarms_per_1e4": 1e4 * false_alarms / pre}


def bench_streams(args, binary, tmp):
    rng = np.random.default_rng(args.seed)
    n, length = args.streams, args.length
    changes = rng.integers(length // 4, 3 * length // 4, n)
    values = rng.normal(0, 1, (n, length))
    binary_errors = (rng.random((n, length)) < 0.1).astype(float)
    for s, cp in enumerate(changes):
        values[s, cp:] += args.shift
        binary_errors[s, cp:] = (rng.random(length - cp) < 0.3).astype(float)
    vp, bp = tmp / "values.f64", tmp / "binary.f64"
    values.tofile(vp)
    binary_errors.tofile(bp)
    rows = []
    for name, make, data in [("adwin", drift.ADWIN, values), ("page_hinkley", drift.PageHinkley, values),
                             ("ddm", drift.binary.DDM, binary_errors)]:
        p_times, r_times, p_hits, r_hits = [], [], None, None
        for _ in range(args.repeat):
            out = pulse(binary, "streams", vp, bp, n, length)
            p_times.append(out["seconds"][name])
            p_hits = out[name]
            streams = [[int(x) for x in row] for row in data] if name == "ddm" else [list(row) for row in data]
            r_hits, t = river_detections(make, streams)
            r_times.append(t)
        p, r = score(p_hits, changes, length), score(r_hits, changes, length)
        same = sum(a == b for a, b in zip(p_hits, r_hits)) / n
        pt, rt = statistics.median(p_times), statistics.median(r_times)
        rows.append((name, p, r, same, pt, rt))
        print(f"{name:13s} detected {p['detected']:.3f} vs {r['detected']:.3f}; median delay "
              f"{p['median_delay']} vs {r['median_delay']}; false-alarm streams {p['false_alarm_streams']:.3f} vs "
              f"{r['false_alarm_streams']:.3f} ({p['false_alarms_per_1e4']:.2f} vs {r['false_alarms_per_1e4']:.2f} "
              f"per 1e4 pre-change values); identical detections {same:.3f}; time {pt:.3f} s vs {rt:.3f} s "
              f"= {rt / pt:.1f}x", flush=True)
    return rows


def evidently_psi(ref, cur):
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    r = np.histogram(ref, edges)[0] / len(ref)
    c = np.histogram(cur, edges)[0] / len(cur)
    for p in (r, c):
        mn = min(p[p != 0])
        np.place(p, p == 0, mn / 10**6 if mn <= 0.0001 else 0.0001)
    return float(np.sum((r - c) * np.log(r / c)))


def bench_input(args, binary, tmp):
    rng = np.random.default_rng(args.seed + 1)
    s, n = args.series, args.points
    ref = rng.normal(0, 1, (s, n))
    cur = rng.normal(0, 1, (s, n)) + rng.uniform(0, 0.3, (s, 1))
    rp, cp = tmp / "ref.f64", tmp / "cur.f64"
    ref.tofile(rp)
    cur.tofile(cp)
    p_times, s_times = [], []
    for _ in range(args.repeat):
        out = pulse(binary, "input", rp, cp, s, n)
        p_times.append(out["seconds"])
        start = time.process_time()
        checksum = 0.0
        for i in range(s):
            ks = stats.ks_2samp(ref[i], cur[i])
            checksum += float(ks.statistic) + float(ks.pvalue) + evidently_psi(ref[i], cur[i])
            checksum += float(stats.wasserstein_distance(ref[i], cur[i]) / max(np.std(ref[i]), 0.001))
        s_times.append(time.process_time() - start)
        assert abs(checksum - out["checksum"]) <= 1e-9 * abs(checksum), (checksum, out["checksum"])
    pt, st = statistics.median(p_times), statistics.median(s_times)
    print(f"input drift, {s} series x {n} points (KS + PSI + Wasserstein): Pulse {pt:.3f} s, scipy {st:.3f} s "
          f"= {st / pt:.1f}x (checksums agree to 1e-9)", flush=True)
    return pt, st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--length", type=int, default=2000)
    ap.add_argument("--shift", type=float, default=1.0)
    ap.add_argument("--series", type=int, default=10000)
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--binary", default=str(ROOT / "build/release/bench/drift_throughput"))
    args = ap.parse_args()
    print(f"river {river.__version__}, scipy {scipy.__version__}, numpy {np.__version__}; medians of {args.repeat}",
          flush=True)
    with tempfile.TemporaryDirectory() as d:
        bench_streams(args, args.binary, Path(d))
        bench_input(args, args.binary, Path(d))


if __name__ == "__main__":
    main()
