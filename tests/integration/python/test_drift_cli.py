"""`pulse drift` on a lake: a series with a level shift is detected and a steady one is not, the
drift_events table is a standard Delta table (deltalake reads it), forecast outcomes give streaming
and coverage rows, a retraining trigger lands a Celery-protocol pulse.train message in Redis with
the series and reason as kwargs, and bad input fails clearly without writing anything."""
import base64
import json
import math

from conftest import run_pulse, delta_table


def noise(i):
    return math.sin(i * 1.7) * 0.6 + math.sin(i * 0.37) * 0.4


def write_csv(path, months, shift_at=10**9, shift=0.0):
    lines = ["name,ts,value,kind"]
    for i in months:
        ts = f"{2000 + i // 12}-{i % 12 + 1:02d}-01"
        lines.append(f"steady,{ts},{10 + noise(i):.6f},macro")
        lines.append(f"shifted,{ts},{10 + noise(i + 100) + (shift if i >= shift_at else 0):.6f},macro")
    path.write_text("\n".join(lines) + "\n")
    return path


def drift_json(pulse_bin, lake, *args):
    return json.loads(run_pulse(pulse_bin, "--lake", lake, "drift", "--json", *args).stdout)


def test_level_shift_is_detected_and_a_steady_series_is_not(pulse_bin, tmp_path):
    lake = tmp_path / "lake"
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "a.csv", range(64), 52, 2.0))
    report = drift_json(pulse_bin, lake, "--reference", "40", "--current", "12")
    assert report["series_checked"] == 2
    assert report["input_drift"] == ["shifted"]
    assert report["detections"]["ks"] == 1
    rows = delta_table(lake, "drift_events").to_pyarrow_table().to_pylist()
    assert len(rows) == report["rows"] == 8  # ks, psi, jensenshannon, wasserstein per series
    ks = {r["series"]: r for r in rows if r["detector"] == "ks"}
    assert ks["shifted"]["decision"] == "drift" and ks["shifted"]["p_value"] < 0.05
    assert ks["steady"]["decision"] == "ok" and ks["steady"]["p_value"] >= 0.05
    assert ks["shifted"]["default_test"] and ks["shifted"]["threshold"] == 0.05
    assert ks["shifted"]["window_start"].year == 2004 and ks["shifted"]["window_start"].month == 5  # month 52
    assert ks["shifted"]["signals_version"] == report["signals_version"]
    # Once per signals version and windows: a rerun writes nothing.
    again = run_pulse(pulse_bin, "--lake", lake, "drift", "--reference", "40", "--current", "12").stdout
    assert "already checked" in again
    assert delta_table(lake, "drift_events").version() == report["drift_events_version"]


def test_forecast_outcomes_give_streaming_and_coverage_rows(pulse_bin, tmp_path):
    lake = tmp_path / "lake"
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "a.csv", range(52)))
    run_pulse(pulse_bin, "--lake", lake, "forecast")
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "b.csv", range(52, 64), 52, 3.0))
    metrics = tmp_path / "drift.prom"
    report = drift_json(pulse_bin, lake, "--reference", "40", "--current", "12", "--metrics-file", metrics,
                        "--set", "drift.min_coverage_outcomes=5")
    rows = delta_table(lake, "drift_events").to_pyarrow_table().to_pylist()
    by = {(r["series"], r["detector"]): r for r in rows}
    for series in ("steady", "shifted"):
        for det in ("adwin", "page_hinkley", "ddm", "coverage80", "coverage95"):
            assert (series, det) in by, (series, det)
    cov = by[("shifted", "coverage80")]
    assert cov["decision"] == "drift" and cov["statistic"] == 0.0 and cov["p_value"] < 0.05
    assert json.loads(cov["detail"]) == {"hits": 0, "trials": 12, "nominal": 0.8}
    text = metrics.read_text()
    assert f'pulse_drift_series {report["series_checked"]}' in text
    assert 'pulse_drift_detections_total{detector="coverage80"}' in text
    assert f'pulse_drift_rows_total {report["rows"]}' in text


def test_drift_trigger_enqueues_pulse_train_in_redis(pulse_bin, tmp_path, redis_db):
    lake = tmp_path / "lake"
    url = redis_db.connection_pool.connection_kwargs
    broker = f"redis://{url['host']}:{url['port']}/{url.get('db', 0)}"
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "a.csv", range(64), 52, 2.0))
    args = ("--reference", "40", "--current", "12", "--broker", broker, "--set", "drift.trigger.consecutive=2",
            "--set", "drift.trigger.queue=training")
    first = drift_json(pulse_bin, lake, *args)
    assert first["retrain"] == [] and redis_db.llen("training") == 0  # one run of drift is not enough
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "b.csv", range(64, 65), 52, 2.0))
    second = drift_json(pulse_bin, lake, *args)
    assert [r["series"] for r in second["retrain"]] == ["shifted"]
    assert redis_db.llen("training") == 1
    envelope = json.loads(redis_db.lindex("training", 0))
    assert envelope["headers"]["task"] == "pulse.train"
    assert envelope["headers"]["id"] == second["retrain"][0]["task_id"]
    body_args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
    assert body_args == []
    assert kwargs["series"] == ["shifted"]
    assert kwargs["reason"].startswith("ks: ") and kwargs["reason"] == second["retrain"][0]["reason"]


def test_bad_input_fails_clearly_and_writes_nothing(pulse_bin, tmp_path):
    missing = run_pulse(pulse_bin, "--lake", tmp_path / "none", "drift", check=False)
    assert missing.returncode == 1 and "no lake" in missing.stderr
    lake = tmp_path / "lake"
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "a.csv", range(30)))
    usage = run_pulse(pulse_bin, "--lake", lake, "drift", "--reference", "-1", check=False)
    assert usage.returncode == 2 and "--reference" in usage.stderr
    inproc = run_pulse(pulse_bin, "--lake", lake, "drift", "--broker", "inproc", check=False)
    assert inproc.returncode == 1 and "redis://" in inproc.stderr
    bad_key = run_pulse(pulse_bin, "--lake", lake, "drift", "--set", "drift.current_points=0", check=False)
    assert bad_key.returncode != 0 and "drift.current_points" in bad_key.stderr
    short = run_pulse(pulse_bin, "--lake", lake, "drift")  # 30 points < 40 + 8 (the defaults)
    assert "skipped macro/shifted: 30 points, fewer than" in short.stderr
    assert delta_table(lake, "drift_events") is None


def test_pulse_drift_task_on_a_worker_exports_drift_metrics(pulse_bin, tmp_path, redis_db):
    """pulse.drift through Python Celery on a `pulse worker`: the result, and the worker's metrics."""
    import signal
    import subprocess
    import time
    import urllib.request

    from celery import Celery

    lake = tmp_path / "lake"
    run_pulse(pulse_bin, "--lake", lake, "ingest", write_csv(tmp_path / "a.csv", range(64), 52, 2.0))
    kw = redis_db.connection_pool.connection_kwargs
    url = f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", url, "--concurrency", "1", "--metrics-port", "0",
                               "--lake", str(lake)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = worker.stderr.readline()
        assert "metrics on " in line, line
        metrics_url = line.strip().split("metrics on ")[1]
        app = Celery("pulse-drift-test", broker=url, backend=url)
        out = app.send_task("pulse.drift", kwargs={"reference_points": 40, "current_points": 12}).get(timeout=60)
        assert out["input_drift"] == ["shifted"] and out["series_checked"] == 2 and not out["duplicate"]
        assert out["retrain"] == []  # one run of drift; the task reports triggers, it does not enqueue
        deadline, text = time.monotonic() + 30, ""
        while "pulse_drift_series 2" not in text and time.monotonic() < deadline:
            text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
            time.sleep(0.05)
        assert "pulse_drift_series 2" in text
        assert 'pulse_drift_detections_total{detector="ks"} 1' in text
        assert f'pulse_drift_rows_total {out["rows"]}' in text
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
