"""Pulse's main job end to end (`pulse run`): the pipeline on embedded defaults in a temporary
folder, its Delta tables read back with `deltalake`, the HTML report parsed and rendered by
headless Chromium, reruns (idempotent; one new quarter appends), the Redis broker with a remote
`pulse worker` giving the same numbers, and clear errors for bad configuration and inputs."""
import json
import os
import shutil
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from deltalake import DeltaTable

from conftest import ROOT, run_pulse
from report_browser import check_rendered

DATASET = ROOT / "data" / "us-macro-quarterly.csv"
SERIES = ["cpi", "infl", "m1", "pop", "realcons", "realdpi", "realgdp", "realgovt", "realint", "realinv", "tbilrate",
          "unemp"]
KEY_VARIABLES = ["hope", "despair", "rage", "fatigue", "trust", "tension", "fragility", "fed_funds_rate",
                 "inflation_index", "unemployment_rate"]
REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL")


class ReportParser(HTMLParser):
    """Collects the charts (svg data-series / data-variable), the <path d> lengths, and every
    element with data-value, keyed by (row data-series, data-field)."""

    def __init__(self):
        super().__init__()
        self.fan, self.band, self.paths, self.values, self.scripts = [], [], [], {}, 0
        self.row = self.text_field = self.card = None
        self.cards = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "svg" and "data-series" in a:
            self.fan.append(a["data-series"])
        if tag == "svg" and "data-variable" in a:
            self.band.append(a["data-variable"])
        if tag == "path":
            self.paths.append(a.get("d", ""))
        if tag == "tr":
            self.row = a.get("data-series")
        if tag == "article":  # a chart card: its numbers are keyed ("card", series or variable, field)
            self.card = a.get("data-series") or a.get("data-variable")
        if tag == "span" and self.card and "data-value" in a and "data-field" in a:
            self.cards[(self.card, a["data-field"])] = float(a["data-value"])
        if "data-field" in a and self.row:
            if "data-value" in a:
                self.values[(self.row, a["data-field"])] = a["data-value"]
            else:  # a text cell (labels): its text
                self.text_field = (self.row, a["data-field"])
                self.values[self.text_field] = ""

    def handle_data(self, data):
        if self.text_field:
            self.values[self.text_field] += data

    def handle_endtag(self, tag):
        if tag in ("td", "span"):
            self.text_field = None
        if tag == "article":
            self.card = None


def parse_report(path: Path) -> ReportParser:
    p = ReportParser()
    p.feed(path.read_text())
    return p


def table(lake: Path, name: str):
    return DeltaTable(str(lake / name)).to_pyarrow_table().to_pylist()


def run_main_job(pulse_bin, workdir: Path, *extra, check=True):
    return run_pulse(pulse_bin, "--lake", workdir / "lake", "run", "--out", workdir / "out", *extra, check=check)


def comparable(rows, drop=("created", "ingest_time")):
    return sorted((tuple((k, v) for k, v in sorted(r.items()) if k not in drop) for r in rows), key=repr)


def test_main_job_writes_tables_summary_and_a_report_that_renders(pulse_bin, tmp_path):
    proc = run_main_job(pulse_bin, tmp_path)
    for stage in ("[1/5] ingest", "[2/5] forecast", "[3/5] simulate", "[4/5] trust", "[5/5] report"):
        assert stage in proc.stdout
    report = tmp_path / "out" / "report.html"
    assert f"Report: {report}" in proc.stdout

    lake = tmp_path / "lake"
    forecasts = table(lake, "forecasts")
    trust = table(lake, "trust_scores")
    sims = table(lake, "simulations")
    assert sorted({r["series"] for r in forecasts}) == SERIES
    assert len(forecasts) == len(SERIES) * 8 * 3  # 8 quarters x 50/80/95%
    assert sorted(r["series"] for r in trust) == SERIES
    for r in trust:
        assert 0.4 <= r["confidence"] <= 1 and 0 <= r["risk"] <= 1 and 0 <= r["fragility"] <= 0.7
        assert r["trust_label"] in ("Trusted", "Unstable", "Rejected")
        assert r["licence"] in ("Licensed", "Unlicensed", "Suppressed")
        assert r["coverage80"] is None or 0 <= r["coverage80"] <= 1
    sim_ids = {r["sim_id"] for r in sims}
    assert len(sim_ids) == 1 and {r["sim_id"] for r in trust} == sim_ids
    assert {"hope", "tension", "fed_funds_rate"} <= {r["variable"] for r in sims}

    # The simulation starts from the latest observations, scaled by the mapping (percent -> fraction).
    last = {}
    for r in table(lake, "signals"):
        if r["name"] not in last or r["ts"] > last[r["name"]][0]:
            last[r["name"]] = (r["ts"], r["value"])
    start = {r["variable"]: r["quantiles"] for r in sims if r["step"] == 0}
    assert start["unemployment_rate"][2] == pytest.approx(last["unemp"][1] / 100, abs=0.02)

    # One fan chart per series, one band chart per key variable, non-empty finite paths, no script.
    page = parse_report(report)
    assert sorted(page.fan) == SERIES
    assert sorted(page.band) == sorted(KEY_VARIABLES)
    assert page.scripts == 0
    assert page.paths and all(d.strip() and "nan" not in d.lower() for d in page.paths)
    assert "http://" not in report.read_text() and "https://" not in report.read_text()

    # Numbers in the report equal the table's, exactly.
    for r in trust:
        for field in ("confidence", "fragility", "risk"):
            assert float(page.values[(r["series"], field)]) == r[field], (r["series"], field)
        for field in ("trust_label", "licence"):
            assert page.values[(r["series"], field)].strip() == r[field]

    # The cards' numbers too: each series' next step (mean, 80% band), each variable's last turn.
    for r in forecasts:
        if r["step"] == 1 and r["level"] == 0.8:
            assert page.cards[(r["series"], "mean")] == r["mean"]
            assert (page.cards[(r["series"], "lower80")], page.cards[(r["series"], "upper80")]) == (r["lower"], r["upper"])
    last_turn = max(r["step"] for r in sims)
    for r in sims:
        if r["step"] == last_turn and r["variable"] in KEY_VARIABLES:
            assert page.cards[(r["variable"], "mean")] == r["mean"]
            assert (page.cards[(r["variable"], "lower")], page.cards[(r["variable"], "upper")]) == \
                (r["quantiles"][0], r["quantiles"][-1])

    # summary.json carries the tables' numbers too.
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["signals_version"] == forecasts[0]["signals_version"]
    assert summary["simulation"]["sim_id"] in sim_ids
    for r in forecasts:
        step = summary["series"][r["series"]]["forecast"][r["step"] - 1]
        assert step["step"] == r["step"] and step["mean"] == r["mean"]
        assert step["bands"][f"{r['level']:.4g}"] == [r["lower"], r["upper"]]
    for r in trust:
        h = summary["series"][r["series"]]["trust"]["heuristic"]
        assert (h["confidence"], h["trust_label"]) == (r["confidence"], r["trust_label"])
    assert summary["changes"] and summary["changes"][0].startswith("First run")

    # Headless Chromium renders it: charts drawn, no console errors.
    rendered = check_rendered(str(report), str(tmp_path / "shot"))
    assert rendered["console_errors"] == []
    assert rendered["svg_count"] >= len(SERIES) + len(KEY_VARIABLES)
    assert rendered["nonempty_paths"] >= len(SERIES) * 2
    assert rendered["png_colours"] > 10


def test_rerun_is_idempotent_and_a_new_quarter_appends(pulse_bin, tmp_path):
    run_main_job(pulse_bin, tmp_path)
    lake = tmp_path / "lake"
    before = {name: table(lake, name) for name in ("signals", "forecasts", "simulations", "trust_scores")}
    proc = run_main_job(pulse_bin, tmp_path)
    assert "no new observations" in proc.stdout
    for name, rows in before.items():
        assert len(table(lake, name)) == len(rows), name
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["changes"][0].startswith("No new data since the last run")

    # One more quarter: only its 12 observations are appended; forecasts and trust for the new data.
    grown = tmp_path / "grown.csv"
    grown.write_text(DATASET.read_text().rstrip("\n") +
                     "\n2009,4,13019.0,9291.5,1525.0,1049.2,10066.0,217.2,1693.0,0.05,10.0,308.7,1.5,-1.45\n")
    proc = run_main_job(pulse_bin, tmp_path, "--data", grown)
    assert "12 new signals" in proc.stdout
    signals = table(lake, "signals")
    assert len(signals) == len(before["signals"]) + 12
    assert len({(r["name"], r["ts"]) for r in signals}) == len(signals)  # no duplicated observation
    forecasts = table(lake, "forecasts")
    assert len(forecasts) == 2 * len(before["forecasts"])
    versions = sorted({r["signals_version"] for r in table(lake, "trust_scores")})
    assert len(versions) == 2
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["signals_version"] == versions[-1]
    assert summary["changes"][0].startswith("12 new observations")
    inside = [c for c in summary["changes"] if "previous run's 80% bands" in c]
    assert len(inside) == 1
    # The track record (the original's Bayesian tracker) took exactly those outcomes: one per series.
    latest = [r for r in table(lake, "trust_scores") if r["signals_version"] == versions[-1]]
    first = [r for r in table(lake, "trust_scores") if r["signals_version"] == versions[0]]
    assert all(r["track_checked"] == 0 and r["track_record"] == 0.5 for r in first)
    assert all(r["track_checked"] == 1 for r in latest)
    hits = sum(r["track_hits"] for r in latest)
    assert inside[0].startswith(f"{hits} of 12 new observations")
    for r in latest:
        assert (r["track_alpha"], r["track_beta"]) == ((2, 1) if r["track_hits"] else (1, 2))
        assert r["track_record"] == r["track_alpha"] / 3 and r["track_low"] <= r["track_record"] <= r["track_high"]
    page = parse_report(tmp_path / "out" / "report.html")
    assert sorted(page.fan) == SERIES
    assert "2009-10-01" in (tmp_path / "out" / "report.html").read_text() or "2009 Q4" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
def test_redis_broker_with_a_remote_worker_gives_identical_results(pulse_bin, tmp_path):
    import redis
    redis.Redis.from_url(REDIS_URL).flushdb()
    local, remote = tmp_path / "local", tmp_path / "remote"
    run_main_job(pulse_bin, local)
    # The remote worker serves this lake and reads the bundled dataset from its inbox (a shared
    # folder in a cluster); a task naming any other file or lake would be refused.
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", REDIS_URL, "--concurrency", "2",
                               "--lake", str(remote / "lake"), "--set", f"ingest.inbox={DATASET.parent}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        assert worker.poll() is None, worker.stderr.read()
        proc = run_main_job(pulse_bin, remote, "--broker", REDIS_URL)
        assert f"jobs: {REDIS_URL}" in proc.stdout
    finally:
        worker.send_signal(signal.SIGTERM)
        stats = json.loads(worker.communicate(timeout=60)[0])
    assert stats["succeeded"] == 4 and stats["failed"] == 0  # ingest, forecast, world, trust
    for name in ("forecasts", "simulations", "trust_scores"):
        assert comparable(table(local / "lake", name)) == comparable(table(remote / "lake", name)), name
    a = json.loads((local / "out" / "summary.json").read_text())
    b = json.loads((remote / "out" / "summary.json").read_text())
    for key in ("series", "simulation", "signals_version", "changes"):
        assert a[key] == b[key], key
    assert b["broker"] == "redis"


def assert_clean_failure(proc, *needles):
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)  # an error, not a crash (signal)
    assert proc.stderr.startswith("pulse: "), proc.stderr
    for n in needles:
        assert n in proc.stderr, (n, proc.stderr)


def test_missing_and_malformed_config_are_clear_errors(pulse_bin, tmp_path):
    proc = run_pulse(pulse_bin, "--config", tmp_path / "nope.yaml", "run", "--out", tmp_path / "out", check=False)
    assert_clean_failure(proc, "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("run:\n  sim_runs: [1, 2\n")
    assert_clean_failure(run_pulse(pulse_bin, "--config", bad, "run", check=False), "bad.yaml")
    bad.write_text("run:\n  sim_rusn: 5\n")
    assert_clean_failure(run_pulse(pulse_bin, "--config", bad, "run", check=False), "run.sim_rusn")
    bad.write_text("run:\n  sim_runs: -5\n")
    assert_clean_failure(run_pulse(pulse_bin, "--config", bad, "run", check=False), "run.sim_runs")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("signals:\n  unemp: {variable: no_such_variable, scale: 0.01}\n")
    proc = run_main_job(pulse_bin, tmp_path, "--mapping", mapping, check=False)
    assert_clean_failure(proc, "no_such_variable")
    assert not (tmp_path / "lake").exists() or not any((tmp_path / "lake").iterdir())
    # A good config file is honoured.
    good = tmp_path / "good.yaml"
    good.write_text(f"lake:\n  url: {tmp_path / 'cfg-lake'}\nrun:\n  out: {tmp_path / 'cfg-out'}\n  sim_runs: 500\n")
    run_pulse(pulse_bin, "--config", good, "run")
    assert json.loads((tmp_path / "cfg-out" / "summary.json").read_text())["simulation"]["runs"] == 500


def test_corrupt_input_and_unwritable_output_are_clear_errors(pulse_bin, tmp_path):
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 20)
    proc = run_main_job(pulse_bin, tmp_path, "--data", garbage, check=False)
    assert_clean_failure(proc, "ingest stage", "garbage.csv")
    assert not (tmp_path / "out" / "report.html").exists()

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("year,quarter,realgdp\n1959,1,abc\n1959,2,xyz\n")
    proc = run_main_job(pulse_bin, tmp_path, "--data", wrong, check=False)
    assert_clean_failure(proc, "no valid rows", "line 2")
    assert not (tmp_path / "out" / "report.html").exists()

    run_pulse(pulse_bin, "run", "--out", tmp_path / "out", "--data", tmp_path / "missing.csv", check=False)
    assert_clean_failure(run_pulse(pulse_bin, "run", "--out", tmp_path / "out", "--data", tmp_path / "missing.csv", check=False), "missing.csv")

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_pulse(pulse_bin, "--lake", tmp_path / "lake2", "run", "--out", blocker / "out", check=False)
    assert_clean_failure(proc, "output folder", str(blocker / "out"))
    assert not (tmp_path / "lake2").exists()  # checked before any stage ran


@pytest.mark.skipif(not REDIS_URL, reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
def test_redis_broker_without_workers_is_a_clear_timeout(pulse_bin, tmp_path, redis_db):
    proc = run_pulse(pulse_bin, "--set", "jobs.timeout_seconds=1", "--lake", tmp_path / "lake", "run", "--out",
                     tmp_path / "out", "--broker", REDIS_URL, check=False)
    assert_clean_failure(proc, "ingest stage", "did not finish within 1 s", "is a pulse worker consuming queue 'celery'")
    assert not (tmp_path / "out" / "report.html").exists()
