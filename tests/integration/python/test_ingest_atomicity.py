"""A kill -9 at any moment of `pulse ingest` leaves the whole commit or nothing: readers never see
a partial file set, and re-running the ingest afterwards lands every row exactly once."""
import os
import signal
import subprocess
import time

from deltalake import DeltaTable

from conftest import run_pulse

ROWS = 400_000


def write_big_csv(path):
    with open(path, "w") as f:
        f.write("name,source,kind,ts,value\n")
        for i in range(ROWS):
            f.write(f"s{i % 97},bench,k{i % 3},2024-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:{i % 60:02d}Z,{i * 0.5}\n")


def visible_rows(lake):
    path = lake / "signals"
    if not (path / "_delta_log").exists():
        return 0
    try:
        return DeltaTable(str(path)).to_pyarrow_table(columns=["value"]).num_rows
    except Exception as e:  # no commit at all yet
        if "No files in log segment" in str(e) or "not a Delta table" in str(e).lower():
            return 0
        raise


def test_kill_mid_ingest_is_all_or_nothing(pulse_bin, lake, tmp_path):
    csv = tmp_path / "big.csv"
    write_big_csv(csv)
    # Time a full run once, then kill at fractions of it.
    t0 = time.monotonic()
    run_pulse(pulse_bin, "--lake", tmp_path / "timing-lake", "ingest", csv)
    full = time.monotonic() - t0
    seen = set()
    for frac in (0.1, 0.3, 0.5, 0.7, 0.9):
        proc = subprocess.Popen([pulse_bin, "--lake", str(lake), "ingest", str(csv)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(full * frac)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        n = visible_rows(lake)
        assert n in (0, ROWS), f"partial commit visible after kill at {frac:.0%}: {n} rows"
        seen.add(n)
        if n == ROWS:
            break
    # Re-running lands everything exactly once (the same file is not applied twice).
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    assert visible_rows(lake) == ROWS


def test_worker_refuses_fifos_and_devices_without_hanging(pulse_bin, lake, tmp_path):
    """pulse.ingest on a FIFO (no writer) or /dev/zero used to block the worker thread forever,
    past its time limit; now each is a prompt FAILURE naming the problem, and the worker goes on
    serving."""
    import pytest
    redis_url = os.environ.get("PULSE_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
    import redis
    from celery import Celery
    redis.Redis.from_url(redis_url).flushdb()
    # The worker's inbox is tmp_path (task paths are confined to it) and its lake is `lake`.
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", redis_url, "--concurrency", "1", "--queues", "celery",
                               "--lake", str(lake), "--set", f"ingest.inbox={tmp_path}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        assert worker.poll() is None, worker.stderr.read()
        app = Celery("pulse-ingest-tests", broker=redis_url, backend=redis_url)
        fifo = tmp_path / "inbox.fifo"
        os.mkfifo(fifo)
        good = tmp_path / "good.csv"
        good.write_text("name,ts,value\na,2024-01-01,1\n")
        # A FIFO inside the inbox is refused for what it is; /dev/zero is outside the inbox, so the
        # confinement refuses it before the file is even opened.
        for path, why in ((fifo, "is not a regular file"), ("/dev/zero", "outside")):
            result = app.send_task("pulse.ingest", kwargs={"path": str(path), "lake": str(lake)})
            t0 = time.monotonic()
            try:
                result.get(timeout=30)
                raise AssertionError(f"ingesting {path} succeeded")
            except Exception as e:  # the task's FAILURE, re-raised by Celery
                assert why in str(e), str(e)
            assert time.monotonic() - t0 < 30
        # The worker is still serving.
        ok = app.send_task("pulse.ingest", kwargs={"path": str(good), "lake": str(lake)}).get(timeout=60)
        assert ok["accepted"] == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        redis.Redis.from_url(redis_url).flushdb()
