"""The model registry end to end: `pulse train` registers per-series model versions, promotes a
challenger to champion only when its backtest beats the champion's by the margin, records every
decision (registry tags + the model_events table), and `pulse forecast` serves the champion -
against the embedded folder registry and a real MLflow tracking server (scripts/start-mlflow-server,
PULSE_TEST_MLFLOW_URL), whose versions and aliases the stock `mlflow` Python client then reads.
A pulse.train task sent with stock Celery to a Pulse worker registers the same way."""
import datetime as dt
import json
import os
import random
import signal
import subprocess
import uuid

import pytest
from deltalake import DeltaTable

from conftest import run_pulse

MLFLOW_URL = os.environ.get("PULSE_TEST_MLFLOW_URL")
MLFLOW_PYTHON = os.environ.get("PULSE_TEST_MLFLOW_PYTHON")
REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL")
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def trending(start, count, rng):
    """A daily series with a strong linear trend and small noise: Naive lags it, the ensemble doesn't."""
    return [(i, 100 + 0.8 * i + rng.gauss(0, 1)) for i in range(start, start + count)]


def write_csv(path, rows):
    path.write_text("name,ts,value,kind\n" + "".join(
        f"demand,{(BASE + dt.timedelta(days=i)).isoformat()},{v},web\n" for i, v in rows))
    return path


@pytest.fixture(params=["file", "mlflow"])
def registry(request, tmp_path):
    """(registry.url, model prefix): a fresh folder, or the shared MLflow server with a fresh prefix."""
    if request.param == "file":
        return str(tmp_path / "registry"), "pulse"
    if not MLFLOW_URL:
        pytest.skip("PULSE_TEST_MLFLOW_URL is not set (run through scripts/test)")
    return MLFLOW_URL, "t" + uuid.uuid4().hex[:10]


def pulse(pulse_bin, lake, registry, *args, check=True):
    url, prefix = registry
    return run_pulse(pulse_bin, "--lake", lake, "--set", f"registry.url={url}", "--set",
                     f"registry.model_prefix={prefix}", *args, check=check)


def train_json(pulse_bin, lake, registry, *args):
    out = json.loads(pulse(pulse_bin, lake, registry, "train", "--json", *args).stdout)
    assert len(out["series"]) == 1, out
    return out["series"][0]


def test_champion_challenger_lifecycle(pulse_bin, tmp_path, lake, registry):
    rng = random.Random(7)
    name = f"{registry[1]}.web.demand"
    pulse(pulse_bin, lake, registry, "ingest", write_csv(tmp_path / "a.csv", trending(0, 120, rng)))

    # v1: a Naive model, the first version, becomes champion.
    v1 = train_json(pulse_bin, lake, registry, "--method", "Naive")
    assert (v1["model_name"], v1["version"], v1["decision"]) == (name, 1, "promoted")
    assert v1["reason"] == "first version: no champion yet"
    events_version = DeltaTable(str(lake / "model_events")).version()

    # The same configuration on the same signals version: a no-op, nothing registered or written.
    again = train_json(pulse_bin, lake, registry, "--method", "Naive")
    assert again["unchanged"] and again["version"] == 1
    assert DeltaTable(str(lake / "model_events")).version() == events_version

    # New data; v2 (the ensemble) beats the Naive champion on the same backtest window: promoted.
    pulse(pulse_bin, lake, registry, "ingest", write_csv(tmp_path / "b.csv", trending(120, 30, rng)))
    v2 = train_json(pulse_bin, lake, registry)
    assert (v2["version"], v2["decision"], v2["champion_version"]) == (2, "promoted", 1), v2
    assert v2["challenger_mase"] <= v2["champion_mase"] * 0.95
    assert v2["coverage80"] >= 0.65

    # A worse challenger (Naive again, on the new data) does not beat v2: refused, champion stays.
    v3 = train_json(pulse_bin, lake, registry, "--method", "Naive")
    assert (v3["version"], v3["decision"], v3["champion_version"]) == (3, "refused", 2), v3
    assert v3["challenger_mase"] > v3["champion_mase"] * 0.95
    assert "does not beat champion v2" in v3["reason"]

    # Every decision is in model_events with its numbers.
    events = sorted(DeltaTable(str(lake / "model_events")).to_pyarrow_table().to_pylist(), key=lambda r: r["version"])
    assert [(e["version"], e["event"], e["champion_version"]) for e in events] == [
        (1, "promoted", None), (2, "promoted", 1), (3, "refused", 2)]
    assert events[1]["challenger_mase"] == pytest.approx(v2["challenger_mase"])
    assert events[1]["champion_mase"] == pytest.approx(v2["champion_mase"])
    assert events[2]["margin"] == 0.05 and events[2]["min_coverage80"] == pytest.approx(0.65)
    assert {e["trigger"] for e in events} == {"manual"} and events[2]["signals_version"] == 2

    # pulse forecast serves the champion, and its rows say which model made them.
    out = pulse(pulse_bin, lake, registry, "forecast").stdout
    assert "1 series forecast with their registered champion" in out
    rows = DeltaTable(str(lake / "forecasts")).to_pyarrow_table().to_pylist()
    assert {(r["model_name"], r["model_version"], r["model"]) for r in rows} == {(name, 2, "Ensemble")}

    if registry[0] == MLFLOW_URL:
        check_with_mlflow_client(name)


def check_with_mlflow_client(name):
    """The stock mlflow client sees the versions, aliases and decision tags Pulse registered."""
    assert MLFLOW_PYTHON, "PULSE_TEST_MLFLOW_PYTHON is not set (scripts/start-mlflow-server prints it)"
    script = f"""
import json, mlflow
client = mlflow.MlflowClient(tracking_uri={MLFLOW_URL!r})
versions = client.search_model_versions("name='{name}'")
champion = client.get_model_version_by_alias({name!r}, "champion")
challenger = client.get_model_version_by_alias({name!r}, "challenger")
run = client.get_run(champion.run_id)
files = sorted(a.path for a in client.list_artifacts(champion.run_id))
print(json.dumps({{"versions": sorted((int(v.version), v.tags.get("pulse.promotion")) for v in versions),
                  "champion": champion.version, "challenger": challenger.version,
                  "params": run.data.params, "metrics": run.data.metrics, "files": files,
                  "status": run.info.status}}))
"""
    proc = subprocess.run([MLFLOW_PYTHON, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["versions"] == [[1, "promoted"], [2, "promoted"], [3, "refused"]]
    assert (seen["champion"], seen["challenger"]) == ("2", "3")
    assert seen["params"]["method"] == "Ensemble" and seen["params"]["signals_version"] == "2"
    assert seen["metrics"]["backtest_mase"] > 0 and seen["status"] == "FINISHED"
    assert seen["files"] == ["manifest.json", "model.json"]


def test_bad_registry_urls_and_options_are_clear_errors(pulse_bin, tmp_path, lake):
    rng = random.Random(1)
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "a.csv", trending(0, 40, rng)))
    proc = run_pulse(pulse_bin, "--lake", lake, "--set", "registry.url=s3://b/x", "train", check=False)
    assert proc.returncode != 0 and "registry.url" in proc.stderr
    reg = ("http://127.0.0.1:9", "pulse")  # nothing listens there
    proc = pulse(pulse_bin, lake, reg, "train", check=False)
    assert proc.returncode == 1 and "127.0.0.1:9" in proc.stderr
    reg = (str(tmp_path / "registry"), "pulse")
    proc = pulse(pulse_bin, lake, reg, "train", "--method", "Magic", check=False)
    assert proc.returncode == 1 and "unknown forecasting method 'Magic'" in proc.stderr
    assert not (lake / "model_events").exists()
    # A champion whose artifacts were tampered with is refused, not served.
    pulse(pulse_bin, lake, reg, "train")
    model = next((tmp_path / "registry").rglob("model.json"))
    model.write_text(model.read_text().replace('"period": 7', '"period": 1'))
    proc = pulse(pulse_bin, lake, reg, "forecast", check=False)
    assert proc.returncode == 1 and "does not match manifest.json" in proc.stderr
    assert not (lake / "forecasts").exists()


@pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
def test_pulse_train_task_from_celery(pulse_bin, tmp_path, lake, redis_db):
    rng = random.Random(3)
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "a.csv", trending(0, 60, rng)))
    reg = tmp_path / "registry"
    worker = subprocess.Popen([pulse_bin, "--lake", lake, "--set", f"registry.url={reg}", "worker", "--broker",
                               REDIS_URL, "--concurrency", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        line = worker.stderr.readline()
        assert line.startswith("pulse worker:"), line + worker.stderr.read()
        from celery import Celery
        app = Celery("pulse-train-test", broker=REDIS_URL, backend=REDIS_URL)
        result = app.send_task("pulse.train", kwargs={"series": ["demand"], "reason": "drift"}).get(timeout=120)
        assert [(s["model_name"], s["version"], s["decision"]) for s in result["series"]] == [
            ("pulse.web.demand", 1, "promoted")]
        again = app.send_task("pulse.train", kwargs={"reason": "drift"}).get(timeout=120)
        assert again["series"][0]["unchanged"]
        bad = app.send_task("pulse.train", kwargs={"series": "demand"})
        with pytest.raises(Exception) as err:
            bad.get(timeout=60)
        assert "series" in str(err.value)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    events = DeltaTable(str(lake / "model_events")).to_pyarrow_table().to_pylist()
    assert [(e["event"], e["trigger"]) for e in events] == [("promoted", "drift")]


def test_a_forecasts_table_from_before_the_model_columns_gains_them(pulse_bin, tmp_path, lake):
    """Tables written before model_name / model_version existed stay readable: the next forecast adds
    the columns (schema evolution), old rows read them as null, new rows carry the champion."""
    import pyarrow as pa
    from deltalake import write_deltalake
    rng = random.Random(5)
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "a.csv", trending(0, 60, rng)))
    ts = pa.timestamp("us", tz="UTC")
    old = pa.schema([("series", pa.string(), False), ("kind", pa.string(), False), ("model", pa.string(), False),
                     ("origin", ts, False), ("target", ts, False), ("step", pa.int32(), False),
                     ("mean", pa.float64(), False), ("level", pa.float64(), False), ("lower", pa.float64(), False),
                     ("upper", pa.float64(), False), ("confidence", pa.float64(), False),
                     ("calibrated", pa.bool_(), False), ("frequency", pa.string(), False),
                     ("model_params", pa.string(), False), ("signals_version", pa.int64(), False),
                     ("created", ts, False)])
    when = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    row = {"series": "demand", "kind": "web", "model": "Ensemble", "origin": when, "target": when, "step": 1,
           "mean": 1.0, "level": 0.8, "lower": 0.0, "upper": 2.0, "confidence": 0.8, "calibrated": True,
           "frequency": "daily", "model_params": "{}", "signals_version": 0, "created": when}
    write_deltalake(str(lake / "forecasts"), pa.Table.from_pylist([row], schema=old), partition_by=["kind"])
    reg = (str(tmp_path / "registry"), "pulse")
    pulse(pulse_bin, lake, reg, "train")
    pulse(pulse_bin, lake, reg, "forecast")
    rows = DeltaTable(str(lake / "forecasts")).to_pyarrow_table().to_pylist()
    old_rows = [r for r in rows if r["signals_version"] == 0]
    new_rows = [r for r in rows if r["signals_version"] == 1]
    assert len(old_rows) == 1 and old_rows[0]["model_name"] is None and old_rows[0]["model_version"] is None
    assert new_rows and {(r["model_name"], r["model_version"]) for r in new_rows} == {("pulse.web.demand", 1)}
    run_pulse(pulse_bin, "--lake", lake, "lake", "show", "forecasts")
