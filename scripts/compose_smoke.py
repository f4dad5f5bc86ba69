"""The end-to-end checks of scripts/compose-smoke, against the running compose stack (project
pulse-smoke). Everything goes through the stack: the signals were published to Kafka by the
script; here they must reach the S3 lake through the stream ingest role, jobs are submitted
through serve's HTTP API and run on the worker role, `pulse run` runs in the serve container with
its stages on the workers, and Prometheus must have scraped every role.
Environment: the PULSE_SMOKE_* ports, PULSE_S3_ACCESS_KEY / PULSE_S3_SECRET_KEY, PULSE_SMOKE_TOKEN
(a write token) and PULSE_SMOKE_SERVE_CONTAINER. Exits 1 with the reason on the first failure."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ENV = os.environ
SERVE = f"http://127.0.0.1:{ENV['PULSE_SMOKE_SERVE_PORT']}"
PROMETHEUS = f"http://127.0.0.1:{ENV['PULSE_SMOKE_PROMETHEUS_PORT']}"
SERIES = {"smoke_gdp", "smoke_cpi", "smoke_rate"}
T0 = time.monotonic()


def log(msg):
    print(f"compose-smoke: [checks {time.monotonic() - T0:.0f} s] {msg}", file=sys.stderr, flush=True)


def fail(msg):
    print(f"compose-smoke: FAILED: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def http(method, url, body=None, token=None, timeout=30):
    """(status, body bytes); never raises on HTTP errors."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def api(method, path, body=None):
    status, raw = http(method, SERVE + path, body, ENV["PULSE_SMOKE_TOKEN"])
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


def wait_for(what, probe, seconds):
    """Calls probe() until it returns a true value; fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            fail(f"{what} within {seconds} s")
        time.sleep(1)


def run_job(kind, kwargs, seconds=300):
    status, body = api("POST", f"/v1/jobs/{kind}", kwargs)
    if status != 202:
        fail(f"POST /v1/jobs/{kind}: {status} {body}")
    job = body["job_id"]

    def done():
        s, st = api("GET", f"/v1/jobs/{job}")
        if s != 200:
            fail(f"GET /v1/jobs/{job}: {s} {st}")
        return st if st["state"] in ("SUCCESS", "FAILURE") else None

    st = wait_for(f"job {kind} finishing", done, seconds)
    if st["state"] != "SUCCESS":
        fail(f"job {kind} failed: {st}")
    log(f"job {kind} ({job}) succeeded on a worker: {json.dumps(st.get('result'))[:200]}")
    return st


def lake_table(name):
    from deltalake import DeltaTable
    opts = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{ENV['PULSE_SMOKE_S3_PORT']}", "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": ENV["PULSE_S3_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY": ENV["PULSE_S3_SECRET_KEY"],
            "AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true", "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false"}
    return DeltaTable(f"s3://pulse/lake/{name}", storage_options=opts)


def prometheus(query):
    status, raw = http("GET", PROMETHEUS + "/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    if status != 200:
        fail(f"Prometheus query {query}: {status} {raw[:200]!r}")
    return json.loads(raw)["data"]["result"]


def main():
    # 1. Kafka -> stream ingest -> S3 lake, seen through the API.
    def ingested():
        s, page = api("GET", "/v1/series")
        return s == 200 and SERIES <= {i["name"] for i in page["items"]}
    wait_for("the published signals reaching the lake (GET /v1/series)", ingested, 120)
    log("stream ingest landed the published signals in the S3 lake")

    # 2. Jobs through the API, run by the worker role.
    run_job("forecast", {"horizon": 4})
    s, page = api("GET", "/v1/forecasts?series=smoke_gdp&limit=100")
    if s != 200 or {r["step"] for r in page["items"]} != {1, 2, 3, 4}:
        fail(f"GET /v1/forecasts after the job: {s} {page}")

    # 3. pulse run (its stages as jobs on the workers) -> the report through the API.
    proc = subprocess.run(["podman", "exec", ENV["PULSE_SMOKE_SERVE_CONTAINER"], "pulse", "--config",
                           "/etc/pulse/pulse.yaml", "run"], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        fail(f"pulse run in the serve container: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    log("pulse run finished (stages on the workers)")
    status, html = http("GET", SERVE + "/v1/report", token=ENV["PULSE_SMOKE_TOKEN"])
    if status != 200 or b"<html" not in html[:2000].lower():
        fail(f"GET /v1/report: {status} {html[:200]!r}")
    log(f"GET /v1/report: {len(html)} bytes of HTML")
    st = run_job("simulate", {"runs": 500, "turns": 4, "seed": 7})
    if st["result"].get("runs") != 500:
        fail(f"simulate job result: {st['result']}")

    # 4. The lake's tables, read by deltalake straight from MinIO.
    signals = lake_table("signals").to_pyarrow_table(columns=["name"]).column("name").to_pylist()
    smoke_rows = sum(1 for n in signals if n in SERIES)
    if smoke_rows != 72:
        fail(f"signals table: {smoke_rows} rows of the published series, expected 72")
    forecasts = lake_table("forecasts").to_pyarrow_table(columns=["series"]).column("series").to_pylist()
    if not SERIES <= set(forecasts):
        fail(f"forecasts table lacks the published series: {sorted(set(forecasts))[:10]}")
    log(f"deltalake: signals has the 72 published rows ({len(signals)} in all), forecasts has "
        f"{len(forecasts)} rows")

    # 5. Prometheus scraped every role, and holds what they did.
    def scraped():
        up = {r["metric"]["job"]: r["value"][1] for r in prometheus("up")}
        return all(up.get(j) == "1" for j in ("pulse-serve", "pulse-worker", "pulse-beat", "pulse-stream")) and up
    up = wait_for("Prometheus scraping all four Pulse roles (up == 1)", scraped, 60)
    log(f"Prometheus: up {up}")
    for query in ("pulse_http_requests_total", "pulse_ready"):
        if not wait_for(f"Prometheus holding {query}", lambda q=query: prometheus(q), 30):
            fail(f"no {query}")
    rules = json.loads(http("GET", PROMETHEUS + "/api/v1/rules")[1])["data"]["groups"]
    if not rules:
        fail("Prometheus loaded no rule groups from deploy/prometheus/rules")
    log(f"Prometheus: Pulse metrics present, {len(rules)} rule groups loaded")


if __name__ == "__main__":
    main()
