"""Pulse's lake on a real S3-compatible server (started by scripts/test): `pulse ingest` writes a
table there and deltalake reads it back row for row; configuration comes from PULSE_* variables."""
import os
import uuid

import boto3
import pytest
from deltalake import DeltaTable

from conftest import run_pulse, show_json
from test_delta_interop import rows_of, write_signals_csv

ENDPOINT = os.environ.get("PULSE_TEST_S3_ENDPOINT", "")


@pytest.fixture
def bucket():
    assert ENDPOINT, "PULSE_TEST_S3_ENDPOINT is not set: run through scripts/test"
    name = "pulse-py-" + uuid.uuid4().hex[:12]
    boto3.client("s3", endpoint_url=ENDPOINT, aws_access_key_id="pulse", aws_secret_access_key="pulse-secret",
                 region_name="us-east-1").create_bucket(Bucket=name)
    return name


def s3_env():
    return {"PULSE_S3_ENDPOINT": ENDPOINT, "PULSE_S3_ACCESS_KEY": "pulse", "PULSE_S3_SECRET_KEY": "pulse-secret"}


def test_pulse_writes_s3_deltalake_reads(pulse_bin, bucket, tmp_path):
    csv = tmp_path / "signals.csv"
    expected = write_signals_csv(csv, 200)
    lake = f"s3://{bucket}/lake"
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv, env=s3_env())
    # Re-ingesting the same file is a no-op on S3 too.
    out = run_pulse(pulse_bin, "--lake", lake, "ingest", csv, env=s3_env()).stdout
    assert "already ingested" in out
    storage = {"AWS_ENDPOINT_URL": ENDPOINT, "AWS_ACCESS_KEY_ID": "pulse", "AWS_SECRET_ACCESS_KEY": "pulse-secret",
               "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
    dtab = DeltaTable(f"{lake}/signals", storage_options=storage)
    assert dtab.version() == 1
    assert rows_of(dtab.to_pyarrow_table()) == expected
    assert len(show_json(pulse_bin, lake, "signals", env=s3_env())) == 200


def test_bad_s3_settings_are_clear_errors(pulse_bin, bucket):
    env = s3_env()
    env["PULSE_S3_SECRET_KEY"] = ""
    proc = run_pulse(pulse_bin, "--lake", f"s3://{bucket}/lake", "lake", "list", env=env, check=False)
    assert proc.returncode == 1
    assert "s3.secret_key" in proc.stderr
    env = s3_env()
    env["PULSE_S3_ENDPONT"] = "typo"  # not a setting: ignored (PulseAudio owns PULSE_*), but named
    proc = run_pulse(pulse_bin, "--lake", f"s3://{bucket}/lake", "lake", "list", env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "PULSE_S3_ENDPONT" in proc.stderr and "did you mean PULSE_S3_ENDPOINT?" in proc.stderr


def test_main_job_on_an_s3_lake(pulse_bin, bucket, tmp_path):
    """`pulse run` with the lake on S3: every stage's table lands there, deltalake reads them, and a
    rerun writes nothing new."""
    lake = f"s3://{bucket}/lake"
    run_pulse(pulse_bin, "--lake", lake, "run", "--out", tmp_path / "out", env=s3_env())
    storage = {"AWS_ENDPOINT_URL": ENDPOINT, "AWS_ACCESS_KEY_ID": "pulse", "AWS_SECRET_ACCESS_KEY": "pulse-secret",
               "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
    versions = {}
    for name in ("signals", "forecasts", "simulations", "trust_scores"):
        t = DeltaTable(f"{lake}/{name}", storage_options=storage)
        assert t.to_pyarrow_table().num_rows > 0, name
        versions[name] = t.version()
    assert (tmp_path / "out" / "report.html").exists()
    out = run_pulse(pulse_bin, "--lake", lake, "run", "--out", tmp_path / "out", env=s3_env()).stdout
    assert "no new observations" in out
    for name, v in versions.items():
        assert DeltaTable(f"{lake}/{name}", storage_options=storage).version() == v, name
