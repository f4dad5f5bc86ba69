"""POST /v1/signals under concurrency (group commit, the history cache of pulse serve): pushes from
many threads all land exactly once and score as the same pushes made one after another; a push
sees rows another writer (`pulse ingest`) appended to its series meanwhile; an Idempotency-Key
lands once when its retries race in one group and replays from a group's commit later; a commit
that fails fails every request of its group with a problem document and writes nothing. Counted
and compared through deltalake."""
import threading

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from conftest import run_pulse
from serve_util import start_serve

SCORES = ("anomaly_z", "anomaly", "sti", "tag", "gate", "gate_reason")


def serve(pulse_bin, tmp_path, name, lake):
    """start_serve with its tokens and report under tmp_path/name (two servers in one test)."""
    (tmp_path / name).mkdir(exist_ok=True)
    return start_serve(pulse_bin, tmp_path / name, lake)


def month(i):
    return f"{2000 + i // 12}-{1 + i % 12:02d}-01"


def series_push(name, start, count):
    """`count` monthly rows of series `name` from month `start`: calm values with a spike every 7th
    month (so windows, z-scores and anomaly counts all matter)."""
    return [{"name": name, "source": "fred", "kind": "macro", "ts": month(i),
             "value": 100.0 + (i % 5) + (60.0 if i % 7 == 3 else 0.0)} for i in range(start, start + count)]


def scores_by_row(lake):
    t = DeltaTable(str(lake / "signals")).to_pyarrow_table().to_pylist()
    out = {}
    for r in t:
        key = (r["source"], r["name"], str(r["ts"]))
        assert key not in out, f"{key} landed twice"
        out[key] = tuple(r[c] for c in SCORES)
    return out


def push_all(served, pushes, threads):
    """Pushes each thread's list of bodies in order, the threads at once; returns every reply."""
    replies, lock = [], threading.Lock()

    def run(bodies):
        for body in bodies:
            status, _, reply = served.json("POST", "/v1/signals", body, token="write")
            with lock:
                replies.append((status, reply))

    workers = [threading.Thread(target=run, args=(pushes[t],)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return replies


def test_concurrent_pushes_land_once_and_score_as_one_after_another(pulse_bin, tmp_path, lake):
    threads, per_thread, rows = 8, 6, 10
    # Thread t pushes series s<t> in order (and, every other push, one row of its series only<t>).
    pushes = []
    for t in range(threads):
        bodies = []
        for k in range(per_thread):
            body = series_push(f"s{t}", k * rows, rows)
            if k % 2 == 0:
                body.append({"name": f"only{t}", "source": "fred", "kind": "macro", "ts": month(k), "value": 1.0 + k})
            bodies.append(body)
        pushes.append(bodies)
    served = serve(pulse_bin, tmp_path, "a", lake)
    try:
        replies = push_all(served, pushes, threads)
    finally:
        code, _, log = served.stop()
    assert code == 0, log
    assert len(replies) == threads * per_thread
    assert all(s == 200 and r["replayed"] is False and r["rejected"] == 0 for s, r in replies), replies
    got = scores_by_row(lake)  # raises if a row landed twice
    want_rows = threads * per_thread * rows + threads * ((per_thread + 1) // 2)
    assert len(got) == want_rows
    assert sum(r["accepted"] for _, r in replies) == want_rows
    # Group commit happened: fewer commits than requests, some carrying several requests.
    history = DeltaTable(str(lake / "signals")).history()
    pushes_in = [h for h in history if h.get("operation") == "SERVE INGEST"]
    assert len(pushes_in) < threads * per_thread
    grouped = [h for h in pushes_in if "requests" in (h.get("operationParameters") or {})]
    assert grouped, "no commit carried more than one request"
    # The reference: the same pushes one after another into another lake.
    ref_lake = tmp_path / "ref_lake"
    ref_lake.mkdir()
    ref = serve(pulse_bin, tmp_path, "b", ref_lake)
    try:
        for bodies in pushes:
            for body in bodies:
                assert ref.json("POST", "/v1/signals", body, token="write")[0] == 200
    finally:
        ref.stop()
    assert got == scores_by_row(ref_lake)


def test_push_sees_rows_another_writer_ingested(pulse_bin, tmp_path, lake):
    served = serve(pulse_bin, tmp_path, "a", lake)
    try:
        calm = [{"name": "gdp", "source": "fred", "kind": "macro", "ts": month(i), "value": 100.0 + (i % 2)}
                for i in range(30)]
        assert served.json("POST", "/v1/signals", calm, token="write")[0] == 200  # gdp is now cached
        # Another process appends 30 months at ~1000 to the same series.
        csv = tmp_path / "more.csv"
        csv.write_text("name,source,kind,ts,value\n" +
                       "".join(f"gdp,fred,macro,{month(i)},{1000.0 + (i % 2)}\n" for i in range(30, 60)))
        run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
        # 1000 is ordinary after them (z about 1); against the 30 calm months alone it is an anomaly.
        status, _, body = served.json("POST", "/v1/signals",
                                      [{"name": "gdp", "source": "fred", "kind": "macro", "ts": month(60),
                                        "value": 1000.0}], token="write")
        assert status == 200, body
    finally:
        code, _, log = served.stop()
    assert code == 0, log
    row = [r for r in DeltaTable(str(lake / "signals")).to_pyarrow_table().to_pylist() if r["ts"].year == 2005]
    assert len(row) == 1
    assert row[0]["anomaly"] is False and abs(row[0]["anomaly_z"]) < 2, row


def test_idempotency_key_lands_once_under_group_commit(pulse_bin, tmp_path, lake):
    body = series_push("k", 0, 5)
    served = serve(pulse_bin, tmp_path, "a", lake)
    try:
        replies, lock = [], threading.Lock()

        def run(key, b):
            s, _, r = served.json("POST", "/v1/signals", b, token="write", headers={"Idempotency-Key": key})
            with lock:
                replies.append((key, s, r))

        # Six retries of one keyed request and six other keyed requests, all at once.
        jobs = [("same", body)] * 6 + [(f"other-{i}", series_push(f"o{i}", 0, 5)) for i in range(6)]
        workers = [threading.Thread(target=run, args=job) for job in jobs]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert all(s == 200 for _, s, _ in replies), replies
        same = [r for k, _, r in replies if k == "same"]
        assert sum(not r["replayed"] for r in same) == 1, same
        assert len({r["version"] for r in same}) == 1
        assert all(r["accepted"] == 5 and r["gate"] == same[0]["gate"] for r in same), same
        rows = DeltaTable(str(lake / "signals")).to_pyarrow_table()
        assert rows.num_rows == 5 * 7
        # A retry later replays each request from its (possibly grouped) commit: its own counts.
        for key, _, first in replies:
            b = body if key == "same" else series_push(f"o{key.split('-')[1]}", 0, 5)
            s, _, again = served.json("POST", "/v1/signals", b, token="write", headers={"Idempotency-Key": key})
            assert s == 200 and again["replayed"] is True, again
            for field in ("accepted", "rejected", "version", "gate"):
                assert again[field] == first[field], (key, field, first, again)
        # The same key with another body is refused.
        s, _, refused = served.json("POST", "/v1/signals", body[:1], token="write", headers={"Idempotency-Key": "same"})
        assert s == 422 and refused["code"] == "idempotency-key-reused", refused
        assert DeltaTable(str(lake / "signals")).to_pyarrow_table().num_rows == 5 * 7
    finally:
        code, _, log = served.stop()
    assert code == 0, log


def test_a_failing_commit_fails_every_request_of_its_group(pulse_bin, tmp_path, lake):
    served = serve(pulse_bin, tmp_path, "a", lake)
    try:
        assert served.json("POST", "/v1/signals", series_push("x", 0, 5), token="write")[0] == 200
        # Another writer adds a column Pulse does not write: every later commit of serve is refused.
        extra = DeltaTable(str(lake / "signals")).to_pyarrow_table().slice(0, 1)
        extra = extra.append_column("note", pa.array(["added elsewhere"]))
        write_deltalake(str(lake / "signals"), extra, mode="append", schema_mode="merge")
        before = DeltaTable(str(lake / "signals")).to_pyarrow_table().num_rows
        replies = push_all(served, [[series_push(f"y{t}", 0, 5)] for t in range(6)], 6)
        assert len(replies) == 6
        for status, reply in replies:
            assert status >= 400 and reply["status"] == status and reply["code"], reply
            assert "Traceback" not in str(reply) and "/tmp/" not in str(reply), reply
        assert DeltaTable(str(lake / "signals")).to_pyarrow_table().num_rows == before
    finally:
        code, _, log = served.stop()
    assert code == 0, log
