"""The peer of bench/serve_bench.py: a minimal FastAPI app in the original Pulse's shape (FastAPI +
uvicorn) doing what `pulse serve` does on the two benchmarked routes, on the same lake, with
deltalake (delta-rs) for the Delta tables:

  GET  /v1/forecasts   the forecasts table read at its latest version (a fresh DeltaTable per
                       request, as pulse serve reads the table per request), reduced to each
                       series' latest forecast (rows of the newest signals_version, then of the
                       newest `created`), paged like pulse serve: {"items", "total", "version",
                       "next_page_token"}; cells as pulse serve writes them (timestamps ISO-8601
                       UTC with "Z", non-finite floats as null).
  GET  /v1/series      the signals table's kind, name and ts columns at its latest version,
                       summarised per series (observations, first, last), sorted by (kind, name).
  POST /v1/signals     a JSON array of signals validated per row (name, ts as ISO-8601 or Unix
                       seconds, finite value; kind/source/unit defaulted) and appended in one
                       Delta commit to the signals table (its own schema; scoring columns left
                       null: pulse serve scores and gates each row besides, more work than this);
                       per-row errors in the answer {"accepted", "rejected", "errors", "version"}.

Both routes check a bearer token against a SHA-256 hash with a constant-time comparison, as pulse
serve does. Run by serve_bench.py as:
  PULSE_BENCH_LAKE=DIR PULSE_BENCH_TOKEN_SHA256=HEX uvicorn serve_fastapi_app:app --workers N
"""
import hashlib
import hmac
import json
import math
import os
import threading
from datetime import datetime, timezone

import anyio
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

LAKE = os.environ["PULSE_BENCH_LAKE"]
TOKEN_SHA256 = bytes.fromhex(os.environ["PULSE_BENCH_TOKEN_SHA256"])
app = FastAPI()
_append = threading.Lock()


def authorize(request: Request):
    header = request.headers.get("authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    if not hmac.compare_digest(hashlib.sha256(token.encode()).digest(), TOKEN_SHA256):
        raise HTTPException(status_code=401, detail="missing or unknown token")


def cell(v):
    if isinstance(v, datetime):
        v = v.astimezone(timezone.utc)
        base = v.strftime("%Y-%m-%dT%H:%M:%S")
        return base + (f".{v.microsecond:06d}Z" if v.microsecond else "Z")
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def created_us(row):
    c = row.get("created")
    return int(c.timestamp() * 1_000_000) if isinstance(c, datetime) else 0


@app.get("/v1/forecasts")
def forecasts(request: Request, limit: int = 100, series: str | None = None):
    authorize(request)
    if not 1 <= limit <= 1000:
        raise HTTPException(status_code=400, detail="limit must be an integer in 1..1000")
    table = DeltaTable(os.path.join(LAKE, "forecasts"))
    version = table.version()
    rows = pa.table(table.to_pyarrow_table()).to_pylist()
    if series is not None:
        wanted = set(series.split(","))
        rows = [r for r in rows if r.get("series") in wanted]
    newest = {}
    for r in rows:
        if isinstance(r.get("signals_version"), int) and isinstance(r.get("series"), str):
            newest[r["series"]] = max(newest.get(r["series"], r["signals_version"]), r["signals_version"])
    rows = [r for r in rows if isinstance(r.get("series"), str) and r.get("signals_version") == newest.get(r["series"])]
    newest_created = {}
    for r in rows:
        newest_created[r["series"]] = max(newest_created.get(r["series"], 0), created_us(r))
    rows = [r for r in rows if created_us(r) == newest_created[r["series"]]]
    items = [{k: cell(v) for k, v in r.items()} for r in rows[:limit]]
    nxt = f"{version}.{limit}" if limit < len(rows) else None
    return {"items": items, "total": len(rows), "version": version, "next_page_token": nxt}


@app.get("/v1/series")
def series_list(request: Request, limit: int = 100, kind: str | None = None):
    authorize(request)
    if not 1 <= limit <= 1000:
        raise HTTPException(status_code=400, detail="limit must be an integer in 1..1000")
    table = DeltaTable(os.path.join(LAKE, "signals"))
    version = table.version()
    rows = pa.table(table.to_pyarrow_table(columns=["kind", "name", "ts"])).to_pylist()
    if kind is not None:
        wanted = set(kind.split(","))
        rows = [r for r in rows if r["kind"] in wanted]
    found = {}
    for r in rows:
        s = found.setdefault((r["kind"], r["name"]), {"count": 0, "first": None, "last": None})
        s["count"] += 1
        if s["first"] is None or r["ts"] < s["first"]:
            s["first"] = r["ts"]
        if s["last"] is None or r["ts"] > s["last"]:
            s["last"] = r["ts"]
    items = [{"kind": k, "name": n, "observations": s["count"], "first": cell(s["first"]), "last": cell(s["last"])}
             for (k, n), s in sorted(found.items())]
    nxt = f"{version}.{limit}" if limit < len(items) else None
    return {"items": items[:limit], "total": len(items), "version": version, "next_page_token": nxt}


def parse_ts(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return datetime.fromtimestamp(v, tz=timezone.utc)
    if isinstance(v, str):
        try:
            return datetime.fromtimestamp(float(v), tz=timezone.utc)
        except ValueError:
            t = datetime.fromisoformat(v.replace("Z", "+00:00"))
            return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    raise ValueError("ts must be ISO-8601 or Unix seconds")


@app.post("/v1/signals")
async def signals(request: Request):
    authorize(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return JSONResponse({"detail": "send a JSON array (application/json)"}, status_code=415)
    try:
        doc = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"detail": "the body is not JSON"}, status_code=400)
    if not isinstance(doc, list) or not doc:
        return JSONResponse({"detail": "an application/json body must be a non-empty JSON array"}, status_code=400)
    now = datetime.now(timezone.utc)
    good, errors = [], []
    for i, rec in enumerate(doc):
        try:
            if not isinstance(rec, dict):
                raise ValueError("a signal must be a JSON object")
            name = rec.get("name")
            if not isinstance(name, str) or not name:
                raise ValueError("name is missing")
            ts = parse_ts(rec.get("ts"))
            value = float(rec.get("value"))
            if not math.isfinite(value):
                raise ValueError("value is not finite")
            meta = rec.get("metadata")
            good.append({"name": name, "source": str(rec.get("source", "api")), "kind": str(rec.get("kind", "api")),
                         "ts": ts, "value": value, "unit": rec.get("unit"),
                         "metadata": None if meta is None else json.dumps(meta), "ingest_time": now,
                         "date": ts.strftime("%Y-%m-%d")})
        except (TypeError, ValueError) as e:
            errors.append({"index": i, "reason": str(e)})
    out = {"accepted": len(good), "rejected": len(errors), "errors": errors, "replayed": False}
    if good:
        # One commit per request (as pulse serve); writes serialized in this process (as its
        # append lock); a conflicting commit from the other worker process is retried by delta-rs.
        def append():
            with _append:
                table = DeltaTable(os.path.join(LAKE, "signals"))
                batch = pa.Table.from_pylist(good, schema=pa.schema(table.schema().to_arrow()))
                write_deltalake(table, batch, mode="append")
                return table.version()
        out["version"] = await anyio.to_thread.run_sync(append)
    return out


@app.get("/livez")
def livez():
    return Response(status_code=200)
