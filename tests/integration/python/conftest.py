"""Shared fixtures for the Python interop tests: the pulse binary and a fresh lake per test."""
import json
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def pytest_configure(config):
    # scripts/test runs the tests marked so once more with each Celery release of the
    # compatibility matrix (scripts/celery-venv), in that release's own venv.
    config.addinivalue_line("markers", "celery_matrix: an interop test run against every Celery of the matrix")


@pytest.fixture(scope="session")
def pulse_bin() -> str:
    path = os.environ.get("PULSE_BIN", str(ROOT / "build/dev/apps/pulse/pulse"))
    assert Path(path).exists(), f"pulse binary not found at {path}: run through scripts/test"
    return path


@pytest.fixture
def redis_db():
    """The test Redis (scripts/test starts it: PULSE_TEST_REDIS_URL), emptied before and after."""
    import redis
    url = os.environ.get("PULSE_TEST_REDIS_URL")
    if not url:
        pytest.skip("PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def lake(tmp_path) -> Path:
    d = tmp_path / "lake"
    d.mkdir()
    return d


def run_pulse(pulse_bin, *args, env=None, check=True):
    """Runs pulse with args; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([pulse_bin, *map(str, args)], capture_output=True, text=True, env=full_env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"pulse {' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def show_json(pulse_bin, lake, table, *extra, env=None):
    """Rows of `pulse lake show TABLE --json --limit 0` as a list of dicts."""
    out = run_pulse(pulse_bin, "--lake", lake, "lake", "show", table, "--json", "--limit", "0", *extra, env=env).stdout
    out = out.strip()
    if out.startswith("["):
        return json.loads(out)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# Reading Pulse's tables from outside, through the deltalake package (shared by the scoring and
# stream tests: full counts and per-series checksums that show a lost or duplicated row).
SCORE_COLUMNS = ["recency", "anomaly_z", "anomaly", "sti", "tag", "gate", "gate_reason"]


def delta_table(lake, table="signals", version=None):
    """The lake's TABLE as a deltalake DeltaTable (at `version`), or None before it exists."""
    from deltalake import DeltaTable
    path = Path(lake) / table
    if not (path / "_delta_log").exists():
        return None
    return DeltaTable(str(path)) if version is None else DeltaTable(str(path), version=version)


def arrow_rows(lake, table="signals", columns=None, version=None):
    """The table's rows as a pyarrow Table (the given columns; all by default), read by deltalake."""
    dtab = delta_table(lake, table, version)
    assert dtab is not None, f"no {table} table in {lake}"
    return dtab.to_pyarrow_table(columns=columns)


def signal_rows(lake):
    """(name, value) pairs of the signals table, read by deltalake; [] before the table exists."""
    if delta_table(lake) is None:
        return []
    t = arrow_rows(lake, columns=["name", "value"])
    return list(zip(t.column("name").to_pylist(), t.column("value").to_pylist()))


def reject_rows(lake):
    """file, line and reason of every row of signal_rejects; [] before the table exists."""
    if delta_table(lake, "signal_rejects") is None:
        return []
    return arrow_rows(lake, "signal_rejects", columns=["file", "line", "reason"]).to_pylist()


def checksum(pairs):
    """Per series name: (row count, value sum): equal for two tables holding the same rows once."""
    out = {}
    for name, value in pairs:
        count, total = out.get(name, (0, 0.0))
        out[name] = (count + 1, total + value)
    return {k: (c, round(s, 6)) for k, (c, s) in out.items()}


def stop_processes(procs, timeout=60):
    """SIGTERM to every live process, then wait for each (killed if it outlives `timeout` s);
    returns each one's (stdout, stderr)."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    outputs = []
    for p in procs:
        try:
            outputs.append(p.communicate(timeout=timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            outputs.append(p.communicate())
    return outputs


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (for servers that take a port number)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
