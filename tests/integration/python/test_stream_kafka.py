"""Kafka -> Delta exactly once, against the real broker scripts/test starts (scripts/start-kafka-server:
PULSE_KAFKA_BROKERS, PULSE_KAFKA_DIR). Records go in with `pulse publish` (good ones) and kcat (bad
ones); `pulse ingest --stream` consumes them; every check reads the tables through the `deltalake`
package: a full count plus a per-series checksum (count and value sum per name; every value is
distinct, so a duplicate or a loss shows), and every bad record in signal_rejects with its offset.
Faults: a consumer killed with -9 mid-stream, one aborted at each commit point (before and after the
Delta commit of a batch), a rebalance (members joining and leaving), two groups
on one table, a concurrent `pulse lake optimize`, and the broker killed with -9 and restarted.
Scoring: stream rows carry the same score columns as the same rows ingested from a file, and a
table written before scoring existed gains them on the first stream batch.
Every wait is on a condition with a deadline."""
import json
import math
import os
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, SCORE_COLUMNS, arrow_rows, checksum, delta_table, reject_rows, run_pulse, signal_rows, free_port

BROKERS = os.environ.get("PULSE_KAFKA_BROKERS")
pytestmark = pytest.mark.skipif(not BROKERS, reason="PULSE_KAFKA_BROKERS is not set (run through scripts/test)")


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Stream:
    """One test's topic (pulse.signals.<kind>, 4 partitions) and the records published to it."""

    def __init__(self, tmp_path, pulse_bin):
        self.kind = "it" + uuid.uuid4().hex[:10]
        self.topic = f"pulse.signals.{self.kind}"
        self.tmp = tmp_path
        self.pulse_bin = pulse_bin
        self.expected = []  # (name, value) of every good record
        self.published = 0

    def publish(self, n):
        """Publishes n good records through `pulse publish` (a CSV file, 13 series)."""
        path = self.tmp / f"batch{self.published}.csv"
        lines = ["name,source,kind,ts,value"]
        for i in range(self.published, self.published + n):
            name = f"s{i % 13}"
            lines.append(f"{name},it,{self.kind},{1_600_000_000 + i},{i}")
            self.expected.append((name, float(i)))
        path.write_text("\n".join(lines) + "\n")
        self.published += n
        out = run_pulse(self.pulse_bin, "publish", path, "--to", f"kafka://{BROKERS}").stdout
        assert f"published {n}," in out, out

    def produce_bad(self):
        """Six bad records through kcat; returns the reasons expected for them (substrings)."""
        def kcat(data, *args):
            subprocess.run(["kcat", "-P", "-b", BROKERS, "-t", self.topic, *args], input=data, check=True, timeout=60)
        kcat(b"garbage\n")
        kcat(b'{"name":"x","ts":"not a time","value":1}\n')
        kcat(b"\xff\xfe|" + b'{"name":"x","ts":"2024-01-01","value":1}\n', "-K", "|")
        kcat(b"tomb|\n", "-K", "|", "-Z")
        kcat(b'{"name":"x","ts":"2024-01-01","value":1}\n', "-H", "pulse-format=avro")
        kcat(b'{"name":"' + b"y" * 5000 + b'","ts":"2024-01-01","value":1}\n')
        return ["not valid JSON", "bad timestamp", "key is not valid UTF-8", "tombstone", "unknown record format 'avro'",
                "over the limit of 2000"]

    def consumer(self, lake, group="it", *extra, settings=()):
        """Starts `pulse ingest --stream` for this topic (small batches, so there are many commits)."""
        sets = ["stream.batch_max_records=500", "stream.batch_max_ms=200", "stream.max_record_bytes=2000",
                "stream.session_timeout_ms=6000", "log.level=warn", *settings]
        args = [self.pulse_bin, "--lake", str(lake)]
        for s in sets:
            args += ["--set", s]
        args += ["ingest", "--stream", f"kafka://{BROKERS}/{self.topic}", "--group", group, *extra]
        log_path = self.tmp / f"consumer-{uuid.uuid4().hex[:6]}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, text=True)
        proc.log_path = log_path  # stdout and stderr, for the assertions' messages
        return proc

    def check_exactly_once(self, lake):
        got = signal_rows(lake)
        assert len(got) == len(self.expected), f"{len(got)} rows, expected {len(self.expected)}"
        assert len({v for _, v in got}) == len(got), "a record was written twice"
        assert checksum(got) == checksum(self.expected)


@pytest.fixture
def stream(tmp_path, pulse_bin):
    return Stream(tmp_path, pulse_bin)


def finish(proc, timeout=90):
    rc = proc.wait(timeout=timeout)
    log = proc.log_path.read_text()
    assert rc == 0, f"consumer exited {rc}: {log[-3000:]}"


def test_good_and_bad_records_land_once_with_rejects_and_dead_letters(stream, lake):
    stream.publish(3000)
    reasons = stream.produce_bad()
    dlq = f"pulse.dlq.{stream.kind}"
    port = free_port()
    proc = stream.consumer(lake, "it", "--idle-exit", "6", "--metrics-port", str(port),
                           settings=[f"stream.dead_letter_topic={dlq}"])
    wait_for(lambda: len(signal_rows(lake)) == 3000, 60, "3000 rows")
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'pulse_stream_records_total{outcome="consumed"} 3006' in metrics, metrics
    assert "pulse_stream_batch_commit_seconds_count" in metrics and "pulse_stream_lag{" in metrics
    finish(proc)
    stream.check_exactly_once(lake)
    rejects = reject_rows(lake)
    assert len(rejects) == 6, rejects
    for reason in reasons:
        assert any(reason in r["reason"] for r in rejects), (reason, rejects)
    for r in rejects:
        assert r["file"].startswith(f"kafka:{stream.topic}/") and r["line"] >= 0
    # The same records once more in the dead-letter topic, with their reason in a header.
    dead = subprocess.run(["kcat", "-C", "-b", BROKERS, "-t", dlq, "-o", "beginning", "-e", "-q", "-f", "%h\n"],
                          capture_output=True, text=True, timeout=60).stdout
    assert dead.count("pulse-reject-reason=") == 6, dead
    # A second run finds everything in the table: nothing more is written.
    again = run_pulse(stream.pulse_bin, "--lake", lake, "--set", "log.level=warn", "ingest", "--stream",
                      f"kafka://{BROKERS}/{stream.topic}", "--group", "it", "--idle-exit", "3", "--json")
    assert '"rows": 0' in again.stdout, again.stdout
    stream.check_exactly_once(lake)
    assert len(reject_rows(lake)) == 6


def test_consumer_killed_mid_stream_then_restarted(stream, lake):
    stream.publish(20000)
    stream.produce_bad()
    for pause in (0, 0.15):  # killed twice at different points (batches commit every few ms), then finished
        proc = stream.consumer(lake, settings=["stream.batch_max_records=100"])
        before = len(signal_rows(lake))
        wait_for(lambda: len(signal_rows(lake)) > before, 60, "progress")
        time.sleep(pause)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert len(signal_rows(lake)) < 20000, "killed too late to test anything"
    finish(stream.consumer(lake, "it", "--idle-exit", "6"))
    stream.check_exactly_once(lake)
    assert len(reject_rows(lake)) == 6


@pytest.mark.parametrize("point", ["before-lake", "after-lake"])
def test_consumer_crashes_at_each_commit_point_then_restarts(stream, lake, point):
    # Deterministic: the consumer aborts at an exact point of its third batch, before its Delta commit
    # (the batch is nowhere: the restart reads it again) or after it, before its Kafka offsets are
    # committed (the table has it and Kafka does not: the restart must resume from the table's txn
    # versions, so it reads none of it again and reports no duplicates).
    stream.publish(5000)
    stream.produce_bad()
    proc = stream.consumer(lake, "crash", "--test-crash-at", point, "--test-crash-batch", "3",
                           settings=["stream.batch_max_records=100"])
    rc = proc.wait(timeout=120)
    log = proc.log_path.read_text()
    assert rc == -signal.SIGABRT, f"exited {rc}: {log[-3000:]}"
    assert f"crashing on purpose {point} of batch 3" in log, log[-3000:]
    assert 0 < len(signal_rows(lake)) < 5000
    again = stream.consumer(lake, "crash", "--idle-exit", "6", "--json")
    finish(again, 120)
    out = again.log_path.read_text()
    report = json.loads(out[out.index("{"):])
    assert report["duplicates"] == 0, out
    stream.check_exactly_once(lake)
    assert len(reject_rows(lake)) == 6


def test_stream_crash_point_must_be_known(stream, lake):
    out = run_pulse(stream.pulse_bin, "--lake", lake, "ingest", "--stream", f"kafka://{BROKERS}/{stream.topic}",
                    "--test-crash-at", "sometime", check=False)
    assert out.returncode != 0 and "--test-crash-at must be before-lake or after-lake" in out.stderr, out


def test_rebalance_members_join_and_leave(stream, lake):
    stream.publish(30000)
    a = stream.consumer(lake, "rb")
    wait_for(lambda: len(signal_rows(lake)) > 0, 60, "first batch")
    b = stream.consumer(lake, "rb", "--idle-exit", "8")  # joins: partitions are split
    wait_for(lambda: len(signal_rows(lake)) > 10000, 90, "progress with two members")
    a.send_signal(signal.SIGTERM)  # leaves: commits its batch, exits 0, b takes everything over
    finish(a, 60)
    finish(b, 120)
    stream.check_exactly_once(lake)


def test_two_groups_by_mistake_on_one_table(stream, lake):
    stream.publish(20000)
    stream.produce_bad()
    a = stream.consumer(lake, "group-a", "--idle-exit", "6")
    b = stream.consumer(lake, "group-b", "--idle-exit", "6")
    finish(a, 120)
    finish(b, 120)
    stream.check_exactly_once(lake)
    assert len(reject_rows(lake)) == 6


def test_concurrent_lake_optimize(stream, lake):
    stream.publish(20000)
    proc = stream.consumer(lake, "opt", "--idle-exit", "6")
    wait_for(lambda: len(signal_rows(lake)) > 0, 60, "first batch")
    optimized = 0
    while proc.poll() is None and optimized < 6:
        out = run_pulse(stream.pulse_bin, "--lake", lake, "--set", "log.level=warn", "lake", "optimize", "signals")
        optimized += 1
        time.sleep(0.2)
    finish(proc, 120)
    assert optimized >= 1
    stream.check_exactly_once(lake)


def test_broker_killed_and_restarted(stream, lake):
    kafka_dir = os.environ.get("PULSE_KAFKA_DIR")
    if not kafka_dir:
        pytest.skip("PULSE_KAFKA_DIR is not set (run through scripts/test)")
    stream.publish(20000)
    proc = stream.consumer(lake, "bk", "--idle-exit", "30")
    wait_for(lambda: len(signal_rows(lake)) > 0, 60, "first batch")
    pid = int(Path(kafka_dir, "pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0, 30, "broker gone")
    time.sleep(2)
    port = Path(kafka_dir, "port").read_text().strip()
    subprocess.run([str(ROOT / "scripts/start-kafka-server"), "--port", port, kafka_dir], check=True,
                   capture_output=True, timeout=120)
    stream.publish(5000)  # the same consumer, reconnected, takes these too
    finish(proc, 240)
    stream.check_exactly_once(lake)


def stream_once(pulse_bin, lake, topic, group, *settings):
    """`pulse ingest --stream --json` until idle; returns its JSON report."""
    args = ["--lake", lake, "--set", "log.level=warn", "--set", "stream.batch_max_ms=200"]
    for s in settings:
        args += ["--set", s]
    out = run_pulse(pulse_bin, *args, "ingest", "--stream", f"kafka://{BROKERS}/{topic}", "--group", group,
                    "--idle-exit", "4", "--json").stdout
    return json.loads(out)


def test_stream_rows_are_scored_like_file_rows(stream, tmp_path, pulse_bin):
    # A monthly series with a spike last, as a file into one lake and as a stream into another, in
    # batches of 7 records (the consumer's series history carries over from batch to batch).
    csv = tmp_path / "gdp.csv"
    lines = ["name,source,kind,ts,value"]
    for i in range(30):
        value = 100 + i % 3 + (500 if i == 29 else 0)
        lines.append(f"gdp,it,{stream.kind},{2000 + i // 12:04d}-{i % 12 + 1:02d}-01,{value}")
    csv.write_text("\n".join(lines) + "\n")
    file_lake, stream_lake = tmp_path / "file-lake", tmp_path / "stream-lake"
    file_report = json.loads(run_pulse(pulse_bin, "--lake", file_lake, "ingest", "--json", csv).stdout)[0]
    assert "published 30," in run_pulse(pulse_bin, "publish", csv, "--to", f"kafka://{BROKERS}").stdout
    report = stream_once(pulse_bin, stream_lake, stream.topic, "score", "stream.batch_max_records=7")
    assert report["rows"] == 30 and report["batches"] >= 5, report
    assert report["gate"] == file_report["gate"] and report["gate"]["escalate"] == 1, (report, file_report)

    by_file = arrow_rows(file_lake)
    by_stream = arrow_rows(stream_lake)
    assert by_stream.column_names == by_file.column_names and by_stream.column_names[-7:] == SCORE_COLUMNS
    file_rows = sorted(by_file.to_pylist(), key=lambda r: r["ts"])
    stream_rows = sorted(by_stream.to_pylist(), key=lambda r: r["ts"])
    assert len(stream_rows) == 30
    for f, s in zip(file_rows, stream_rows):
        for c in SCORE_COLUMNS:
            if c == "anomaly_z" and f[c] is not None:
                assert s[c] == pytest.approx(f[c], rel=1e-12), (f, s)
            else:
                assert s[c] == f[c], (c, f, s)
    assert stream_rows[-1]["anomaly"] is True and stream_rows[-1]["gate"] == "escalate"
    ops = [h["operation"] for h in delta_table(stream_lake).history()]
    assert ops.count("STREAM INGEST") == report["batches"], ops


def test_stream_into_a_table_written_before_scoring(stream, tmp_path, pulse_bin):
    lake = tmp_path / "lake"
    shutil.copytree(ROOT / "tests/fixtures/signals_table_v1/signals", lake / "signals")
    csv = tmp_path / "new.csv"
    csv.write_text("name,source,kind,ts,value\ngdp,fixture,macro,2021-01-01,150\ncpi,fixture,macro,2021-01-01,2.1\n")
    assert "published 2," in run_pulse(pulse_bin, "publish", csv, "--to", f"kafka://{BROKERS}/{stream.topic}").stdout
    report = stream_once(pulse_bin, lake, stream.topic, "evolve")
    assert report["rows"] == 2 and report["gate"] == {"accept": 1, "escalate": 1, "suppress": 0}, report

    dtab = delta_table(lake)
    assert [h["operation"] for h in dtab.history()][:2] == ["STREAM INGEST", "ADD COLUMNS"]
    rows = dtab.to_pyarrow_table().to_pylist()
    assert len(rows) == 26
    old = [r for r in rows if r["ts"].year == 2020]
    new = {r["name"]: r for r in rows if r["ts"].year == 2021}
    assert len(old) == 24 and all(r[c] is None for r in old for c in SCORE_COLUMNS)
    assert new["gdp"]["gate"] == "escalate"
    assert new["gdp"]["anomaly_z"] == pytest.approx(44.5 / math.sqrt(143 / 12))  # against the 12 old values
    assert new["cpi"]["gate"] == "accept"


def test_stream_then_run_gives_the_file_paths_forecasts(stream, tmp_path, pulse_bin):
    # The README's two-command recipe: stream the signals into the lake until the stream goes
    # idle, then `pulse run`. The bundled dataset goes through Kafka (as `pulse publish` sends a
    # wide file: one record per observation); the run's own ingest then finds every observation
    # in the table and appends nothing, so the forecasts, simulation and trust scores come from
    # the streamed rows - and equal those of the file path.
    dataset = ROOT / "data" / "us-macro-quarterly.csv"
    out = run_pulse(pulse_bin, "publish", dataset, "--to", f"kafka://{BROKERS}/{stream.topic}", "--wide", "--time",
                    "year,quarter", "--kind", "macro").stdout
    assert "published 2436," in out, out
    stream_dir, file_dir = tmp_path / "stream", tmp_path / "file"
    report = json.loads(run_pulse(pulse_bin, "--lake", stream_dir / "lake", "--set", "log.level=warn", "ingest",
                                  "--stream", f"kafka://{BROKERS}/{stream.topic}", "--idle-exit", "5", "--json").stdout)
    assert report["rows"] == 2436 and report["rejected"] == 0, report
    run_pulse(pulse_bin, "--lake", stream_dir / "lake", "run", "--out", stream_dir / "out")
    run_pulse(pulse_bin, "--lake", file_dir / "lake", "run", "--out", file_dir / "out")

    ops = {h["operation"] for h in delta_table(stream_dir / "lake").history()}
    assert "STREAM INGEST" in ops and "INGEST" not in ops, ops  # every row came from the stream

    def comparable(lake, name, drop):
        rows = arrow_rows(lake, name).to_pylist()
        return sorted((tuple((k, v) for k, v in sorted(r.items()) if k not in drop) for r in rows), key=repr)

    # Ids and versions name the commits (the stream made several), not the numbers.
    ids = {"created", "ingest_time", "signals_version", "sim_id", "run_id", "forecast_id"}
    for name in ("forecasts", "simulations", "trust_scores"):
        assert comparable(stream_dir / "lake", name, ids) == comparable(file_dir / "lake", name, ids), name
    a = json.loads((stream_dir / "out" / "summary.json").read_text())
    b = json.loads((file_dir / "out" / "summary.json").read_text())
    assert a["series"] == b["series"]
