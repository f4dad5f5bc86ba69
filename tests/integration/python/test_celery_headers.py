"""What each Celery release of the compatibility matrix puts in its headers, through a real
redis-server, in both directions (scripts/test runs this file with every release's own venv):
  - send_task -> Pulse worker: the envelope the client wrote decodes (5.7 sends "ignore_result":
    null; a countdown sends an eta, time limits a timelimit, expires an expires, retries a count),
    a countdown is honoured, a task whose expires has passed is REVOKED as Celery reports it
    (AsyncResult.get raises TaskRevokedError), and a hostile copy of the client's own envelope
    (each header of another type) is dead-lettered while the worker keeps serving;
  - `pulse task send` -> Python Celery worker: SUCCESS with args and kwargs, FAILURE with the
    exception's type and message, and a task nobody runs is reported as not finished (PENDING)
    within --wait."""
import copy
import datetime
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_pulse

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL")
pytestmark = [pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)"),
              pytest.mark.celery_matrix]


def celery_app():
    from celery import Celery
    return Celery("pulse-header-tests", broker=REDIS_URL, backend=REDIS_URL)


@pytest.fixture
def pulse_worker(pulse_bin, redis_db):
    proc = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()  # "pulse worker: N threads on ..." once it serves
    assert line.startswith("pulse worker:") and proc.poll() is None, line + proc.stderr.read()
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and json.loads(out)["received"] > 0


def test_every_header_the_client_sends_is_understood(pulse_worker, redis_db):
    import celery
    app = celery_app()
    # The envelope as this Celery writes it with every optional header given a value.
    app.send_task("pulse.noop", args=[1], kwargs={}, queue="headers-template", countdown=5, expires=600,
                  time_limit=30, soft_time_limit=20, retries=2)
    envelope = json.loads(redis_db.rpop("headers-template"))
    headers = envelope["headers"]
    assert headers["eta"] and headers["expires"] and headers["timelimit"] == [30, 20] and headers["retries"] == 2
    if tuple(int(p) for p in celery.__version__.split(".")[:2]) >= (5, 7):  # and 5.7's nulls
        app.send_task("pulse.noop", args=[1], queue="headers-template")
        assert json.loads(redis_db.rpop("headers-template"))["headers"]["ignore_result"] is None
    started = time.monotonic()
    late = app.send_task("pulse.noop", args=["late"], countdown=1.5, time_limit=30, soft_time_limit=20, retries=1)
    assert late.get(timeout=30) == ["late"]
    assert time.monotonic() - started >= 1.2  # the eta was honoured
    assert app.send_task("pulse.noop", args=["now"], expires=600, ignore_result=False).get(timeout=30) == ["now"]


def test_a_task_past_its_expires_is_revoked(pulse_worker, redis_db):
    from celery.exceptions import TaskRevokedError
    app = celery_app()
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=30)
    expired = app.send_task("pulse.noop", args=["too late"], expires=past)
    with pytest.raises(TaskRevokedError):
        expired.get(timeout=30)
    assert expired.state == "REVOKED"
    assert app.send_task("pulse.noop", args=["fine"]).get(timeout=30) == ["fine"]


def test_the_clients_own_envelope_with_wrong_types_is_dead_lettered(pulse_worker, redis_db):
    app = celery_app()
    app.send_task("pulse.noop", args=[1], queue="headers-template")
    base = json.loads(redis_db.rpop("headers-template"))
    hostile = [(("headers", "retries"), "3"), (("headers", "retries"), None), (("headers", "ignore_result"), "yes"),
               (("content-type",), 5), (("properties", "body_encoding"), 5),
               (("properties", "delivery_info", "routing_key"), 5), (("headers", "eta"), 5),
               (("headers", "timelimit"), "x"), (("headers", "expires"), []), (("headers", "id"), 5)]
    bad_ids = []
    for n, (path, value) in enumerate(hostile):
        env = copy.deepcopy(base)
        env["headers"]["id"] = f"hostile-{n}"
        node = env
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        if value is not None:
            bad_ids.append(f"hostile-{n}")
        redis_db.lpush("celery", json.dumps(env))
    good = app.send_task("pulse.noop", args=["after"])
    assert good.get(timeout=30) == ["after"]
    for _ in range(100):
        if redis_db.llen("pulse.dead_letter") >= len(bad_ids):
            break
        time.sleep(0.05)
    dead = [json.loads(e) for e in redis_db.lrange("pulse.dead_letter", 0, -1)]
    assert len(dead) == len(bad_ids) and all(d["reason"] for d in dead), [d["reason"] for d in dead]
    assert app.AsyncResult("hostile-1").get(timeout=30) == [1]  # "retries": null is not hostile
    assert pulse_worker.poll() is None


@pytest.fixture
def python_worker(redis_db, tmp_path):
    (tmp_path / "pytasks.py").write_text(
        "from celery import Celery\n"
        f"app = Celery('pytasks', broker={REDIS_URL!r}, backend={REDIS_URL!r})\n"
        "@app.task(name='tests.echo')\n"
        "def echo(*args, **kwargs):\n"
        "    return {'args': list(args), 'kwargs': kwargs}\n"
        "@app.task(name='tests.fail')\n"
        "def fail(why):\n"
        "    raise ValueError(why)\n")
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "pytasks", "worker", "--pool", "solo", "-Q",
                               "pyq", "--loglevel", "WARNING"], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    yield worker
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


def test_a_pulse_client_sees_success_failure_and_pending_from_a_python_worker(pulse_bin, python_worker):
    send = ["task", "send", "--queue", "pyq", "--broker", REDIS_URL]
    out = run_pulse(pulse_bin, *send, "tests.echo", "--args", '[1, "two"]', "--kwargs", '{"k": [3]}', "--wait", "60")
    assert json.loads(out.stdout) == {"args": [1, "two"], "kwargs": {"k": [3]}}
    failed = run_pulse(pulse_bin, *send, "tests.fail", "--args", '["on purpose"]', "--wait", "60", check=False)
    assert failed.returncode == 1 and "FAILURE" in failed.stderr and "ValueError: on purpose" in failed.stderr
    nobody = run_pulse(pulse_bin, "task", "send", "tests.echo", "--queue", "nobody-reads-this", "--broker", REDIS_URL,
                       "--wait", "1", check=False)
    assert nobody.returncode == 1 and "did not finish within 1 s" in nobody.stderr
    assert celery_app().AsyncResult(nobody.stderr.split("task ")[1].split()[0]).state == "PENDING"
