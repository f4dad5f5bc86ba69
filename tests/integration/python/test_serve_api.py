"""pulse serve's API against the real binary: every refusal of the auth layer as a problem document,
signals pushed as a JSON array and as JSON lines (same validation and scoring as pulse ingest,
per-row errors, rejects kept, an Idempotency-Key retry landing once - counted through deltalake),
jobs through a Redis broker and a `pulse worker` (202, status, result, revoke), the paged queries,
/metrics through promtool, and /openapi.json."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest
from deltalake import DeltaTable

from serve_util import start_serve, wait_job
from timing import scaled

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL", "")

GOOD = [{"name": "gdp", "ts": "2024-01-01", "value": 1.5, "kind": "macro"},
        {"name": "gdp", "ts": "2024-04-01", "value": 1.7, "kind": "macro"},
        {"name": "cpi", "ts": "2024-01-01", "value": 3.1, "kind": "macro"}]


@pytest.fixture
def served(pulse_bin, tmp_path, lake):
    s = start_serve(pulse_bin, tmp_path, lake)
    yield s
    code, _, log = s.stop()
    assert code == 0, log


def assert_problem(status, headers, body, want_status, want_code):
    assert status == want_status, body
    assert headers["Content-Type"].startswith("application/problem+json"), headers
    assert body["status"] == want_status and body["code"] == want_code, body
    assert body["type"] == "urn:pulse:problem:" + want_code
    assert "title" in body and "request_id" in body
    text = json.dumps(body)
    assert "Traceback" not in text and "/tmp/" not in text and ".cc" not in text, text


def test_every_auth_refusal_is_a_problem_document(served):
    # 401: no token, an unknown token, a token that is only the hash of one, not Bearer.
    s, h, b = served.json("GET", "/v1/series")
    assert_problem(s, h, b, 401, "unauthorized")
    assert h["WWW-Authenticate"].startswith("Bearer")
    assert_problem(*served.json("GET", "/v1/series", token="pulse_" + "0" * 64), 401, "unauthorized")
    assert_problem(*served.json("GET", "/v1/series", headers={"Authorization": "Basic " + served.tokens["read"]}),
                   401, "unauthorized")
    # 403: a read token cannot write (signals, jobs, revoke).
    assert_problem(*served.json("POST", "/v1/signals", GOOD, token="read"), 403, "forbidden")
    assert_problem(*served.json("POST", "/v1/jobs/simulate", {}, token="read"), 403, "forbidden")
    assert_problem(*served.json("DELETE", "/v1/jobs/x", token="read"), 403, "forbidden")
    # Reads need read: every scope has it.
    for scope in ("read", "write", "admin"):
        assert served.json("GET", "/v1/series", token=scope)[0] == 200
    # Public routes need no token.
    for path in ("/livez", "/readyz", "/metrics", "/openapi.json"):
        assert served.request("GET", path)[0] == 200, path
    # Unknown route, wrong method.
    assert_problem(*served.json("GET", "/v1/nope", token="read"), 404, "not-found")
    s, h, b = served.json("PUT", "/v1/signals", GOOD, token="write")
    assert_problem(s, h, b, 405, "method-not-allowed")
    assert h["Allow"] == "POST"


def test_body_limits_and_bad_bodies(pulse_bin, tmp_path, lake):
    served = start_serve(pulse_bin, tmp_path, lake, "serve.max_body_bytes=1000")
    try:
        big = [{"name": "x", "ts": "2024-01-01", "value": i} for i in range(100)]
        assert_problem(*served.json("POST", "/v1/signals", big, token="write"), 413, "body-too-large")
        assert_problem(*served.json("POST", "/v1/signals", b"{not json", token="write"), 400, "invalid-body")
        assert_problem(*served.json("POST", "/v1/signals", {"name": "x"}, token="write"), 400, "invalid-body")
        assert_problem(*served.json("POST", "/v1/signals", [], token="write"), 400, "invalid-body")
        assert_problem(*served.json("POST", "/v1/signals", b"a,b\n1,2\n", token="write",
                                    headers={"Content-Type": "text/csv"}), 415, "unsupported-media-type")
        assert_problem(*served.json("POST", "/v1/signals", GOOD, token="write", headers={"Idempotency-Key": "a b"}),
                       400, "invalid-idempotency-key")
        deep = b"[" * 10000 + b"]" * 10000
        assert_problem(*served.json("POST", "/v1/jobs/simulate", b"[]", token="write"), 400, "invalid-body")
        s, h, b = served.json("POST", "/v1/signals", deep[:900], token="write")
        assert s == 400, b
        # Nothing was written by any of them.
        assert not (lake / "signals").exists()
    finally:
        code, _, log = served.stop()
    assert code == 0, log


def test_rate_limit_answers_429(pulse_bin, tmp_path, lake):
    served = start_serve(pulse_bin, tmp_path, lake, "serve.rate_per_second=0.01", "serve.rate_burst=3")
    try:
        codes = [served.json("GET", "/v1/tables", token="read")[0] for _ in range(4)]
        assert codes == [200, 200, 200, 429], codes
        s, h, b = served.json("GET", "/v1/tables", token="read")
        assert_problem(s, h, b, 429, "rate-limited")
        assert int(h["Retry-After"]) >= 1
        assert served.json("GET", "/v1/tables", token="write")[0] == 200  # its own bucket
    finally:
        served.stop()


def test_signals_land_with_row_errors_and_rejects(served, lake):
    rows = GOOD + [{"name": "gdp", "ts": "not a date", "value": 1}, {"name": "gdp", "ts": "2024-07-01", "value": "x"},
                   "not an object"]
    status, _, body = served.json("POST", "/v1/signals", rows, token="write")
    assert status == 200, body
    assert body["accepted"] == 3 and body["rejected"] == 3, body
    assert [e["index"] for e in body["errors"]] == [3, 4, 5]
    assert all(e["reason"] for e in body["errors"])
    assert body["replayed"] is False and body["version"] >= 0
    assert sum(body["gate"].values()) == 3
    signals = DeltaTable(str(lake / "signals")).to_pyarrow_table()
    assert signals.num_rows == 3
    assert set(signals.column("source").to_pylist()) == {"api"}
    rejects = DeltaTable(str(lake / "signal_rejects")).to_pyarrow_table().to_pylist()
    assert len(rejects) == 3
    assert all(r["file"].startswith("http:") for r in rejects)
    # JSON lines: per-row errors name the line too.
    lines = b'{"name": "u", "ts": "2024-01-01", "value": 1}\n{"name": "u", "ts": "bad", "value": 2}\n'
    status, _, body = served.json("POST", "/v1/signals", lines, token="write",
                                  headers={"Content-Type": "application/x-ndjson"})
    assert status == 200, body
    assert body["accepted"] == 1 and body["errors"][0]["index"] == 1 and body["errors"][0]["line"] == 2
    assert DeltaTable(str(lake / "signals")).to_pyarrow_table().num_rows == 4


def test_idempotency_key_retry_lands_once(served, lake):
    rows = GOOD + [{"name": "bad", "ts": "never", "value": 1}]
    key = {"Idempotency-Key": "batch-0001"}
    first = served.json("POST", "/v1/signals", rows, token="write", headers=key)
    assert first[0] == 200, first
    again = served.json("POST", "/v1/signals", rows, token="write", headers=key)
    assert again[0] == 200, again
    a, b = first[2], again[2]
    assert b["replayed"] is True and a["replayed"] is False
    for field in ("accepted", "rejected", "version", "errors", "gate"):
        assert a[field] == b[field], field
    assert DeltaTable(str(lake / "signals")).to_pyarrow_table().num_rows == 3
    assert DeltaTable(str(lake / "signal_rejects")).to_pyarrow_table().num_rows == 1
    # The same key with another body is refused; nothing lands.
    s, h, body = served.json("POST", "/v1/signals", GOOD[:1], token="write", headers=key)
    assert_problem(s, h, body, 422, "idempotency-key-reused")
    assert DeltaTable(str(lake / "signals")).to_pyarrow_table().num_rows == 3
    # Another key lands again.
    assert served.json("POST", "/v1/signals", rows, token="write", headers={"Idempotency-Key": "batch-0002"})[0] == 200
    assert DeltaTable(str(lake / "signals")).to_pyarrow_table().num_rows == 6


def test_queries_page_and_time_travel(served, lake):
    for i in range(3):
        rows = [{"name": f"s{j}", "ts": f"2024-01-{1 + i:02d}", "value": j + i, "kind": "k"} for j in range(5)]
        assert served.json("POST", "/v1/signals", rows, token="write")[0] == 200
    status, _, page = served.json("GET", "/v1/series?limit=2", token="read")
    assert status == 200, page
    assert page["total"] == 5 and len(page["items"]) == 2 and page["next_page_token"]
    seen = [i["name"] for i in page["items"]]
    while page["next_page_token"]:
        page = served.json("GET", f"/v1/series?limit=2&page_token={page['next_page_token']}", token="read")[2]
        seen += [i["name"] for i in page["items"]]
    assert seen == [f"s{j}" for j in range(5)]
    first = served.json("GET", "/v1/series", token="read")[2]["items"][0]
    assert first["observations"] == 3 and first["first"].startswith("2024-01-01") and first["last"].startswith("2024-01-03")
    # Time travel: as of the first commit each series had one observation.
    v0 = served.json("GET", "/v1/tables?table=signals", token="read")[2]["items"][0]
    assert v0["name"] == "signals" and len(v0["versions"]) >= 3
    oldest_data = min(v["version"] for v in v0["versions"] if v["rows_added"] and v["rows_added"] > 0)
    old = served.json("GET", f"/v1/series?version={oldest_data}", token="read")[2]
    assert all(i["observations"] == 1 for i in old["items"]), old
    s, h, b = served.json("GET", "/v1/series?version=999", token="read")
    assert_problem(s, h, b, 404, "not-found")
    assert_problem(*served.json("GET", "/v1/series?limit=0", token="read"), 400, "invalid-argument")
    assert_problem(*served.json("GET", "/v1/series?page_token=zz", token="read"), 400, "invalid-argument")
    # Tables not written yet read as empty; the report is a 404 until a run wrote one.
    for path in ("/v1/forecasts", "/v1/trust", "/v1/simulations"):
        s, _, b = served.json("GET", path, token="read")
        assert s == 200 and b["items"] == [] and b["version"] is None, (path, b)
    assert_problem(*served.json("GET", "/v1/report", token="read"), 404, "no-report")


def test_metrics_pass_promtool(served):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus; scripts/bootstrap installs it)")
    served.json("GET", "/v1/series", token="read")
    served.json("GET", "/v1/series")
    status, headers, raw = served.request("GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = raw.decode()
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr + "\n" + text
    assert check.stdout.strip() == "" and check.stderr.strip() == "", check.stdout + check.stderr
    for needle in ('pulse_http_requests_total{route="/v1/series",method="GET",code="200"} 1',
                   'pulse_http_requests_total{route="/v1/series",method="GET",code="401"} 1',
                   '# TYPE pulse_http_request_duration_seconds histogram',
                   'pulse_http_request_duration_seconds_count{route="/v1/series",method="GET"} 2',
                   'process_cpu_seconds_total', 'process_resident_memory_bytes'):
        assert needle in text, needle + "\n" + text


def test_openapi_document_is_served(served):
    status, _, doc = served.json("GET", "/openapi.json")
    assert status == 200 and doc["openapi"] == "3.1.0"
    assert "/v1/signals" in doc["paths"] and "/readyz" in doc["paths"]


@pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
def test_jobs_through_redis_and_a_pulse_worker(pulse_bin, tmp_path, lake, redis_db):
    served = start_serve(pulse_bin, tmp_path, lake, f"jobs.broker={REDIS_URL}")
    worker = subprocess.Popen([pulse_bin, "--lake", str(lake), "worker", "--broker", REDIS_URL, "--concurrency", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        status, headers, body = served.json("POST", "/v1/jobs/simulate", {"runs": 200, "turns": 3, "seed": 7},
                                            token="write")
        assert status == 202, body
        job = body["job_id"]
        assert headers["Location"] == f"/v1/jobs/{job}" and body["state"] == "PENDING"
        deadline = time.monotonic() + scaled(60)
        while True:
            s, _, st = served.json("GET", f"/v1/jobs/{job}", token="read")
            assert s == 200, st
            if st["state"] in ("SUCCESS", "FAILURE") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert st["state"] == "SUCCESS", st
        assert st["result"]["runs"] == 200 and st["result"]["seed"] == 7
        # Bad kwargs: the job fails with the task's reason.
        body = served.json("POST", "/v1/jobs/simulate", {"runs": -1}, token="write")[2]
        deadline = time.monotonic() + scaled(60)
        while True:
            st = served.json("GET", f"/v1/jobs/{body['job_id']}", token="read")[2]
            if st["state"] in ("SUCCESS", "FAILURE") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert st["state"] == "FAILURE" and st["error"]["type"] == "ValueError", st
        # A finished job cannot be revoked.
        assert_problem(*served.json("DELETE", f"/v1/jobs/{job}", token="write"), 409, "job-finished")
        # Revoke a job before a worker takes it: stop the worker, queue, revoke, start a worker.
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)
        body = served.json("POST", "/v1/jobs/simulate", {"runs": 100, "turns": 2}, token="write")[2]
        revoked = body["job_id"]
        s, _, b = served.json("DELETE", f"/v1/jobs/{revoked}", token="write")
        assert s == 202 and b["state"] == "REVOKED", b
        worker = subprocess.Popen([pulse_bin, "--lake", str(lake), "worker", "--broker", REDIS_URL, "--concurrency",
                                   "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + scaled(30)
        while redis_db.llen("celery") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        st = served.json("GET", f"/v1/jobs/{revoked}", token="read")[2]
        assert st["state"] == "REVOKED", st
        assert_problem(*served.json("GET", "/v1/jobs/not%20an%20id", token="read"), 400, "invalid-job-id")
        assert served.json("GET", "/v1/jobs/00000000-0000-0000-0000-000000000000", token="read")[2]["state"] == \
            "PENDING"
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
        code, _, log = served.stop()
    assert code == 0, log
    assert '"revoked": 1' in out, out


def quarterly(name, n, start_year=2000, base=100.0, step=1.0):
    return [{"name": name, "kind": "macro", "ts": f"{start_year + i // 4}-{1 + 3 * (i % 4):02d}-01",
             "value": base + step * i + (i % 4) * 0.5} for i in range(n)]


def test_forecast_job_in_process_then_latest_forecasts_and_time_travel(served, lake):
    """The default broker (inproc): the job runs on serve's own worker; /v1/forecasts answers the
    latest forecast per series with its bands, and version= reads the table as it was."""
    assert served.json("POST", "/v1/signals", quarterly("gdp", 32) + quarterly("cpi", 32, base=50), token="write")[0] \
        == 200
    s, _, body = served.json("POST", "/v1/jobs/forecast", {"horizon": 4}, token="write")
    assert s == 202, body
    st = wait_job(served, body["job_id"])
    assert st["state"] == "SUCCESS", st
    first_version = st["result"]["forecasts_version"]
    s, _, page = served.json("GET", "/v1/forecasts?series=gdp&limit=1000", token="read")
    assert s == 200, page
    rows = page["items"]
    assert rows and {r["series"] for r in rows} == {"gdp"}
    assert all(r["lower"] <= r["mean"] <= r["upper"] for r in rows)
    assert {r["step"] for r in rows} == {1, 2, 3, 4}
    first_sv = {r["signals_version"] for r in rows}
    assert len(first_sv) == 1
    # More signals, a second forecast: the latest rows move on; version= still shows the first.
    assert served.json("POST", "/v1/signals", quarterly("gdp", 4, start_year=2008, base=140), token="write")[0] == 200
    st = wait_job(served, served.json("POST", "/v1/jobs/forecast", {"horizon": 4}, token="write")[2]["job_id"])
    assert st["state"] == "SUCCESS", st
    latest = served.json("GET", "/v1/forecasts?series=gdp&limit=1000", token="read")[2]
    assert {r["signals_version"] for r in latest["items"]} != first_sv
    old = served.json("GET", f"/v1/forecasts?series=gdp&limit=1000&version={first_version}", token="read")[2]
    assert old["version"] == first_version
    assert {r["signals_version"] for r in old["items"]} == first_sv
    # Both series are listed; the tables route names the forecasts table with its versions.
    assert {i["name"] for i in served.json("GET", "/v1/series", token="read")[2]["items"]} == {"gdp", "cpi"}
    tables = served.json("GET", "/v1/tables?table=forecasts", token="read")[2]["items"]
    assert tables[0]["name"] == "forecasts" and tables[0]["version"] >= first_version + 1
