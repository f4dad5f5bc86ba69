"""The pulse CLI as a user and a script see it: exit codes, clear errors, readable and JSON
output, and the main job (`pulse run`) being idempotent."""
import json

from conftest import ROOT, run_pulse, show_json


def test_exit_codes_and_reject_report(pulse_bin, lake, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("name,ts,value\ngdp,2024-01-01,1\n")
    assert run_pulse(pulse_bin, "--lake", lake, "ingest", good).returncode == 0

    mixed = tmp_path / "mixed.csv"
    mixed.write_text("name,ts,value\ngdp,2024-01-02,2\ngdp,2024-01-03,oops\n")
    proc = run_pulse(pulse_bin, "--lake", lake, "ingest", mixed, check=False)
    assert proc.returncode == 3, proc.stderr
    assert f"{mixed}:3: unparseable number 'oops'" in proc.stderr
    assert "accepted 1, rejected 1" in proc.stdout

    missing = run_pulse(pulse_bin, "--lake", lake, "ingest", tmp_path / "absent.csv", check=False)
    assert missing.returncode == 1 and "absent.csv" in missing.stderr

    usage = run_pulse(pulse_bin, "--lake", lake, "ingest", check=False)
    assert usage.returncode == 2

    report = json.loads(run_pulse(pulse_bin, "--lake", lake, "ingest", good, "--json").stdout)
    assert report[0]["duplicate"] is True

    rejects = show_json(pulse_bin, lake, "signal_rejects")
    assert [(r["line"], r["reason"]) for r in rejects] == [(3, "unparseable number 'oops'")]


def test_lake_list_show_history(pulse_bin, lake, tmp_path):
    csv = tmp_path / "s.csv"
    csv.write_text("name,ts,value,kind\na,2024-01-01T00:00:00Z,1.5,x\nb,2024-01-02T00:00:00Z,2.5,y\n")
    run_pulse(pulse_bin, "--lake", lake, "ingest", csv)
    listing = json.loads(run_pulse(pulse_bin, "--lake", lake, "lake", "list", "--json").stdout)
    assert listing == [{"table": "signals", "version": 1, "files": 2, "rows": 2, "status": "ok"}]
    text = run_pulse(pulse_bin, "--lake", lake, "lake", "show", "signals", "--columns", "name,ts,value").stdout
    lines = text.splitlines()
    assert lines[0].split() == ["name", "ts", "value"]
    assert set(lines[1]) <= {"-", " "}
    assert "2024-01-01T00:00:00Z" in text and "1.5" in text
    only_y = show_json(pulse_bin, lake, "signals", "--where", "kind=y")
    assert [r["name"] for r in only_y] == ["b"]
    by_name = show_json(pulse_bin, lake, "signals", "--where", "name=a", "--columns", "value")
    assert by_name == [{"value": 1.5}]
    history = json.loads(run_pulse(pulse_bin, "--lake", lake, "lake", "history", "signals", "--json").stdout)
    assert [h["operation"] for h in history] == ["INGEST", "CREATE TABLE"]
    assert history[0]["rows_added"] == 2
    bad = run_pulse(pulse_bin, "--lake", lake, "lake", "show", "nope", check=False)
    assert bad.returncode == 1 and "no table 'nope'" in bad.stderr
    bad_where = run_pulse(pulse_bin, "--lake", lake, "lake", "show", "signals", "--where", "zzz=1", check=False)
    assert bad_where.returncode == 1 and "no column 'zzz'" in bad_where.stderr
    future = run_pulse(pulse_bin, "--lake", lake, "lake", "show", "signals", "--version", "9", check=False)
    assert future.returncode == 1 and "latest is 1" in future.stderr


def test_checkpoint_interval_comes_from_configuration(pulse_bin, lake, tmp_path):
    for i in range(3):
        csv = tmp_path / f"c{i}.csv"
        csv.write_text(f"name,ts,value\na,2024-01-0{i + 1},1\n")
        run_pulse(pulse_bin, "--lake", lake, "ingest", csv, env={"PULSE_LAKE_CHECKPOINT_INTERVAL": "2"})
    log = lake / "signals" / "_delta_log"
    assert (log / "00000000000000000002.checkpoint.parquet").exists()
    assert not (log / "00000000000000000003.checkpoint.parquet").exists()


def test_configuration_errors_are_clear(pulse_bin, lake, tmp_path):
    cfg = tmp_path / "pulse.yaml"
    cfg.write_text("lake:\n  url: %s\n  checkpoint_intervall: 3\n" % lake)
    proc = run_pulse(pulse_bin, "--config", cfg, "lake", "list", check=False)
    assert proc.returncode == 1
    assert "pulse.yaml:3" in proc.stderr and "checkpoint_interval" in proc.stderr
    proc = run_pulse(pulse_bin, "--config", tmp_path / "missing.yaml", "lake", "list", check=False)
    assert proc.returncode == 1 and "missing.yaml" in proc.stderr
    cfg.write_text("lake: [broken\n")
    proc = run_pulse(pulse_bin, "--config", cfg, "lake", "list", check=False)
    assert proc.returncode == 1 and "pulse.yaml:" in proc.stderr
    proc = run_pulse(pulse_bin, "--set", "log.level=loud", "lake", "list", check=False)
    assert proc.returncode == 1 and "log.level" in proc.stderr
    proc = run_pulse(pulse_bin, "--lake", "ftp://x", "lake", "list", check=False)
    assert proc.returncode == 1 and "unsupported lake URL scheme" in proc.stderr
    # A good config file is honoured.
    cfg.write_text("lake:\n  url: %s\n" % lake)
    assert run_pulse(pulse_bin, "--config", cfg, "lake", "list").stdout.startswith("no tables")


def test_unwritable_lake_is_a_clear_error(pulse_bin, tmp_path):
    # A lake path below a regular file cannot be created, even by root.
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    csv = tmp_path / "s.csv"
    csv.write_text("name,ts,value\na,2024-01-01,1\n")
    proc = run_pulse(pulse_bin, "--lake", blocker / "lake", "ingest", csv, check=False)
    assert proc.returncode == 1
    assert "cannot create lake directory" in proc.stderr and "blocker" in proc.stderr
    proc = run_pulse(pulse_bin, "--lake", blocker / "lake", "run", "--out", tmp_path / "out", check=False)
    assert proc.returncode == 1 and "cannot create lake directory" in proc.stderr


def test_main_job_runs_and_is_idempotent(pulse_bin, tmp_path):
    lake, out = tmp_path / "lake", tmp_path / "out"
    first = run_pulse(pulse_bin, "--lake", lake, "run", "--out", out)
    assert "2436 new signals" in first.stdout
    assert "realgdp" in first.stdout and "2009-10-01" in first.stdout  # the next quarter's forecast
    second = run_pulse(pulse_bin, "--lake", lake, "run", "--out", out)
    assert "no new observations" in second.stdout
    assert len(show_json(pulse_bin, lake, "signals", "--columns", "value")) == 2436
    missing = run_pulse(pulse_bin, "--lake", lake, "run", "--out", out, "--data", tmp_path / "nope.csv", check=False)
    assert missing.returncode == 1 and "nope.csv" in missing.stderr
