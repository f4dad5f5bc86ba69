#!/usr/bin/env python3
"""Kafka -> Delta signals/s: Pulse's stream consumer vs a straightforward Python consumer, side by side.

One Kafka broker (scripts/start-kafka-server, or $PULSE_KAFKA_BROKERS) holds one topic of N signal
records (~100-byte JSON objects, 4 partitions, 1000 series) published once with `pulse publish`.
Each consumer then reads all N into a fresh lake's `signals` table and the clock runs from its start
to its exit (group join, fetch, parse/validate, Delta commits, offset commits):

  pulse    pulse ingest --stream kafka://B/TOPIC --max-records N  (micro-batches of 100k records or
           1 s, exactly once through txn actions, offsets committed after each Delta commit)
  python   confluent-kafka Consumer + json.loads per record + deltalake.write_deltalake per
           micro-batch (same bounds: 100k records or 1 s), partitioned by kind, offsets committed
           (synchronously) after each write - at-least-once, no validation beyond json.loads

Every run checks the table holds exactly N rows. After the last Pulse run the live files of its
signals table are counted (per million rows) before and after `pulse lake optimize signals`.

--latency RATE (records/s) instead measures end-to-end latency below saturation: each consumer is
started on a fresh topic, then a producer (confluent-kafka, in this process) sends records at RATE
for --seconds, each carrying its produce time as the signal's ts; a poller watches the table's
_delta_log every 5 ms and reads the ts of the rows each new version adds: latency = the time the
version was first seen - the row's ts (produce -> visible in Delta). p50/p99 over every record.

Peers: bench/requirements-stream.txt in its own venv (not the test venv):

  python3 -m venv build/bench-stream-venv && build/bench-stream-venv/bin/pip install -r bench/requirements-stream.txt
  scripts/build release
  build/bench-stream-venv/bin/python bench/stream_bench.py [--records 1000000] [--repeat 3]
  build/bench-stream-venv/bin/python bench/stream_bench.py --latency 20000 --seconds 20
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_broker(work):
    env = subprocess.run([str(ROOT / "scripts/start-kafka-server"), str(work / "kafka")], check=True,
                         capture_output=True, text=True).stdout
    values = dict(line.split("=", 1) for line in env.split())
    return values["PULSE_KAFKA_BROKERS"], int(values["PULSE_KAFKA_PID"])


def publish(pulse, brokers, topic, n, work):
    path = work / "records.csv"
    with open(path, "w") as f:
        f.write("name,source,kind,ts,value\n")
        for i in range(n):
            f.write(f"s{i % 1000},bench,bench,{1_600_000_000 + i},{i * 0.5}\n")
    t = time.perf_counter()
    subprocess.run([pulse, "publish", str(path), "--to", f"kafka://{brokers}/{topic}", "--set", "log.level=warn"],
                   check=True, capture_output=True)
    return time.perf_counter() - t


def count_rows(lake):
    from deltalake import DeltaTable
    return DeltaTable(str(lake / "signals")).to_pyarrow_table(columns=["value"]).num_rows


def count_files(lake):
    from deltalake import DeltaTable
    return len(DeltaTable(str(lake / "signals")).file_uris())


def files_per_million(pulse, lake, rows):
    """Live files of the signals table per 10^6 rows, before and after `pulse lake optimize signals`."""
    before = count_files(lake)
    t = time.perf_counter()
    subprocess.run([pulse, "--lake", str(lake), "--set", "log.level=warn", "lake", "optimize", "signals"], check=True,
                   capture_output=True, timeout=3600)
    seconds = time.perf_counter() - t
    after = count_files(lake)
    assert count_rows(lake) == rows
    return before, after, before / rows * 1e6, after / rows * 1e6, seconds


def pulse_cmd(pulse, brokers, topic, n, lake, threads):
    cmd = [pulse, "--lake", str(lake), "--set", "log.level=warn", "--set", f"threads={threads}",
           "ingest", "--stream", f"kafka://{brokers}/{topic}", "--group", f"pulse-{uuid.uuid4().hex[:8]}",
           "--max-records", str(n)]
    return ["taskset", "-c", "0", *cmd] if threads == 1 else cmd


def run_pulse(pulse, brokers, topic, n, lake, threads):
    t = time.perf_counter()
    subprocess.run(pulse_cmd(pulse, brokers, topic, n, lake, threads), check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - t


PYTHON_CONSUMER = r'''
import json, sys, time
import pyarrow as pa
from confluent_kafka import Consumer
from deltalake import write_deltalake
brokers, topic, n, lake = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = Consumer({"bootstrap.servers": brokers, "group.id": "py-" + str(time.time()), "enable.auto.commit": False,
              "auto.offset.reset": "earliest"})
c.subscribe([topic])
seen = 0
cols = {k: [] for k in ("name", "source", "kind", "ts", "value")}
started = None
def flush():
    global cols
    if not cols["name"]:
        return
    table = pa.table({"name": cols["name"], "source": cols["source"], "kind": cols["kind"],
                      "ts": pa.array(cols["ts"], pa.string()), "value": pa.array(cols["value"], pa.float64())})
    write_deltalake(lake, table, mode="append", partition_by=["kind"])
    c.commit(asynchronous=False)
    cols = {k: [] for k in cols}
while seen < n:
    msgs = c.consume(num_messages=10000, timeout=0.2)
    for m in msgs:
        if m.error():
            continue
        r = json.loads(m.value())
        for k in cols:
            cols[k].append(r[k])
        seen += 1
    if started is None and msgs:
        started = time.monotonic()
    if len(cols["name"]) >= 100000 or (started and time.monotonic() - started >= 1.0):
        flush()
        started = None
flush()
c.close()
'''


def python_cmd(py, brokers, topic, n, lake, threads):
    cmd = [py, "-c", PYTHON_CONSUMER, brokers, topic, str(n), str(lake / "signals")]
    return ["taskset", "-c", "0", *cmd] if threads == 1 else cmd


def run_python(py, brokers, topic, n, lake, threads):
    t = time.perf_counter()
    subprocess.run(python_cmd(py, brokers, topic, n, lake, threads), check=True, capture_output=True, timeout=7200)
    return time.perf_counter() - t


def watch_latency(lake, stop, latencies):
    """Polls lake/signals/_delta_log every 5 ms; for each new version, the ts of the rows it adds
    against the time the version was first seen (appends latency seconds to `latencies`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    log = lake / "signals" / "_delta_log"
    version = 0
    while True:
        path = log / f"{version:020d}.json"
        if not path.exists():
            if stop():
                return
            time.sleep(0.005)
            continue
        seen = time.time()
        if os.environ.get("PULSE_BENCH_DEBUG"):
            print(f"version {version} seen at {seen:.3f}, written at {path.stat().st_mtime:.3f}", flush=True)
        for line in path.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                from urllib.parse import unquote
                ts = pq.read_table(str(lake / "signals" / unquote(action["add"]["path"])), columns=["ts"]).column("ts")
                # Pulse stores a timestamp (read as integer microseconds: converting tz-aware values
                # to Python datetimes takes ~0.1 ms each); the Python peer keeps the record's text.
                if pa.types.is_timestamp(ts.type):
                    latencies.extend(seen - us / 1e6 for us in ts.cast(pa.int64()).to_pylist())
                else:
                    latencies.extend(seen - datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
                                     for t in ts.to_pylist())
        version += 1


def measure_latency(cmd, brokers, topic, lake, rate, seconds):
    """Starts the consumer `cmd`, produces `rate` records/s for `seconds` (ts = produce time), and
    returns the produce -> visible-in-Delta latencies of every record."""
    import threading
    from datetime import timezone
    from confluent_kafka import Producer
    n = int(rate * seconds)
    log = open(lake.parent / f"{lake.name}.log", "w+b")  # a file, not a pipe nobody reads while it runs
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    latencies, done = [], threading.Event()
    watcher = threading.Thread(target=watch_latency, args=(lake, done.is_set, latencies))
    watcher.start()
    try:
        time.sleep(8)  # the consumer joins its group and is assigned the topic's partitions
        producer = Producer({"bootstrap.servers": brokers, "linger.ms": 5, "enable.idempotence": True})
        start = time.monotonic()
        sent = 0
        while sent < n:
            due = min(n, int((time.monotonic() - start) * rate) + 1)
            while sent < due:
                now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                value = f'{{"name":"s{sent % 1000}","source":"bench","kind":"bench","ts":"{now}","value":{sent * 0.5}}}'
                try:
                    producer.produce(topic, value=value.encode(), key=f"bench/s{sent % 1000}".encode())
                except BufferError:  # the producer's queue is full: let it drain, then send again
                    producer.poll(0.05)
                    continue
                sent += 1
            producer.poll(0)
            time.sleep(0.001)
        producer.flush(60)
        proc.wait(timeout=600)
        log.seek(0)
        assert proc.returncode == 0, log.read().decode()[-2000:]
        time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
        done.set()
        watcher.join()
    assert len(latencies) == n, f"{len(latencies)} rows seen, expected {n}"
    return latencies


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def latency_main(args, brokers, work):
    print(f"latency at {args.latency:,} records/s for {args.seconds} s (both consumers: batches of 100k or 1 s)")
    for name in ("pulse", "python"):
        topic = f"bench.lat.{uuid.uuid4().hex[:8]}"
        subprocess.run(["kcat", "-P", "-b", brokers, "-t", topic], input=b"", check=False)
        lake = work / f"lake-{uuid.uuid4().hex[:6]}"
        lake.mkdir()
        n = int(args.latency * args.seconds)
        cmd = (pulse_cmd(args.pulse, brokers, topic, n, lake, 2) if name == "pulse"
               else python_cmd(sys.executable, brokers, topic, n, lake, 2))
        lat = measure_latency(cmd, brokers, topic, lake, args.latency, args.seconds)
        print(f"{name:6s} p50 {percentile(lat, 0.5) * 1000:,.0f} ms  p99 {percentile(lat, 0.99) * 1000:,.0f} ms  "
              f"max {max(lat) * 1000:,.0f} ms over {len(lat):,} records", flush=True)
        shutil.rmtree(lake)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cores", default="1,2", help="comma-separated: 1 (pinned with taskset) and/or 2")
    ap.add_argument("--pulse", default=str(ROOT / "build/release/apps/pulse/pulse"))
    ap.add_argument("--latency", type=int, default=0, help="records/s: measure latency at this rate instead")
    ap.add_argument("--seconds", type=float, default=20, help="--latency: how long to produce")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pulse-stream-bench."))
    pid = None
    try:
        brokers = os.environ.get("PULSE_KAFKA_BROKERS")
        if not brokers:
            brokers, pid = start_broker(work)
        if args.latency:
            latency_main(args, brokers, work)
            return
        topic = f"bench.{uuid.uuid4().hex[:8]}"
        subprocess.run(["kcat", "-P", "-b", brokers, "-t", topic], input=b"", check=False)
        seconds = publish(args.pulse, brokers, topic, args.records, work)
        print(f"published {args.records} records to {topic} in {seconds:.1f} s (pulse publish)")
        results = {}
        files_done = False
        for cores in [int(c) for c in args.cores.split(",")]:
            for name, fn in (("pulse", lambda lake: run_pulse(args.pulse, brokers, topic, args.records, lake, cores)),
                             ("python", lambda lake: run_python(sys.executable, brokers, topic, args.records, lake, cores))):
                times = []
                for i in range(args.repeat):
                    lake = work / f"lake-{uuid.uuid4().hex[:6]}"
                    lake.mkdir()
                    times.append(fn(lake))
                    rows = count_rows(lake)
                    assert rows == args.records, f"{name}: {rows} rows, expected {args.records}"
                    if name == "pulse" and i == args.repeat - 1 and not files_done:
                        b, a, bpm, apm, secs = files_per_million(args.pulse, lake, rows)
                        print(f"pulse table after the stream: {b:,} files ({bpm:,.1f} per 10^6 rows); after "
                              f"`pulse lake optimize signals` ({secs:.1f} s): {a:,} ({apm:,.1f} per 10^6 rows)",
                              flush=True)
                        files_done = True
                    shutil.rmtree(lake)
                med = statistics.median(times)
                results[(name, cores)] = med
                print(f"{name:6s} {cores} core(s): median {med:.2f} s over {args.repeat} -> "
                      f"{args.records / med:,.0f} signals/s  (runs: {', '.join(f'{t:.2f}' for t in times)})", flush=True)
            ratio = results[("python", cores)] / results[("pulse", cores)]
            print(f"  {cores} core(s): Pulse / Python = {ratio:.1f}x", flush=True)
        print(json.dumps({f"{k[0]}_{k[1]}core_seconds": v for k, v in results.items()}))
    finally:
        if pid:
            subprocess.run(["kill", str(pid)], check=False)
            time.sleep(2)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
