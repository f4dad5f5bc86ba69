"""Pulse's Delta tables are standard: deltalake (delta-rs) and DuckDB read what Pulse writes, row
for row, and Pulse reads what deltalake writes. Talks to the real `pulse` binary."""
import datetime as dt
import math

import duckdb
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from conftest import run_pulse, show_json

KINDS = ["macro", "price", "sentiment"]


def write_signals_csv(path, n, start_day=0, name_prefix="s"):
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    rows = ["name,source,kind,ts,value,unit"]
    expected = []
    for i in range(n):
        ts = base + dt.timedelta(days=start_day + i % 17, seconds=i)
        kind = KINDS[i % len(KINDS)]
        value = i * 0.25 - 3
        name = f"{name_prefix}{i % 11}"
        rows.append(f"{name},test.csv,{kind},{ts.isoformat().replace('+00:00', 'Z')},{value!r},u")
        expected.append((name, kind, ts, value))
    path.write_text("\n".join(rows) + "\n")
    return sorted(expected)


def rows_of(table: pa.Table):
    d = table.to_pydict()
    return sorted(zip(d["name"], d["kind"], d["ts"], d["value"]))


def test_deltalake_reads_what_pulse_writes(pulse_bin, lake, tmp_path):
    csv = tmp_path / "signals.csv"
    expected = write_signals_csv(csv, 500)
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    dtab = DeltaTable(str(lake / "signals"))
    assert dtab.metadata().partition_columns == ["kind"]  # tables before issue 11: ["kind", "date"]
    assert dtab.metadata().configuration.get("pulse.sortColumns") == "name,ts"
    assert len(dtab.file_uris()) == len(KINDS)  # one file per kind for a history load
    table = dtab.to_pyarrow_table()
    assert table.num_rows == 500
    assert rows_of(table) == expected
    # the date column is the UTC date of ts
    d = table.to_pydict()
    assert all(date == ts.date().isoformat() for date, ts in zip(d["date"], d["ts"]))
    # partition pruning through deltalake's own filter
    only_macro = dtab.to_pyarrow_table(filters=[("kind", "=", "macro")])
    assert only_macro.num_rows == sum(1 for e in expected if e[1] == "macro")


def test_file_statistics_are_standard(pulse_bin, lake, tmp_path):
    csv = tmp_path / "signals.csv"
    expected = write_signals_csv(csv, 400)
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    dtab = DeltaTable(str(lake / "signals"))
    adds = pa.table(dtab.get_add_actions(flatten=True)).to_pydict()  # pyarrow (<1.3) or arro3 batch
    assert sum(adds["num_records"]) == 400
    table = dtab.to_pyarrow_table().to_pydict()
    by_path = {}
    for i, path in enumerate(adds["path"]):
        by_path[path] = (adds["min.value"][i], adds["max.value"][i], adds["null_count.value"][i])
    values = [v for (_, _, _, v) in expected]
    assert min(lo for lo, _, _ in by_path.values()) == min(values)
    assert max(hi for _, hi, _ in by_path.values()) == max(values)
    # deltalake prunes files with the statistics and still returns exactly the right rows.
    threshold = sorted(values)[300]
    got = dtab.to_pyarrow_table(filters=[("value", ">", threshold)]).num_rows
    assert got == sum(1 for v in values if v > threshold)


def test_duckdb_reads_pulse_files(pulse_bin, lake, tmp_path):
    csv = tmp_path / "signals.csv"
    expected = write_signals_csv(csv, 300)
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    files = DeltaTable(str(lake / "signals")).file_uris()
    con = duckdb.connect()
    got = con.execute(
        "select name, kind, ts, value from read_parquet(?, hive_partitioning = true)", [files]
    ).fetchall()
    assert sorted((n, k, t.astimezone(dt.timezone.utc), v) for n, k, t, v in got) == expected


def test_checkpoints_and_versions_agree_with_deltalake(pulse_bin, lake, tmp_path):
    total = []
    for i in range(12):  # 1 create + 12 appends: crosses the checkpoint at version 10
        csv = tmp_path / f"batch{i}.csv"
        total += write_signals_csv(csv, 20, start_day=i, name_prefix=f"b{i}_")
        run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    log = lake / "signals" / "_delta_log"
    assert (log / "00000000000000000010.checkpoint.parquet").exists()
    dtab = DeltaTable(str(lake / "signals"))
    assert dtab.version() == 12
    assert rows_of(dtab.to_pyarrow_table()) == sorted(total)
    # time travel agrees
    dtab_v5 = DeltaTable(str(lake / "signals"), version=5)
    assert dtab_v5.to_pyarrow_table().num_rows == 5 * 20
    assert len(show_json(pulse_bin, lake, "signals", "--version", "5")) == 5 * 20
    history = dtab.history()
    assert history[0]["version"] == 12


def test_pulse_reads_what_deltalake_writes(pulse_bin, lake):
    n = 400
    base = dt.datetime(2023, 6, 1, tzinfo=dt.timezone.utc)
    ts = [base + dt.timedelta(hours=7 * i) for i in range(n)]
    table = pa.table({
        "name": pa.array([f"x{i % 5}" for i in range(n)], pa.string()),
        "source": pa.array(["deltalake"] * n, pa.string()),
        "kind": pa.array([KINDS[i % 3] for i in range(n)], pa.string()),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "value": pa.array([math.sin(i) for i in range(n)], pa.float64()),
        "unit": pa.array(["u"] * n, pa.string()),
        "metadata": pa.array(["{}"] * n, pa.string()),
        "ingest_time": pa.array([base] * n, pa.timestamp("us", tz="UTC")),
        "date": pa.array([t.date().isoformat() for t in ts], pa.string()),
    })
    schema = pa.schema([f.with_nullable(f.name in ("unit", "metadata")) for f in table.schema])
    table = table.cast(schema)
    write_deltalake(str(lake / "signals"), table.slice(0, 250), partition_by=["kind", "date"])
    write_deltalake(str(lake / "signals"), table.slice(250), partition_by=["kind", "date"], mode="append")
    rows = show_json(pulse_bin, lake, "signals")
    assert len(rows) == n
    got = sorted((r["name"], r["kind"], round(float(r["value"]), 12)) for r in rows)
    want = sorted((f"x{i % 5}", KINDS[i % 3], round(math.sin(i), 12)) for i in range(n))
    assert got == want
    # and Pulse can append to a deltalake-written table; deltalake then sees both
    csv = lake.parent / "more.csv"
    write_signals_csv(csv, 30)
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    assert DeltaTable(str(lake / "signals")).to_pyarrow_table().num_rows == n + 30


def test_deltalake_checkpoint_is_readable_by_pulse(pulse_bin, lake):
    table = pa.table({"name": ["a", "b"], "value": [1.0, 2.0]})
    path = str(lake / "plain")
    for _ in range(3):
        write_deltalake(path, table, mode="append")
    DeltaTable(path).create_checkpoint()
    rows = show_json(pulse_bin, lake, "plain")
    assert sorted((r["name"], r["value"]) for r in rows) == [("a", 1.0)] * 3 + [("b", 2.0)] * 3
