"""Wire compatibility with stock Python Celery (pinned in scripts/requirements.txt) over a real
redis-server that scripts/test starts: a Python client drives a Pulse worker (send_task,
AsyncResult.get, task states), a Pulse client enqueues a task that a Python Celery worker runs,
and malformed or unknown messages land on the dead-letter list without stopping the worker."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_pulse

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")



@pytest.fixture
def pulse_worker(pulse_bin, redis_db, tmp_path):
    # Tasks may use the test's lake (tmp_path/lake, the `lake` fixture) and ingest files in tmp_path.
    proc = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "2", "--queues", "celery",
                             "--visibility-timeout", "5", "--lake", str(tmp_path / "lake"),
                             "--set", f"ingest.inbox={tmp_path}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    assert proc.poll() is None, proc.stderr.read()
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def celery_app():
    from celery import Celery
    return Celery("pulse-tests", broker=REDIS_URL, backend=REDIS_URL)


@pytest.mark.celery_matrix
def test_python_celery_drives_a_pulse_worker(pulse_bin, lake, pulse_worker):
    app = celery_app()
    kwargs = {"runs": 512, "turns": 6, "seed": 11, "variables": ["hope", "inflation_index"]}
    result = app.send_task("pulse.simulate", kwargs=kwargs)
    out = result.get(timeout=60)
    assert result.state == "SUCCESS"
    assert set(out["variables"]) == {"hope", "inflation_index"}
    assert len(out["variables"]["hope"]["mean"]) == 7
    # The same numbers as the CLI computes in-process (deterministic tasks).
    cli = json.loads(run_pulse(pulse_bin, "--lake", lake, "simulate", "--runs", 512, "--turns", 6, "--seed", 11,
                               "--json", "-", "--no-lake").stdout)
    assert out["variables"]["hope"]["mean"] == cli["variables"]["hope"]["mean"]
    assert app.send_task("pulse.noop", args=[1, "a"]).get(timeout=30) == [1, "a"]

    bad = app.send_task("pulse.simulate", kwargs={"runs": 0})
    with pytest.raises(Exception) as failure:
        bad.get(timeout=30)
    assert "runs must be 1.." in str(failure.value)
    assert bad.state == "FAILURE"
    # Numbers are not coerced: a negative seed is not 2^64-1, a fraction is not truncated.
    for kwargs, needle in (({"runs": 10, "seed": -1}, "kwarg 'seed' must be a whole number in [0, 18446744073709551615], got -1"),
                           ({"runs": 2.5}, "kwarg 'runs' must be a whole number"),
                           ({"runs": 10, "turns": 1e30}, "kwarg 'turns' must be a whole number")):
        with pytest.raises(Exception) as failure:
            app.send_task("pulse.simulate", kwargs=kwargs).get(timeout=30)
        assert needle in str(failure.value), (kwargs, str(failure.value))
    assert app.AsyncResult("no-such-task").state == "PENDING"


def test_repeated_simulations_are_served_from_the_cache(pulse_bin, redis_db):
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        app = celery_app()
        kwargs = {"runs": 2000, "turns": 10, "seed": 4, "variables": ["hope"]}
        first = app.send_task("pulse.simulate", kwargs=kwargs).get(timeout=60)
        second = app.send_task("pulse.simulate", kwargs=kwargs).get(timeout=60)
        other = app.send_task("pulse.simulate", kwargs={**kwargs, "seed": 5}).get(timeout=60)
        assert first == second and other != first
        keys = redis_db.keys("pulse.cache:*")
        assert len(keys) == 2 and 0 < redis_db.ttl(keys[0]) <= 86400  # one entry per content, with a TTL
    finally:
        worker.send_signal(signal.SIGTERM)
        stats = json.loads(worker.communicate(timeout=60)[0])
    assert stats["cache_hits"] == 1 and stats["cache_misses"] == 2


def test_the_redis_cache_stays_within_its_byte_bound(pulse_bin, redis_db):
    bound = 4096
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "1",
                               "--cache-max-mb", str(bound / 2 ** 20)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        app = celery_app()
        kwargs = {"runs": 500, "turns": 10, "variables": ["hope"]}
        results = [app.send_task("pulse.simulate", kwargs={**kwargs, "seed": s}).get(timeout=60) for s in range(8)]
        total = int(redis_db.get("pulse.cache.bytes"))
        sizes = {k: int(v) for k, v in redis_db.hgetall("pulse.cache.sizes").items()}
        live = redis_db.keys("pulse.cache:*")
        assert 0 < total <= bound and total == sum(sizes.values())
        assert 1 <= len(live) < 8 and set(live) == set(sizes)  # the index matches what is stored
        assert sum(redis_db.strlen(k) for k in live) == total
        # The newest entry is served from the cache; the oldest was evicted and is computed again.
        assert app.send_task("pulse.simulate", kwargs={**kwargs, "seed": 7}).get(timeout=60) == results[7]
        assert app.send_task("pulse.simulate", kwargs={**kwargs, "seed": 0}).get(timeout=60) == results[0]
        assert int(redis_db.get("pulse.cache.bytes")) <= bound
    finally:
        worker.send_signal(signal.SIGTERM)
        stats = json.loads(worker.communicate(timeout=60)[0])
    assert stats["cache_hits"] == 1 and stats["cache_misses"] == 9


@pytest.mark.celery_matrix
def test_malformed_and_unknown_messages_are_dead_lettered(pulse_worker, redis_db):
    app = celery_app()
    redis_db.lpush("celery", b"{this is not json")
    unknown = app.send_task("no.such.task", args=[1])
    for _ in range(200):
        if redis_db.llen("pulse.dead_letter") >= 2:
            break
        time.sleep(0.05)
    entries = [json.loads(e) for e in redis_db.lrange("pulse.dead_letter", 0, -1)]
    reasons = sorted(e["reason"] for e in entries)
    assert any("not JSON" in r for r in reasons), reasons
    assert any("unknown task 'no.such.task'" in r for r in reasons), reasons
    assert unknown.state == "PENDING"  # never run, never a result
    # The worker is still serving.
    assert app.send_task("pulse.noop", args=[7]).get(timeout=30) == [7]
    assert redis_db.hlen("unacked") == 0  # everything acknowledged


@pytest.mark.celery_matrix
def test_a_pulse_client_drives_a_python_celery_worker(pulse_bin, redis_db, tmp_path):
    (tmp_path / "pytasks.py").write_text(
        "from celery import Celery\n"
        f"app = Celery('pytasks', broker={REDIS_URL!r}, backend={REDIS_URL!r})\n"
        "@app.task(name='tests.add')\n"
        "def add(x, y):\n"
        "    return x + y\n")
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "pytasks", "worker", "--pool", "solo", "-Q",
                               "pyq", "--loglevel", "WARNING"], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        out = run_pulse(pulse_bin, "task", "send", "tests.add", "--args", "[2, 3]", "--queue", "pyq", "--broker",
                        REDIS_URL, "--wait", "60")
        assert out.stdout.strip() == "5"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_tasks_held_by_a_killed_worker_are_redelivered_and_run_once(pulse_bin, redis_db):
    def start():
        return subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "2",
                                 "--visibility-timeout", "2", "--restore-interval", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    app = celery_app()
    results = [app.send_task("pulse.simulate", kwargs={"runs": 3000, "turns": 20, "seed": i, "variables": ["hope"]})
               for i in range(12)]
    first = start()
    time.sleep(0.5)
    first.kill()  # kill -9 while it holds deliveries
    first.wait()
    second = start()
    try:
        outs = [r.get(timeout=120) for r in results]
        assert all(r.state == "SUCCESS" for r in results)
        assert [o["seed"] for o in outs] == list(range(12))
        for _ in range(100):
            if redis_db.hlen("unacked") == 0 and redis_db.llen("celery") == 0:
                break
            time.sleep(0.1)
        assert redis_db.hlen("unacked") == 0 and redis_db.llen("celery") == 0  # nothing lost or stuck
    finally:
        second.send_signal(signal.SIGTERM)
        stats = json.loads(second.communicate(timeout=60)[0])
    assert stats["failed"] == 0 and stats["dead_lettered"] == 0
    assert stats["restored"] >= 1  # the killed worker's deliveries came back after the visibility timeout
    # Each task has exactly one result; those the first worker had finished are not run again.
    assert stats["succeeded"] + stats["duplicates"] >= 1


def test_only_one_beat_publishes_and_a_standby_takes_over(pulse_bin, redis_db, tmp_path):
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("schedules:\n  - {name: tick, task: pulse.noop, every: 0.2, queue: beatq, args: [1]}\n")

    def start():
        return subprocess.Popen([pulse_bin, "beat", "--broker", REDIS_URL, "--schedule", schedule, "--lease-ms", "400"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first, second = start(), start()
    owners = {proc: proc.stderr.readline().split("owner ")[1].split(",")[0] for proc in (first, second)}
    time.sleep(2.1)
    published = redis_db.llen("beatq")
    assert 7 <= published <= 11, published  # one publisher every 0.2 s, not two
    holder = redis_db.get("pulse.beat.lock").decode()
    leader = first if owners[first] == holder else second
    standby = second if leader is first else first
    assert owners[standby] != holder
    leader.kill()  # kill -9 the lease holder; the standby takes over within one lease period
    leader.wait()
    time.sleep(1.5)
    after = redis_db.llen("beatq")
    assert after >= published + 3, (published, after)
    assert redis_db.get("pulse.beat.lock").decode() == owners[standby]
    standby.send_signal(signal.SIGTERM)
    stats = json.loads(standby.communicate(timeout=30)[0])
    assert stats["errors"] == 0
    message = json.loads(redis_db.lindex("beatq", 0))
    assert message["headers"]["task"] == "pulse.noop"  # plain Celery messages: any worker runs them
    proc = run_pulse(pulse_bin, "beat", "--broker", REDIS_URL, "--schedule", tmp_path / "absent.yaml", check=False)
    assert proc.returncode == 1 and "absent.yaml" in proc.stderr


def test_ingest_and_forecast_tasks_through_celery(pulse_bin, lake, tmp_path, pulse_worker):
    data = tmp_path / "gdp.csv"
    rows = ["name,ts,value"] + [f"gdp,{2000 + q // 4}-{1 + 3 * (q % 4):02d}-01,{100 + q + (q % 4)}" for q in range(40)]
    data.write_text("\n".join(rows) + "\n")
    app = celery_app()
    ingested = app.send_task("pulse.ingest", kwargs={"path": str(data), "kind": "macro", "lake": str(lake)}).get(timeout=60)
    assert ingested["accepted"] == 40 and ingested["rejected"] == 0 and not ingested["duplicate"]
    again = app.send_task("pulse.ingest", kwargs={"path": str(data), "kind": "macro", "lake": str(lake)}).get(timeout=60)
    assert again["duplicate"]  # idempotent: the same content is not appended twice
    forecast = app.send_task("pulse.forecast", kwargs={"lake": str(lake), "horizon": 4}).get(timeout=120)
    assert forecast["series"] == 1 and forecast["rows"] == 4 * 3  # 4 steps x 3 levels
    missing = app.send_task("pulse.ingest", kwargs={"lake": str(lake)})
    with pytest.raises(Exception) as failure:
        missing.get(timeout=30)
    assert "needs kwarg 'path'" in str(failure.value)


def test_task_paths_are_confined_to_the_inbox_and_the_lake_roots(pulse_bin, redis_db, tmp_path):
    """Whoever can write to the broker chooses a task's kwargs: a Pulse worker reads files only
    from its ingest inbox and opens only its own lake or lakes under its lake roots. Every refusal
    is a FAILURE (ValueError, not retried) that says why, and nothing is read or written."""
    inbox, lakes, own = tmp_path / "inbox", tmp_path / "lakes", tmp_path / "own-lake"
    inbox.mkdir()
    lakes.mkdir()
    (inbox / "gdp.csv").write_text("name,ts,value\n" + "".join(f"gdp,{2000 + y}-01-01,{100 + y}\n" for y in range(8)))
    secret = tmp_path / "secret.csv"
    secret.write_text("name,ts,value\nleaked,2024-01-01,1\n")
    (inbox / "escape.csv").symlink_to(secret)
    (tmp_path / "elsewhere").mkdir()
    (lakes / "out").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (lakes / "dangling").symlink_to(tmp_path / "not-yet", target_is_directory=True)
    # Global options after the subcommand: the worker's lake, inbox and lake roots.
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "1", "--lake", str(own),
                               "--set", f"ingest.inbox={inbox}", "--set", f"jobs.lake_roots={lakes}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        app = celery_app()
        refused = [
            ("pulse.ingest", {"path": "/etc/passwd"}, "path '/etc/passwd' is outside the ingest inbox"),
            ("pulse.ingest", {"path": str(inbox / ".." / "secret.csv")}, "'..' is not allowed in a task's paths"),
            ("pulse.ingest", {"path": "../secret.csv"}, "'..' is not allowed in a task's paths"),
            ("pulse.ingest", {"path": "escape.csv"}, "leads outside the ingest inbox"),
            ("pulse.ingest", {"path": str(secret)}, "is outside the ingest inbox"),
            ("pulse.ingest", {"path": "gdp.csv", "lake": str(tmp_path / "elsewhere" / "lake")},
             f"lake '{tmp_path / 'elsewhere' / 'lake'}' is not allowed"),
            ("pulse.ingest", {"path": "gdp.csv", "lake": str(lakes / ".." / "escaped")}, "'..' is not allowed"),
            ("pulse.ingest", {"path": "gdp.csv", "lake": str(lakes / "out" / "lake")}, "is not allowed"),
            ("pulse.ingest", {"path": "gdp.csv", "lake": str(lakes / "dangling" / "lake")}, "dangling symbolic link"),
            ("pulse.ingest", {"path": "gdp.csv", "lake": "/tmp"}, "config jobs.lake_roots"),
            # By url: only objects under the task's lake (here the worker's own), no other scheme.
            ("pulse.ingest", {"url": str(secret)}, f"url-outside-lake: url '{secret}' is outside the lake"),
            ("pulse.ingest", {"url": f"file://{inbox}/gdp.csv"}, "url-outside-lake: "),
            ("pulse.ingest", {"url": f"s3://bucket{own}/gdp.csv"}, "url-outside-lake: "),
            ("pulse.ingest", {"url": f"{own}/../secret.csv"}, "invalid-url: "),
            ("pulse.ingest", {"url": "gdp.csv"}, "invalid-url: "),
            ("pulse.ingest", {"url": f"http://127.0.0.1{own}/gdp.csv"}, "unsupported-url-scheme: "),
            ("pulse.ingest", {"url": f"{tmp_path}/elsewhere/lake/x.csv", "lake": str(tmp_path / "elsewhere" / "lake")},
             "is not allowed"),
            ("pulse.ingest", {"url": f"{own}/gdp.csv", "path": "gdp.csv"}, "'path' or kwarg 'url', not both"),
            ("pulse.forecast", {"lake": str(tmp_path / "elsewhere")}, "is not allowed"),
            ("pulse.trust", {"lake": str(own / "nested")}, "is not allowed"),
        ]
        results = [(app.send_task(task, kwargs=kwargs), needle) for task, kwargs, needle in refused]
        for result, needle in results:
            with pytest.raises(Exception) as failure:
                result.get(timeout=30)
            assert type(failure.value).__name__ == "ValueError", repr(failure.value)
            assert needle in str(failure.value), (needle, str(failure.value))
            assert result.state == "FAILURE"
        # What the configuration allows works: a relative path in the inbox, into the worker's own
        # lake and into a lake under a root.
        assert app.send_task("pulse.ingest", kwargs={"path": "gdp.csv"}).get(timeout=60)["accepted"] == 8
        team = app.send_task("pulse.ingest", kwargs={"path": str(inbox / "gdp.csv"), "lake": str(lakes / "team")})
        assert team.get(timeout=60)["accepted"] == 8
    finally:
        worker.send_signal(signal.SIGTERM)
        stats = json.loads(worker.communicate(timeout=60)[0])
    assert stats["failed"] == len(refused) and stats["retried"] == 0 and stats["succeeded"] == 2
    # Nothing was written outside the roots, and the secret was never read into a lake.
    assert not any((tmp_path / "elsewhere").iterdir()) and not (tmp_path / "not-yet").exists()
    assert not (tmp_path / "escaped").exists()
    assert not (own / "nested").exists()
    for lake_dir in (own, lakes / "team"):
        rows = json.loads(run_pulse(pulse_bin, "lake", "show", "signals", "--json", "--limit", "0", "--lake", lake_dir).stdout)
        assert {r["name"] for r in rows} == {"gdp"}


def test_a_worker_without_an_inbox_refuses_local_files(pulse_bin, redis_db, tmp_path):
    data = tmp_path / "gdp.csv"
    data.write_text("name,ts,value\ngdp,2024-01-01,1\n")
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "1",
                               "--lake", str(tmp_path / "lake")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        result = celery_app().send_task("pulse.ingest", kwargs={"path": str(data)})
        with pytest.raises(Exception) as failure:
            result.get(timeout=30)
        assert "reads files only from its ingest inbox, and it has none (set config ingest.inbox" in str(failure.value)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)
    assert not (tmp_path / "lake").exists()


def test_worker_exports_prometheus_metrics(pulse_bin, redis_db):
    import urllib.error
    import urllib.request
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "1", "--queues",
                               "celery,other", "--metrics-port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = worker.stderr.readline()
        url = line.strip().split("metrics on ")[1]
        app = celery_app()
        app.send_task("pulse.noop", args=[1]).get(timeout=30)
        redis_db.lpush("other", b"{malformed")  # on the worker's second queue: dead-lettered
        for _ in range(100):
            text = urllib.request.urlopen(url, timeout=5).read().decode()
            if 'pulse_worker_tasks_total{outcome="dead_lettered"} 1' in text:
                break
            time.sleep(0.05)
        assert 'pulse_worker_tasks_total{outcome="succeeded"} 1' in text
        assert 'pulse_worker_tasks_total{outcome="dead_lettered"} 1' in text
        assert 'pulse_queue_length{queue="celery"} 0' in text
        assert "# TYPE pulse_queue_length gauge" in text and "pulse_worker_task_seconds_total" in text
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(url.replace("/metrics", "/nope"), timeout=5)
        assert missing.value.code == 404
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def test_a_batch_split_across_workers_equals_the_single_process_result(pulse_bin, lake, pulse_worker):
    common = ["--runs", "1500", "--turns", "8", "--seed", "9", "--json", "-", "--no-lake"]
    local = json.loads(run_pulse(pulse_bin, "--lake", lake, "simulate", *common).stdout)
    chunked = json.loads(run_pulse(pulse_bin, "--lake", lake, "simulate", *common, "--broker", REDIS_URL,
                                   "--chunks", "5").stdout)
    assert chunked["variables"] == local["variables"]  # bit-identical: means, sds, quantiles, every turn
    proc = run_pulse(pulse_bin, "--lake", lake, "simulate", "--broker", REDIS_URL, "--fork", "hope=0.9", check=False)
    assert proc.returncode == 1 and "cannot be combined" in proc.stderr
