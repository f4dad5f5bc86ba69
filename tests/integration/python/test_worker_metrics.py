"""A live `pulse worker`'s /metrics against Prometheus's own checker (`promtool check metrics`,
Debian's prometheus package, installed by scripts/bootstrap), and the result cache placed by the
jobs.cache setting apart from the broker (shared test Redis, PULSE_TEST_REDIS_URL)."""
import os
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest
from celery import Celery

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL", "")


def celery_app():
    return Celery("pulse-metrics-test", broker=REDIS_URL, backend=REDIS_URL)


def start_worker(pulse_bin, *extra):
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "1", "--metrics-port", "0",
                               *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = worker.stderr.readline()
    assert "metrics on " in line, line + worker.stderr.read()
    return worker, line.strip().split("metrics on ")[1]


def scrape_until(url, needle, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        if needle in text or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def test_a_live_workers_metrics_pass_promtool(pulse_bin, redis_db):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus; scripts/bootstrap installs it)")
    worker, url = start_worker(pulse_bin, "--queues", "celery,other")
    try:
        app = celery_app()
        assert app.send_task("pulse.noop", args=[1]).get(timeout=30) == [1]
        failed = app.send_task("pulse.simulate", kwargs={"runs": 0})
        with pytest.raises(Exception):
            failed.get(timeout=30)
        text = scrape_until(url, 'pulse_worker_tasks_total{outcome="failed"} 1')
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr + "\n" + text
    assert check.stdout.strip() == "" and check.stderr.strip() == "", check.stdout + check.stderr
    # What promtool checked: the worker's families, the task histogram, the process.
    for needle in ('pulse_worker_tasks_total{outcome="succeeded"} 1',
                   'pulse_worker_tasks_total{outcome="failed"} 1',
                   '# TYPE pulse_worker_task_duration_seconds histogram',
                   'pulse_worker_task_duration_seconds_count{task="pulse.noop",outcome="succeeded"} 1',
                   'pulse_worker_task_duration_seconds_bucket{task="pulse.simulate",outcome="failed",le="+Inf"} 1',
                   'pulse_queue_length{queue="other"} 0',
                   '# TYPE process_cpu_seconds_total counter',
                   '# TYPE process_resident_memory_bytes gauge'):
        assert needle in text, needle + "\n" + text


def test_the_cache_lives_where_jobs_cache_says(pulse_bin, redis_db):
    """Default: the broker's Redis (pulse.cache:* keys). jobs.cache=memory: the worker's own memory,
    nothing cached in Redis, a repeat still served from the cache."""
    kwargs = {"runs": 20, "turns": 2, "seed": 3}
    for setting, in_redis in ((None, True), ("memory", False)):
        redis_db.flushdb()
        extra = ["--set", f"jobs.cache={setting}"] if setting else []
        worker, url = start_worker(pulse_bin, *extra)
        try:
            app = celery_app()
            first = app.send_task("pulse.simulate", kwargs=kwargs).get(timeout=60)
            again = app.send_task("pulse.simulate", kwargs=kwargs).get(timeout=60)
            assert first == again
            text = scrape_until(url, 'pulse_worker_cache_total{result="hit"} 1')
            assert 'pulse_worker_cache_total{result="hit"} 1' in text, (setting, text)
            assert bool(redis_db.keys("pulse.cache:*")) == in_redis, (setting, redis_db.keys("*"))
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.communicate(timeout=30)


def test_a_bad_cache_url_stops_the_worker_at_start(pulse_bin, redis_db):
    for value, needle in (("rediss://cache:6380/0", "must be memory or redis://"),
                          ("memcached://x", "must be memory or redis://")):
        proc = subprocess.run([pulse_bin, "worker", "--broker", REDIS_URL, "--set", f"jobs.cache={value}"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and needle in proc.stderr, (value, proc.returncode, proc.stderr)
        assert "pulse worker:" not in proc.stderr


def test_commands_whose_peers_are_other_processes_refuse_an_in_process_broker(pulse_bin, tmp_path):
    schedule = tmp_path / "beat.yaml"
    schedule.write_text("schedules:\n  - {name: tick, task: pulse.noop, every: 60}\n")
    for args in (["worker", "--broker", "inproc"], ["task", "send", "pulse.noop", "--broker", "memory"],
                 ["beat", "--broker", "inproc", "--schedule", str(schedule)],
                 ["simulate", "--runs", "10", "--turns", "2", "--no-lake", "--broker", "inproc"]):
        proc = subprocess.run([pulse_bin, *args], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, (args, proc.returncode, proc.stderr)
        assert "lives in this process only" in proc.stderr and "redis://" in proc.stderr, (args, proc.stderr)


def test_beat_metrics_flags_refuse_bad_addresses_before_publishing(pulse_bin, redis_db, tmp_path):
    """pulse beat --metrics-port: a port already taken or a host that is not an IPv4 address stops
    it at start with the reason, having published nothing."""
    import socket
    schedule = tmp_path / "beat.yaml"
    schedule.write_text("schedules:\n  - {name: tick, task: pulse.noop, every: 0.05}\n")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        for extra, needle in ((["--metrics-port", str(port)], f"cannot listen on 127.0.0.1:{port}"),
                              (["--metrics-port", "0", "--metrics-host", "localhost"], "not an IPv4 address"),
                              (["--metrics-port", "70000"], "--metrics-port")):
            proc = subprocess.run([pulse_bin, "beat", "--broker", REDIS_URL, "--schedule", str(schedule), *extra],
                                  capture_output=True, text=True, timeout=60)
            assert proc.returncode in (1, 2) and needle in proc.stderr, (extra, proc.returncode, proc.stderr)
            assert "pulse beat: owner" not in proc.stderr, proc.stderr
    finally:
        taken.close()
    assert redis_db.llen("celery") == 0
