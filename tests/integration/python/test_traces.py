"""Traces end to end against a real OTLP/HTTP receiver (otlp_receiver.py: the opentelemetry-proto
package decodes every request Pulse sends), through a real redis-server:
  - one trace from an HTTP request to `pulse serve` (continuing the caller's traceparent header)
    through the Redis broker (the Celery message's headers.traceparent) to a `pulse worker`'s task
    and its lake commit, with every parent link checked, the commit's commitInfo carrying the
    commit span's traceparent, and the worker's JSON log lines carrying the trace id;
  - a stock Python Celery worker and client instrumented with opentelemetry-instrumentation-celery
    (scripts/requirements-otel.txt) joining the same trace in both directions: `pulse task send`
    -> the Python worker's run span, and the Python client's publish span -> the Pulse worker's;
  - export failures never fail a command: a receiver that is down, or one answering 400 to every
    request, leaves the command's result unchanged and the spans counted as failed.
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import otlp_spans
from conftest import ROOT, run_pulse
from otlp_spans import descends, new_traceparent, one
from serve_util import start_serve
from timing import scaled

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def otel_python():
    """The pinned OpenTelemetry + Celery venv's python (made once by scripts/otel-venv)."""
    proc = subprocess.run([str(ROOT / "scripts/otel-venv")], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


class Receiver:
    def __init__(self, python):
        self.proc = subprocess.Popen([python, str(HERE / "otlp_receiver.py")], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("port="), line + self.proc.stderr.read()
        self.url = "http://127.0.0.1:" + line.strip().split("=")[1]

    def state(self):
        return otlp_spans.state(self.url)

    def trace(self, trace_id, want, timeout=30):
        """The spans of `trace_id` once there are at least `want` of them (or at the timeout)."""
        return otlp_spans.wait_trace(self.url, trace_id, want, scaled(timeout))

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def receiver(otel_python):
    r = Receiver(otel_python)
    yield r
    r.stop()


def quarterly(name, n, start_year=2000, base=100.0, step=1.0):
    return [{"name": name, "kind": "macro", "ts": f"{start_year + i // 4}-{1 + 3 * (i % 4):02d}-01",
             "value": base + step * i + (i % 4) * 0.5} for i in range(n)]


def start_worker(pulse_bin, lake, endpoint, *sets):
    args = [pulse_bin, "--lake", str(lake), "--set", f"telemetry.otlp_endpoint={endpoint}"]
    for s in sets:
        args += ["--set", s]
    proc = subprocess.Popen(args + ["worker", "--broker", REDIS_URL, "--concurrency", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert line.startswith("pulse worker:") and proc.poll() is None, line + proc.stderr.read()
    return proc


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out, err


def wait_job(served, job, timeout=60):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        st = served.json("GET", f"/v1/jobs/{job}", token="read")[2]
        if st["state"] in ("SUCCESS", "FAILURE", "REVOKED") or time.monotonic() > deadline:
            return st
        time.sleep(0.1)


def test_one_trace_from_serve_through_redis_and_a_worker_to_the_lake(pulse_bin, tmp_path, lake, redis_db, receiver):
    served = start_serve(pulse_bin, tmp_path, lake, f"jobs.broker={REDIS_URL}",
                         f"telemetry.otlp_endpoint={receiver.url}")
    # The lake module logs at debug (its "committed" line), every other module at info.
    worker = start_worker(pulse_bin, lake, receiver.url, "log.modules=lake=debug")
    trace_id, caller_span, traceparent = new_traceparent()
    try:
        # Signals to forecast (their own trace: no traceparent header), then the traced job.
        assert served.json("POST", "/v1/signals", quarterly("gdp", 32), token="write")[0] == 200
        status, _, body = served.json("POST", "/v1/jobs/forecast", {"horizon": 4}, token="write",
                                      headers={"traceparent": traceparent})
        assert status == 202, body
        st = wait_job(served, body["job_id"])
        assert st["state"] == "SUCCESS", st
    finally:
        _, worker_log = stop(worker)
        code, _, serve_log = served.stop()
    assert code == 0, serve_log
    spans = receiver.trace(trace_id, want=4)
    request = one(spans, name="POST /v1/jobs/forecast")
    assert request["service"] == "pulse-serve" and request["kind"] == 2  # SERVER
    assert request["parent_span_id"] == caller_span  # continues the caller's traceparent
    assert request["attributes"]["http.response.status_code"] == 202
    enqueue = one(spans, name="apply_async/pulse.forecast")
    assert enqueue["service"] == "pulse-serve" and enqueue["kind"] == 4  # PRODUCER
    assert enqueue["parent_span_id"] == request["span_id"]
    assert enqueue["attributes"]["messaging.message.id"] == body["job_id"]
    run = one(spans, name="run/pulse.forecast")
    assert run["service"] == "pulse-worker" and run["kind"] == 5  # CONSUMER
    assert run["parent_span_id"] == enqueue["span_id"]  # through Redis: the message's headers.traceparent
    commits = [s for s in spans if s["name"] == "lake.commit"]
    assert commits, [s["name"] for s in spans]
    for commit in commits:
        assert commit["service"] == "pulse-worker"
        assert descends(commit, run, spans)  # the commit's ancestors lead to the task's run span
        # The Delta commit records the commit span as its traceparent.
        table = commit["attributes"]["pulse.lake.table"]
        version = commit["attributes"]["pulse.lake.version"]
        log_file = lake / table / "_delta_log" / f"{version:020d}.json"
        info = [json.loads(line)["commitInfo"] for line in log_file.read_text().splitlines() if "commitInfo" in line]
        assert info and info[0]["traceparent"] == f"00-{trace_id}-{commit['span_id']}-01", info
    # Timestamps nest: the enqueue within its request, the commits within the task's run.
    assert request["start"] <= enqueue["start"] <= enqueue["end"] <= request["end"]
    assert all(run["start"] <= c["start"] <= c["end"] <= run["end"] for c in commits)
    # The worker's JSON log lines written inside a span carry its ids: the lake's debug lines
    # (log.modules) name the commit spans; no other module wrote debug lines.
    records = [json.loads(line) for line in worker_log.splitlines() if line.startswith("{")]
    committed = [r for r in records if r["module"] == "lake" and r["msg"] == "committed"]
    assert committed and all(r["trace_id"] == trace_id for r in committed), worker_log
    assert {r["span_id"] for r in committed} <= {c["span_id"] for c in commits}
    assert not [r for r in records if r["level"] == "debug" and r["module"] != "lake"]
    assert receiver.state()["rejected"] == 0


def test_python_celery_worker_and_client_join_pulse_traces(pulse_bin, tmp_path, lake, redis_db, receiver,
                                                            otel_python):
    env = dict(os.environ, PULSE_TEST_OTLP_ENDPOINT=receiver.url, PYTHONPATH=str(HERE))
    py_worker = subprocess.Popen([otel_python, "-m", "celery", "-A", "otel_celery_app", "worker", "--pool", "solo",
                                  "-Q", "py", "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip",
                                  "--without-mingle"], cwd=HERE, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
    worker = start_worker(pulse_bin, lake, receiver.url)
    trace_id, caller_span, traceparent = new_traceparent()
    try:
        # Pulse client -> Python worker: `pulse task send` continues TRACEPARENT.
        out = run_pulse(pulse_bin, "--set", f"telemetry.otlp_endpoint={receiver.url}", "task", "send", "tests.echo",
                        "--kwargs", '{"text": "hi"}', "--queue", "py", "--broker", REDIS_URL, "--wait", "60",
                        env={"TRACEPARENT": traceparent}).stdout
        echoed = json.loads(out)
        assert echoed["text"] == "hi" and echoed["trace_id"] == trace_id, echoed
        # Python client -> Pulse worker: the instrumentation's publish span is the task's parent.
        sent = subprocess.run([otel_python, str(HERE / "otel_celery_app.py"), "send", traceparent, "pulse.simulate",
                               "celery", '{"runs": 100, "turns": 2, "seed": 3}'], env=env, capture_output=True,
                              text=True, timeout=120)
        assert sent.returncode == 0, sent.stderr
        task_id = sent.stdout.strip()
        deadline = time.monotonic() + scaled(60)
        while not redis_db.get(f"celery-task-meta-{task_id}") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(redis_db.get(f"celery-task-meta-{task_id}"))["status"] == "SUCCESS"
    finally:
        stop(worker)
        py_worker.send_signal(signal.SIGTERM)
        py_log = py_worker.communicate(timeout=60)[0]
    spans = receiver.trace(trace_id, want=7)
    command = one(spans, name="pulse task send")
    assert command["service"] == "pulse-task" and command["parent_span_id"] == caller_span
    pulse_send = one(spans, name="apply_async/tests.echo")
    assert pulse_send["parent_span_id"] == command["span_id"]
    py_run = one(spans, name="run/tests.echo")
    assert py_run["service"] == "python-celery-worker", py_log
    assert py_run["parent_span_id"] == pulse_send["span_id"]  # the Python worker joined Pulse's span
    assert py_run["span_id"] == echoed["span_id"]
    py_client = one(spans, name="python client")
    assert py_client["parent_span_id"] == caller_span
    py_send = one(spans, name="apply_async/pulse.simulate")
    assert py_send["service"] == "python-celery-client" and py_send["parent_span_id"] == py_client["span_id"]
    pulse_run = one(spans, name="run/pulse.simulate")
    assert pulse_run["service"] == "pulse-worker"
    assert pulse_run["parent_span_id"] == py_send["span_id"]  # the Pulse worker joined Python's span


def test_export_failures_never_fail_a_command(pulse_bin, tmp_path, lake, receiver, otel_python):
    data = tmp_path / "s.csv"
    data.write_text("name,ts,value\ngdp,2024-01-01,1.5\n")
    # Nothing listens on the endpoint: the command works, quickly; the failure is one warning line.
    started = time.monotonic()
    proc = run_pulse(pulse_bin, "--lake", lake, "--set", "telemetry.otlp_endpoint=http://127.0.0.1:9", "ingest",
                     data)
    assert time.monotonic() - started < scaled(20)
    assert "span export failed" in proc.stderr, proc.stderr
    # A receiver refusing every body (the JSON encoding sent to a path that answers 404): still fine.
    proc = run_pulse(pulse_bin, "--lake", lake, "--set", f"telemetry.otlp_endpoint={receiver.url}/nowhere",
                     "--set", "telemetry.otlp_protocol=json", "lake", "list")
    assert "span export failed" in proc.stderr and "HTTP 404" in proc.stderr, proc.stderr
    # The JSON encoding, decoded by the receiver: the command's span with its ingest commit below it.
    more = tmp_path / "more.csv"
    more.write_text("name,ts,value\ngdp,2024-04-01,1.7\n")
    trace_id, caller_span, traceparent = new_traceparent()
    run_pulse(pulse_bin, "--lake", lake, "--set", f"telemetry.otlp_endpoint={receiver.url}", "--set",
              "telemetry.otlp_protocol=json", "ingest", more, env={"TRACEPARENT": traceparent})
    spans = receiver.trace(trace_id, want=2)
    command = one(spans, name="pulse ingest")
    assert command["service"] == "pulse-ingest" and command["parent_span_id"] == caller_span
    assert any(s["name"] == "lake.commit" and s["parent_span_id"] == command["span_id"] for s in spans)
    assert "application/json" in receiver.state()["content_types"]
    # A bad endpoint is refused at start-up like any bad setting.
    bad = run_pulse(pulse_bin, "--lake", lake, "--set", "telemetry.otlp_endpoint=collector:4318", "lake", "list",
                    check=False)
    assert bad.returncode == 1 and "telemetry.otlp_endpoint" in bad.stderr
