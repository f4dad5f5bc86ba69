#!/usr/bin/env python3
"""Lake throughput, Pulse vs pyarrow + deltalake, side by side on the same rows in one run.

Both sides generate the same N signals in memory (generation untimed), append them to a fresh
signals table (partitioned by kind and date) in batches, then scan it three ways: all columns,
the value column only, and one partition (kind = k1). Repeats each side R times, alternating,
and prints medians and the Pulse/Python ratio.

  .venv/bin/python bench/lake_bench.py [--rows 10000000] [--batch 1000000] [--repeat 3]
Needs the release build: scripts/build release
"""
import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

ROOT = Path(__file__).resolve().parents[1]
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
SCHEMA = pa.schema([
    pa.field("name", pa.string(), False), pa.field("source", pa.string(), False),
    pa.field("kind", pa.string(), False), pa.field("ts", pa.timestamp("us", tz="UTC"), False),
    pa.field("value", pa.float64(), False), pa.field("unit", pa.string()), pa.field("metadata", pa.string()),
    pa.field("ingest_time", pa.timestamp("us", tz="UTC"), False), pa.field("date", pa.string(), False),
])


def make_rows(begin, end):
    """The same rows as bench/lake_throughput.cc (vectorised with pyarrow.compute)."""
    i = pa.array(range(begin, end), pa.int64())
    day = pc.divide(i, 100000)
    base_us = int(BASE.timestamp()) * 1_000_000
    ts_us = pc.add(pc.add(base_us, pc.multiply(day, 86400 * 1_000_000)),
                   pc.divide(pc.multiply(pc.subtract(i, pc.multiply(day, 100000)), 1_000_000), 2))
    n = end - begin
    return pa.table({
        "name": pc.binary_join_element_wise("s", pc.cast(pc.subtract(i, pc.multiply(pc.divide(i, 1000), 1000)), pa.string()), ""),
        "source": pa.array(["bench"] * n),
        "kind": pc.binary_join_element_wise("k", pc.cast(pc.subtract(i, pc.multiply(pc.divide(i, 4), 4)), pa.string()), ""),
        "ts": pc.cast(ts_us, pa.timestamp("us", tz="UTC")),
        "value": pc.multiply(pc.cast(pc.subtract(i, pc.multiply(pc.divide(i, 9973), 9973)), pa.float64()), 0.5),
        "unit": pa.array(["u"] * n),
        "metadata": pa.array(["{}"] * n),
        "ingest_time": pa.array([BASE + dt.timedelta(days=152)] * n, pa.timestamp("us", tz="UTC")),
        "date": pc.strftime(pc.cast(ts_us, pa.timestamp("us", tz="UTC")), format="%Y-%m-%d"),
    }).cast(SCHEMA)


def run_python(rows, batch, path):
    append_s = 0.0
    for begin in range(0, rows, batch):
        data = make_rows(begin, min(rows, begin + batch))
        t0 = time.perf_counter()
        write_deltalake(path, data, partition_by=["kind", "date"], mode="append")
        append_s += time.perf_counter() - t0
    t1 = time.perf_counter()
    full = DeltaTable(path).to_pyarrow_table()
    t2 = time.perf_counter()
    DeltaTable(path).to_pyarrow_table(columns=["value"])
    t3 = time.perf_counter()
    filt = DeltaTable(path).to_pyarrow_table(partitions=[("kind", "=", "k1")])
    t4 = time.perf_counter()
    return {"rows": rows, "read_rows": full.num_rows, "filtered_rows": filt.num_rows, "append_s": append_s,
            "scan_s": t2 - t1, "scan_value_s": t3 - t2, "scan_filtered_s": t4 - t3}


def run_deltalake_process(rows, batch, path):
    """The deltalake side in its own process, like Pulse's: nothing it leaves running (allocator
    purging, runtime threads) competes with the next measurement."""
    out = subprocess.run([sys.executable, __file__, "--side", "deltalake", "--rows", str(rows), "--batch", str(batch),
                          "--dir", path], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def run_pulse(rows, batch, path, binary):
    out = subprocess.run([str(binary), "--rows", str(rows), "--batch", str(batch), "--dir", path],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--batch", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--binary", default=str(ROOT / "build/release/bench/lake_throughput"))
    ap.add_argument("--side", help=argparse.SUPPRESS)  # internal: run one deltalake measurement
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side == "deltalake":
        print(json.dumps(run_python(args.rows, args.batch, args.dir)), flush=True)
        # pyarrow/deltalake 22/1.2 sometimes abort in interpreter teardown ("terminate called
        # without an active exception") after the work is done; the result is already out.
        os._exit(0)
    results = {"pulse": [], "deltalake": []}
    for r in range(args.repeat):
        for side in ("pulse", "deltalake"):
            d = tempfile.mkdtemp(prefix=f"pulse-bench-{side}-")
            try:
                res = run_pulse(args.rows, args.batch, d + "/signals", args.binary) if side == "pulse" \
                    else run_deltalake_process(args.rows, args.batch, d + "/signals")
            finally:
                shutil.rmtree(d, ignore_errors=True)
                # Flush the finished side's dirty pages now, so that the next side does not pay
                # for their writeback (Pulse fsyncs its files; deltalake leaves them to the kernel).
                os.sync()
            assert res["read_rows"] == args.rows, res
            results[side].append(res)
            print(f"run {r + 1} {side:9s} " + json.dumps(res), flush=True)
    p, q = results["pulse"], results["deltalake"]
    assert statistics.median(x["filtered_rows"] for x in p) == statistics.median(x["filtered_rows"] for x in q)
    print(f"\n{args.rows:,} signals, batches of {args.batch:,}, {args.repeat} runs each, medians:")
    print(f"{'metric':24s} {'pulse':>14s} {'deltalake':>14s} {'pulse/deltalake':>16s}")
    for key, label in (("append_s", "append rows/s"), ("scan_s", "scan all rows/s"),
                       ("scan_value_s", "scan value rows/s"), ("scan_filtered_s", "scan 1 kind rows/s")):
        rows = args.rows if key != "scan_filtered_s" else p[0]["filtered_rows"]
        pr = rows / statistics.median(x[key] for x in p)
        qr = rows / statistics.median(x[key] for x in q)
        print(f"{label:24s} {pr:14,.0f} {qr:14,.0f} {pr / qr:15.2f}x")


if __name__ == "__main__":
    main()
