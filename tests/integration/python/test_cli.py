"""The pulse CLI as a user and a script see it: exit codes, clear errors, readable and JSON
output, and the main job (`pulse run`) being idempotent."""
import json
import os

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
    assert listing == [{"table": "signals", "version": 1, "files": 2, "rows": 2}]
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


def test_ingest_reads_stdin_and_pipes(pulse_bin, lake, tmp_path):
    """`pulse ingest -`, `cat f | pulse ingest /dev/stdin` and a FIFO with a writer all read the
    content once (they used to say "empty file"); the format of extension-less input is guessed."""
    import subprocess
    import threading
    csv = "name,ts,value\na,2024-01-01,1\nb,2024-01-02,2\n"
    piped = subprocess.run(f"printf '{csv}' | {pulse_bin} --lake {lake} ingest /dev/stdin", shell=True,
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert "accepted 2, rejected 0" in piped.stdout
    dash = subprocess.run([pulse_bin, "--lake", str(lake), "ingest", "-", "--json"], input=csv.replace("a,", "c,"),
                          capture_output=True, text=True, timeout=120)
    assert dash.returncode == 0, dash.stderr
    report = json.loads(dash.stdout)[0]
    assert report["file"] == "stdin" and report["accepted"] == 2
    jsonl = subprocess.run([pulse_bin, "--lake", str(lake), "ingest", "-"], text=True, capture_output=True,
                           input='{"name":"j","ts":"2024-01-01","value":1}\n', timeout=120)
    assert jsonl.returncode == 0 and "accepted 1" in jsonl.stdout, jsonl.stderr
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("name,ts,value\nf,2024-01-05,5\n"))
    writer.start()
    proc = run_pulse(pulse_bin, "--lake", lake, "ingest", fifo)
    writer.join()
    assert "accepted 1, rejected 0" in proc.stdout
    rows = show_json(pulse_bin, lake, "signals")
    assert sorted(r["name"] for r in rows) == ["a", "b", "b", "c", "f", "j"]
    assert {r["source"] for r in rows if r["name"] == "c"} == {"stdin"}


def test_ingest_refuses_inputs_over_the_size_limit(pulse_bin, lake, tmp_path):
    """/dev/zero and oversized files are refused with a clear error instead of being read forever."""
    env = {"PULSE_INGEST_MAX_FILE_BYTES": "4096"}
    zero = run_pulse(pulse_bin, "--lake", lake, "ingest", "/dev/zero", "--format", "csv", env=env, check=False)
    assert zero.returncode == 1
    assert "'/dev/zero' exceeds the maximum input size of 4096 bytes" in zero.stderr
    big = tmp_path / "big.csv"
    big.write_text("name,ts,value\n" + "a,2024-01-01,1\n" * 1000)
    refused = run_pulse(pulse_bin, "--lake", lake, "ingest", big, env=env, check=False)
    assert refused.returncode == 1 and "ingest.max_file_bytes" in refused.stderr
    assert run_pulse(pulse_bin, "--lake", lake, "ingest", big).returncode == 0  # the default limit is 1 GiB


def test_ingest_hostile_csv_loses_no_rows(pulse_bin, lake, tmp_path):
    """An unterminated quote costs one line, not the rest of the file; CR-only line endings work;
    a NUL or escape byte in a field is printed escaped, never cutting or colouring the reason."""
    bad = tmp_path / "bad.csv"
    lines = ["name,ts,value", 'a,"2020-01-01,1'] + [f"g{i},2020-01-02,{i}" for i in range(1000)]
    bad.write_text("\n".join(lines) + "\n")
    proc = run_pulse(pulse_bin, "--lake", lake, "ingest", bad, "--json", check=False)
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)[0]
    assert (report["accepted"], report["rejected"]) == (1000, 1)
    assert report["rejects"] == [{"line": 2, "reason": "unterminated quote in field 2"}]
    rejects = show_json(pulse_bin, lake, "signal_rejects")
    assert [(r["line"], r["raw"]) for r in rejects] == [(2, 'a,"2020-01-01,1')]

    mac = tmp_path / "mac.csv"
    mac.write_bytes(b"name,ts,value\ra,2024-01-01,1\rb,2024-01-02,2\r")
    proc = run_pulse(pulse_bin, "--lake", lake, "ingest", mac)
    assert "accepted 2, rejected 0" in proc.stdout

    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"name,ts,value\nx,2024-01-01,1\x00tail\ny,2024-01-01,\x1b[31mred\n")
    proc = run_pulse(pulse_bin, "--lake", lake, "ingest", nul, check=False)
    assert proc.returncode == 3
    assert f"{nul}:2: field 'value' contains a NUL character: '1\\0tail'" in proc.stderr
    assert f"{nul}:3: unparseable number '\\x1b[31mred'" in proc.stderr
    assert "\x00" not in proc.stderr and "\x1b" not in proc.stderr
