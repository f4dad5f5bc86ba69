#!/usr/bin/env python3
"""HTTP API load: `pulse serve` vs a minimal FastAPI app on uvicorn doing the same work, side by side.

One lake is made first (`pulse run` on its embedded defaults: signals, forecasts, simulations,
trust). For each round, each server and each route, the server is started on a fresh copy of that
lake (so pushes of an earlier measurement do not grow the table the next one writes), on loopback:

  pulse    build/release/apps/pulse/pulse serve (its defaults: 8 request threads, one request
           per connection; in-process job broker; rate limits raised out of the way)
  fastapi  bench/serve_fastapi_app.py on uvicorn (uvloop + httptools), --workers 2 (one per core)

and two routes are loaded:

  read   GET /v1/forecasts?limit=1000  every series' latest forecast with its bands, read from the
         forecasts table at its latest version on every request (the whole answer: ~all rows);
         or --read-path, e.g. /v1/series?limit=1000 (the signals table summarised per series)
  push   POST /v1/signals              a JSON array of --rows signals, validated and appended: one
         Delta commit per request on the peer; pulse serve commits the requests queued during a
         commit together (group commit) and also scores and gates each row

each twice:

  saturation  wrk (Debian's wrk 4.1) with --connections connections for --seconds: requests/s and
              wrk's latency p50/p99 (closed loop: latency at saturation is mostly queueing)
  half        bench/http_load (build/release/bench/http_load) at a fixed rate of half that
              server's own saturation requests/s for --seconds, open loop: latency from each
              request's due time, so a server falling behind shows it (no coordinated omission)

Both servers answer the read with the same JSON (checked before the measurements: same rows, same
cells, up to row order). Every request must answer 2xx; wrk's non-2xx and socket errors and
http_load's errors are printed, and a run with errors is flagged.

Setup (the peers in their own venv; wrk from Debian):

  sudo apt-get install -y wrk
  python3 -m venv build/bench-serve-venv && build/bench-serve-venv/bin/pip install -r bench/requirements-serve.txt
  scripts/build release && cmake --build build/release --target http_load
  build/bench-serve-venv/bin/python bench/serve_bench.py [--seconds 10] [--rounds 3] [--connections 16]
"""
import argparse
import hashlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench_util import free_port

ROOT = Path(__file__).resolve().parents[1]


def wait_http(url, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}) before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def get_json(url, token):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


class Server:
    def __init__(self, kind, args, lake, token, token_sha, log):
        self.kind, self.port = kind, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "ab")
        if kind == "pulse":
            cmd = [args.pulse, "--lake", str(lake), "--set", f"serve.tokens_file={args.tokens}",
                   "--set", "serve.rate_per_second=1000000", "--set", "serve.rate_burst=1000000000",
                   "--set", f"run.out={lake.parent / 'report'}",
                   *[x for kv in args.pulse_set for x in ("--set", kv)], "serve", "--port", str(self.port)]
            env = dict(os.environ)
        else:
            cmd = [sys.executable, "-m", "uvicorn", "serve_fastapi_app:app", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(args.workers), "--loop", "uvloop", "--http", "httptools",
                   "--no-access-log", "--log-level", "warning"]
            env = dict(os.environ, PULSE_BENCH_LAKE=str(lake), PULSE_BENCH_TOKEN_SHA256=token_sha,
                       PYTHONPATH=str(ROOT / "bench"))
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env, cwd=str(ROOT / "bench"))
        wait_http(self.url + "/livez", self.proc)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def wrk_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def run_wrk(args, url, token, lua=None, seconds=None):
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{int(seconds or args.seconds)}s", "--latency", "--timeout", "10s",
           "-H", f"Authorization: Bearer {token}"]
    if lua:
        cmd += ["-s", str(lua)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += int(socket_errors.group(1)) + int(socket_errors.group(3)) + int(socket_errors.group(4))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": wrk_ms(pct["50"]),
            "p99_ms": wrk_ms(pct["99"]), "errors": errors,
            "read_errors": int(socket_errors.group(2)) if socket_errors else 0}


def run_fixed(args, url, token, rate, body_file=None):
    cmd = [args.http_load, "--url", url, "--rate", f"{rate:.1f}", "--seconds", str(args.seconds), "--warmup", "1",
           "--threads", "64", "--header", f"Authorization: Bearer {token}"]
    if body_file:
        cmd += ["--method", "POST", "--body-file", str(body_file), "--header", "Content-Type: application/json"]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def normalize(page):
    def cell(v):
        return round(v, 9) if isinstance(v, float) else v
    rows = sorted(json.dumps({k: cell(v) for k, v in row.items()}, sort_keys=True) for row in page["items"])
    return rows, page["total"], page["version"]


def make_lake(args, work):
    lake = work / "base" / "lake"
    lake.parent.mkdir(parents=True)
    t = time.perf_counter()
    subprocess.run([args.pulse, "--lake", str(lake), "--set", f"run.out={work / 'base' / 'report'}", "run"],
                   check=True, capture_output=True, text=True)
    print(f"lake: `pulse run` on embedded defaults in {time.perf_counter() - t:.1f} s", flush=True)
    return lake


def median(xs):
    return statistics.median(xs) if xs else math.nan


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pulse", default=str(ROOT / "build/release/apps/pulse/pulse"))
    ap.add_argument("--http-load", default=str(ROOT / "build/release/bench/http_load"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--rows", type=int, default=10, help="signals per push")
    ap.add_argument("--read-path", default="/v1/forecasts?limit=1000")
    ap.add_argument("--only", choices=["read", "push"], help="one route only")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--pulse-set", action="append", default=[], metavar="KEY=VALUE",
                    help="a setting for pulse serve, e.g. serve.read_cache_mb=0 (repeatable)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("serve_bench: wrk not found (sudo apt-get install -y wrk)")
    work = Path(tempfile.mkdtemp(prefix="pulse-serve-bench."))
    args.tokens = work / "tokens.json"
    try:
        token = subprocess.run([args.pulse, "--set", f"serve.tokens_file={args.tokens}", "token", "create", "--scope",
                                "write", "--name", "bench"], check=True, capture_output=True, text=True).stdout.strip()
        token_sha = hashlib.sha256(token.encode()).hexdigest()
        base = make_lake(args, work)
        body = [{"name": f"bench_{i}", "ts": f"2025-{1 + i % 12:02d}-01T00:00:00Z", "value": 100.0 + i,
                 "kind": "macro", "source": "bench"} for i in range(args.rows)]
        body_file = work / "push.json"
        body_file.write_text(json.dumps(body))
        lua = work / "push.lua"
        lua.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                       f'wrk.body = [==[{body_file.read_text()}]==]\n')

        # The same answer from both, on one copy of the lake (a /v1 page; /livez, the HTTP layer's
        # own cost, answers {"status": "ok"} from pulse serve and nothing from the peer).
        if args.read_path.startswith("/v1/") and args.only != "push":
            lake = work / "check" / "lake"
            shutil.copytree(base, lake)
            servers = [Server(k, args, lake, token, token_sha, work / f"{k}.log") for k in ("pulse", "fastapi")]
            try:
                pages = [get_json(s.url + args.read_path, token) for s in servers]
            finally:
                for s in servers:
                    s.stop()
            same = normalize(pages[0]) == normalize(pages[1])
            print(f"read {args.read_path}: {pages[0]['total']} rows, {len(json.dumps(pages[0]))} bytes of JSON; "
                  f"same rows and cells from both: {'yes' if same else 'NO'}", flush=True)
            if not same:
                print(json.dumps(pages[0]["items"][:1]), "\n", json.dumps(pages[1]["items"][:1]), file=sys.stderr)

        routes = [r for r in ("read", "push") if args.only in (None, r)]
        results = {}  # (server, route) -> list of {"sat": wrk, "half": http_load}
        for rnd in range(1, args.rounds + 1):
            for route in routes:
                for kind in ("pulse", "fastapi"):
                    lake = work / f"r{rnd}-{route}-{kind}" / "lake"
                    shutil.copytree(base, lake)
                    s = Server(kind, args, lake, token, token_sha, work / f"{kind}.log")
                    try:
                        url = s.url + (args.read_path if route == "read" else "/v1/signals")
                        run_wrk(args, url, token, lua if route == "push" else None, seconds=2)  # warm-up
                        sat = run_wrk(args, url, token, lua if route == "push" else None)
                        half = run_fixed(args, url, token, sat["rps"] / 2, body_file if route == "push" else None)
                    finally:
                        s.stop()
                    shutil.rmtree(lake.parent)
                    results.setdefault((kind, route), []).append({"sat": sat, "half": half})
                    print(f"round {rnd} {route:4} {kind:7}: saturation {sat['rps']:9.1f} req/s, p50 {sat['p50_ms']:8.3f}"
                          f" ms, p99 {sat['p99_ms']:8.3f} ms, errors {sat['errors']}"
                          f"{' (read errors ' + str(sat['read_errors']) + ')' if sat['read_errors'] else ''} | "
                          f"half {half['rate_target']:8.1f} req/s target -> {half['rate_achieved']:8.1f}, p50 "
                          f"{half['p50_ms']:7.3f} ms, p99 {half['p99_ms']:8.3f} ms, errors {half['errors']}, "
                          f"connections {half['connections']}", flush=True)

        print(f"\nmedians of {args.rounds} rounds ({args.seconds:g} s each; wrk -t1 -c{args.connections}; "
              f"uvicorn --workers {args.workers}):")
        print("| route | server | req/s at saturation | p50 / p99 at saturation | half-saturation rate | "
              "p50 / p99 at half |")
        print("|---|---|---:|---:|---:|---:|")
        for route in routes:
            for kind in ("pulse", "fastapi"):
                rs = results[(kind, route)]
                print(f"| {route} | {kind} | {median([r['sat']['rps'] for r in rs]):,.0f} | "
                      f"{median([r['sat']['p50_ms'] for r in rs]):.2f} / {median([r['sat']['p99_ms'] for r in rs]):.2f} ms"
                      f" | {median([r['half']['rate_achieved'] for r in rs]):,.0f} | "
                      f"{median([r['half']['p50_ms'] for r in rs]):.2f} / {median([r['half']['p99_ms'] for r in rs]):.2f}"
                      " ms |")
        for route in routes:
            p, f = results[("pulse", route)], results[("fastapi", route)]
            ratio = median([a["sat"]["rps"] / b["sat"]["rps"] for a, b in zip(p, f)])
            print(f"{route}: pulse/fastapi requests/s = {ratio:.1f}x (median of per-round ratios; goal >= 10x); "
                  f"pulse p99 at half saturation {median([r['half']['p99_ms'] for r in p]):.2f} ms"
                  f"{' (goal < 5 ms)' if route == 'read' else ''}")
        bad = [(k, r) for (k, r), rs in results.items() for x in rs if x["sat"]["errors"] or x["half"]["errors"]]
        if bad:
            print("ERRORS in:", sorted(set(bad)))
    finally:
        if args.keep:
            print("work folder:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
