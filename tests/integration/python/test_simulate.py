"""`pulse simulate` as a user and a script see it: the JSON summary, the same numbers for any
thread count, the lake's simulations table readable by deltalake and written once per
simulation, counterfactual forks, and a clear error (nothing written) for every bad input."""
import json
import os
import signal
import subprocess

import pytest

from deltalake import DeltaTable

from conftest import run_pulse


def simulate(pulse_bin, lake, *args, check=True):
    return run_pulse(pulse_bin, "--lake", lake, "simulate", *args, check=check)


def test_summary_json_is_reproducible_and_lands_in_the_lake(pulse_bin, lake):
    one = json.loads(simulate(pulse_bin, lake, "--runs", 700, "--turns", 8, "--seed", 5, "--json", "-",
                              "--no-lake").stdout)
    two = json.loads(run_pulse(pulse_bin, "--lake", lake, "--set", "threads=1", "simulate", "--runs", 700, "--turns",
                               8, "--seed", 5, "--json", "-", "--no-lake").stdout)
    assert one["variables"] == two["variables"]  # bit-identical for 1 thread and all cores
    hope = one["variables"]["hope"]
    assert len(hope["mean"]) == 9 and len(hope["quantiles"][8]) == 3
    assert hope["quantiles"][8][0] <= hope["mean"][8] <= hope["quantiles"][8][2]
    assert one["variables"]["inflation_index"]["mean"][8] > 0.03  # the static rule raises it
    assert one["rule_run_turns_fired"]["R001_EnergySpike"] > 0
    assert one["variables"]["tag.Neutral"]["mean"][0] + one["variables"]["tag.Hope Rising"]["mean"][0] <= 1

    out = simulate(pulse_bin, lake, "--runs", 300, "--turns", 5, "--seed", 9)
    assert "table 'simulations'" in out.stdout and "hope" in out.stdout
    rows = DeltaTable(str(lake / "simulations")).to_pyarrow_table().to_pylist()
    # steps x (slots, tension, fragility, 8 tags, 5 arcs, 5 overlay deltas)
    assert len(rows) == 6 * (5 + 5 + 314 + 2 + 8 + 5 + 5)
    assert {r["runs"] for r in rows} == {300}
    again = simulate(pulse_bin, lake, "--runs", 300, "--turns", 5, "--seed", 9)
    assert "already there" in again.stdout
    assert len(DeltaTable(str(lake / "simulations")).to_pyarrow_table()) == len(rows)


def test_sampled_paths_match_the_summary(pulse_bin, lake):
    out = json.loads(simulate(pulse_bin, lake, "--runs", 300, "--turns", 4, "--seed", 3, "--sample-paths", 300,
                              "--json", "-").stdout)
    assert out["lake_paths"]["rows"] == 300 * 5 * 324
    rows = DeltaTable(str(lake / "simulation_paths")).to_pyarrow_table(
        filters=[("variable", "=", "hope"), ("step", "=", 4)]).to_pylist()
    values = [r["value"] for r in rows]
    assert len(values) == 300 and len({r["run"] for r in rows}) == 300
    # The summary's mean of hope at the last turn is the mean of the sampled paths (all runs sampled).
    assert abs(sum(values) / 300 - out["variables"]["hope"]["mean"][4]) < 1e-6
    proc = simulate(pulse_bin, lake, "--runs", 10, "--sample-paths", 11, check=False)
    assert proc.returncode == 1 and "cannot sample 11 paths of 10 runs" in proc.stderr


def test_per_variable_noise_file(pulse_bin, lake, tmp_path):
    noise = tmp_path / "noise.yaml"
    # Inflation moves only through the energy rule: with both quiet it is the same in every run.
    noise.write_text("inflation_index: {initial_sd: 0, turn_sd: 0}\nenergy_price_index: {}\nhope: {turn_sd: 0.05}\n")
    out = json.loads(simulate(pulse_bin, lake, "--runs", 512, "--turns", 6, "--noise-file", noise, "--json", "-",
                              "--no-lake").stdout)
    assert out["variables"]["inflation_index"]["sd"][6] == 0  # its noise and its driver's switched off
    assert out["variables"]["hope"]["sd"][6] > 0.05  # six shocks of sd 0.05 (clipped at 0 and 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text("hope: {turn_sd: -1}\n")
    proc = simulate(pulse_bin, lake, "--noise-file", bad, "--no-lake", check=False)
    assert proc.returncode == 1 and "must be >= 0" in proc.stderr
    bad.write_text("nosuch: {turn_sd: 1}\n")
    proc = simulate(pulse_bin, lake, "--noise-file", bad, "--no-lake", check=False)
    assert proc.returncode == 1 and f"{bad}:1: unknown variable 'nosuch'" in proc.stderr


def test_narrative_events(pulse_bin, lake):
    base = json.loads(simulate(pulse_bin, lake, "--runs", 256, "--turns", 6, "--noise", 0, "--json", "-",
                               "--no-lake").stdout)
    shocked = json.loads(simulate(pulse_bin, lake, "--runs", 256, "--turns", 6, "--noise", 0, "--event",
                                  "energy_crisis@3", "--json", "-", "--no-lake").stdout)
    energy = shocked["variables"]["energy_price_index"]["mean"]
    assert energy[2] == base["variables"]["energy_price_index"]["mean"][2] and energy[3] != energy[2]
    proc = simulate(pulse_bin, lake, "--event", "nosuch@1", "--no-lake", check=False)
    assert proc.returncode == 1 and "energy_crisis" in proc.stderr  # lists the known events
    proc = simulate(pulse_bin, lake, "--turns", 5, "--event", "energy_crisis@9", "--no-lake", check=False)
    assert proc.returncode == 1 and "1..5" in proc.stderr


def test_fork_reports_divergence(pulse_bin, lake):
    out = json.loads(simulate(pulse_bin, lake, "--runs", 256, "--turns", 10, "--noise", 0, "--fork",
                              "energy_price_index=0.1", "--json", "-", "--no-lake").stdout)
    # Without the energy spike the static rule never raises inflation: 10 turns x 0.01 less.
    assert out["fork"]["divergence_at_last_turn"]["inflation_index"] == -0.1


def test_bad_inputs_are_clear_errors(pulse_bin, lake, tmp_path):
    def fails(*args, message):
        proc = simulate(pulse_bin, lake, *args, check=False)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert message in proc.stderr, proc.stderr
    bad_rules = tmp_path / "rules.yaml"
    bad_rules.write_text("rules:\n  - id: X\n    when: \"hope >> 1\"\n    effects: [{target: hope, add: 1}]\n")
    fails("--rules", bad_rules, message=f"{bad_rules}:3:")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("rules:\n  - id: X\n    when: \"nothing > 1\"\n    effects: [{target: hope, add: 1}]\n")
    fails("--rules", unknown, message="unknown name 'nothing'")
    fails("--rules", tmp_path / "absent.yaml", message="absent.yaml")
    fails("--runs", 0, message="--runs must be 1..")
    fails("--turns", 0, message="--turns must be 1..")
    proc = run_pulse(pulse_bin, "--lake", lake, "--set", "sim.max_runs=100", "simulate", "--runs", 101, check=False)
    assert proc.returncode == 1 and "sim.max_runs" in proc.stderr
    fails("--fork", "nosuch=1", message="unknown variable 'nosuch'")
    fails("--fork", "hope=abc", message="needs a number")
    state = tmp_path / "state.yaml"
    state.write_text("hope: [1, 2]\n")
    fails("--state", state, message="needs a number")
    fails("--quantiles", "0,50", message="--quantiles")
    assert not (lake / "simulations").exists()  # nothing half-written


def test_retrodict_from_a_file_and_from_the_lake(pulse_bin, lake, tmp_path):
    history = tmp_path / "history.csv"
    rows = ["name,ts,value"]
    for week in range(10):  # weekly observations, inflation in percent
        day = f"2024-01-{1 + 3 * week:02d}" if week < 10 else None
        rows.append(f"infl,{day},3.0")
        rows.append(f"nvda,{day},0")
        rows.append(f"mystery,{day},1")
    history.write_text("\n".join(rows) + "\n")
    out = json.loads(simulate(pulse_bin, lake, "retrodict", "--csv", history, "--map", "infl=inflation_index/100",
                              "--grid", "daily", "--json", "-").stdout)
    assert out["turns"] == 27 and out["mode"] == "strict"
    infl = out["variables"]["inflation_index"]
    assert infl["count"] == 9
    # Strict: each compared day is one step after an injected 0.03: the static rule adds 0.01 only
    # on the first turn after an injection; unobserved days in between add more.
    assert 0.009 < infl["mae"] < 0.031
    assert out["unmapped_signals"] == ["mystery"]
    free = json.loads(simulate(pulse_bin, lake, "retrodict", "--csv", history, "--map", "infl=inflation_index/100",
                               "--grid", "daily", "--mode", "free", "--json", "-").stdout)
    assert free["variables"]["inflation_index"]["mae"] > infl["mae"]

    run_pulse(pulse_bin, "--lake", lake, "ingest", history, "--kind", "macro")
    text = simulate(pulse_bin, lake, "retrodict", "--kinds", "macro", "--map", "infl=inflation_index/100").stdout
    assert "inflation_index" in text and "weekly grid" in text

    def fails(*args, message):
        proc = simulate(pulse_bin, lake, "retrodict", *args, check=False)
        assert proc.returncode == 1 and message in proc.stderr, proc.stderr
    fails("--csv", history, "--grid", "hourly", message="--grid is daily or weekly")
    fails("--csv", history, "--mode", "sometimes", message="--mode is strict or free")
    fails("--csv", history, "--map", "infl=nope", message="unknown variable 'nope'")
    fails("--csv", history, "--map", "infl=inflation_index/0", message="bad scale")
    fails("--csv", tmp_path / "absent.csv", message="absent.csv")
    only_unknown = tmp_path / "unknown.csv"
    only_unknown.write_text("name,ts,value\nmystery,2024-01-01,1\nmystery,2024-01-08,2\n")
    fails("--csv", only_unknown, message="no signal name matches")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,ts,value\ninfl,2024-01-01,x\n")
    fails("--csv", bad, message="bad rows")


@pytest.mark.skipif(not os.environ.get("PULSE_TEST_REDIS_URL"), reason="PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
def test_retrodict_task_from_python_celery_equals_the_cli(pulse_bin, lake, tmp_path):
    """pulse.retrodict on a Pulse worker, sent by stock Celery, returns the CLI's report."""
    import redis
    from celery import Celery
    url = os.environ["PULSE_TEST_REDIS_URL"]
    redis.Redis.from_url(url).flushdb()
    history = tmp_path / "history.csv"
    history.write_text("name,ts,value\n" + "".join(f"infl,2024-01-{1 + 3 * w:02d},{2 + w / 10}\n" for w in range(10)))
    run_pulse(pulse_bin, "--lake", lake, "ingest", history, "--kind", "macro")
    cli = json.loads(simulate(pulse_bin, lake, "retrodict", "--kinds", "macro", "--map", "infl=inflation_index/100",
                              "--grid", "daily", "--json", "-").stdout)
    worker = subprocess.Popen([pulse_bin, "worker", "--broker", url, "--concurrency", "1", "--lake", str(lake)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        app = Celery("retro", broker=url, backend=url)
        kwargs = {"lake": str(lake), "kinds": ["macro"], "grid": "daily",
                  "mapping": {"infl": {"variable": "inflation_index", "scale": 0.01}}}
        result = app.send_task("pulse.retrodict", kwargs=kwargs).get(timeout=60)
        assert result == cli
        with pytest.raises(Exception, match="grid is daily or weekly"):
            app.send_task("pulse.retrodict", kwargs={**kwargs, "grid": "hourly"}).get(timeout=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)
