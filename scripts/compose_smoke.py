"""The end-to-end checks of scripts/compose-smoke, against the running compose stack (project
pulse-smoke). Everything goes through the stack: the signals were published to Kafka by the
script; here they must reach the S3 lake through the stream ingest role, jobs are submitted
through serve's HTTP API and run on the worker role, `pulse run` runs in the serve container with
its stages on the workers, every role's spans must be in the OTLP receiver (the `otel` service of
compose.local.yaml: tests/integration/python/otlp_receiver.py), and Prometheus must have scraped
every role.
Traces checked: the forecast job, submitted with a traceparent header of ours, is one trace
  caller -> POST /v1/jobs/forecast (pulse-serve, SERVER) -> apply_async/pulse.forecast (pulse-serve,
  PRODUCER) -> run/pulse.forecast (pulse-worker, CONSUMER) -> lake.commit (pulse-worker, one or more)
and the publisher's trace (PULSE_SMOKE_PUBLISH_TRACEPARENT) is
  caller -> pulse publish (pulse-publish) -> stream.publish (PRODUCER), linked from the ingest role's
  stream.batch span(s) (pulse-ingest, CONSUMER) -> lake.commit of the signals table;
each lake.commit's span id must be the traceparent in its Delta commit's commitInfo (read with
deltalake), and the receiver must have rejected no export.
Environment: the PULSE_SMOKE_* ports, PULSE_S3_ACCESS_KEY / PULSE_S3_SECRET_KEY, PULSE_SMOKE_TOKEN
(a write token), PULSE_SMOKE_SERVE_CONTAINER and PULSE_SMOKE_PUBLISH_TRACEPARENT. Exits 1 with the
reason on the first failure."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

# The span helpers the trace tests use (standard library only).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration" / "python"))
import otlp_spans  # noqa: E402

ENV = os.environ
SERVE = f"http://127.0.0.1:{ENV['PULSE_SMOKE_SERVE_PORT']}"
PROMETHEUS = f"http://127.0.0.1:{ENV['PULSE_SMOKE_PROMETHEUS_PORT']}"
OTEL = f"http://127.0.0.1:{ENV['PULSE_SMOKE_OTEL_PORT']}"
SERVER, PRODUCER, CONSUMER = 2, 4, 5  # OTLP's span kinds
SERIES = {"smoke_gdp", "smoke_cpi", "smoke_rate"}
T0 = time.monotonic()


def log(msg):
    print(f"compose-smoke: [checks {time.monotonic() - T0:.0f} s] {msg}", file=sys.stderr, flush=True)


def fail(msg):
    print(f"compose-smoke: FAILED: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def http(method, url, body=None, token=None, timeout=30, headers=None):
    """(status, body bytes); never raises on HTTP errors."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def api(method, path, body=None, headers=None):
    status, raw = http(method, SERVE + path, body, ENV["PULSE_SMOKE_TOKEN"], headers=headers)
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


def run_job(kind, kwargs, seconds=300, headers=None):
    """Submits the job through the API and waits for it: (job id, its final state)."""
    status, body = api("POST", f"/v1/jobs/{kind}", kwargs, headers=headers)
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
    return job, st


def lake_table(name):
    from deltalake import DeltaTable
    opts = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{ENV['PULSE_SMOKE_S3_PORT']}", "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": ENV["PULSE_S3_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY": ENV["PULSE_S3_SECRET_KEY"],
            "AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true", "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false"}
    return DeltaTable(f"s3://pulse/lake/{name}", storage_options=opts)


def check(what, condition):
    if not condition:
        fail(what)


def commits_recorded(commits):
    """Each lake.commit span's id is the traceparent of its Delta commit (commitInfo)."""
    for commit in commits:
        table, version = commit["attributes"]["pulse.lake.table"], commit["attributes"]["pulse.lake.version"]
        info = [h for h in lake_table(table).history() if h.get("version") == version]
        want = f"00-{commit['trace_id']}-{commit['span_id']}-01"
        check(f"{table} version {version}: commitInfo traceparent {info and info[0].get('traceparent')}, "
              f"expected {want}", info and info[0].get("traceparent") == want)


def trace_spans(trace_id, names, seconds=60):
    """The spans of trace_id once every name in `names` is among them."""
    def probe():
        spans = [s for s in otlp_spans.state(OTEL)["spans"] if s["trace_id"] == trace_id]
        return spans if names <= {s["name"] for s in spans} else None
    return wait_for(f"spans {sorted(names)} of trace {trace_id} in the receiver", probe, seconds)


def check_job_trace(trace_id, caller_span, job_id):
    """The forecast job's trace: serve -> Redis -> worker -> lake commits, one trace id."""
    spans = trace_spans(trace_id, {"POST /v1/jobs/forecast", "apply_async/pulse.forecast", "run/pulse.forecast"})
    try:
        request = otlp_spans.one(spans, name="POST /v1/jobs/forecast")
        enqueue = otlp_spans.one(spans, name="apply_async/pulse.forecast")
        run = otlp_spans.one(spans, name="run/pulse.forecast")
    except AssertionError as e:
        fail(f"the forecast job's trace: {e}")
    check(f"request span {request}", request["service"] == "pulse-serve" and request["kind"] == SERVER
          and request["parent_span_id"] == caller_span)
    check(f"enqueue span {enqueue}", enqueue["service"] == "pulse-serve" and enqueue["kind"] == PRODUCER
          and enqueue["parent_span_id"] == request["span_id"]
          and enqueue["attributes"].get("messaging.message.id") == job_id)
    check(f"worker's run span {run}", run["service"] == "pulse-worker" and run["kind"] == CONSUMER
          and run["parent_span_id"] == enqueue["span_id"])
    # The run span ends after its commits, and one exporter sends spans in the order they end.
    commits = [s for s in spans if s["name"] == "lake.commit"]
    check(f"no lake.commit span in the forecast job's trace: {[s['name'] for s in spans]}", commits)
    for commit in commits:
        check(f"lake.commit span {commit} under the worker's run span",
              commit["service"] == "pulse-worker" and otlp_spans.descends(commit, run, spans))
    commits_recorded(commits)
    tables = sorted({c["attributes"]["pulse.lake.table"] for c in commits})
    log(f"trace {trace_id}: POST /v1/jobs/forecast (pulse-serve) -> apply_async -> run/pulse.forecast "
        f"(pulse-worker) -> {len(commits)} lake commit(s) of {tables}, each in its commitInfo")


def check_publish_trace(traceparent):
    """The publisher's trace, and the ingest role's batch span(s) linked to it."""
    trace_id, caller_span = traceparent.split("-")[1:3]
    spans = trace_spans(trace_id, {"pulse publish", "stream.publish"})
    try:
        command = otlp_spans.one(spans, name="pulse publish")
        publish = otlp_spans.one(spans, name="stream.publish")
    except AssertionError as e:
        fail(f"the publisher's trace: {e}")
    check(f"publish command span {command}", command["service"] == "pulse-publish"
          and command["parent_span_id"] == caller_span)
    check(f"stream.publish span {publish}", publish["kind"] == PRODUCER
          and publish["parent_span_id"] == command["span_id"])

    def linked_batches():
        every = otlp_spans.state(OTEL)["spans"]
        batches = [s for s in every if s["name"] == "stream.batch"
                   and {"trace_id": trace_id, "span_id": publish["span_id"]} in s["links"]]
        commits = [s for s in every if s["name"] == "lake.commit"
                   and s["parent_span_id"] in {b["span_id"] for b in batches}]
        return (batches, commits) if batches and len(commits) >= len(batches) else None
    batches, commits = wait_for("the ingest role's stream.batch span linked to the publisher's span, with its "
                                "lake commit", linked_batches, 60)
    for batch in batches:
        check(f"stream.batch span {batch}", batch["service"] == "pulse-ingest" and batch["kind"] == CONSUMER)
    for commit in commits:
        check(f"ingest lake.commit span {commit}", commit["service"] == "pulse-ingest"
              and commit["attributes"]["pulse.lake.table"] == "signals")
    commits_recorded(commits)
    log(f"trace {trace_id}: pulse publish (pulse-publish) -> stream.publish, linked from {len(batches)} "
        f"stream.batch span(s) of pulse-ingest with their signals commit(s), each in its commitInfo")


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
    check_publish_trace(ENV["PULSE_SMOKE_PUBLISH_TRACEPARENT"])

    # 2. Jobs through the API, run by the worker role; the forecast job in a trace of ours.
    trace_id, caller_span, traceparent = otlp_spans.new_traceparent()
    job, _ = run_job("forecast", {"horizon": 4}, headers={"traceparent": traceparent})
    s, page = api("GET", "/v1/forecasts?series=smoke_gdp&limit=100")
    if s != 200 or {r["step"] for r in page["items"]} != {1, 2, 3, 4}:
        fail(f"GET /v1/forecasts after the job: {s} {page}")
    check_job_trace(trace_id, caller_span, job)

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
    _, st = run_job("simulate", {"runs": 500, "turns": 4, "seed": 7})
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

    # 6. Every export the receiver got decoded (opentelemetry-proto), from every role.
    receiver = otlp_spans.state(OTEL)
    services = sorted({s["service"] for s in receiver["spans"]})
    check(f"the OTLP receiver rejected {receiver['rejected']} of {receiver['requests']} exports", receiver["rejected"] == 0)
    log(f"OTLP receiver: {len(receiver['spans'])} spans in {receiver['requests']} exports, none rejected, from {services}")


if __name__ == "__main__":
    main()
