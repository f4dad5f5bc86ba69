"""Scoring and gating on `pulse ingest` (docs/signals.md), checked from outside: the printed and
JSON counts, the score columns as deltalake and DuckDB read them, a table written by main before
scoring existed (tests/fixtures/signals_table_v1) evolving in place, the rules file from the
config, and suppressed rows kept but left out of forecasts."""
import json
import math
import shutil

import duckdb
import pytest
from conftest import ROOT, SCORE_COLUMNS, arrow_rows, delta_table, run_pulse, show_json


def monthly_csv(path, n, spike_at=None, name="gdp", year=2000):
    rows = ["name,source,kind,ts,value"]
    for i in range(n):
        value = 100 + i % 3 + (500 if i == spike_at else 0)
        rows.append(f"{name},fred,macro,{year + i // 12:04d}-{i % 12 + 1:02d}-01,{value}")
    path.write_text("\n".join(rows) + "\n")


def test_ingest_prints_gate_counts_and_writes_score_columns(pulse_bin, lake, tmp_path):
    csv = tmp_path / "gdp.csv"
    monthly_csv(csv, 30, spike_at=29)
    out = run_pulse(pulse_bin, "--lake", lake, "ingest", csv).stdout
    assert "accepted 30, rejected 0" in out
    assert "gate: accept 29, escalate 1, suppress 0" in out  # the spike: z far above 3, sti 0.4
    table = arrow_rows(lake)
    assert table.column_names[-7:] == SCORE_COLUMNS
    rows = sorted(table.to_pylist(), key=lambda r: r["ts"])
    spike = rows[-1]
    assert spike["anomaly"] is True and spike["anomaly_z"] > 3
    assert spike["sti"] == 0.4 and spike["gate"] == "escalate"
    assert spike["gate_reason"] == "sti 0.4 < 0.5 (min_sti for tag neutral)"
    assert all(r["recency"] == 0.0 and r["tag"] == "neutral" for r in rows)  # years old
    assert all(r["anomaly_z"] is None for r in rows[:10])  # fewer than 10 earlier values
    assert all(r["gate"] == "accept" and r["gate_reason"] is None for r in rows[:-1])

    # --json carries the same counts; DuckDB reads the files Pulse wrote.
    more = tmp_path / "more.csv"
    monthly_csv(more, 2, name="cpi", year=2001)
    report = json.loads(run_pulse(pulse_bin, "--lake", lake, "ingest", "--json", more).stdout)
    assert report[0]["gate"] == {"accept": 2, "escalate": 0, "suppress": 0}
    files = delta_table(lake).file_uris()
    got = duckdb.connect().execute(
        "select gate, count(*) from read_parquet(?, hive_partitioning = true) group by gate order by gate", [files]
    ).fetchall()
    assert got == [("accept", 31), ("escalate", 1)]


def test_table_written_before_scoring_evolves_and_stays_readable(pulse_bin, tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(ROOT / "tests/fixtures/signals_table_v1/signals", lake / "signals")
    before = delta_table(lake)
    assert before.version() == 1 and "gate" not in before.schema().to_arrow().names  # arro3 or pyarrow schema
    csv = tmp_path / "new.csv"
    csv.write_text("name,source,kind,ts,value\ngdp,fixture,macro,2021-01-01,150\ncpi,fixture,macro,2021-01-01,2.1\n")
    out = run_pulse(pulse_bin, "--lake", lake, "ingest", csv).stdout
    assert "gate: accept 1, escalate 1, suppress 0" in out

    dtab = delta_table(lake)
    assert dtab.version() == 3  # 2: the metaData commit adding the score columns
    assert [h["operation"] for h in dtab.history()][:2] == ["INGEST", "ADD COLUMNS"]
    table = dtab.to_pyarrow_table()
    assert table.num_rows == 26
    rows = table.to_pylist()
    old = [r for r in rows if r["ts"].year == 2020]
    new = {r["name"]: r for r in rows if r["ts"].year == 2021}
    assert len(old) == 24 and all(r[c] is None for r in old for c in SCORE_COLUMNS)
    assert new["gdp"]["gate"] == "escalate"
    assert new["gdp"]["anomaly_z"] == pytest.approx(44.5 / math.sqrt(143 / 12))  # against the 12 old values
    assert new["cpi"]["gate"] == "accept"
    # time travel to main's version: nine columns
    assert arrow_rows(lake, version=1).num_columns == 9
    # DuckDB over the mixed files (nine and sixteen columns)
    got = duckdb.connect().execute(
        "select count(*), count(gate) from read_parquet(?, hive_partitioning = true, union_by_name = true)",
        [dtab.file_uris()],
    ).fetchone()
    assert got == (26, 2)
    # Pulse itself shows the table, old rows with empty scores
    shown = show_json(pulse_bin, lake, "signals")
    assert len(shown) == 26 and sum(1 for r in shown if r.get("gate")) == 2


def test_rules_file_from_config_and_suppressed_rows(pulse_bin, lake, tmp_path):
    rules = tmp_path / "rules.yaml"
    # anomalous rows (sti 0.4) fall below the escalation floor: suppressed
    rules.write_text("gate: {escalate_min_sti: 0.5}\n")
    csv = tmp_path / "gdp.csv"
    monthly_csv(csv, 30, spike_at=29)
    out = run_pulse(pulse_bin, "--lake", lake, "--set", f"ingest.scoring_rules={rules}", "ingest", csv).stdout
    assert "gate: accept 29, escalate 0, suppress 1" in out
    rows = arrow_rows(lake).to_pylist()
    suppressed = [r for r in rows if r["gate"] == "suppress"]
    assert len(rows) == 30 and len(suppressed) == 1  # kept, with its reason
    assert suppressed[0]["gate_reason"] == ("sti 0.4 < 0.5 (min_sti for tag neutral); "
                                            "sti 0.4 < 0.5 (escalate_min_sti)")
    run_pulse(pulse_bin, "--lake", lake, "forecast")
    origins = {r["series"]: r["origin"] for r in show_json(pulse_bin, lake, "forecasts")}
    assert origins["gdp"].startswith("2002-05-01")  # month 29 (2002-06) was suppressed


@pytest.mark.parametrize("text, message", [
    ("gate: {default: {min_sti: 2, max_anomalies: 1}}", "rules.yaml:1: gate.default.min_sti: expected a number"),
    ("anomaly: {windw: 3}", "rules.yaml:1: anomaly.windw: unknown key"),
    ("tags: [", "rules.yaml"),
])
def test_bad_rules_file_is_refused_before_anything_is_written(pulse_bin, lake, tmp_path, text, message):
    rules = tmp_path / "rules.yaml"
    rules.write_text(text + "\n")
    csv = tmp_path / "gdp.csv"
    monthly_csv(csv, 3)
    proc = run_pulse(pulse_bin, "--lake", lake, "--set", f"ingest.scoring_rules={rules}", "ingest", csv, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert not (lake / "signals").exists()
    missing = run_pulse(pulse_bin, "--lake", lake, "--set", f"ingest.scoring_rules={tmp_path}/nope.yaml", "ingest",
                        csv, check=False)
    assert missing.returncode == 1 and "nope.yaml" in missing.stderr
