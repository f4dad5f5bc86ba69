"""pulse serve's probes against real dependencies: /livez always answers while the process serves;
/readyz checks the lake's store (the S3 server scripts/test starts, or a local folder) and the
Redis broker, each within serve.probe_timeout_ms, and names the failing one. A redis-server of the
test's own (scripts/start-redis-server) is stopped under the running service and started again on
the same port. Graceful shutdown: SIGTERM lets an in-flight request finish, then exit 0."""
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from serve_util import start_serve
from timing import scaled

ROOT = Path(__file__).resolve().parents[3]
S3_ENDPOINT = os.environ.get("PULSE_TEST_S3_ENDPOINT", "")


def start_redis(dirname, port=None):
    args = [str(ROOT / "scripts/start-redis-server")] + (["--port", str(port)] if port else []) + [str(dirname)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    env = dict(line.split("=", 1) for line in out.split())
    return env["PULSE_TEST_REDIS_URL"], int(env["PULSE_TEST_REDIS_PID"])


def stop_pid(pid):
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def wait_ready(served, want_status, timeout=30):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        status, _, body = served.json("GET", "/readyz")
        if status == want_status or time.monotonic() > deadline:
            return status, body
        time.sleep(0.2)


def s3_lake():
    import boto3
    bucket = "pulse-serve-" + uuid.uuid4().hex[:12]
    boto3.client("s3", endpoint_url=S3_ENDPOINT, aws_access_key_id="pulse", aws_secret_access_key="pulse-secret",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    env = {"PULSE_S3_ENDPOINT": S3_ENDPOINT, "PULSE_S3_ACCESS_KEY": "pulse", "PULSE_S3_SECRET_KEY": "pulse-secret"}
    return f"s3://{bucket}/lake", env


def test_readyz_follows_the_redis_broker_down_and_up(pulse_bin, tmp_path):
    redis_dir = tmp_path / "redis"
    url, pid = start_redis(redis_dir)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    if S3_ENDPOINT:
        lake, env = s3_lake()
    else:
        lake, env = tmp_path / "lake", {}
    served = start_serve(pulse_bin, tmp_path, lake, f"jobs.broker={url}", "serve.probe_timeout_ms=1500", env=env)
    try:
        status, body = wait_ready(served, 200)
        assert status == 200, body
        assert body["status"] == "ready"
        assert {c["name"] for c in body["checks"]} == {"lake", "broker"}
        assert all(c["ok"] for c in body["checks"])

        stop_pid(pid)
        status, body = wait_ready(served, 503)
        assert status == 503, body
        assert body["code"] == "not-ready" and body["status"] == 503
        failing = {c["name"] for c in body["checks"] if not c["ok"]}
        assert failing == {"broker"}, body
        assert "broker" in body["detail"]
        assert served.request("GET", "/readyz")[1]["Content-Type"].startswith("application/problem+json")
        # Liveness is not readiness: the process still serves.
        assert served.json("GET", "/livez")[0] == 200
        # The same outcome on /metrics, for the PulseServeNotReady alert (deploy/prometheus).
        metrics = served.request("GET", "/metrics")[2].decode()
        assert "\npulse_ready 0\n" in metrics, metrics
        assert 'pulse_ready_check{check="broker"} 0' in metrics and 'pulse_ready_check{check="lake"} 1' in metrics

        _, pid = start_redis(redis_dir, port)
        status, body = wait_ready(served, 200)
        assert status == 200, body
        assert all(c["ok"] for c in body["checks"])
        assert "\npulse_ready 1\n" in served.request("GET", "/metrics")[2].decode()
    finally:
        code, _, log = served.stop()
        try:
            stop_pid(pid)
        except ProcessLookupError:
            pass
    assert code == 0, log


def test_readyz_names_an_unreachable_lake_store(pulse_bin, tmp_path):
    """A lake on an S3 endpoint nobody answers on: the lake check fails within the bound."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead_port = s.getsockname()[1]
    s.close()
    env = {"PULSE_S3_ENDPOINT": f"http://127.0.0.1:{dead_port}", "PULSE_S3_ACCESS_KEY": "a",
           "PULSE_S3_SECRET_KEY": "b"}
    served = start_serve(pulse_bin, tmp_path, "s3://nobody/lake", "serve.probe_timeout_ms=1000", env=env)
    try:
        t0 = time.monotonic()
        status, _, body = served.json("GET", "/readyz")
        assert time.monotonic() - t0 < scaled(10)
        assert status == 503, body
        assert [c["name"] for c in body["checks"] if not c["ok"]] == ["lake"]
        assert f"127.0.0.1:{dead_port}" not in str(body)  # no internal address in the answer
    finally:
        code, _, log = served.stop()
    assert code == 0, log


def test_sigterm_finishes_in_flight_requests_and_exits_0(pulse_bin, tmp_path):
    """A request in flight when SIGTERM arrives (its body still being sent) is answered in full;
    connections after it are refused; the process exits 0 and reports that it drained."""
    import json
    import socket
    served = start_serve(pulse_bin, tmp_path, tmp_path / "lake")
    host, port = served.url.split("//")[1].split(":")
    body = json.dumps([{"name": "gdp", "ts": "2024-01-01", "value": 1.5}]).encode()
    sock = socket.create_connection((host, int(port)), timeout=scaled(30))
    sock.sendall((f"POST /v1/signals HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Authorization: Bearer {served.tokens['write']}\r\nContent-Length: {len(body)}\r\n"
                  f"Connection: close\r\n\r\n").encode())
    time.sleep(0.5)
    served.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    with pytest.raises(OSError):  # no longer accepting
        socket.create_connection((host, int(port)), timeout=2).close()
    sock.sendall(body)
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), reply
    assert json.loads(payload)["accepted"] == 1
    code, out, log = served.stop()
    assert code == 0, log
    assert '"drained": true' in out, out
