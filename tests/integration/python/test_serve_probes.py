"""pulse serve's probes against real dependencies: /livez always answers while the process serves;
/readyz checks the lake's store (the S3 server scripts/test starts, or a local folder) and the
Redis broker, each within serve.probe_timeout_ms, and names the failing one. A redis-server of the
test's own (scripts/start-redis-server), and a MinIO server of the test's own holding the lake
(scripts/start-s3-server), are stopped under the running service and started again on the same
port with the same data. Graceful shutdown: SIGTERM lets an in-flight request finish, then exit 0."""
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


def s3_lake(endpoint=S3_ENDPOINT):
    import boto3
    bucket = "pulse-serve-" + uuid.uuid4().hex[:12]
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="pulse", aws_secret_access_key="pulse-secret",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    env = {"PULSE_S3_ENDPOINT": endpoint, "PULSE_S3_ACCESS_KEY": "pulse", "PULSE_S3_SECRET_KEY": "pulse-secret"}
    return f"s3://{bucket}/lake", env


def start_minio(dirname, port=None):
    """(endpoint, pid) of a MinIO server (scripts/start-s3-server) keeping its data under dirname;
    None when MinIO cannot be built here."""
    args = [str(ROOT / "scripts/start-s3-server")] + (["--port", str(port)] if port else []) + [str(dirname)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PULSE_TEST_S3_SERVER="minio"))
    if proc.returncode != 0:
        return None
    env = dict(line.split("=", 1) for line in proc.stdout.split())
    return env["PULSE_TEST_S3_ENDPOINT"], int(env["PULSE_TEST_S3_PID"])


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


def test_readyz_follows_the_s3_server_down_and_up(pulse_bin, tmp_path):
    """A lake on a MinIO server of the test's own: stopped under the running service, /readyz
    answers 503 naming the lake store within the probe bound (and reads fail with a problem
    document); started again on the same port and data folder, /readyz is 200 again and the
    service reads and writes the lake it had. moto keeps nothing across a restart: with the tier
    on moto (no Go to build MinIO) the test is skipped."""
    if os.environ.get("PULSE_TEST_S3_SERVER") == "moto":
        pytest.skip("the tier's S3 server is moto, which keeps no data across a restart")
    s3_dir = tmp_path / "s3"
    started = start_minio(s3_dir)
    if started is None:
        if os.environ.get("PULSE_TEST_S3_SERVER") == "minio":
            pytest.fail("scripts/start-s3-server could not start MinIO (see its log under the test's tmp_path)")
        pytest.skip("MinIO cannot be built here (no Go toolchain or module proxy)")
    endpoint, pid = started
    port = int(endpoint.rsplit(":", 1)[1])
    served = None
    try:
        lake, env = s3_lake(endpoint)
        served = start_serve(pulse_bin, tmp_path, lake, "serve.probe_timeout_ms=1500", env=env)
        rows = [{"name": "gdp", "ts": f"2024-01-0{d}", "value": 1.5 + d} for d in range(1, 4)]
        status, _, body = served.json("POST", "/v1/signals", rows, token="write")
        assert status == 200 and body["accepted"] == 3, body
        status, body = wait_ready(served, 200)
        assert status == 200, body
        assert "lake" in {c["name"] for c in body["checks"]} and all(c["ok"] for c in body["checks"]), body
        status, _, series = served.json("GET", "/v1/series", token="read")
        assert status == 200 and [(s["name"], s["observations"]) for s in series["items"]] == [("gdp", 3)], series

        stop_pid(pid)
        status, body = wait_ready(served, 503)
        assert status == 503, body
        assert body["code"] == "not-ready"
        assert {c["name"] for c in body["checks"] if not c["ok"]} == {"lake"}, body
        assert "lake" in body["detail"]
        assert endpoint not in str(body) and f"127.0.0.1:{port}" not in str(body)  # no internal address
        # Within the bound: one probe of a store that refuses connections answers in well under
        # the request time limit.
        t0 = time.monotonic()
        status, _, body = served.json("GET", "/readyz")
        assert status == 503 and time.monotonic() - t0 < scaled(10), body
        assert served.json("GET", "/livez")[0] == 200
        metrics = served.request("GET", "/metrics")[2].decode()
        assert 'pulse_ready_check{check="lake"} 0' in metrics, metrics
        # A read while the store is down: a 5xx problem document, not a hang or an internal address.
        status, hdrs, raw = served.request("GET", "/v1/series", token="read", timeout=scaled(60))
        assert status >= 500 and hdrs["Content-Type"].startswith("application/problem+json"), raw
        assert endpoint.encode() not in raw and f"127.0.0.1:{port}".encode() not in raw, raw

        restarted = start_minio(s3_dir, port)
        assert restarted is not None, "MinIO did not start again on port %d" % port
        _, pid = restarted
        status, body = wait_ready(served, 200)
        assert status == 200, body
        assert all(c["ok"] for c in body["checks"]), body
        assert 'pulse_ready_check{check="lake"} 1' in served.request("GET", "/metrics")[2].decode()
        status, _, series = served.json("GET", "/v1/series", token="read")
        assert status == 200 and [(s["name"], s["observations"]) for s in series["items"]] == [("gdp", 3)], series
        status, _, body = served.json("POST", "/v1/signals", [{"name": "gdp", "ts": "2024-01-04", "value": 9}],
                                      token="write")
        assert status == 200 and body["accepted"] == 1, body
        status, _, series = served.json("GET", "/v1/series", token="read")
        assert [(s["name"], s["observations"]) for s in series["items"]] == [("gdp", 4)], series
    finally:
        if served is not None:
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
