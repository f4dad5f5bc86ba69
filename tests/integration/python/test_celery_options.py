"""Celery send_task options that the other interop tests do not choose, through a real
redis-server to a `pulse worker` (issue 11's held-back review; scripts/test runs this file with
every Celery release of the matrix):
  - countdowns an hour away outnumbering the worker's threads do not starve a task that is due,
    and they stay queued, not run and not lost."""
import json
import os
import signal
import subprocess
import time

import pytest

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL")
pytestmark = [pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)"),
              pytest.mark.celery_matrix]
JOURNAL = "pulse.executions"


def celery_app():
    from celery import Celery
    return Celery("pulse-option-tests", broker=REDIS_URL, backend=REDIS_URL)


@pytest.fixture
def pulse_worker(pulse_bin, redis_db):
    proc = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "2", "--execution-log",
                             JOURNAL], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()  # "pulse worker: N threads on ..." once it serves
    assert line.startswith("pulse worker:") and proc.poll() is None, line + proc.stderr.read()
    yield proc
    assert proc.poll() is None, "the worker died"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and json.loads(out)["received"] > 0


def runs(redis_db):
    out = {}
    for e in redis_db.lrange(JOURNAL, 0, -1):
        tid = json.loads(e)["id"]
        out[tid] = out.get(tid, 0) + 1
    return out


def test_tasks_an_hour_away_do_not_starve_a_due_one(pulse_worker, redis_db):
    app = celery_app()
    later = [app.send_task("pulse.noop", args=["later", i], countdown=3600) for i in range(5)]
    time.sleep(0.5)  # the worker's two threads now go round the five
    due = app.send_task("pulse.noop", args=["now"])
    assert due.get(timeout=20) == ["now"]
    assert all(r.state == "PENDING" for r in later)
    assert redis_db.llen("celery") + redis_db.hlen("unacked") == 5  # queued or held for a moment, none lost
    assert runs(redis_db) == {due.id: 1}
