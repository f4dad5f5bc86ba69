#!/usr/bin/env python3
"""Files per million rows in the signals table: the old layout (kind + date), the new one (kind,
rows sorted by name and ts) and each after `pulse lake optimize`, for the bundled macro dataset
and a synthetic load of N rows over several years, ingested as one history file and as a stream
of small files. Everything goes through the real `pulse` binary; the old layout is made by
creating the empty table with partition_by=["kind", "date"] (deltalake) before ingesting, which
is what a lake created before issue 11 looks like. Row counts are checked with deltalake.

  .venv/bin/python bench/lake_files_bench.py [--rows 1000000] [--years 5] [--stream 100]
      [--pulse build/dev/apps/pulse/pulse]
"""
import argparse
import datetime as dt
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = pa.schema([
    pa.field("name", pa.string(), False), pa.field("source", pa.string(), False),
    pa.field("kind", pa.string(), False), pa.field("ts", pa.timestamp("us", tz="UTC"), False),
    pa.field("value", pa.float64(), False), pa.field("unit", pa.string()), pa.field("metadata", pa.string()),
    pa.field("ingest_time", pa.timestamp("us", tz="UTC"), False), pa.field("date", pa.string(), False),
])


def pulse(binary, lake, *args):
    proc = subprocess.run([binary, "--lake", str(lake), *map(str, args)], capture_output=True, text=True)
    if proc.returncode not in (0, 3):
        sys.exit(f"pulse {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def make_lake(root, name, old_layout):
    lake = root / name
    lake.mkdir()
    if old_layout:
        write_deltalake(str(lake / "signals"), SCHEMA.empty_table(), partition_by=["kind", "date"])
    return lake


def measure(lake):
    dtab = DeltaTable(str(lake / "signals"))
    rows = dtab.to_pyarrow_table(columns=["value"]).num_rows
    files = dtab.files()
    size = sum((lake / "signals" / f).stat().st_size for f in files)
    return rows, len(files), size


def synthetic_csvs(out, rows, years, chunks, seed=1):
    """`rows` observations of 3 kinds x 40 series, spread evenly over `years`, in time order; one
    history file and the same rows cut into `chunks` consecutive files (a stream)."""
    rng = random.Random(seed)
    kinds = ["macro", "price", "sentiment"]
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    span = years * 365.25 * 86400
    header = "name,source,kind,ts,value,unit\n"
    lines = []
    for i in range(rows):
        ts = start + dt.timedelta(seconds=span * i / rows)
        k = i % 3
        lines.append(f"s{i % 40},synthetic,{kinds[k]},{ts.strftime('%Y-%m-%dT%H:%M:%SZ')},{rng.gauss(0, 1):.6f},u\n")
    history = out / "history.csv"
    history.write_text(header + "".join(lines))
    stream = []
    per = (rows + chunks - 1) // chunks
    for c in range(chunks):
        f = out / f"stream{c:04d}.csv"
        f.write_text(header + "".join(lines[c * per:(c + 1) * per]))
        stream.append(f)
    return history, stream


def run_case(binary, root, label, files, old_layout, results, extra=()):
    lake = make_lake(root, label.replace(" ", "_").replace(",", "") + ("_old" if old_layout else "_new"), old_layout)
    t0 = time.time()
    for f in files:
        pulse(binary, lake, "ingest", f, *extra)
    ingest_s = time.time() - t0
    rows, n, size = measure(lake)
    t0 = time.time()
    pulse(binary, lake, "lake", "optimize", "signals")
    opt_s = time.time() - t0
    rows2, n2, size2 = measure(lake)
    assert rows2 == rows, (rows, rows2)
    layout = "old: kind + date" if old_layout else "new: kind, sorted"
    results.append((label, layout, rows, n, size, n2, size2, ingest_s, opt_s))
    print(f"{label:28} {layout:18} rows {rows:>9,}  files {n:>6,} -> {n2:>5,} after optimize", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--stream", type=int, default=100, help="files the synthetic stream is cut into")
    ap.add_argument("--pulse", default=str(ROOT / "build/dev/apps/pulse/pulse"))
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="pulse-files-") as tmp:
        root = Path(tmp)
        macro = ROOT / "data/us-macro-quarterly.csv"
        for old in (True, False):
            # as `pulse run` ingests it: wide layout, one signal per column, quarters
            run_case(args.pulse, root, "macro dataset (1 file)", [macro], old, results,
                     ("--wide", "--time", "year,quarter", "--kind", "macro"))
        data = root / "data"
        data.mkdir()
        history, stream = synthetic_csvs(data, args.rows, args.years, args.stream)
        for old in (True, False):
            run_case(args.pulse, root, f"synthetic history (1 file)", [history], old, results)
        for old in (True, False):
            run_case(args.pulse, root, f"synthetic stream ({args.stream} files)", stream, old, results)
    print()
    print("| load | layout | rows | files | files per 1M rows | MB | files after optimize | "
          "files per 1M rows after optimize | MB after optimize |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, layout, rows, n, size, n2, size2, _, _ in results:
        print(f"| {label} | {layout} | {rows:,} | {n:,} | {n / rows * 1e6:,.0f} | {size / 1e6:.2f} | {n2:,} | "
              f"{n2 / rows * 1e6:,.0f} | {size2 / 1e6:.2f} |")
    print()
    for label, layout, rows, n, size, n2, size2, ingest_s, opt_s in results:
        print(f"{label} / {layout}: ingest {ingest_s:.1f} s, optimize {opt_s:.1f} s")


if __name__ == "__main__":
    main()
