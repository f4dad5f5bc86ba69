"""POST /v1/jobs/ingest: a signals file by URL in the lake's own object store, ingested by a worker.

S3: a lake on the S3 server scripts/test starts (MinIO), `pulse serve` and a `pulse worker` sharing
the test Redis as broker. A CSV uploaded into the lake's prefix is ingested (202, the job polled to
SUCCESS, the rows read back through /v1/series and deltalake); the same content again is a
duplicate. Refused before queueing (problem documents): another bucket, another prefix, other
schemes, '..', neither or both of url and path. Refused by the worker (job FAILURE, stable code at
the start of the message): a missing object, one above ingest.max_file_bytes. None of the refusals
writes anything (the tables' versions do not move).
Local: a lake folder with the embedded broker: file:// and plain paths inside the lake, and a
symbolic link out of it, a missing file, a directory and a path outside it refused."""
import os
import subprocess
import uuid

import boto3
import pytest
from deltalake import DeltaTable

from conftest import stop_processes
from serve_util import start_serve, wait_job

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL", "")
S3_ENDPOINT = os.environ.get("PULSE_TEST_S3_ENDPOINT", "")
S3_ENV = {"PULSE_S3_ENDPOINT": S3_ENDPOINT, "PULSE_S3_ACCESS_KEY": "pulse", "PULSE_S3_SECRET_KEY": "pulse-secret"}
STORAGE = {"AWS_ENDPOINT_URL": S3_ENDPOINT, "AWS_ACCESS_KEY_ID": "pulse", "AWS_SECRET_ACCESS_KEY": "pulse-secret",
           "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
MAX_BYTES = 4096  # the workers' ingest.max_file_bytes here: the good CSV fits, BIG does not

GOOD_CSV = ("name,kind,ts,value\n"
            "gdp,macro,2024-01-01,1.5\n"
            "gdp,macro,2024-04-01,1.7\n"
            "cpi,macro,2024-01-01,3.1\n"
            "cpi,macro,not-a-date,3.2\n")
BIG_CSV = "name,kind,ts,value\n" + "".join(f"big,macro,2024-01-{1 + i % 28:02d},{i}\n" for i in range(400))


def submit(served, body):
    status, headers, reply = served.json("POST", "/v1/jobs/ingest", body, token="write")
    assert status == 202, reply
    assert reply["task"] == "pulse.ingest" and headers["Location"] == f"/v1/jobs/{reply['job_id']}", reply
    return wait_job(served, reply["job_id"])


def assert_refused(served, body, want_status, want_code):
    status, headers, problem = served.json("POST", "/v1/jobs/ingest", body, token="write")
    assert status == want_status, (body, problem)
    assert headers["Content-Type"].startswith("application/problem+json"), headers
    assert problem["code"] == want_code and problem["status"] == want_status, problem
    return problem


def assert_failed(served, body, code, needle=""):
    st = submit(served, body)
    assert st["state"] == "FAILURE", st
    assert st["error"]["message"].startswith(code + ": "), st
    assert needle in st["error"]["message"], st
    return st


def series_names(served):
    status, _, page = served.json("GET", "/v1/series", token="read")
    assert status == 200, page
    return {item["name"] for item in page["items"]}


@pytest.fixture
def s3():
    if not S3_ENDPOINT:
        pytest.skip("PULSE_TEST_S3_ENDPOINT is not set (run through scripts/test)")
    return boto3.client("s3", endpoint_url=S3_ENDPOINT, aws_access_key_id="pulse",
                        aws_secret_access_key="pulse-secret", region_name="us-east-1")


@pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
def test_ingest_by_s3_url_through_redis_and_a_worker(pulse_bin, tmp_path, redis_db, s3):
    bucket, other = "pulse-url-" + uuid.uuid4().hex[:10], "pulse-other-" + uuid.uuid4().hex[:10]
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=other)
    lake = f"s3://{bucket}/lake"
    s3.put_object(Bucket=bucket, Key="lake/inbox/signals.csv", Body=GOOD_CSV.encode())
    s3.put_object(Bucket=bucket, Key="lake/inbox/big.csv", Body=BIG_CSV.encode())
    # The same bytes outside the lake: another bucket, another prefix of the lake's bucket.
    s3.put_object(Bucket=other, Key="lake/inbox/elsewhere.csv", Body=GOOD_CSV.replace("gdp", "other").encode())
    s3.put_object(Bucket=bucket, Key="outside/elsewhere.csv", Body=GOOD_CSV.replace("gdp", "other").encode())

    served = start_serve(pulse_bin, tmp_path, lake, f"jobs.broker={REDIS_URL}", env=S3_ENV)
    worker = subprocess.Popen([pulse_bin, "--lake", lake, "--set", f"ingest.max_file_bytes={MAX_BYTES}", "worker",
                               "--broker", REDIS_URL, "--concurrency", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **S3_ENV})
    try:
        st = submit(served, {"url": f"{lake}/inbox/signals.csv"})
        assert st["state"] == "SUCCESS", st
        result = st["result"]
        assert result["accepted"] == 3 and result["rejected"] == 1 and result["duplicate"] is False, result
        assert result["rejects"][0]["line"] == 5, result
        version = result["version"]
        assert series_names(served) == {"gdp", "cpi"}
        signals = DeltaTable(f"{lake}/signals", storage_options=STORAGE)
        assert signals.version() == version
        rows = signals.to_pyarrow_table(columns=["name", "value", "source"]).to_pylist()
        assert sorted((r["name"], r["value"]) for r in rows) == [("cpi", 3.1), ("gdp", 1.5), ("gdp", 1.7)]
        assert {r["source"] for r in rows} == {"signals.csv"}  # the object's name, as for a file
        rejects = DeltaTable(f"{lake}/signal_rejects", storage_options=STORAGE)
        assert rejects.to_pyarrow_table(columns=["file"]).column("file").to_pylist() == [
            f"{lake}/inbox/signals.csv"]
        rejects_version = rejects.version()

        # The same content again: idempotent.
        again = submit(served, {"url": f"{lake}/inbox/signals.csv"})
        assert again["state"] == "SUCCESS" and again["result"]["duplicate"] is True, again

        # Refused by pulse serve before anything is queued.
        queued = redis_db.llen("celery")
        for url in (f"s3://{other}/lake/inbox/elsewhere.csv", f"s3://{bucket}/outside/elsewhere.csv",
                    f"s3://{bucket}/lakeX/inbox/signals.csv", f"s3://{bucket}/lake", str(tmp_path / "x.csv")):
            problem = assert_refused(served, {"url": url}, 422, "url-outside-lake")
            assert bucket not in problem["detail"], problem  # the lake's location is not told
        for url in (f"http://127.0.0.1/{bucket}/lake/inbox/signals.csv", "ftp://host/x.csv",
                    f"gs://{bucket}/lake/inbox/signals.csv", f"{S3_ENDPOINT}/{bucket}/lake/inbox/signals.csv"):
            assert_refused(served, {"url": url}, 400, "unsupported-url-scheme")
        for url in (f"{lake}/inbox/../../outside/elsewhere.csv", f"{lake}/../outside/elsewhere.csv",
                    f"{lake}/./inbox/signals.csv", f"{lake}//inbox/signals.csv", f"{lake}/inbox/", "",
                    "inbox/signals.csv"):
            assert_refused(served, {"url": url}, 400, "invalid-url")
        assert_refused(served, {"url": 5}, 400, "invalid-url")
        assert_refused(served, {}, 400, "invalid-body")
        assert_refused(served, {"url": f"{lake}/inbox/signals.csv", "path": "signals.csv"}, 400, "invalid-body")
        assert_refused(served, {"kind": "macro"}, 400, "invalid-body")
        assert_refused(served, {"url": f"{lake}/inbox/signals.csv", "lake": 7}, 400, "invalid-body")
        status, _, _ = served.json("POST", "/v1/jobs/ingest", {"url": f"{lake}/inbox/signals.csv"}, token="read")
        assert status == 403
        assert redis_db.llen("celery") == queued

        # Refused by the worker: the job fails with the stable code first.
        assert_failed(served, {"url": f"{lake}/inbox/absent.csv"}, "object-not-found", "absent.csv")
        assert_failed(served, {"url": f"{lake}/inbox/big.csv"}, "object-too-large", str(MAX_BYTES))

        # Nothing was written by any refusal.
        assert DeltaTable(f"{lake}/signals", storage_options=STORAGE).version() == version
        assert DeltaTable(f"{lake}/signal_rejects", storage_options=STORAGE).version() == rejects_version
        assert series_names(served) == {"gdp", "cpi"}
    finally:
        (out, err), = stop_processes([worker])
        code, _, log = served.stop()
    assert code == 0, log
    assert worker.returncode == 0, err


def test_ingest_by_local_url_in_process(pulse_bin, tmp_path, lake):
    (lake / "inbox" / "dir").mkdir(parents=True)
    (lake / "inbox" / "signals.csv").write_text(GOOD_CSV)
    (lake / "inbox" / "more.jsonl").write_text('{"name": "rate", "kind": "macro", "ts": "2024-01-01", "value": 4}\n')
    secret = tmp_path / "secret.csv"
    secret.write_text(GOOD_CSV.replace("gdp", "secret"))
    (lake / "inbox" / "escape.csv").symlink_to(secret)
    served = start_serve(pulse_bin, tmp_path, lake)
    try:
        st = submit(served, {"url": f"file://{lake}/inbox/signals.csv", "source": "upload"})
        assert st["state"] == "SUCCESS" and st["result"]["accepted"] == 3 and st["result"]["rejected"] == 1, st
        st = submit(served, {"url": str(lake / "inbox" / "more.jsonl")})
        assert st["state"] == "SUCCESS" and st["result"]["accepted"] == 1, st
        assert series_names(served) == {"gdp", "cpi", "rate"}
        version = DeltaTable(str(lake / "signals")).version()

        assert_refused(served, {"url": str(secret)}, 422, "url-outside-lake")
        assert_refused(served, {"url": f"file://{tmp_path}/lakeX/x.csv"}, 422, "url-outside-lake")
        assert_refused(served, {"url": f"s3://bucket{lake}/inbox/signals.csv"}, 422, "url-outside-lake")
        assert_refused(served, {"url": f"{lake}/inbox/../../secret.csv"}, 400, "invalid-url")
        assert_refused(served, {"url": f"file://host{lake}/inbox/signals.csv"}, 400, "invalid-url")
        assert_refused(served, {"url": f"https://host{lake}/inbox/signals.csv"}, 400, "unsupported-url-scheme")

        st = assert_failed(served, {"url": f"{lake}/inbox/escape.csv"}, "url-outside-lake", "symbolic link")
        assert "secret" not in st["error"]["message"], st
        assert_failed(served, {"url": f"{lake}/inbox/absent.csv"}, "object-not-found")
        assert_failed(served, {"url": f"{lake}/inbox/dir"}, "object-not-a-file")
        assert DeltaTable(str(lake / "signals")).version() == version
        assert "secret" not in series_names(served)
    finally:
        code, _, log = served.stop()
    assert code == 0, log
