"""`pulse lake optimize` and `pulse lake vacuum` against real readers: after each, deltalake
(delta-rs) and DuckDB read every table row for row as before; a concurrent `pulse ingest` racing
the optimize loses nothing; damaged tables give clear errors (lake list, show --version, log gaps).
The S3 variant runs when scripts/test provides a server (PULSE_TEST_S3_ENDPOINT)."""
import datetime as dt
import json
import os
import subprocess
import uuid
from pathlib import Path

import duckdb
import pytest
from deltalake import DeltaTable, write_deltalake

from conftest import run_pulse
from test_delta_interop import write_signals_csv

ENDPOINT = os.environ.get("PULSE_TEST_S3_ENDPOINT", "")
S3_ENV = {"PULSE_S3_ENDPOINT": ENDPOINT, "PULSE_S3_ACCESS_KEY": "pulse", "PULSE_S3_SECRET_KEY": "pulse-secret"}
S3_STORAGE = {"AWS_ENDPOINT_URL": ENDPOINT, "AWS_ACCESS_KEY_ID": "pulse", "AWS_SECRET_ACCESS_KEY": "pulse-secret",
              "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}


def canon(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def deltalake_rows(uri, storage=None):
    t = DeltaTable(uri, storage_options=storage).to_pyarrow_table()
    cols = sorted(t.column_names)
    d = t.to_pydict()
    return sorted((tuple(canon(d[c][i]) for c in cols) for i in range(t.num_rows)), key=repr)


def duckdb_rows(uri, storage=None, scratch=None):
    """DuckDB over the live files deltalake lists, partition values from the Hive folders. On S3
    the files are first copied to `scratch` (DuckDB's httpfs extension is not installed offline)."""
    dtab = DeltaTable(uri, storage_options=storage)
    cols = sorted(f.name for f in dtab.schema().fields)
    if storage:
        import boto3
        bucket, _, prefix = uri[len("s3://"):].partition("/")
        s3 = boto3.client("s3", endpoint_url=ENDPOINT, aws_access_key_id="pulse", aws_secret_access_key="pulse-secret",
                          region_name="us-east-1")
        files = []
        for file_uri in dtab.file_uris():
            rel = file_uri[len(uri) + 1:]
            dest = Path(scratch) / uuid.uuid4().hex / rel  # keeps the k=v folders
            dest.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, f"{prefix}/{rel}", str(dest))
            files.append(str(dest))
    else:
        files = dtab.file_uris()
    if not files:
        return []
    parts = bool(dtab.metadata().partition_columns)
    select = ", ".join(f'"{c}"' for c in cols)
    rel = duckdb.connect().execute(
        f"select {select} from read_parquet(?, hive_partitioning = {str(parts).lower()}, "
        "hive_types_autocast = false, union_by_name = true)", [files])
    return sorted((tuple(canon(v) for v in row) for row in rel.fetchall()), key=repr)


def lake_tables(pulse_bin, lake, env=None):
    out = run_pulse(pulse_bin, "--lake", lake, "lake", "list", "--json", env=env).stdout.strip()
    rows = json.loads(out) if out.startswith("[") else [json.loads(l) for l in out.splitlines() if l.strip()]
    return {r["table"]: r for r in rows}


def live_files(uri, storage=None):
    return len(DeltaTable(uri, storage_options=storage).file_uris())


def ingest_stream(pulse_bin, lake, tmp_path, batches, env=None):
    """Small appends, as a stream of observations would make them."""
    for i in range(batches):
        csv = tmp_path / f"batch{i}.csv"
        write_signals_csv(csv, 30, start_day=40 * i, name_prefix=f"b{i}_")
        run_pulse(pulse_bin, "--lake", lake, "ingest", csv, env=env)


def check_optimize_and_vacuum(pulse_bin, lake, uri_of, scratch, storage=None, env=None):
    tables = lake_tables(pulse_bin, lake, env)
    assert tables, "no tables"
    before = {name: deltalake_rows(uri_of(name), storage) for name in tables}
    for name in tables:
        assert duckdb_rows(uri_of(name), storage, scratch) == before[name], name
    files_before = {name: live_files(uri_of(name), storage) for name in tables}
    for name in tables:
        out = json.loads(run_pulse(pulse_bin, "--lake", lake, "lake", "optimize", name, "--json", env=env).stdout)
        assert out["table"] == name
        dtab = DeltaTable(uri_of(name), storage_options=storage)
        if not out["noop"]:
            assert dtab.history(1)[0]["operation"] == "OPTIMIZE"
            assert out["files_removed"] > out["files_added"]
        assert deltalake_rows(uri_of(name), storage) == before[name], name
        assert duckdb_rows(uri_of(name), storage, scratch) == before[name], name
        assert live_files(uri_of(name), storage) <= files_before[name]
    # Vacuum: a short window is refused without --force; a dry run deletes nothing.
    name = "signals"
    refused = run_pulse(pulse_bin, "--lake", lake, "lake", "vacuum", name, "--retain", "0", env=env, check=False)
    assert refused.returncode == 1 and "--force" in refused.stderr and "168" in refused.stderr
    for name in tables:
        dry = json.loads(run_pulse(pulse_bin, "--lake", lake, "lake", "vacuum", name, "--retain", "0", "--force",
                                   "--dry-run", "--json", env=env).stdout)
        assert dry["dry_run"] is True
        done = json.loads(run_pulse(pulse_bin, "--lake", lake, "lake", "vacuum", name, "--retain", "0", "--force",
                                    "--json", env=env).stdout)
        assert sorted(f["path"] for f in done["files"]) == sorted(f["path"] for f in dry["files"])
        assert deltalake_rows(uri_of(name), storage) == before[name], name
        assert duckdb_rows(uri_of(name), storage, scratch) == before[name], name
        if storage is None:
            # delta-rs finds nothing more to vacuum: what Pulse kept is exactly what the log references
            # (deltalake >= 1.6 also lists tombstoned files already gone from disk: only files still
            # there count)
            leftover = [f for f in DeltaTable(uri_of(name)).vacuum(retention_hours=0, enforce_retention_duration=False,
                                                                   dry_run=True)
                        if os.path.exists(os.path.join(uri_of(name), f))]
            assert leftover == [], (name, leftover)
    return tables


def test_optimize_and_vacuum_keep_every_row_local(pulse_bin, lake, tmp_path):
    ingest_stream(pulse_bin, lake, tmp_path, 8)
    # a file with a bad row makes a signal_rejects table too
    bad = tmp_path / "bad.csv"
    bad.write_text("name,source,kind,ts,value,unit\nz,t,macro,not-a-time,1,u\nz,t,macro,2024-01-01T00:00:00Z,2,u\n")
    assert run_pulse(pulse_bin, "--lake", lake, "ingest", bad, check=False).returncode == 3
    assert live_files(str(lake / "signals")) >= 8 * 3
    tables = check_optimize_and_vacuum(pulse_bin, lake, lambda n: str(lake / n), tmp_path / "scratch")
    assert {"signals", "signal_rejects"} <= set(tables)
    assert live_files(str(lake / "signals")) == 3  # one file per kind
    # Files on disk = files the log references.
    on_disk = {str(p.relative_to(lake / "signals")) for p in (lake / "signals").rglob("*.parquet")
               if "_delta_log" not in p.parts}
    assert on_disk == {u[len(str(lake / "signals")) + 1:] for u in DeltaTable(str(lake / "signals")).file_uris()}


def test_optimize_and_vacuum_after_the_main_job(pulse_bin, lake, tmp_path):
    """Every table `pulse run` writes (signals, forecasts, simulations, trust_scores)."""
    run_pulse(pulse_bin, "--lake", lake, "run", "--out", tmp_path / "out")
    tables = check_optimize_and_vacuum(pulse_bin, lake, lambda n: str(lake / n), tmp_path / "scratch")
    assert {"signals", "forecasts", "simulations", "trust_scores"} <= set(tables)


def test_optimize_and_vacuum_on_s3(pulse_bin, tmp_path):
    if not ENDPOINT:
        pytest.skip("PULSE_TEST_S3_ENDPOINT is not set (run through scripts/test)")
    import boto3
    bucket = "pulse-maint-" + uuid.uuid4().hex[:12]
    boto3.client("s3", endpoint_url=ENDPOINT, aws_access_key_id="pulse", aws_secret_access_key="pulse-secret",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    lake = f"s3://{bucket}/lake"
    ingest_stream(pulse_bin, lake, tmp_path, 5, env=S3_ENV)
    assert live_files(f"{lake}/signals", S3_STORAGE) >= 15
    check_optimize_and_vacuum(pulse_bin, lake, lambda n: f"{lake}/{n}", tmp_path / "scratch", storage=S3_STORAGE,
                              env=S3_ENV)
    assert live_files(f"{lake}/signals", S3_STORAGE) == 3


def test_ingest_racing_optimize_loses_nothing(pulse_bin, lake, tmp_path):
    ingest_stream(pulse_bin, lake, tmp_path, 4)
    files = []
    for i in range(4, 16):
        csv = tmp_path / f"race{i}.csv"
        write_signals_csv(csv, 25, start_day=40 * i, name_prefix=f"r{i}_")
        files.append(csv)
    ingests = [subprocess.Popen([pulse_bin, "--lake", str(lake), "ingest", str(f)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for f in files]
    optimizes = 0
    while any(p.poll() is None for p in ingests):
        out = run_pulse(pulse_bin, "--lake", lake, "lake", "optimize", "signals", "--json").stdout
        optimizes += 0 if json.loads(out)["noop"] else 1
    for p in ingests:
        _, err = p.communicate()
        assert p.returncode == 0, err
    run_pulse(pulse_bin, "--lake", lake, "lake", "optimize", "signals")
    dtab = DeltaTable(str(lake / "signals"))
    assert dtab.to_pyarrow_table().num_rows == 4 * 30 + 12 * 25
    assert len(dtab.file_uris()) == 3
    ops = [h["operation"] for h in dtab.history()]
    assert ops.count("INGEST") == 16 and "OPTIMIZE" in ops


def test_legacy_kind_date_layout_keeps_working(pulse_bin, lake, tmp_path):
    """A signals table created with the old layout (kind + date) stays readable and writable, and
    optimize compacts it within its partitions."""
    import pyarrow as pa
    n = 60
    base = dt.datetime(2023, 6, 1, tzinfo=dt.timezone.utc)
    ts = [base + dt.timedelta(hours=5 * i) for i in range(n)]
    schema = pa.schema([
        pa.field("name", pa.string(), False), pa.field("source", pa.string(), False),
        pa.field("kind", pa.string(), False), pa.field("ts", pa.timestamp("us", tz="UTC"), False),
        pa.field("value", pa.float64(), False), pa.field("unit", pa.string()), pa.field("metadata", pa.string()),
        pa.field("ingest_time", pa.timestamp("us", tz="UTC"), False), pa.field("date", pa.string(), False)])
    for half in (0, 1):
        idx = range(half * n // 2, (half + 1) * n // 2)
        table = pa.table([
            [f"x{i % 3}" for i in idx], ["old"] * len(idx), ["macro"] * len(idx), [ts[i] for i in idx],
            [float(i) for i in idx], ["u"] * len(idx), ["{}"] * len(idx), [base] * len(idx),
            [ts[i].date().isoformat() for i in idx]], schema=schema)
        write_deltalake(str(lake / "signals"), table, partition_by=["kind", "date"], mode="append")
    csv = tmp_path / "more.csv"
    write_signals_csv(csv, 30)
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    dtab = DeltaTable(str(lake / "signals"))
    assert dtab.metadata().partition_columns == ["kind", "date"]
    before = deltalake_rows(str(lake / "signals"))
    assert len(before) == n + 30
    run_pulse(pulse_bin, "--lake", lake, "lake", "optimize", "signals")
    assert deltalake_rows(str(lake / "signals")) == before
    assert duckdb_rows(str(lake / "signals")) == before


def test_lake_list_shows_good_tables_next_to_a_broken_one(pulse_bin, lake, tmp_path):
    ingest_stream(pulse_bin, lake, tmp_path, 2)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,source,kind,ts,value,unit\nz,t,macro,not-a-time,1,u\n")
    run_pulse(pulse_bin, "--lake", lake, "ingest", bad, check=False)
    (lake / "signal_rejects" / "_delta_log" / "00000000000000000002.json").write_bytes(b"")
    proc = run_pulse(pulse_bin, "--lake", lake, "lake", "list", check=False)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert any(l.split()[0] == "signals" and l.split()[-1] == "ok" for l in lines[2:]), proc.stdout
    assert any(l.startswith("signal_rejects") and "error:" in l for l in lines), proc.stdout
    assert "00000000000000000002.json is empty (0 bytes)" in proc.stderr
    assert "1 of 2 tables could not be read" in proc.stderr
    rows = lake_tables_unchecked(pulse_bin, lake)
    assert rows["signals"]["status"] == "ok" and rows["signals"]["version"] == 3  # 2 ingests + the all-rejected one
    assert rows["signal_rejects"]["status"].startswith("error:") and rows["signal_rejects"]["rows"] is None
    # the broken table's own commands fail naming the file; the good one still works
    show = run_pulse(pulse_bin, "--lake", lake, "lake", "show", "signal_rejects", check=False)
    assert show.returncode == 1 and "00000000000000000002.json" in show.stderr
    run_pulse(pulse_bin, "--lake", lake, "lake", "show", "signals")


def lake_tables_unchecked(pulse_bin, lake):
    out = run_pulse(pulse_bin, "--lake", lake, "lake", "list", "--json", check=False).stdout.strip()
    rows = json.loads(out) if out.startswith("[") else [json.loads(l) for l in out.splitlines() if l.strip()]
    return {r["table"]: r for r in rows}


def test_version_gap_and_negative_version_are_clear(pulse_bin, lake, tmp_path):
    ingest_stream(pulse_bin, lake, tmp_path, 4)
    for v in ("-1", "-5"):
        proc = run_pulse(pulse_bin, "--lake", lake, "lake", "show", "signals", "--version", v, check=False)
        assert proc.returncode == 2, proc.stderr
        assert "--version" in proc.stderr
    (lake / "signals" / "_delta_log" / "00000000000000000002.json").unlink()
    proc = run_pulse(pulse_bin, "--lake", lake, "lake", "show", "signals", check=False)
    assert proc.returncode == 1
    assert "version 2 missing" in proc.stderr and "no table" not in proc.stderr
