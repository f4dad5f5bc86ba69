#!/usr/bin/env python3
"""Task throughput, Pulse workers vs Python Celery workers, side by side in one run.

One redis-server (started here, loopback) serves both. For each worker kind and task: the worker
is started and warmed up (one task round-trip), then N Celery protocol v2 messages are pushed
onto its queue in one pipeline and the clock runs until every task's result is in Celery's
result backend (celery-task-meta-<id>). Same Redis, same concurrency, same messages.

  pulse.noop      returns its arguments (both workers)
  pulse.simulate  a small Monte Carlo (200 runs x 10 turns of the bundled rules, with noise): Pulse
                  workers only - Python Celery has no implementation of it to compare with

  scripts/build release
  .venv/bin/python bench/jobs_bench.py [--tasks 20000] [--concurrency 2] [--repeat 3]
"""
import argparse
import base64
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis

from bench_util import free_port

ROOT = Path(__file__).resolve().parents[1]


def start_redis_server(workdir):
    """A throwaway redis-server on loopback (no persistence); returns (process, port, url)."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    return proc, port, f"redis://127.0.0.1:{port}/0"


def envelope(task, task_id, args, kwargs, queue):
    body = base64.b64encode(json.dumps([args, kwargs, {"callbacks": None, "errbacks": None, "chain": None,
                                                        "chord": None}]).encode()).decode()
    return json.dumps({
        "body": body, "content-encoding": "utf-8", "content-type": "application/json",
        "headers": {"lang": "py", "task": task, "id": task_id, "shadow": None, "eta": None, "expires": None,
                    "group": None, "group_index": None, "retries": 0, "timelimit": [None, None],
                    "root_id": task_id, "parent_id": None, "argsrepr": repr(args), "kwargsrepr": repr(kwargs),
                    "origin": f"{os.getpid()}@bench", "ignore_result": False, "replaced_task_nesting": 0,
                    "stamped_headers": None, "stamps": {}},
        "properties": {"correlation_id": task_id, "reply_to": str(uuid.uuid4()), "delivery_mode": 2,
                       "delivery_info": {"exchange": "", "routing_key": queue}, "priority": 0,
                       "body_encoding": "base64", "delivery_tag": str(uuid.uuid4())}})


def wait_results(r, ids, timeout=600):
    keys = [f"celery-task-meta-{i}" for i in ids]
    deadline = time.time() + timeout
    pending = keys
    while pending and time.time() < deadline:
        found = r.exists(*pending[:1000]) if pending else 0
        if found == min(1000, len(pending)):
            pending = pending[1000:]
            continue
        time.sleep(0.01)
    if pending:
        raise RuntimeError(f"{len(pending)} results missing")


def run_batch(r, queue, task, kwargs, n):
    """kwargs: a dict, or a function of the task's index (distinct arguments defeat the cache)."""
    ids = [str(uuid.uuid4()) for _ in range(n)]
    messages = [envelope(task, i, [], kwargs(k) if callable(kwargs) else kwargs, queue) for k, i in enumerate(ids)]
    pipe = r.pipeline(transaction=False)
    t0 = time.perf_counter()
    for m in messages:
        pipe.lpush(queue, m)
    pipe.execute()
    wait_results(r, ids)
    return n / (time.perf_counter() - t0)


def send_paced(r, queue, ids, messages, rate, clock):
    """LPUSHes the messages one by one at `rate` per second (busy-waiting for each slot); returns
    {task id: clock() just before its LPUSH}."""
    sent = {}
    t0 = time.perf_counter()
    for k, (task_id, m) in enumerate(zip(ids, messages)):
        target = t0 + k / rate
        while time.perf_counter() < target:
            pass
        sent[task_id] = clock()
        r.lpush(queue, m)
    return sent


def latency(r, queue, rate, n):
    """Sends n no-op tasks at `rate` per second and returns enqueue-to-result latencies (seconds):
    time from just before the LPUSH to the result's PUBLISH reaching a subscriber - an upper bound
    on enqueue-to-start, including the task, the result write and the client's own delays."""
    import threading
    ids = [str(uuid.uuid4()) for _ in range(n)]
    messages = [envelope("pulse.noop", i, [], {}, queue) for i in ids]
    arrived = {}
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("celery-task-meta-*")
    done = threading.Event()

    def listen():
        while not done.is_set():
            msg = pubsub.get_message(timeout=0.01)
            if msg and msg["type"] == "pmessage":
                arrived[msg["channel"][len(b"celery-task-meta-"):].decode()] = time.perf_counter()

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.2)
    sent = send_paced(r, queue, ids, messages, rate, time.perf_counter)
    deadline = time.time() + 60
    while len(arrived) < n and time.time() < deadline:
        time.sleep(0.01)
    done.set()
    listener.join()
    pubsub.close()
    return sorted(arrived[i] - sent[i] for i in ids if i in arrived)


def start_latency(r, queue, rate, n):
    """Sends n no-op tasks at `rate` per second and returns enqueue-to-start latencies (seconds):
    from the wall clock just before each LPUSH to the worker's own wall-clock `date_done` in the
    task's result (same machine, same clock). For the no-op task the run between start and
    date_done is a few microseconds, so this is enqueue-to-start plus that; unlike the
    subscriber-based measure above, no client wake-up is included."""
    from datetime import datetime
    ids = [str(uuid.uuid4()) for _ in range(n)]
    messages = [envelope("pulse.noop", i, [], {}, queue) for i in ids]
    sent = send_paced(r, queue, ids, messages, rate, time.time)
    wait_results(r, ids, timeout=120)
    metas = r.mget([f"celery-task-meta-{i}" for i in ids])
    out = []
    for task_id, raw in zip(ids, metas):
        done = json.loads(raw)["date_done"].replace("Z", "+00:00")
        out.append(datetime.fromisoformat(done).timestamp() - sent[task_id])
    return sorted(out)


def start_pulse(url, queue, concurrency, binary):
    return subprocess.Popen([binary, "worker", "--broker", url, "--concurrency", str(concurrency), "--queues", queue],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_celery(url, queue, concurrency, workdir):
    (workdir / "benchtasks.py").write_text(
        "from celery import Celery\n"
        f"app = Celery('benchtasks', broker={url!r}, backend={url!r})\n"
        "@app.task(name='pulse.noop')\n"
        "def noop(*args):\n"
        "    return list(args)\n")
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "benchtasks", "worker", "--pool", "threads",
                             "--concurrency", str(concurrency), "-Q", queue, "--without-heartbeat",
                             "--without-mingle", "--without-gossip", "--loglevel", "ERROR"], cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency-tasks", type=int, default=3000)
    ap.add_argument("--binary", default=str(ROOT / "build/release/apps/pulse/pulse"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pulse-jobs-bench."))
    server, port, url = start_redis_server(work)
    r = redis.Redis(port=port)
    for _ in range(100):
        try:
            r.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    rates, latencies, start_latencies = {}, {}, {}
    try:
        for kind in ("pulse", "celery"):
            queue = f"bench-{kind}"
            proc = start_pulse(url, queue, args.concurrency, args.binary) if kind == "pulse" else \
                start_celery(url, queue, args.concurrency, work)
            try:
                run_batch(r, queue, "pulse.noop", {}, 10)  # warm-up: the worker is consuming
                rates[(kind, "noop")] = [run_batch(r, queue, "pulse.noop", {}, args.tasks) for _ in range(args.repeat)]
                half = statistics.median(rates[(kind, "noop")]) / 2  # half of this worker's saturation
                lat = latency(r, queue, half, args.latency_tasks)
                latencies[kind] = (half, lat)
                start_latencies[kind] = (half, start_latency(r, queue, half, args.latency_tasks))
                if kind == "pulse":
                    base_seed = [0]

                    def small(k):  # a distinct seed per task: every run is computed, none cached
                        return {"runs": 200, "turns": 10, "noise": 0.01, "variables": ["hope"],
                                "seed": base_seed[0] + k}
                    batches = []
                    for _ in range(args.repeat):
                        batches.append(run_batch(r, queue, "pulse.simulate", small, max(500, args.tasks // 20)))
                        base_seed[0] += 10 ** 6
                    rates[(kind, "simulate")] = batches
                r.flushdb()
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.tasks} tasks per batch, concurrency {args.concurrency}, one redis-server on loopback; "
          f"medians of {args.repeat} batches (tasks/s, enqueue of the batch to its last result)")
    for (kind, task), values in rates.items():
        print(f"{kind:7s} {task:9s} {statistics.median(values):12,.0f} tasks/s   (runs: "
              + ", ".join(f"{v:,.0f}" for v in values) + ")")
    ratio = statistics.median(rates[("pulse", "noop")]) / statistics.median(rates[("celery", "noop")])
    print(f"pulse / celery, no-op task: {ratio:.1f}x")
    for title, table in (("enqueue-to-result latency (a Python subscriber sees the result's PUBLISH)", latencies),
                         ("enqueue-to-start latency (the worker's date_done of the no-op task)", start_latencies)):
        print(f"\n{title}, no-op task at half of each worker's saturation rate:")
        for kind, (rate, lat) in table.items():
            p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
            print(f"{kind:7s} at {rate:8,.0f} tasks/s: p50 {p(0.5):7.3f} ms  p99 {p(0.99):7.3f} ms  "
                  f"({len(lat)} of {args.latency_tasks} measured)")


if __name__ == "__main__":
    main()
