"""Reading and checking the spans that otlp_receiver.py holds, for the trace tests (test_traces.py)
and the compose smoke test (scripts/compose_smoke.py, which puts this folder on sys.path).
Standard library only: the callers run with the project's .venv, not the otel venv.
  state(url)                  the receiver's GET /spans: {"spans": [...], "requests", "rejected", ...}
  wait_trace(url, trace_id, want, seconds)
                              the spans of trace_id once there are at least `want` of them, else
                              those there are when `seconds` have passed (the caller checks)
  one(spans, **match)         the only span whose fields equal every match; AssertionError otherwise
  descends(span, ancestor, spans)
                              whether ancestor is on span's chain of parents (16 levels at most)
  new_traceparent()           (trace_id, span_id, "00-<trace_id>-<span_id>-01"), fresh random ids
Spans are otlp_receiver.py's flattened dicts: service, trace_id, span_id, parent_span_id (hex),
name, kind (OTLP's number: 2 SERVER, 4 PRODUCER, 5 CONSUMER), start, end, attributes, links.
"""
import json
import secrets
import time
import urllib.request


def state(url):
    with urllib.request.urlopen(url + "/spans", timeout=10) as resp:
        return json.loads(resp.read())


def wait_trace(url, trace_id, want, seconds):
    deadline = time.monotonic() + seconds
    while True:
        spans = [s for s in state(url)["spans"] if s["trace_id"] == trace_id]
        if len(spans) >= want or time.monotonic() > deadline:
            return spans
        time.sleep(0.2)


def one(spans, **match):
    found = [s for s in spans if all(s[k] == v for k, v in match.items())]
    if len(found) != 1:  # not `assert`: this must hold under python -O too
        raise AssertionError(f"{len(found)} spans match {match}; the spans: "
                             f"{[(s['name'], s['service']) for s in spans]}")
    return found[0]


def descends(span, ancestor, spans):
    by_id = {s["span_id"]: s for s in spans}
    for _ in range(16):
        if span["parent_span_id"] == ancestor["span_id"]:
            return True
        span = by_id.get(span["parent_span_id"])
        if span is None:
            return False
    return False


def new_traceparent():
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"
