#!/usr/bin/env python3
"""Pulse's main job (`pulse run`) end to end: wall time of a first run on a fresh lake, of a rerun
on the same data (idempotent: nothing new to write), and of both with the stages on a remote
`pulse worker` through redis-server (started here, loopback) instead of in-process threads.
Prints the median of --repeat runs of each and the ratios.

There is no peer that runs this pipeline (the original Python Pulse has no equivalent command);
the point is the README's promise (the main job finishes in well under 30 s on 2 cores) and the
cost of the Redis broker against the embedded one.

  scripts/build release
  .venv/bin/python bench/run_bench.py [--repeat 5]
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

from jobs_bench import start_redis_server  # noqa: E402  (bench/ is on sys.path)

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(pulse, work: Path, repeat: int, broker: str):
    cold, warm = [], []
    for i in range(repeat):
        d = work / f"{broker.split(':')[0]}-{i}"
        shutil.rmtree(d, ignore_errors=True)
        cmd = [pulse, "--lake", str(d / "lake"), "run", "--out", str(d / "out"), "--broker", broker]
        cold.append(timed(cmd))
        warm.append(timed(cmd))
    return statistics.median(cold), statistics.median(warm)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pulse", default=str(ROOT / "build/release/apps/pulse/pulse"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pulse-run-bench-"))
    redis, _, url = start_redis_server(work)
    worker = None
    try:
        time.sleep(0.3)
        inproc = measure(args.pulse, work, args.repeat, "inproc")
        # The worker may ingest the bundled dataset (its inbox) into lakes under the work folder.
        worker = subprocess.Popen([args.pulse, "worker", "--broker", url, "--concurrency", "1",
                                   "--set", f"ingest.inbox={ROOT / 'data'}", "--set", f"jobs.lake_roots={work}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        remote = measure(args.pulse, work, args.repeat, url)
    finally:
        for p in (worker, redis):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    cores = os.cpu_count()
    print(f"pulse run on the bundled US macro data, {cores} cores, median of {args.repeat}")
    print(f"{'broker':<22}{'first run (s)':>15}{'rerun (s)':>12}")
    print(f"{'inproc (embedded)':<22}{inproc[0]:>15.2f}{inproc[1]:>12.2f}")
    print(f"{'redis + pulse worker':<22}{remote[0]:>15.2f}{remote[1]:>12.2f}")
    print(f"redis / inproc: first run {remote[0] / inproc[0]:.2f}x, rerun {remote[1] / inproc[1]:.2f}x")


if __name__ == "__main__":
    main()
