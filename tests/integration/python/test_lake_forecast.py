"""`pulse forecast` on the lake's signals: a standard forecasts table (deltalake reads it), nested
calibrated bands, calendar-correct target times, idempotence per signals version, clear errors."""
import datetime as dt

from deltalake import DeltaTable

from conftest import run_pulse


def test_forecasts_table_after_the_main_job(pulse_bin, tmp_path):
    lake = tmp_path / "lake"
    run_pulse(pulse_bin, "--lake", lake, "run", "--out", tmp_path / "out")
    table = DeltaTable(str(lake / "forecasts")).to_pyarrow_table().to_pylist()
    assert len(table) == 12 * 8 * 3  # series x horizon (quarterly: 8) x levels
    by_key = {(r["series"], r["step"], round(r["level"], 2)): r for r in table}
    for series in {r["series"] for r in table}:
        for step in range(1, 9):
            b50, b80, b95 = (by_key[(series, step, lv)] for lv in (0.5, 0.8, 0.95))
            assert b95["lower"] <= b80["lower"] <= b50["lower"] <= b50["mean"] <= b50["upper"] <= b80["upper"] <= b95["upper"]
            assert b95["confidence"] == 0.95 and b95["calibrated"]
    gdp1 = by_key[("realgdp", 1, 0.8)]
    assert gdp1["origin"] == dt.datetime(2009, 7, 1, tzinfo=dt.timezone.utc)
    assert by_key[("realgdp", 2, 0.8)]["target"] == dt.datetime(2010, 1, 1, tzinfo=dt.timezone.utc)
    assert gdp1["frequency"] == "quarterly" and gdp1["signals_version"] == 1
    assert 12000 < gdp1["mean"] < 14000
    # Same data again: nothing new.
    out = run_pulse(pulse_bin, "--lake", lake, "forecast").stdout
    assert "already forecast" in out
    assert DeltaTable(str(lake / "forecasts")).version() == 1


def test_new_data_gets_new_forecasts(pulse_bin, tmp_path):
    lake = tmp_path / "lake"
    csv = tmp_path / "s.csv"
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    csv.write_text("name,ts,value,kind\n" + "".join(
        f"visits,{(base + dt.timedelta(days=i)).isoformat()},{100 + (i % 7) * 5 + i * 0.1},web\n" for i in range(70)))
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    out = run_pulse(pulse_bin, "--lake", lake, "forecast", "--horizon", "5", "--levels", "90").stdout
    assert "forecast 1 series" in out
    rows = DeltaTable(str(lake / "forecasts")).to_pyarrow_table().to_pylist()
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["frequency"] == "daily"
    assert rows[0]["target"] == base + dt.timedelta(days=70)
    more = tmp_path / "more.csv"
    more.write_text("name,ts,value,kind\nvisits,2024-03-11T00:00:00Z,150,web\n")
    run_pulse(pulse_bin, "--lake", lake, "ingest", more)
    run_pulse(pulse_bin, "--lake", lake, "forecast", "--horizon", "5", "--levels", "90")
    rows = DeltaTable(str(lake / "forecasts")).to_pyarrow_table().to_pylist()
    assert sorted({r["signals_version"] for r in rows}) == [1, 2]


def test_forecast_errors_are_clear(pulse_bin, tmp_path):
    proc = run_pulse(pulse_bin, "--lake", tmp_path / "empty", "forecast", check=False)
    assert proc.returncode == 1 and "no table 'signals'" in proc.stderr
    proc = run_pulse(pulse_bin, "--lake", tmp_path / "empty", "forecast", "--levels", "120", check=False)
    assert proc.returncode == 1 and "--levels" in proc.stderr
    lake = tmp_path / "short"
    csv = tmp_path / "short.csv"
    csv.write_text("name,ts,value\na,2024-01-01,1\na,2024-01-02,2\n")
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    proc = run_pulse(pulse_bin, "--lake", lake, "forecast", check=False)
    assert proc.returncode == 1 and "no series with at least 8 points" in proc.stderr
