"""`pulse forecast` on many synthetic series: in one process vs `--broker` chunk tasks on 1 and 2
`pulse worker --concurrency 1` processes over a real redis-server (pipeline/forecast_chunks.h).

    .venv/bin/python bench/forecast_chunks_bench.py --series 10000 --chunks 8

Makes N monthly series (--points each: level, trend, yearly season, noise) as a CSV, ingests it
once with `pulse ingest`, then forecasts a fresh copy of that lake per configuration:
  process/1 core    pulse forecast, pinned to CPU 0 (taskset)
  process/2 cores   pulse forecast, unpinned
  broker/1 worker   pulse forecast --broker --chunks C, one worker pinned to CPU 0
  broker/2 workers  the same with two workers, pinned to CPU 0 and CPU 1
(a task fits its chunk on the process's thread pool, so pinning is what makes a worker one core).
Prints wall seconds, series/s, the ratio to process/1 core, and the CPU seconds of every process
of the configuration (coordinator and workers: RUSAGE_CHILDREN after they exit). Checks that every
configuration wrote the same number of rows.
"""
import argparse
import math
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_util import free_port

ROOT = Path(__file__).resolve().parents[1]


def write_csv(path, series, points, seed=7):
    rng = random.Random(seed)
    months = [f"{2015 + m // 12}-{m % 12 + 1:02d}-01T00:00:00Z" for m in range(points)]
    with open(path, "w") as out:
        out.write("name,ts,value,kind\n")
        for s in range(series):
            level = 100 + rng.random() * 900
            trend, amp = rng.uniform(-1, 2), rng.uniform(0, 0.2) * level
            name = f"s{s:06d}"
            for m in range(points):
                v = level + trend * m + amp * math.sin(2 * math.pi * m / 12) + rng.gauss(0, 0.05 * level)
                out.write(f"{name},{months[m]},{v:.4f},bench\n")


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def forecast_rows(stdout):
    """The rows written, from "...: R rows, ..." (one process) or "... written (R rows) ..." (broker)."""
    m = re.search(r"(\d+) rows", stdout)
    return int(m.group(1)) if m else -1


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=10000)
    ap.add_argument("--points", type=int, default=60)
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--binary", default=str(ROOT / "build/release/apps/pulse/pulse"))
    ap.add_argument("--only", default="", help="comma-separated configuration names to run (default: all)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pulse-fchunks-"))
    redis = None
    try:
        csv = work / "signals.csv"
        t0 = time.perf_counter()
        write_csv(csv, args.series, args.points)
        base = work / "base"
        run([args.binary, "--lake", base, "ingest", csv])
        print(f"{args.series} series x {args.points} monthly points ingested in {time.perf_counter() - t0:.1f} s "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)
        port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.5)
        configs = [("process/1 core", ["taskset", "-c", "0"], None),
                   ("process/2 cores", [], None),
                   ("broker/1 worker", [], ["0"]),
                   ("broker/2 workers", [], ["0", "1"])]
        only = set(filter(None, args.only.split(",")))
        results = []
        for name, prefix, worker_cpus in configs:
            if only and name not in only:
                continue
            lake = work / name.replace("/", "_").replace(" ", "_")
            shutil.copytree(base, lake)
            workers = []
            for cpu in worker_cpus or []:
                workers.append(subprocess.Popen(
                    ["taskset", "-c", cpu, args.binary, "worker", "--broker", url, "--concurrency", "1",
                     "--lake", str(lake)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
            time.sleep(0.5 if workers else 0)
            cpu0, load0 = cpu_children(), os.getloadavg()[0]
            t0 = time.perf_counter()
            cmd = [*prefix, args.binary, "--lake", lake, "forecast"]
            if worker_cpus:
                cmd += ["--broker", url, "--chunks", str(args.chunks)]
            out = run(cmd)
            wall = time.perf_counter() - t0
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                w.communicate(timeout=120)
            cpu = cpu_children() - cpu0
            results.append((name, wall, cpu, forecast_rows(out), os.getloadavg()[0], load0))
            print(f"{name:18s} {wall:8.2f} s  {args.series / wall:8.1f} series/s  CPU {cpu:8.2f} s  "
                  f"rows {results[-1][3]}  load {load0:.1f}->{results[-1][4]:.1f}", flush=True)
            if worker_cpus:
                for line in out.splitlines():
                    if "pass 1" in line:
                        print(" " * 19 + line.strip(), flush=True)
            shutil.rmtree(lake)
        rows = {r[3] for r in results}
        if len(rows) != 1:
            sys.exit(f"the configurations wrote different row counts: {rows}")
        base_wall = next((r[1] for r in results if r[0] == "process/1 core"), None)
        if base_wall:
            print("\nratio of series/s to process/1 core:")
            for name, wall, cpu, *_ in results:
                print(f"  {name:18s} {base_wall / wall:5.2f}x  (CPU s per 1000 series {1000 * cpu / args.series:.2f})")
    finally:
        if redis:
            redis.terminate()
            redis.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
