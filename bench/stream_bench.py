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

Every run checks the table holds exactly N rows. Peers: bench/requirements-stream.txt in its own
venv (not the test venv):

  python3 -m venv build/bench-stream-venv && build/bench-stream-venv/bin/pip install -r bench/requirements-stream.txt
  scripts/build release
  build/bench-stream-venv/bin/python bench/stream_bench.py [--records 1000000] [--repeat 3]
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


def run_pulse(pulse, brokers, topic, n, lake, threads):
    env = dict(os.environ)
    cmd = [pulse, "--lake", str(lake), "--set", "log.level=warn", "--set", f"threads={threads}",
           "ingest", "--stream", f"kafka://{brokers}/{topic}", "--group", f"pulse-{uuid.uuid4().hex[:8]}",
           "--max-records", str(n)]
    if threads == 1:
        cmd = ["taskset", "-c", "0", *cmd]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=3600)
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


def run_python(py, brokers, topic, n, lake, threads):
    cmd = [py, "-c", PYTHON_CONSUMER, brokers, topic, str(n), str(lake / "signals")]
    if threads == 1:
        cmd = ["taskset", "-c", "0", *cmd]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, timeout=7200)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cores", default="1,2", help="comma-separated: 1 (pinned with taskset) and/or 2")
    ap.add_argument("--pulse", default=str(ROOT / "build/release/apps/pulse/pulse"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pulse-stream-bench."))
    pid = None
    try:
        brokers = os.environ.get("PULSE_KAFKA_BROKERS")
        if not brokers:
            brokers, pid = start_broker(work)
        topic = f"bench.{uuid.uuid4().hex[:8]}"
        subprocess.run(["kcat", "-P", "-b", brokers, "-t", topic], input=b"", check=False)
        seconds = publish(args.pulse, brokers, topic, args.records, work)
        print(f"published {args.records} records to {topic} in {seconds:.1f} s (pulse publish)")
        results = {}
        for cores in [int(c) for c in args.cores.split(",")]:
            for name, fn in (("pulse", lambda lake: run_pulse(args.pulse, brokers, topic, args.records, lake, cores)),
                             ("python", lambda lake: run_python(sys.executable, brokers, topic, args.records, lake, cores))):
                times = []
                for _ in range(args.repeat):
                    lake = work / f"lake-{uuid.uuid4().hex[:6]}"
                    lake.mkdir()
                    times.append(fn(lake))
                    rows = count_rows(lake)
                    assert rows == args.records, f"{name}: {rows} rows, expected {args.records}"
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
