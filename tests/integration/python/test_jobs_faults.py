"""Pulse workers under faults, driven by stock Python Celery (send_task, AsyncResult) over a real
redis-server of the test's own (append-only file, fsync on every write), while the test
  - kills random workers with -9, again and again, starting a replacement each time,
  - kills redis-server with -9 mid-run and restarts it on the same port and data folder (the
    workers reconnect with backoff; tasks are also submitted to the restarted server),
  - pushes malformed and unknown messages onto the queue between the tasks.
Afterwards: every submitted task has exactly one result, SUCCESS with the right value; nothing is
lost or left in the queue or the unacked set; every malformed message is on the dead-letter list
once; and every extra execution of a task is a redelivery. Executions are counted from the
workers' execution log (a Redis list on which a worker records each task as it starts running:
`pulse worker --execution-log KEY`), so a task that ran twice - started by a worker that was then
killed, run again after the visibility timeout - shows up twice. A short report is printed
(even under pytest -q). A second, deterministic test puts what a killed worker leaves behind in
the unacked set (kombu's layout) and checks what a Pulse worker's restore does with each kind."""
import base64
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_pulse
from timing import TIME_SCALE, scaled

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")

SIMULATE_TASKS = 2400  # submitted while workers are being killed
NOOP_TASKS = 600       # submitted after redis-server has been restarted
RUNS, TURNS = 20, 4    # per pulse.simulate task: a few ms each
WORKERS = 3
SUBMITTERS = 4         # Celery clients sending the simulate tasks
JOURNAL = "pulse.executions"
DEADLINE_S = scaled(45)  # for every result to be in


class RedisServer:
    """A redis-server of this test's own, started through scripts/start-redis-server."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = None
        self.pid = None
        self.url = None

    def start(self):
        cmd = [str(ROOT / "scripts/start-redis-server"), "--appendfsync", "always"]
        if self.port:
            cmd += ["--port", str(self.port)]
        out = subprocess.run(cmd + [str(self.folder)], check=True, capture_output=True, text=True, timeout=30).stdout
        env = dict(line.split("=", 1) for line in out.split())
        self.url, self.pid = env["PULSE_TEST_REDIS_URL"], int(env["PULSE_TEST_REDIS_PID"])
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def kill9(self):
        os.kill(self.pid, signal.SIGKILL)
        wait_gone(self.pid)

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        wait_gone(self.pid)


def wait_gone(pid, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # A child of start-redis-server's that has exited stays a zombie of no one's: gone enough.
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
                return
        except (FileNotFoundError, IndexError):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} did not exit")


def retrying(fn, timeout=20.0):
    """fn() retried while the Redis server is restarting (connection refused, loading)."""
    import redis
    end = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError, redis.exceptions.TimeoutError):
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def malformed_messages(round_no):
    """(marker, raw bytes) pairs: one of each kind a worker must dead-letter, each carrying a marker."""
    out = []

    def mark(kind):
        return f"fault-mark-{round_no}-{kind}"

    m = mark("notjson")
    out.append((m, f"{{this is not json {m}".encode()))
    m = mark("array")
    out.append((m, json.dumps(["a JSON array, not an object", m]).encode()))
    m = mark("nobody")
    out.append((m, json.dumps({"headers": {"task": "pulse.noop", "id": m},
                               "properties": {"delivery_tag": m}}).encode()))
    m = mark("v1")  # protocol v1: no 'task' header
    out.append((m, json.dumps({"body": base64.b64encode(b"{}").decode(), "headers": {}, "note": m,
                               "properties": {"body_encoding": "base64", "delivery_tag": m}}).encode()))
    m = mark("badbase64")
    out.append((m, json.dumps({"body": "%%% not base64 %%%", "content-encoding": "utf-8",
                               "content-type": "application/json",
                               "headers": {"lang": "py", "task": "pulse.noop", "id": m},
                               "properties": {"body_encoding": "base64", "delivery_tag": m + "-tag",
                                              "delivery_info": {"exchange": "", "routing_key": "celery"}}}).encode()))
    m = mark("pickle")
    out.append((m, json.dumps({"body": base64.b64encode(b"\x80\x04K\x01.").decode(),
                               "content-type": "application/x-python-serialize", "content-encoding": "binary",
                               "headers": {"lang": "py", "task": "pulse.noop", "id": m},
                               "properties": {"body_encoding": "base64", "delivery_tag": m + "-tag"}}).encode()))
    m = mark("binary")  # not UTF-8 at all
    out.append((m, b"\xff\xfe\x00" + m.encode() + b"\xc3\x28"))
    m = mark("oddprops")  # properties that are not an object
    out.append((m, json.dumps({"properties": "not an object", "headers": {"task": "pulse.noop", "id": m}}).encode()))
    return out


def test_celery_tasks_survive_killed_workers_a_restarted_redis_and_malformed_messages(pulse_bin, tmp_path, capsys):
    import redis
    from celery import Celery

    rng = random.Random(20240607)
    server = RedisServer(tmp_path / "redis")
    server.start()
    workers, logs, killed = [], [], set()
    started = time.monotonic()

    def start_worker():
        n = len(logs)
        out, err = open(tmp_path / f"worker-{n}.out", "w"), open(tmp_path / f"worker-{n}.err", "w")
        logs.append((out, err))
        proc = subprocess.Popen([pulse_bin, "worker", "--broker", server.url, "--concurrency", "2",
                                 "--visibility-timeout", "2", "--restore-interval", "1", "--execution-log", JOURNAL,
                                 # The test kills workers at random, not because of a message: a
                                 # slow (sanitized) build may see one good task held by three
                                 # victims, which the default (3) would rightly dead-letter.
                                 "--max-deaths", "1000"],
                                stdout=out, stderr=err, text=True)
        workers.append(proc)
        return proc

    try:
        db = redis.Redis.from_url(server.url)
        for _ in range(WORKERS):
            start_worker()
        time.sleep(0.3)
        assert all(w.poll() is None for w in workers), (tmp_path / "worker-0.err").read_text()

        markers = []

        def inject(round_no):
            for marker, raw in malformed_messages(round_no):
                markers.append(marker)
                retrying(lambda: db.lpush("celery", raw))
            unknown = f"fault-mark-{round_no}-unknown"
            markers.append(unknown)
            Celery("faults", broker=server.url, backend=server.url).send_task(
                "pulse.no_such_task", args=[round_no], task_id=unknown)

        submitted = []  # (task id, "simulate" | "noop", seed or argument), appended as sent
        submitter_error = []

        def submit(task, count, part):  # a client of its own; part of `count` tasks
            try:
                client = Celery("faults-submit", broker=server.url, backend=server.url)
                with client.producer_or_acquire() as producer:
                    for n in range(part, count, SUBMITTERS):
                        if task == "simulate":
                            r = client.send_task("pulse.simulate", kwargs={"runs": RUNS, "turns": TURNS, "seed": n,
                                                                           "variables": ["hope"]}, producer=producer)
                        else:
                            r = client.send_task("pulse.noop", args=[n, "noop"], producer=producer)
                        submitted.append((r.id, task, n))
            except Exception as e:  # noqa: BLE001 - raised again by the main thread
                submitter_error.append(e)

        def submitting(task, count):
            # Several clients: with an fsync before every reply, a client sending one message at a
            # time waits for each; several share them.
            threads = [threading.Thread(target=submit, args=(task, count, part), daemon=True)
                       for part in range(SUBMITTERS)]
            for t in threads:
                t.start()
            return threads

        succeeded = set()

        def finished(ids):  # how many of ids have a SUCCESS result (asking only for those without)
            pending = [tid for tid in ids if tid not in succeeded]
            for i in range(0, len(pending), 1000):
                chunk = pending[i:i + 1000]
                values = retrying(lambda: db.mget([f"celery-task-meta-{tid}" for tid in chunk]))
                succeeded.update(tid for tid, v in zip(chunk, values) if v is not None and b'"SUCCESS"' in v)
            return sum(1 for tid in ids if tid in succeeded)

        # Faults while they run: a worker killed with -9 every 0.6-1.2 s (a replacement started at
        # once), from the start; once every simulate task is sent and 40% are done, redis-server is
        # killed with -9 and restarted 0.5 s later on the same port and data; then more tasks and
        # more malformed messages go to the restarted server. Malformed messages: before, between
        # and after the tasks.
        inject(0)
        submitters = submitting("simulate", SIMULATE_TASKS)
        submitted_at = time.monotonic()
        phase = "submitting"
        next_kill = time.monotonic() + 0.6
        while True:
            ids = [tid for tid, _, _ in submitted[:len(submitted)]]
            done = finished(ids)
            if phase == "submitting" and not any(t.is_alive() for t in submitters):
                if submitter_error:
                    raise submitter_error[0]
                inject(1)
                phase = "running"
            elif phase == "running" and done >= 0.4 * SIMULATE_TASKS:
                server.kill9()
                time.sleep(0.5)
                server.start()
                for t in submitting("noop", NOOP_TASKS):
                    t.join()
                if submitter_error:
                    raise submitter_error[0]
                inject(2)
                phase = "restarted"
            elif phase == "restarted" and done == len(submitted):
                break
            assert time.monotonic() - submitted_at < DEADLINE_S, (
                f"{len(ids) - done} of {len(ids)} tasks have no SUCCESS result after {DEADLINE_S} s (phase {phase}); "
                f"queue {retrying(lambda: db.llen('celery'))}, unacked {retrying(lambda: db.hlen('unacked'))}, "
                f"dead letters {[json.loads(e).get('reason') for e in retrying(lambda: db.lrange('pulse.dead_letter', 0, -1))]}")
            crashed = [i for i, w in enumerate(workers) if w.poll() is not None and w not in killed]
            assert not crashed, f"worker {crashed[0]} exited: {(tmp_path / f'worker-{crashed[0]}.err').read_text()}"
            if time.monotonic() >= next_kill:
                victim = rng.choice([w for w in workers if w.poll() is None])
                victim.kill()
                victim.wait()
                killed.add(victim)
                start_worker()
                next_kill = time.monotonic() + rng.uniform(0.6, 1.2)
            time.sleep(0.1)
        expected = {tid: (kind, n) for tid, kind, n in submitted}
        run_seconds = time.monotonic() - submitted_at

        # Nothing left behind: the queue and the unacked set drain (the last dead letters, and
        # deliveries of killed workers whose results another worker already stored, are settled
        # within a visibility timeout or two).
        for _ in range(100):
            if (db.llen("celery") == 0 and db.hlen("unacked") == 0 and db.zcard("unacked_index") == 0
                    and db.llen("pulse.dead_letter") >= len(markers)):
                break
            time.sleep(0.1)
        assert db.llen("celery") == 0, "messages left in the queue"
        assert db.hlen("unacked") == 0 and db.zcard("unacked_index") == 0, "deliveries left unacknowledged"

        # Every task: one result, SUCCESS, the right value, read through Celery's own API.
        check = Celery("faults-check", broker=server.url, backend=server.url)
        for tid, (kind, n) in expected.items():
            res = check.AsyncResult(tid)
            assert res.state == "SUCCESS", (tid, kind, n, res.state)
            value = res.result
            if kind == "noop":
                assert value == [n, "noop"], (tid, value)
            else:
                assert (value["seed"], value["runs"], value["turns"]) == (n, RUNS, TURNS), (tid, n, value)
                assert list(value["variables"]) == ["hope"] and len(value["variables"]["hope"]["mean"]) == TURNS + 1
        result_keys = {k.decode().removeprefix("celery-task-meta-")
                       for k in db.scan_iter("celery-task-meta-*", count=1000)}
        assert result_keys == set(expected), "results for tasks never submitted, or missing"
        # The numbers are the deterministic ones, as `pulse simulate` computes them in-process.
        by_seed = {n: tid for tid, (kind, n) in expected.items() if kind == "simulate"}
        for seed in (0, SIMULATE_TASKS // 2, SIMULATE_TASKS - 1):
            cli = json.loads(run_pulse(pulse_bin, "simulate", "--runs", RUNS, "--turns", TURNS, "--seed", seed,
                                       "--json", "-", "--no-lake").stdout)
            got = check.AsyncResult(by_seed[seed]).result["variables"]["hope"]
            assert got["mean"] == cli["variables"]["hope"]["mean"] and got["sd"] == cli["variables"]["hope"]["sd"]

        # Malformed and unknown messages: each on the dead-letter list exactly once, with a reason.
        dead = [json.loads(e) for e in db.lrange("pulse.dead_letter", 0, -1)]
        for marker in markers:
            hits = [d for d in dead if marker in d["envelope"]]
            assert len(hits) == 1, (marker, hits)
            assert hits[0]["reason"], hits[0]
        assert len(dead) == len(markers), [d["reason"] for d in dead]
        assert any("unknown task 'pulse.no_such_task'" in d["reason"] for d in dead)

        # Executions, from the workers' execution log.
        entries = [json.loads(e) for e in db.lrange(JOURNAL, 0, -1)]
        runs_of, first_runs_of = {}, {}
        for e in entries:
            runs_of[e["id"]] = runs_of.get(e["id"], 0) + 1
            if not e["redelivered"]:
                first_runs_of[e["id"]] = first_runs_of.get(e["id"], 0) + 1
        assert set(runs_of) <= set(expected), "executions of tasks never submitted (or of dead letters)"
        never_ran = [tid for tid in expected if tid not in runs_of]
        assert not never_ran, f"{len(never_ran)} tasks have a result but no recorded execution"
        # A task runs a second time only from a redelivery: its first delivery ran at most once.
        assert max(first_runs_of.values()) == 1
        duplicates = sum(n - 1 for n in runs_of.values())
        redelivered_runs = sum(1 for e in entries if e["redelivered"])
        # A few per kill, not a storm (a slower build has more tasks in flight at each kill).
        assert duplicates <= 0.05 * TIME_SCALE * len(expected), duplicates
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        for out, err in logs:
            out.close()
            err.close()
        server.stop()

    # The surviving workers' own counters (killed ones took theirs with them).
    survivors = [json.loads(line) for i in range(len(logs))
                 for line in (tmp_path / f"worker-{i}.out").read_text().splitlines() if line.startswith("{")]
    assert len(survivors) == WORKERS
    assert sum(s["failed"] for s in survivors) == 0
    twice = sum(1 for n in runs_of.values() if n > 1)
    report = "\n".join([
        "jobs fault test (Pulse workers, stock Celery clients, redis-server with appendfsync always):",
        f"  submitted     {len(expected)} ({SIMULATE_TASKS} pulse.simulate while workers were being killed, "
        f"{NOOP_TASKS} pulse.noop after the Redis restart)",
        f"  succeeded     {len(expected)}: one SUCCESS result each, with the right value; none lost, "
        "none left queued or unacked",
        f"  executions    {len(entries)}: {duplicates} duplicate executions (on {twice} tasks), "
        f"{redelivered_runs} executions of redelivered messages",
        f"  dead letters  {len(dead)} ({len(markers)} malformed or unknown messages injected, each dead-lettered once)",
        f"  faults        {len(killed)} workers killed with -9; redis-server killed with -9 and restarted once",
        f"  survivors     the {WORKERS} workers alive at the end: restored {sum(s['restored'] for s in survivors)}, "
        f"duplicate deliveries skipped {sum(s['duplicates'] for s in survivors)}, "
        f"broker errors {sum(s['broker_errors'] for s in survivors)}",
        f"  time          all results in {run_seconds:.1f} s; {time.monotonic() - started:.1f} s in all",
    ])
    with capsys.disabled():  # shown with the test run's output, not only on failure
        print("\n" + report)


@pytest.mark.skipif(not os.environ.get("PULSE_TEST_REDIS_URL"), reason="PULSE_TEST_REDIS_URL is not set")
def test_restore_puts_back_what_dead_workers_held_exactly_once(pulse_bin):
    import redis
    from celery import Celery
    url = os.environ["PULSE_TEST_REDIS_URL"]
    db = redis.Redis.from_url(url)
    db.flushdb()
    app = Celery("restore", broker=url, backend=url)
    # What a worker killed with -9 leaves: unacked entries [envelope, exchange, routing key] with
    # their delivery time in the index. The envelope is stock Celery's, taken off a queue no one reads.
    task = app.send_task("pulse.noop", args=["held"], queue="nobody")
    envelope = json.loads(db.rpop("nobody"))
    tag = envelope["properties"]["delivery_tag"]
    fresh = app.send_task("pulse.noop", args=["fresh"], queue="nobody")
    fresh_envelope = json.loads(db.rpop("nobody"))
    fresh_tag = fresh_envelope["properties"]["delivery_tag"]
    old = time.time() - 100
    db.hset("unacked", mapping={
        tag: json.dumps([envelope, "", "celery"]),                  # held by a dead worker: restored
        "t-broken": json.dumps(["{broken message", "", "celery"]),  # held, not JSON: dead-lettered
        "t-garbage": "not kombu's unacked entry",                   # unreadable: dead-lettered
        fresh_tag: json.dumps([fresh_envelope, "", "celery"]),      # held by a live worker: left
    })
    db.zadd("unacked_index", {tag: old, "t-broken": old, "t-garbage": old, "t-stale": old, fresh_tag: time.time()})
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", url, "--concurrency", "2", "--visibility-timeout", "30",
                               "--restore-interval", "1", "--execution-log", JOURNAL],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = worker.stderr.readline()  # "pulse worker: N threads on ..." once it serves
        assert line.startswith("pulse worker:"), line + worker.stderr.read()
        assert task.get(timeout=30) == ["held"]
        for _ in range(100):
            if db.llen("pulse.dead_letter") >= 2:
                break
            time.sleep(0.05)
        reasons = sorted(json.loads(e)["reason"] for e in db.lrange("pulse.dead_letter", 0, -1))
        # The unparseable message is not put back (it has nowhere to count deaths in and no
        # worker would run it): dead-lettered by the restore, with the parser's reason.
        assert len(reasons) == 2, reasons
        assert "a worker died while holding it" in reasons[0] and "not JSON" in reasons[0], reasons
        assert "unacked entry is not" in reasons[1], reasons
        assert db.hkeys("unacked") == [fresh_tag.encode()]          # the live worker's delivery stays
        assert db.zrange("unacked_index", 0, -1) == [fresh_tag.encode()]  # the stale index entry is gone
        assert fresh.state == "PENDING"
        (run,) = [json.loads(e) for e in db.lrange(JOURNAL, 0, -1)]
        assert run["id"] == task.id and run["redelivered"] is True  # restored with kombu's flag, run once
        assert task.state == "SUCCESS"
    finally:
        worker.send_signal(signal.SIGTERM)
        out = worker.communicate(timeout=30)[0]
        db.flushdb()
    stats = json.loads(out)
    assert stats["restored"] == 1 and stats["dead_lettered"] == 0 and stats["succeeded"] == 1
