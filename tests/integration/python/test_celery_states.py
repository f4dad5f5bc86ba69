"""Task states as stock Python Celery's API (AsyncResult.state / .info) reports them for tasks a
Pulse worker runs: STARTED while a long task runs when the worker tracks it (`pulse worker
--track-started`, Celery's task_track_started; PENDING until it finishes otherwise, Celery's
default); RETRY while a task that failed transiently waits for its next attempt, then SUCCESS once
the cause is gone, or FAILURE when the retries are spent. The transient failure is real: a
pulse.ingest whose lake folder cannot be created yet, because a file stands where a directory of
its path must go (an I/O error, retried) - until the test removes it. (PENDING for unknown ids,
SUCCESS, and FAILURE for bad arguments: test_celery_compat.py.)"""
import os
import signal
import subprocess
import time

import pytest

from timing import scaled

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")



@pytest.fixture
def start_worker(pulse_bin, redis_db):
    procs = []

    def start(*extra):
        proc = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "2", *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        line = proc.stderr.readline()  # "pulse worker: N threads on ..." once it serves
        assert line.startswith("pulse worker:") and proc.poll() is None, line + proc.stderr.read()
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.communicate(timeout=30)


def celery_app():
    from celery import Celery
    return Celery("pulse-state-tests", broker=REDIS_URL, backend=REDIS_URL)


def states_until(result, final, timeout):
    """The distinct states AsyncResult.state went through, in order, until one of `final`."""
    seen = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = result.state
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in final:
            return seen
        time.sleep(0.01)
    raise AssertionError(f"task {result.id} did not reach {final} within {timeout} s; states {seen}")


LONG = {"runs": 4000, "turns": 52, "variables": ["hope"]}  # about 2-3 s of one worker thread


@pytest.mark.celery_matrix
def test_started_is_visible_while_a_long_task_runs(start_worker):
    start_worker("--track-started")
    app = celery_app()
    result = app.send_task("pulse.simulate", kwargs={**LONG, "seed": 1})
    states = states_until(result, {"SUCCESS", "FAILURE"}, scaled(60))
    assert states[-1] == "SUCCESS" and "STARTED" in states, states
    assert states[:states.index("STARTED")] in ([], ["PENDING"]), states  # PENDING, STARTED, SUCCESS
    assert result.get(timeout=5)["seed"] == 1


@pytest.mark.celery_matrix
def test_without_track_started_a_running_task_stays_pending(start_worker, redis_db):
    start_worker()
    app = celery_app()
    result = app.send_task("pulse.simulate", kwargs={**LONG, "seed": 2})
    for _ in range(500):  # until a worker holds it
        if redis_db.hlen("unacked") == 1:
            break
        time.sleep(0.01)
    assert redis_db.hlen("unacked") == 1
    assert states_until(result, {"SUCCESS", "FAILURE"}, scaled(60)) == ["PENDING", "SUCCESS"]


@pytest.mark.celery_matrix
def test_retry_is_visible_for_a_transient_failure_then_success_or_failure(start_worker, tmp_path):
    from celery.exceptions import Retry
    data = tmp_path / "gdp.csv"
    data.write_text("name,ts,value\n" + "".join(f"gdp,{2000 + q}-01-01,{100 + q}\n" for q in range(12)))
    mounts = {}
    for name in ("recovers", "stays_down"):
        # A file where the lake's parent directory must go: creating the lake fails with an I/O
        # error (retryable) for as long as it is there - storage that is not mounted yet.
        mounts[name] = tmp_path / name
        mounts[name].write_text("not a directory")
    start_worker("--set", f"ingest.inbox={tmp_path}", "--set", f"jobs.lake_roots={tmp_path}")
    app = celery_app()
    recovers = app.send_task("pulse.ingest", kwargs={"path": str(data), "kind": "macro",
                                                     "lake": str(mounts["recovers"] / "lake")})
    stays_down = app.send_task("pulse.ingest", kwargs={"path": str(data), "kind": "macro",
                                                       "lake": str(mounts["stays_down"] / "lake")})

    assert states_until(recovers, {"RETRY"}, 30)[-1] == "RETRY"
    info = recovers.info  # Celery decodes the stored exception
    assert isinstance(info, Retry) and "cannot create lake directory" in str(info), repr(info)
    mounts["recovers"].unlink()  # the storage comes back: the next attempt (within ~2 s) succeeds
    out = recovers.get(timeout=30)
    assert recovers.state == "SUCCESS"
    assert out["accepted"] == 12 and out["rejected"] == 0

    # Retries spent (3, after 1 + 2 + 4 s of backoff): FAILURE, with the last attempt's error.
    states = states_until(stays_down, {"SUCCESS", "FAILURE"}, 60)
    assert states[-1] == "FAILURE" and "RETRY" in states, states
    with pytest.raises(Exception) as failure:
        stays_down.get(timeout=5)
    assert "cannot create lake directory" in str(failure.value)
