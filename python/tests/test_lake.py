"""pulse.open_lake / Lake.read: Delta tables the CLI wrote, read as pyarrow through the Arrow C
stream interface; the CLI's URL forms and errors; an s3:// lake on the test S3 server."""

import json
import os
import uuid

import pyarrow as pa
import pytest

import pulse
from conftest import ROOT, run_pulse


def cli_rows(pulse_bin, lake, table):
    out = run_pulse(pulse_bin, "--lake", lake, "lake", "show", table, "--json", "--limit", "0").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()] if not out.lstrip().startswith("[") else json.loads(out)


def test_reads_the_signals_table_as_the_cli_shows_it(pulse_bin, macro_lake):
    lake = pulse.open_lake(f"file://{macro_lake}")
    assert lake.url == f"file://{macro_lake}"
    assert {"signals", "forecasts", "trust_scores"} <= set(lake.tables())
    table = lake.read("signals")
    assert isinstance(table, pa.Table)
    rows = cli_rows(pulse_bin, macro_lake, "signals")
    assert table.num_rows == len(rows) > 100
    got = sorted(zip(table.column("name").to_pylist(), table.column("value").to_pylist()))
    want = sorted((r["name"], r["value"]) for r in rows)
    assert got == want


def test_columns_versions_and_partitions(macro_lake):
    lake = pulse.open_lake(str(macro_lake))  # a plain path, as --lake takes
    t = lake.read("signals", columns=["value", "name"])
    assert t.column_names == ["value", "name"]
    v = lake.version("signals")
    assert v >= 0 and lake.read("signals", version=v).num_rows == t.num_rows
    assert lake.read("forecasts", version=0).num_rows <= lake.read("forecasts").num_rows
    kinds = set(lake.read("signals", columns=["kind"]).column("kind").to_pylist())
    one = sorted(kinds)[0]
    part = lake.read("signals", partitions={"kind": [one]})
    assert part.num_rows == t.num_rows and set(part.column("kind").to_pylist()) == {one}
    assert lake.read("signals", partitions={"kind": ["no-such-kind"]}).num_rows == 0
    reader = lake.reader("signals")
    assert isinstance(reader, pa.RecordBatchReader)
    assert sum(b.num_rows for b in reader) == t.num_rows


def test_errors_are_pulse_exceptions_with_pulse_messages(tmp_path, macro_lake):
    missing = tmp_path / "nowhere"
    with pytest.raises(pulse.NotFoundError, match=f"no lake at {missing}"):
        pulse.open_lake(str(missing))
    assert not missing.exists()
    with pytest.raises(pulse.InvalidArgumentError, match="redis://x"):
        pulse.open_lake("redis://x")
    lake = pulse.open_lake(str(macro_lake))
    with pytest.raises(pulse.NotFoundError, match="no table 'nope' in lake"):
        lake.read("nope")
    with pytest.raises(pulse.PulseError, match="version 99"):
        lake.read("signals", version=99)
    with pytest.raises(pulse.InvalidArgumentError, match="lake.checkpoint_interval"):
        pulse.open_lake(str(macro_lake), settings={"lake.checkpoint_interval": "-5"})
    with pytest.raises(pulse.PulseError, match="no_such.key"):
        pulse.open_lake(str(macro_lake), settings={"no_such.key": "1"})
    assert issubclass(pulse.NotFoundError, LookupError) and issubclass(pulse.InvalidArgumentError, ValueError)


def test_create_makes_an_empty_lake(tmp_path):
    lake = pulse.open_lake(str(tmp_path / "new"), create=True)
    assert lake.tables() == [] and (tmp_path / "new").is_dir()


def test_environment_layer_is_read_unless_turned_off(macro_lake, monkeypatch):
    monkeypatch.setenv("PULSE_LAKE_URL", str(macro_lake))
    assert "signals" in pulse.open_lake().tables()
    monkeypatch.setenv("PULSE_LAKE_CHECKPOINT_INTERVAL", "not-a-number")
    with pytest.raises(pulse.InvalidArgumentError, match="PULSE_LAKE_CHECKPOINT_INTERVAL"):
        pulse.open_lake(str(macro_lake))
    assert "signals" in pulse.open_lake(str(macro_lake), environment=False).tables()


def test_reads_an_s3_lake(pulse_bin, tmp_path):
    endpoint = os.environ.get("PULSE_TEST_S3_ENDPOINT", "")
    if not endpoint:
        pytest.skip("PULSE_TEST_S3_ENDPOINT is not set (run through scripts/test)")
    import boto3

    bucket = f"py-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="pulse", aws_secret_access_key="pulse-secret",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    env = {"PULSE_S3_ENDPOINT": endpoint, "PULSE_S3_ACCESS_KEY": "pulse", "PULSE_S3_SECRET_KEY": "pulse-secret"}
    csv = tmp_path / "s.csv"
    csv.write_text("name,ts,value\na,2024-01-01,1.5\na,2024-02-01,2.5\nb,2024-01-01,7\n")
    url = f"s3://{bucket}/lake"
    run_pulse(pulse_bin, "--lake", url, "ingest", csv, env=env)
    settings = {"s3.endpoint": endpoint, "s3.access_key": "pulse", "s3.secret_key": "pulse-secret"}
    lake = pulse.open_lake(url, settings=settings, environment=False)
    assert lake.tables() == ["signals"] or "signals" in lake.tables()
    t = lake.read("signals", columns=["name", "value"]).sort_by("value")
    assert t.column("value").to_pylist() == [1.5, 2.5, 7.0]
    with pytest.raises(pulse.PulseError):
        pulse.open_lake(url, settings={**settings, "s3.secret_key": "wrong"}, environment=False).read("signals")
