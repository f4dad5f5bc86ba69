"""Monte Carlo over Dask (pulse.dask) vs one process, and the per-task overhead of a Dask chunk vs a
`pulse worker` chunk over Redis (`pulse simulate --broker`).

  scripts/python-package   # builds the package into build/python-venv
  build/python-venv/bin/python bench/dask_bench.py [--runs 20000] [--turns 52] [--partitions N]
      [--repeat 3] [--tasks 200] [--pulse build/release/apps/pulse/pulse]

Scaling: the batch (full 314-variable state, noise on, the bundled rules) as `--partitions` chunk
tasks (default one per worker) on a LocalCluster of 1 and then 2 workers of one thread each, as
worker processes (summaries pickled between them) and as threads of this process, next to
pulse.simulate(threads=1) in this process; every Dask result is checked to equal the single-process
summary byte for byte. Overhead: a batch of `--tasks` chunks of one run of one turn each, minus the
same with one chunk, per extra chunk: on 1 Dask worker process (task submission, scheduling,
pickling the summary, the merge tree), and through one `pulse worker --concurrency 1` behind a
throwaway redis-server (`pulse simulate --broker URL --chunks N`, which includes its process start
in both terms). Medians of --repeat.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import distributed

import pulse
import pulse.dask

from bench_util import free_port

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, repeat):
    out, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out), result


def scaling(args):
    single, want = timed(lambda: pulse.simulate(args.runs, turns=args.turns, seed=1, threads=1), args.repeat)
    rows = [("pulse.simulate, 1 thread, this process", single)]
    for processes in (True, False):
        for workers in (1, 2):
            parts = args.partitions or workers
            with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                                          dashboard_address=None, silence_logs=40) as cluster, \
                    distributed.Client(cluster) as client:
                pulse.dask.simulate(client, 100, partitions=workers, turns=1)  # warm the workers' imports
                t, got = timed(lambda: pulse.dask.simulate(client, args.runs, partitions=parts,
                                                           turns=args.turns, seed=1), args.repeat)
                assert got.to_bytes() == want.to_bytes(), "Dask result differs from the single-process one"
                kind = "process" if processes else "thread"
                rows.append((f"pulse.dask, {workers} worker {kind}(s), {parts} partitions", t))
    run_turns = args.runs * args.turns
    print(f"Monte Carlo batch: {args.runs} runs x {args.turns} turns, full state, noise 0.01, "
          f"{os.cpu_count()} cores, median of {args.repeat}")
    print(f"{'':<62}{'seconds':>9}{'run-turns/s':>14}{'vs 1 process':>14}")
    for name, t in rows:
        print(f"{name:<62}{t:>9.3f}{run_turns / t:>14,.0f}{single / t:>13.2f}x")


def dask_overhead(args):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        pulse.dask.simulate(client, 1, partitions=1, turns=1)
        t1, _ = timed(lambda: pulse.dask.simulate(client, 1, partitions=1, turns=1), args.repeat)
        tn, _ = timed(lambda: pulse.dask.simulate(client, args.tasks, partitions=args.tasks, turns=1), args.repeat)
    return t1, tn


def broker_overhead(args):
    work = Path(tempfile.mkdtemp(prefix="pulse-dask-bench-"))
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    worker = None
    try:
        time.sleep(0.3)
        worker = subprocess.Popen([args.pulse, "worker", "--broker", url, "--concurrency", "1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

        def run(chunks):
            subprocess.run([args.pulse, "simulate", "--broker", url, "--chunks", str(chunks), "--runs", str(chunks),
                            "--turns", "1", "--no-lake"], check=True, stdout=subprocess.DEVNULL)

        run(1)
        t1, _ = timed(lambda: run(1), args.repeat)
        tn, _ = timed(lambda: run(args.tasks), args.repeat)
    finally:
        for p in (worker, redis):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return t1, tn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20000)
    ap.add_argument("--turns", type=int, default=52)
    ap.add_argument("--partitions", type=int, default=0, help="chunks (default: one per worker)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--pulse", default=str(ROOT / "build/release/apps/pulse/pulse"))
    ap.add_argument("--skip", choices=["scaling", "overhead"], action="append", default=[])
    args = ap.parse_args()
    if "scaling" not in args.skip:
        scaling(args)
    if "overhead" not in args.skip:
        d1, dn = dask_overhead(args)
        b1, bn = broker_overhead(args)
        print(f"\nPer-task overhead: {args.tasks} chunks of 1 run x 1 turn minus 1 chunk, per extra chunk, "
              f"one worker process, median of {args.repeat}")
        print(f"{'':<48}{'1 chunk (s)':>12}{f'{args.tasks} chunks (s)':>16}{'ms/task':>10}")
        for name, a, b in (("pulse.dask (LocalCluster, 1 process)", d1, dn),
                           ("pulse simulate --broker + pulse worker (Redis)", b1, bn)):
            print(f"{name:<48}{a:>12.3f}{b:>16.3f}{1000 * (b - a) / (args.tasks - 1):>10.2f}")


if __name__ == "__main__":
    main()
