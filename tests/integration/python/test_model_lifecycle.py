"""The model lifecycle end to end, against real servers only: a real `mlflow server` (the registry,
scripts/start-mlflow-server, PULSE_TEST_MLFLOW_URL) and a real redis-server (the broker,
scripts/start-redis-server, PULSE_TEST_REDIS_URL), with a `pulse worker` running the retraining.

The series is daily with a weekly season (amplitude 6) and unit noise around 100. A model is trained
and becomes champion (v1); then the level shifts by +12 and the data arrives a week at a time, with
`pulse drift --broker …` after each week (retraining rule: the default input test says drift in
three checks in a row; the coverage and streaming rules are off so that the rule under test is the
only one that can fire). Expected: the first detection within the first two weeks after the shift,
no pulse.train message before the third detection, exactly one then (a Celery protocol v2 message
in the `celery` list), and a `pulse worker` started afterwards trains v2 from it.

- Promotion: v1 is the Naive method. The retrained v2 (the accuracy-weighted ensemble, which models
  the season) beats it on the same rolling-origin backtest window by more than the 5% margin, so it
  becomes champion; `pulse forecast` then records model_version 2.
- Worse challenger: v1 is the ensemble fitted before the shift. The ensemble refitted on the mixed
  data scores worse than v1's registered model on the same window: v2 is registered but refused,
  the champion stays v1, the reason and numbers are in model_events and the version's tags, and
  forecasts keep recording v1.
- No drift: the same series without a shift: every check says no drift and nothing is enqueued.

The stock `mlflow` Python client (the server's own venv, PULSE_TEST_MLFLOW_PYTHON) reads the
versions, aliases and decision tags back; the stock Celery client reads the worker's result."""
import base64
import datetime as dt
import json
import math
import os
import random
import signal
import subprocess
import uuid

import pytest

from conftest import delta_table, run_pulse

MLFLOW_URL = os.environ.get("PULSE_TEST_MLFLOW_URL")
MLFLOW_PYTHON = os.environ.get("PULSE_TEST_MLFLOW_PYTHON")
REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL")
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
HISTORY = 120  # days before the shift
SHIFT = 12.0
WEEK = 7

pytestmark = [
    pytest.mark.skipif(not MLFLOW_URL, reason="PULSE_TEST_MLFLOW_URL is not set (run through scripts/test)"),
    pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)"),
]


class Series:
    """demand: 100 + 6 sin(2 pi t / 7) + N(0, 1), plus `shift` from day HISTORY on; seeded."""

    def __init__(self, seed, shift):
        self.rng, self.shift, self.next = random.Random(seed), shift, 0

    def value(self, i):
        return 100 + 6 * math.sin(2 * math.pi * i / 7) + self.rng.gauss(0, 1) + (self.shift if i >= HISTORY else 0)

    def write(self, path, days):
        rows = [(i, self.value(i)) for i in range(self.next, self.next + days)]
        self.next += days
        path.write_text("name,ts,value,kind\n" + "".join(
            f"demand,{(BASE + dt.timedelta(days=i)).isoformat()},{v:.6f},web\n" for i, v in rows))
        return path


class Lifecycle:
    """One lake, one fresh model prefix on the shared MLflow server, the test Redis."""

    def __init__(self, pulse_bin, tmp_path, redis_db, seed, shift):
        self.pulse_bin, self.tmp, self.redis = pulse_bin, tmp_path, redis_db
        self.lake = tmp_path / "lake"
        self.prefix = "lc" + uuid.uuid4().hex[:10]
        self.name = f"{self.prefix}.web.demand"
        self.series = Series(seed, shift)
        self.batches = 0
        kw = redis_db.connection_pool.connection_kwargs
        self.broker = f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"
        self.settings = ["--lake", self.lake, "--set", f"registry.url={MLFLOW_URL}",
                         "--set", f"registry.model_prefix={self.prefix}"]

    def pulse(self, *args, check=True):
        return run_pulse(self.pulse_bin, *self.settings, *args, check=check)

    def ingest(self, days):
        self.batches += 1
        self.pulse("ingest", self.series.write(self.tmp / f"batch{self.batches}.csv", days))

    def drift(self):
        return json.loads(self.pulse(
            "drift", "--json", "--broker", self.broker, "--set", "drift.trigger.consecutive=3",
            "--set", "drift.trigger.coverage=false", "--set", "drift.trigger.streaming=false").stdout)

    def train(self, *args):
        out = json.loads(self.pulse("train", "--json", *args).stdout)
        assert len(out["series"]) == 1, out
        return out["series"][0]

    def forecast_versions(self):
        """(model_name, model_version) of the newest signals version's forecast rows."""
        rows = delta_table(self.lake, "forecasts").to_pyarrow_table().to_pylist()
        newest = max(r["signals_version"] for r in rows)
        return {(r["model_name"], r["model_version"]) for r in rows if r["signals_version"] == newest}

    def weeks_until_retrain(self, max_weeks=6):
        """Ingests shifted weeks, checking drift after each, until a pulse.train is enqueued; returns
        (days after the shift of every check that said drift, the drift report that enqueued)."""
        detected = []
        for week in range(1, max_weeks + 1):
            self.ingest(WEEK)
            report = self.drift()
            if report["input_drift"]:
                detected.append(week * WEEK)
            if report["retrain"]:
                return detected, report
            assert self.redis.llen("celery") == 0, f"enqueued without a retrain trigger in week {week}"
        raise AssertionError(f"no retraining enqueued in {max_weeks} weeks after the shift; drift at {detected}")

    def run_worker_until(self, task_id):
        """Starts a `pulse worker` on the broker and returns the result of task_id as stock Celery reads it."""
        from celery import Celery
        worker = subprocess.Popen([self.pulse_bin, *map(str, self.settings), "worker", "--broker", self.broker,
                                   "--concurrency", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = worker.stderr.readline()
            assert line.startswith("pulse worker:"), line + worker.stderr.read()
            app = Celery("pulse-lifecycle-test", broker=self.broker, backend=self.broker)
            return app.AsyncResult(task_id).get(timeout=240)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.communicate(timeout=60)

    def model_events(self):
        rows = delta_table(self.lake, "model_events").to_pyarrow_table().to_pylist()
        return sorted(rows, key=lambda r: r["version"])


def check_enqueued_message(life, report):
    """Exactly one Celery protocol v2 pulse.train message, for the series, with the trigger's reason."""
    assert [r["series"] for r in report["retrain"]] == ["demand"]
    assert life.redis.llen("celery") == 1
    envelope = json.loads(life.redis.lindex("celery", 0))
    assert envelope["headers"]["task"] == "pulse.train"
    assert envelope["headers"]["id"] == report["retrain"][0]["task_id"]
    args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
    assert args == [] and kwargs["series"] == ["demand"]
    assert kwargs["reason"].startswith("ks: ") and kwargs["reason"] == report["retrain"][0]["reason"]
    return report["retrain"][0]


def start_with_champion(life, method):
    """History without a shift, v1 trained with `method` (champion), forecast with it; drift quiet."""
    life.ingest(HISTORY)
    v1 = life.train("--method", method)
    assert (v1["model_name"], v1["version"], v1["decision"]) == (life.name, 1, "promoted"), v1
    life.pulse("forecast")
    assert life.forecast_versions() == {(life.name, 1)}
    quiet = life.drift()
    assert quiet["input_drift"] == [] and quiet["retrain"] == [] and life.redis.llen("celery") == 0
    return v1


def shift_until_retrained(life):
    """The shifted weeks until the trigger; checks the one message, runs it on a worker; the result."""
    detected, report = life.weeks_until_retrain()
    # Detected within two weeks of the shift, retrained at the third detection in a row.
    assert detected[0] <= 2 * WEEK, detected
    assert len(detected) == 3 and detected == [detected[0] + WEEK * k for k in range(3)], detected
    trigger = check_enqueued_message(life, report)
    events = delta_table(life.lake, "drift_events").to_pyarrow_table().to_pylist()
    ks = [e for e in events if e["series"] == "demand" and e["detector"] == "ks" and e["default_test"]]
    assert [e["decision"] for e in sorted(ks, key=lambda e: e["signals_version"])][-3:] == ["drift"] * 3
    result = life.run_worker_until(trigger["task_id"])
    assert life.redis.llen("celery") == 0  # taken and acknowledged
    assert len(result["series"]) == 1, result
    return trigger, result["series"][0]


def mlflow_view(name):
    """What the stock mlflow client sees of the registered model: versions with their decision tags,
    the aliases, and the champion's training-run params."""
    assert MLFLOW_PYTHON, "PULSE_TEST_MLFLOW_PYTHON is not set (scripts/start-mlflow-server prints it)"
    script = f"""
import json, mlflow
client = mlflow.MlflowClient(tracking_uri={MLFLOW_URL!r})
versions = client.search_model_versions("name='{name}'")
model = client.get_registered_model({name!r})
champion = client.get_model_version_by_alias({name!r}, "champion")
print(json.dumps({{"versions": sorted([int(v.version), v.tags.get("pulse.promotion"),
                                       v.tags.get("pulse.promotion.reason", "")] for v in versions),
                  "aliases": dict(sorted(model.aliases.items())),
                  "champion_params": client.get_run(champion.run_id).data.params}}))
"""
    proc = subprocess.run([MLFLOW_PYTHON, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_drift_retrains_and_a_better_challenger_is_promoted(pulse_bin, tmp_path, redis_db):
    life = Lifecycle(pulse_bin, tmp_path, redis_db, seed=2, shift=SHIFT)
    start_with_champion(life, "Naive")
    trigger, v2 = shift_until_retrained(life)

    assert (v2["model_name"], v2["version"], v2["champion_version"]) == (life.name, 2, 1), v2
    assert v2["decision"] == "promoted", v2
    assert v2["challenger_mase"] <= v2["champion_mase"] * 0.95  # promoted because its backtest is better
    assert "beats champion v1" in v2["reason"]

    events = life.model_events()
    assert [(e["version"], e["event"], e["champion_version"]) for e in events] == [
        (1, "promoted", None), (2, "promoted", 1)]
    assert events[1]["trigger"] == trigger["reason"]  # the drift that caused the retrain
    assert events[1]["challenger_mase"] == pytest.approx(v2["challenger_mase"])
    assert events[1]["champion_mase"] == pytest.approx(v2["champion_mase"])

    out = life.pulse("forecast").stdout
    assert "1 series forecast with their registered champion" in out
    assert life.forecast_versions() == {(life.name, 2)}

    seen = mlflow_view(life.name)
    assert [v[:2] for v in seen["versions"]] == [[1, "promoted"], [2, "promoted"]]
    assert seen["aliases"]["champion"] == "2"
    assert seen["champion_params"]["method"] == "Ensemble"
    assert seen["champion_params"]["reason"] == trigger["reason"]


def test_drift_retrains_but_a_worse_challenger_is_not_promoted(pulse_bin, tmp_path, redis_db):
    life = Lifecycle(pulse_bin, tmp_path, redis_db, seed=2, shift=SHIFT)
    start_with_champion(life, "Ensemble")
    trigger, v2 = shift_until_retrained(life)

    assert (v2["model_name"], v2["version"], v2["champion_version"]) == (life.name, 2, 1), v2
    assert v2["decision"] == "refused", v2
    assert v2["challenger_mase"] > v2["champion_mase"]  # worse on the same window, not just short of the margin
    assert "does not beat champion v1" in v2["reason"]

    events = life.model_events()
    assert [(e["version"], e["event"], e["champion_version"]) for e in events] == [
        (1, "promoted", None), (2, "refused", 1)]
    refused = events[1]
    assert refused["reason"] == v2["reason"] and refused["trigger"] == trigger["reason"]
    assert refused["challenger_mase"] > refused["champion_mase"] and refused["margin"] == 0.05

    # Serving is unchanged: the champion is still v1.
    life.pulse("forecast")
    assert life.forecast_versions() == {(life.name, 1)}

    seen = mlflow_view(life.name)
    assert [v[:2] for v in seen["versions"]] == [[1, "promoted"], [2, "refused"]]
    assert "does not beat champion v1" in seen["versions"][1][2]
    assert seen["aliases"] == {"challenger": "2", "champion": "1"}


def test_no_drift_enqueues_nothing(pulse_bin, tmp_path, redis_db):
    life = Lifecycle(pulse_bin, tmp_path, redis_db, seed=2, shift=0.0)
    start_with_champion(life, "Naive")
    for week in range(4):
        life.ingest(WEEK)
        report = life.drift()
        assert report["input_drift"] == [] and report["retrain"] == [], (week, report)
        assert redis_db.llen("celery") == 0
    ks = [e for e in delta_table(life.lake, "drift_events").to_pyarrow_table().to_pylist() if e["detector"] == "ks"]
    assert len(ks) == 5 and {e["decision"] for e in ks} == {"ok"}
    assert [e["version"] for e in life.model_events()] == [1]
