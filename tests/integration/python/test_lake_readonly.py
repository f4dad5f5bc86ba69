"""Read-only lake commands create nothing (issue 12): `pulse lake list/show/history` (and the
maintenance commands, which need an existing table) on a URL with no lake fail with "no lake at
URL" and leave no folder behind; a lake that exists but has no tables still lists as empty. The
S3 variant runs when scripts/test provides a server (PULSE_TEST_S3_ENDPOINT)."""
import os
import uuid

import pytest

from conftest import run_pulse

ENDPOINT = os.environ.get("PULSE_TEST_S3_ENDPOINT", "")
S3_ENV = {"PULSE_S3_ENDPOINT": ENDPOINT, "PULSE_S3_ACCESS_KEY": "pulse", "PULSE_S3_SECRET_KEY": "pulse-secret"}

READ_ONLY = [["list"], ["list", "--json"], ["show", "signals"], ["show", "signals", "--json"],
             ["history", "signals"], ["optimize", "signals"], ["vacuum", "signals", "--dry-run"]]


@pytest.mark.parametrize("as_url", [False, True], ids=["path", "file-url"])
def test_lake_commands_on_a_missing_lake_create_nothing(pulse_bin, tmp_path, as_url):
    missing = tmp_path / "nowhere" / "lake"
    url = f"file://{missing}" if as_url else str(missing)
    for args in READ_ONLY:
        proc = run_pulse(pulse_bin, "--lake", url, "lake", *args, check=False)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert f"pulse: no lake at {url}" in proc.stderr, (args, proc.stderr)
        assert proc.stdout == "", (args, proc.stdout)
        assert not (tmp_path / "nowhere").exists(), f"`pulse lake {' '.join(args)}` created {tmp_path / 'nowhere'}"


def test_relative_missing_lake_creates_nothing_in_the_working_directory(pulse_bin, tmp_path):
    import subprocess
    proc = subprocess.run([pulse_bin, "--lake", "rel/lake", "lake", "list"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 1 and "pulse: no lake at rel/lake" in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_empty_existing_lake_lists_no_tables(pulse_bin, lake):
    assert run_pulse(pulse_bin, "--lake", lake, "lake", "list").stdout.startswith("no tables in file://")
    proc = run_pulse(pulse_bin, "--lake", lake, "lake", "show", "signals", check=False)
    assert proc.returncode == 1 and "no table 'signals' in lake" in proc.stderr, proc.stderr
    assert list(lake.iterdir()) == []


def test_a_writer_still_creates_the_lake(pulse_bin, tmp_path):
    csv = tmp_path / "s.csv"
    csv.write_text("name,ts,value\na,2024-01-01,1\n")
    lake = tmp_path / "new" / "lake"
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    assert (lake / "signals" / "_delta_log").is_dir()
    assert "signals" in run_pulse(pulse_bin, "--lake", lake, "lake", "list").stdout


def test_lake_list_on_an_empty_s3_prefix_writes_nothing(pulse_bin):
    if not ENDPOINT:
        pytest.skip("PULSE_TEST_S3_ENDPOINT is not set (run through scripts/test)")
    import boto3
    s3 = boto3.client("s3", endpoint_url=ENDPOINT, aws_access_key_id="pulse", aws_secret_access_key="pulse-secret",
                      region_name="us-east-1")
    bucket = "pulse-ro-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    out = run_pulse(pulse_bin, "--lake", f"s3://{bucket}/lake", "lake", "list", env=S3_ENV).stdout
    assert out.startswith(f"no tables in s3://{bucket}/lake")
    proc = run_pulse(pulse_bin, "--lake", f"s3://{bucket}/lake", "lake", "show", "signals", env=S3_ENV, check=False)
    assert proc.returncode == 1 and "no table 'signals'" in proc.stderr, proc.stderr
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    # A bucket that does not exist is an error, not an empty lake.
    proc = run_pulse(pulse_bin, "--lake", f"s3://no-such-{bucket}/lake", "lake", "list", env=S3_ENV, check=False)
    assert proc.returncode == 1 and f"no-such-{bucket}" in proc.stderr, proc.stderr
