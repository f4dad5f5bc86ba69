"""The pulse CLI as a user and a script see it: exit codes, clear errors, readable and JSON
output, and the main job (`pulse run`) being idempotent."""
import json
import os
import subprocess

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


def test_lake_urls_a_confused_user_types_are_clear_errors(pulse_bin, tmp_path):
    """(issue 11 review) --lake "" (an unset variable) used to mean ./pulse-lake; file://rel/lake
    (a host 'rel') was read as the relative folder rel/lake; a key given twice in --config used
    its later value silently."""
    empty = subprocess.run([pulse_bin, "--lake", "", "lake", "list"], capture_output=True, text=True, cwd=tmp_path,
                           timeout=60)
    assert empty.returncode == 1 and "--lake: lake.url: must not be empty" in empty.stderr, empty.stderr
    assert not (tmp_path / "pulse-lake").exists()
    host = subprocess.run([pulse_bin, "--lake", "file://rel/lake", "lake", "list"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert host.returncode == 1 and "a file:// URL needs an absolute path (file:///abs/dir)" in host.stderr
    assert not (tmp_path / "rel").exists()
    cfg = tmp_path / "pulse.yaml"
    cfg.write_text(f"lake:\n  url: {tmp_path / 'a'}\n  url: {tmp_path / 'b'}\n")
    dup = run_pulse(pulse_bin, "--config", cfg, "lake", "list", check=False)
    assert dup.returncode == 1 and "pulse.yaml:3: lake.url: the key is given twice (first on line 2)" in dup.stderr
    assert not (tmp_path / "b").exists()


def test_a_mistyped_command_is_named(pulse_bin, tmp_path):
    """(issue 11 review) `pulse ingset f.csv` and `pulse lake lsit` said only "A subcommand is
    required"."""
    for args, needle in [(["ingset", "f.csv"], "pulse: unknown command 'ingset' (commands: ingest, lake,"),
                         (["--lake", tmp_path, "lake", "lsit"], "pulse lake: unknown command 'lsit' (commands: list,"),
                         (["lake", "--set", "a=b", "frob"], "pulse lake: unknown command 'frob'")]:
        proc = run_pulse(pulse_bin, *args, check=False)
        assert proc.returncode == 2 and needle in proc.stderr, (args, proc.stderr)
    for args in (["lake"], []):  # no command at all: CLI11's own message
        proc = run_pulse(pulse_bin, *args, check=False)
        assert proc.returncode == 2 and "A subcommand is required" in proc.stderr
    proc = run_pulse(pulse_bin, "worker", check=False)  # a required option, not a command
    assert proc.returncode == 2 and "--broker is required" in proc.stderr, proc.stderr


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


def test_global_options_are_accepted_after_the_subcommand(pulse_bin, tmp_path):
    lake, other = tmp_path / "lake", tmp_path / "other"
    csv = tmp_path / "f.csv"
    csv.write_text("name,ts,value\ngdp,2024-01-01,1\n")
    # The way users type it: options after the subcommand (and after its positionals).
    assert "accepted 1" in run_pulse(pulse_bin, "ingest", csv, "--lake", lake).stdout
    listing = json.loads(run_pulse(pulse_bin, "lake", "list", "--json", "--lake", lake).stdout)
    assert listing[0]["table"] == "signals" and listing[0]["rows"] == 1
    assert [r["name"] for r in json.loads(run_pulse(pulse_bin, "lake", "show", "signals", "--lake", lake, "--json").stdout)] == ["gdp"]
    # --set takes one key=value per occurrence, so a positional after it stays the command's.
    run_pulse(pulse_bin, "ingest", "--set", f"lake.url={other}", csv)
    assert (other / "signals" / "_delta_log").is_dir()
    cfg = tmp_path / "pulse.yaml"
    cfg.write_text(f"lake:\n  url: {lake}\n")
    history = json.loads(run_pulse(pulse_bin, "lake", "history", "signals", "--json", "--config", cfg).stdout)
    assert history[0]["operation"] == "INGEST"
    out = json.loads(run_pulse(pulse_bin, "simulate", "--runs", 20, "--turns", 2, "--json", "-", "--lake", lake).stdout)
    assert out["lake"]["table"] == "simulations" and (lake / "simulations").is_dir()
    history_csv = tmp_path / "history.csv"
    history_csv.write_text("name,ts,value\ngdp,2024-01-01,0.5\ngdp,2024-01-02,0.6\n")
    retro = run_pulse(pulse_bin, "simulate", "retrodict", "--csv", history_csv, "--map", "gdp=hope", "--grid", "daily",
                      "--set", "log.level=warn", "--lake", lake)
    assert "retrodiction" in retro.stdout
    # Before the subcommand still works, and a global option's error is still reported as such.
    assert run_pulse(pulse_bin, "--lake", lake, "lake", "list").returncode == 0
    bad = run_pulse(pulse_bin, "lake", "list", "--set", "log.level=loud", check=False)
    assert bad.returncode == 1 and "log.level" in bad.stderr
    unknown = run_pulse(pulse_bin, "lake", "list", "--no-such-option", check=False)
    assert unknown.returncode == 2 and "--no-such-option" in unknown.stderr


def test_foreign_pulse_variables_are_ignored_and_near_misses_warn(pulse_bin, lake, tmp_path):
    # PulseAudio's client variables (WSLg sets PULSE_SERVER in every shell) are not Pulse's.
    pulseaudio = {"PULSE_SERVER": "unix:/mnt/wslg/PulseServer", "PULSE_SINK": "alsa_output.pci-0000_00_1f.3",
                  "PULSE_COOKIE": "/home/u/.config/pulse/cookie", "PULSE_RUNTIME_PATH": "/run/user/1000/pulse",
                  "PULSE_SOMETHING_ELSE": "1"}
    proc = run_pulse(pulse_bin, "--lake", lake, "lake", "list", env=pulseaudio)
    assert proc.stdout.startswith("no tables") and proc.stderr == ""
    csv = tmp_path / "f.csv"
    csv.write_text("name,ts,value\ngdp,2024-01-01,1\n")
    assert run_pulse(pulse_bin, "--lake", lake, "ingest", csv, env=pulseaudio).returncode == 0
    # A near miss of a real setting is probably a typo: it is named, and the command still runs.
    typo = run_pulse(pulse_bin, "--lake", lake, "lake", "list", env={**pulseaudio, "PULSE_LAKE_UR": "/elsewhere"})
    assert "PULSE_LAKE_UR is not a Pulse setting and is ignored; did you mean PULSE_LAKE_URL?" in typo.stderr
    assert "signals" in typo.stdout
    # A real setting with a bad value is still an error naming the variable.
    bad = run_pulse(pulse_bin, "lake", "list", env={"PULSE_THREADS": "-1"}, check=False)
    assert bad.returncode == 1 and "env PULSE_THREADS: threads: must be >= 0, got '-1'" in bad.stderr


def test_numeric_options_are_strict(pulse_bin, tmp_path):
    cases = [
        (["simulate", "--runs", "-1"], "--runs: expected a whole number >= 0, got '-1'"),
        (["simulate", "--seed", "-1"], "--seed: expected a whole number >= 0, got '-1'"),
        (["simulate", "--seed", "18446744073709551616"], "--seed: expected a whole number >= 0"),
        (["simulate", "--turns", "0x10"], "--turns: expected a whole number >= 0, got '0x10'"),
        (["simulate", "--noise", "inf"], "--noise: expected a finite number, got 'inf'"),
        (["simulate", "--noise", "nan"], "--noise: expected a finite number, got 'nan'"),
        (["simulate", "--noise", "-0.1"], "--noise: must lie in [0, 1]"),
        (["simulate", "--chunks", "0"], "--chunks: must lie in [1, 100000]"),
        (["simulate", "--sample-paths", "-5"], "--sample-paths: expected a whole number >= 0"),
        (["task", "send", "pulse.noop", "--broker", "redis://127.0.0.1:1/0", "--wait", "nan"],
         "--wait: expected a finite number, got 'nan'"),
        (["task", "send", "pulse.noop", "--broker", "redis://127.0.0.1:1/0", "--wait", "-1"], "--wait: must lie in"),
        (["worker", "--broker", "redis://127.0.0.1:1/0", "--concurrency", "-1"], "--concurrency: must lie in [0, 4096]"),
        (["worker", "--broker", "redis://127.0.0.1:1/0", "--metrics-port", "70000"], "--metrics-port: must lie in"),
        (["worker", "--broker", "redis://127.0.0.1:1/0", "--cache-max-mb", "inf"], "--cache-max-mb: expected a finite"),
        (["beat", "--broker", "redis://127.0.0.1:1/0", "--schedule", "x.yaml", "--lease-ms", "-5"], "--lease-ms: must lie in"),
    ]
    for args, needle in cases:
        proc = run_pulse(pulse_bin, "--lake", tmp_path / "lake", *args, check=False)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        assert needle in proc.stderr, (args, proc.stderr)
    assert not (tmp_path / "lake").exists()  # refused before anything ran
    # Decimal, not octal: --seed 010 is seed 10.
    ten = json.loads(run_pulse(pulse_bin, "simulate", "--runs", 8, "--turns", 2, "--seed", "010", "--no-lake", "--json", "-").stdout)
    assert ten["seed"] == 10
    # An out-of-range run count is named with its limit.
    proc = run_pulse(pulse_bin, "simulate", "--runs", 50, "--set", "sim.max_runs=10", "--no-lake", check=False)
    assert proc.returncode == 1 and "--runs must be 1..10 (config sim.max_runs), got 50" in proc.stderr
    proc = run_pulse(pulse_bin, "run", "--set", "run.sim_runs=50", "--set", "sim.max_runs=10", "--lake", tmp_path / "l2",
                     "--out", tmp_path / "out", check=False)
    assert proc.returncode == 1 and "run.sim_runs (50, from --set) exceeds sim.max_runs (10)" in proc.stderr


def test_config_file_errors_name_file_line_key_and_type(pulse_bin, tmp_path):
    cfg = tmp_path / "pulse.yaml"
    cases = [
        ("lake:\n  url: x\nsim:\n  max_runs: abc\n", "pulse.yaml:4: sim.max_runs: expected an integer (decimal digits), got 'abc'"),
        ("run:\n  seed: -1\n", "pulse.yaml:2: run.seed: must be >= 0, got '-1'"),
        ("run:\n  noise: .nan\n", "pulse.yaml:2: run.noise: expected a number (finite), got '.nan'"),
        ("threads: 1e3\n", "pulse.yaml:1: threads: expected an integer (decimal digits), got '1e3'"),
        ("jobs:\n  timeout_seconds: 99999999999999999999\n", "pulse.yaml:2: jobs.timeout_seconds: expected an integer that fits in 64 bits"),
        ("? [a, b]\n: 1\n", "pulse.yaml:1: a key must be a plain name"),
        ("lake:\n  url: [a, b]\n", "pulse.yaml:2: lake.url: expected a single value, got a list"),
        ("lake: [broken\n", "pulse.yaml:"),
    ]
    for text, needle in cases:
        cfg.write_text(text)
        proc = run_pulse(pulse_bin, "lake", "list", "--config", cfg, check=False)
        assert proc.returncode == 1, (text, proc.stderr)
        assert needle in proc.stderr, (text, proc.stderr)
        assert "bad conversion" not in proc.stderr and "bad file" not in proc.stderr
    missing = run_pulse(pulse_bin, "--config", tmp_path / "absent.yaml", "lake", "list", check=False)
    assert missing.returncode == 1
    assert f"cannot open config file '{tmp_path / 'absent.yaml'}': No such file or directory" in missing.stderr
    folder = run_pulse(pulse_bin, "--config", tmp_path, "lake", "list", check=False)
    assert folder.returncode == 1 and f"cannot read config file '{tmp_path}': Is a directory" in folder.stderr
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
