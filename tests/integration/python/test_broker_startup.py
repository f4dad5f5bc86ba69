"""`pulse worker` and `pulse task send` against brokers that are not what --broker promises, each a
private server started here (issue 11's held-back review): a redis-server that wants a password the
URL does not give, and an HTTP server on the port. Each is a clear error and a non-zero exit at
once (the worker used to announce that it served, then retry NOAUTH or a closed connection
forever), and the password of a URL that does work never shows in the worker's banner. Queue
names are trimmed and never empty (the shared test Redis, PULSE_TEST_REDIS_URL)."""
import http.server
import signal
import socket
import subprocess
import threading
import time

import pytest
from conftest import free_port


@pytest.fixture
def redis_with_password(tmp_path):
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--requirepass", "s3cret",
                             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    proc.kill()
    proc.wait()


@pytest.fixture
def http_port():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def run(pulse_bin, *args):
    return subprocess.run([pulse_bin, *args], capture_output=True, text=True, timeout=60)


def test_a_password_the_url_does_not_give_is_a_clear_error(pulse_bin, redis_with_password):
    url = f"redis://127.0.0.1:{redis_with_password}/0"
    for args in (["worker", "--broker", url, "--concurrency", "1"],
                 ["task", "send", "pulse.noop", "--broker", url, "--wait", "1"]):
        proc = run(pulse_bin, *args)
        assert proc.returncode == 1, (args, proc.returncode, proc.stderr)
        assert "NOAUTH" in proc.stderr and "redis://:PASSWORD@host:port/db" in proc.stderr, proc.stderr
        assert "pulse worker:" not in proc.stderr  # it never claimed to serve


def test_a_worker_with_the_password_never_prints_it(pulse_bin, redis_with_password):
    proc = subprocess.Popen([pulse_bin, "worker", "--broker", f"redis://:s3cret@127.0.0.1:{redis_with_password}/0",
                             "--concurrency", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    assert line.startswith(f"pulse worker: 1 threads on redis://127.0.0.1:{redis_with_password}/0"), line
    assert "s3cret" not in line + rest and proc.returncode == 0


def test_a_port_that_is_not_redis_is_a_clear_error(pulse_bin, http_port):
    url = f"redis://127.0.0.1:{http_port}/0"
    start = time.monotonic()
    proc = run(pulse_bin, "worker", "--broker", url, "--concurrency", "1")
    assert proc.returncode == 1 and "is this a Redis server?" in proc.stderr, proc.stderr
    assert "pulse worker:" not in proc.stderr and time.monotonic() - start < 30


def test_queue_names_are_trimmed_and_never_empty(pulse_bin, redis_db):
    """`--queues "celery, other"` consumed a queue " other" that no producer fills; `--queues " , "`
    and `task send --queue ''` used queues named by blanks or nothing."""
    import os
    from celery import Celery
    url = os.environ["PULSE_TEST_REDIS_URL"]
    for args in (["worker", "--broker", url, "--queues", " , "], ["worker", "--broker", url, "--queues", ""],
                 ["task", "send", "pulse.noop", "--broker", url, "--queue", ""]):
        proc = run(pulse_bin, *args)
        assert proc.returncode == 1 and "queue" in proc.stderr, (args, proc.stderr)
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", url, "--concurrency", "1", "--queues", "celery, other"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = worker.stderr.readline()
        assert "queues celery,other," in line, line
        app = Celery("pulse-queue-test", broker=url, backend=url)
        assert app.send_task("pulse.noop", args=["other"], queue="other").get(timeout=30) == ["other"]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)


def test_a_worker_started_while_redis_loads_its_dataset_waits_for_it(pulse_bin, tmp_path):
    """A redis-server restarting with data answers LOADING until its dataset is in memory; a worker
    (or `pulse task send`) started then waits for it rather than exiting (test_jobs_faults once saw
    a replacement worker exit so). The load is slowed with redis-server's key-load-delay."""
    port = free_port()
    server = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(tmp_path), "--save", "",
              "--appendonly", "no", "--rdbcompression", "no"]

    def ping():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(100)
        except OSError:
            return b""

    def wait_for(reply_prefix, deadline_s=20):
        deadline = time.monotonic() + deadline_s
        while not ping().startswith(reply_prefix):
            assert time.monotonic() < deadline, f"redis-server never answered {reply_prefix!r}"
            time.sleep(0.02)

    first = subprocess.Popen(server, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(b"+PONG")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            for i in range(60):  # 60 keys of 4 KB, then SAVE: an RDB that loads in 4 KB steps
                s.sendall(f"*3\r\n$3\r\nSET\r\n$4\r\nk{i:03d}\r\n$4096\r\n".encode() + b"x" * 4096 + b"\r\n")
            s.sendall(b"*1\r\n$4\r\nSAVE\r\n")
            got = b""
            while got.count(b"\r\n") < 61:
                got += s.recv(4096)
            assert got.endswith(b"+OK\r\n"), got
    finally:
        first.kill()
        first.wait()
    second = subprocess.Popen(server + ["--key-load-delay", "50000", "--loading-process-events-interval-bytes", "1024"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        wait_for(b"-LOADING")
        url = f"redis://127.0.0.1:{port}/0"
        worker = subprocess.Popen([pulse_bin, "worker", "--broker", url, "--concurrency", "1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert ping().startswith(b"-LOADING"), "the dataset loaded before the worker started: slow the load more"
        sent = run(pulse_bin, "task", "send", "pulse.noop", "--broker", url, "--args", "[7]", "--wait", "60")
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.strip() == "[7]", sent.stdout
        assert worker.poll() is None, worker.communicate()[1]
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.communicate(timeout=30)
        second.kill()
        second.wait()
