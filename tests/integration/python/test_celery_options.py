"""Celery send_task options that the other interop tests do not choose, through a real
redis-server to a `pulse worker` (issue 11's held-back review; scripts/test runs this file with
every Celery release of the matrix):
  - countdowns an hour away outnumbering the worker's threads do not starve a task that is due,
    and they stay queued, not run and not lost;
  - priority=N puts a message on kombu's priority list ("celery\x06\x169" for 9): the worker
    takes it from there, and a restore puts it back on the same list, as kombu does;
  - compression='zlib'/'gzip'/'bzip2', link, link_error, chains and chords are dead-lettered with a
    reason naming what is not supported (never run with their continuation silently dropped), and
    a group's tasks, which need nothing after them, succeed."""
import json
import os
import signal
import subprocess
import time

import pytest

from test_jobs_poison import no_core_dumps

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
    # None lost: each of the five is queued or held. A worker's reserve (BRPOP, then HSET unacked:
    # kombu's layout) leaves a message in neither for an instant, so read both in one transaction
    # and allow a few readings before calling one missing.
    def held():
        pipe = redis_db.pipeline(transaction=True)
        pipe.llen("celery")
        pipe.hlen("unacked")
        return sum(pipe.execute())

    counts = []
    for _ in range(20):
        counts.append(held())
        if counts[-1] == 5:
            break
        time.sleep(0.05)
    assert counts[-1] == 5, counts
    assert runs(redis_db) == {due.id: 1}


def test_tasks_sent_with_a_priority_are_run(pulse_worker, redis_db):
    app = celery_app()
    sent = {p: app.send_task("pulse.noop", args=[p], priority=p) for p in (0, 1, 3, 5, 6, 9, 255)}
    assert redis_db.exists("celery\x06\x169") or sent[9].ready()  # kombu's own layout, not ours
    assert {p: r.get(timeout=20) for p, r in sent.items()} == {p: [p] for p in sent}
    assert runs(redis_db) == {r.id: 1 for r in sent.values()}
    assert all(redis_db.llen(k) == 0 for k in redis_db.keys("celery*") if redis_db.type(k) == b"list")


def test_a_restored_message_goes_back_to_its_priority_list(pulse_bin, redis_db):
    killer = celery_app().send_task("pulse.test.abort", args=["on purpose"], priority=9)
    first = subprocess.run([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "1", "--enable-test-tasks"],
                           capture_output=True, text=True, timeout=60, preexec_fn=no_core_dumps)
    assert first.returncode == -signal.SIGABRT, first.stderr
    assert redis_db.hlen("unacked") == 1
    # A worker of another queue restores it (visibility 1 s) without taking it.
    other = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--queues", "other", "--visibility-timeout",
                              "1", "--restore-interval", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while redis_db.hlen("unacked") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert redis_db.llen("celery\x06\x169") == 1 and redis_db.llen("celery") == 0
        assert killer.id in redis_db.lindex("celery\x06\x169", 0).decode()
    finally:
        other.send_signal(signal.SIGTERM)
        other.communicate(timeout=30)


def dead_letters(redis_db):
    return [json.loads(e) for e in redis_db.lrange("pulse.dead_letter", 0, -1)]


def test_compression_and_workflow_steps_are_dead_lettered_with_their_reason(pulse_worker, redis_db):
    from celery import chain, chord, group, signature
    app = celery_app()
    noop = lambda *args: signature("pulse.noop", args=list(args), app=app)  # noqa: E731
    refused = {
        "zlib": app.send_task("pulse.noop", args=["zlib"], compression="zlib"),
        "gzip": app.send_task("pulse.noop", args=["gzip"], compression="gzip"),
        "bzip2": app.send_task("pulse.noop", args=["bzip2"], compression="bzip2"),
        "link": noop("link").apply_async(link=noop("callback")),
        "link_error": noop("link_error").apply_async(link_error=noop("errback")),
        "chain": chain(noop("chain-1"), noop("chain-2")).apply_async().parent,
    }
    header = chord([noop("chord-1"), noop("chord-2")], noop("chord-body")).apply_async()
    grouped = group(noop("group-1"), noop("group-2")).apply_async()
    assert grouped.get(timeout=20) == [["group-1"], ["group-2"]]
    after = app.send_task("pulse.noop", args=["after"])
    assert after.get(timeout=20) == ["after"]
    deadline = time.monotonic() + 20
    while len(dead_letters(redis_db)) < len(refused) + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    dead = dead_letters(redis_db)
    assert len(dead) == len(refused) + 2, [d["reason"] for d in dead]  # + the chord's two header tasks
    by_id = {}
    for d in dead:
        by_id.setdefault(json.loads(d["envelope"])["headers"]["id"], []).append(d["reason"])
    for name in ("zlib", "gzip", "bzip2"):
        assert by_id[refused[name].id] == [by_id[refused[name].id][0]]
        assert by_id[refused[name].id][0].startswith("compressed message bodies are not supported")
    assert "link callbacks (embed 'callbacks')" in by_id[refused["link"].id][0]
    assert "link_error callbacks (embed 'errbacks')" in by_id[refused["link_error"].id][0]
    assert "a chain (embed 'chain')" in by_id[refused["chain"].id][0]
    chord_reasons = [r for rs in by_id.values() for r in rs if "a chord (embed 'chord')" in r]
    assert len(chord_reasons) == 2
    assert header.state == "PENDING" and all(r.state == "PENDING" for r in refused.values())
    # Nothing refused ever ran: only the group's tasks and the last one did, once each.
    assert sorted(runs(redis_db).values()) == [1, 1, 1] and after.id in runs(redis_db)
