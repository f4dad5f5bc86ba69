"""`pulse forecast --broker URL --chunks N` over a real redis-server (scripts/test starts it) and
two real `pulse worker` processes: the forecasts table holds the same rows as `pulse forecast` in
one process (every column but `created`), one Delta commit per chunk, written from the fits pass 1
staged in the lake (no series fitted twice; the staging removed after the commits); the same
command again writes nothing; bad chunk counts and an unreachable broker are clear errors with nothing written."""
import datetime as dt
import math
import os
import random
import subprocess
import time

import uuid

import boto3
import pytest
from deltalake import DeltaTable

from conftest import free_port, run_pulse, stop_processes

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL")
S3_ENDPOINT = os.environ.get("PULSE_TEST_S3_ENDPOINT", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")


def write_signals(path, series=30, points=48):
    rng = random.Random(3)
    base = dt.date(2018, 1, 1)
    lines = ["name,ts,value,kind"]
    for s in range(series):
        level, trend = rng.uniform(50, 500), rng.uniform(-1, 2)
        for m in range(points):
            day = dt.date(base.year + (base.month - 1 + m) // 12, (base.month - 1 + m) % 12 + 1, 1)
            value = level + trend * m + 0.1 * level * math.sin(m * math.pi / 6) + rng.gauss(0, 0.03 * level)
            lines.append(f"s{s:03d},{day.isoformat()}T00:00:00Z,{value:.4f},{'macro' if s % 3 else 'market'}")
    path.write_text("\n".join(lines) + "\n")


def rows_without_created(lake):
    table = DeltaTable(str(lake / "forecasts")).to_pyarrow_table().drop(["created"]).to_pylist()
    return sorted(table, key=lambda r: (r["kind"], r["series"], r["step"], r["level"]))


@pytest.fixture
def workers(pulse_bin, redis_db, tmp_path):
    """Two `pulse worker --concurrency 1` processes that may open the lakes under tmp_path."""
    procs = [subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "1",
                               "--lake", str(tmp_path / "chunked"), "--set", f"jobs.lake_roots={tmp_path}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(0.3)
    for p in procs:
        assert p.poll() is None, p.stderr.read()
    yield procs
    stop_processes(procs)


def test_chunked_forecast_over_workers_equals_the_one_process_run(pulse_bin, tmp_path, workers):
    csv = tmp_path / "signals.csv"
    write_signals(csv)
    single, chunked = tmp_path / "single", tmp_path / "chunked"
    for lake in (single, chunked):
        run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    run_pulse(pulse_bin, "--lake", single, "forecast")
    out = run_pulse(pulse_bin, "--lake", chunked, "forecast", "--broker", REDIS_URL, "--chunks", "4").stdout
    assert "forecast 30 series from signals version 1 in 4 chunks: 4 written (1620 rows), 0 already there" in out, out
    assert "; 0 series refitted" in out, out  # pass 2 wrote from pass 1's staged fits
    assert rows_without_created(chunked) == rows_without_created(single)
    staging = chunked / "_pulse" / "staging" / "forecast"
    assert not [p for p in staging.rglob("*") if p.is_file()], "staging objects left after the commits"
    history = DeltaTable(str(chunked / "forecasts")).history()
    appends = [h for h in history if h.get("operation") == "FORECAST"]
    assert len(appends) == 4  # one commit per chunk

    again = run_pulse(pulse_bin, "--lake", chunked, "forecast", "--broker", REDIS_URL, "--chunks", "4").stdout
    assert "0 written (0 rows), 4 already there" in again, again
    assert "; 0 series refitted" in again, again
    assert not [p for p in staging.rglob("*") if p.is_file()], "a rerun's staging is removed too"
    assert DeltaTable(str(chunked / "forecasts")).version() == 4


def test_bad_chunk_counts_and_an_unreachable_broker_write_nothing(pulse_bin, tmp_path, workers):
    csv = tmp_path / "signals.csv"
    write_signals(csv, series=5)
    lake = tmp_path / "chunked"
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    for chunks, needle in (("0", "--chunks must be >= 1, got 0"),
                           ("6", "--chunks 6 exceeds the 5 series to forecast; nothing written")):
        proc = run_pulse(pulse_bin, "--lake", lake, "forecast", "--broker", REDIS_URL, "--chunks", chunks, check=False)
        assert proc.returncode != 0 and needle in proc.stderr, proc.stderr
    proc = run_pulse(pulse_bin, "--lake", lake, "forecast", "--chunks", "2", check=False)
    assert proc.returncode != 0 and "--chunks needs --broker" in proc.stderr, proc.stderr
    proc = run_pulse(pulse_bin, "--lake", lake, "forecast", "--broker", "inproc", check=False)
    assert proc.returncode != 0 and "--broker must be redis://" in proc.stderr, proc.stderr
    dead = f"redis://127.0.0.1:{free_port()}/0"
    proc = run_pulse(pulse_bin, "--lake", lake, "forecast", "--broker", dead, "--chunks", "2", check=False)
    assert proc.returncode != 0 and "127.0.0.1" in proc.stderr, proc.stderr
    assert not (lake / "forecasts").exists()


def test_chunked_forecast_on_an_s3_lake_stages_through_the_store(pulse_bin, redis_db, tmp_path):
    """The lake on a real S3-compatible server: pass 1 stages its fits there and pass 2 writes from
    them (nothing refitted); the rows equal the one-process run's and no staging object stays."""
    assert S3_ENDPOINT, "PULSE_TEST_S3_ENDPOINT is not set: run through scripts/test"
    creds = {"aws_access_key_id": "pulse", "aws_secret_access_key": "pulse-secret", "region_name": "us-east-1"}
    s3 = boto3.client("s3", endpoint_url=S3_ENDPOINT, **creds)
    bucket = "pulse-fc-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    env = {"PULSE_S3_ENDPOINT": S3_ENDPOINT, "PULSE_S3_ACCESS_KEY": "pulse", "PULSE_S3_SECRET_KEY": "pulse-secret"}
    csv = tmp_path / "signals.csv"
    write_signals(csv, series=12)
    single, lake = tmp_path / "single", f"s3://{bucket}/lake"
    run_pulse(pulse_bin, "--lake", single, "ingest", csv)
    run_pulse(pulse_bin, "--lake", single, "forecast")
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv, env=env)
    procs = [subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "1", "--lake", lake],
                              env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        out = run_pulse(pulse_bin, "--lake", lake, "forecast", "--broker", REDIS_URL, "--chunks", "3",
                        env=env).stdout
    finally:
        stop_processes(procs)
    assert "forecast 12 series from signals version 1 in 3 chunks: 3 written" in out, out
    assert "; 0 series refitted" in out, out
    storage = {"AWS_ENDPOINT_URL": S3_ENDPOINT, "AWS_ACCESS_KEY_ID": "pulse", "AWS_SECRET_ACCESS_KEY": "pulse-secret",
               "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
    chunked = DeltaTable(f"{lake}/forecasts", storage_options=storage).to_pyarrow_table().drop(["created"])
    key = lambda r: (r["kind"], r["series"], r["step"], r["level"])  # noqa: E731
    assert sorted(chunked.to_pylist(), key=key) == rows_without_created(single)
    left = s3.list_objects_v2(Bucket=bucket, Prefix="lake/_pulse/staging/").get("KeyCount", 0)
    assert left == 0, "staging objects left on S3 after the commits"
