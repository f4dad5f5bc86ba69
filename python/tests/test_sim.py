"""pulse.simulate: the same numbers as `pulse simulate`, chunks that merge exactly into the batch,
summaries that travel as bytes and pickles, errors as Pulse exceptions."""

import json
import pickle
import random

import pytest

import pulse
from conftest import ROOT, run_pulse


def test_matches_the_cli(pulse_bin, tmp_path):
    out = tmp_path / "sim.json"
    run_pulse(pulse_bin, "simulate", "--runs", 300, "--turns", 6, "--seed", 11, "--no-lake", "--json", out)
    cli = json.loads(out.read_text())
    s = pulse.simulate(300, turns=6, seed=11)
    assert s.runs == 300 and s.steps == 7
    for name in ("tension", "hope", "fragility"):
        for step in range(7):
            got = s.stats(name, step, [0.05, 0.5, 0.95])
            assert got["mean"] == cli["variables"][name]["mean"][step]
            assert got["sd"] == cli["variables"][name]["sd"][step]
            assert got["quantiles"] == cli["variables"][name]["quantiles"][step]
    assert dict(zip(pulse.load_world().rules, s.rule_fired)) == cli["rule_run_turns_fired"]


@pytest.mark.parametrize("cuts", [[1], [37, 38, 150], [299]])
def test_chunks_merge_to_the_batch_in_any_order(cuts):
    whole = pulse.simulate(300, turns=5, seed=3, threads=2)
    bounds = [0, *cuts, 300]
    chunks = [pulse.simulate(b - a, turns=5, seed=3, first_run=a, threads=1) for a, b in zip(bounds, bounds[1:])]
    random.Random(len(cuts)).shuffle(chunks)
    merged = pulse.merge_summaries(chunks)
    assert merged.to_bytes() == whole.to_bytes()
    assert merged == whole and merged.runs == 300
    assert merged.rule_fired == whole.rule_fired


def test_bytes_pickle_and_table():
    s = pulse.simulate(50, turns=3, seed=1)
    assert pulse.Summary.from_bytes(s.to_bytes()) == s
    assert pickle.loads(pickle.dumps(s)) == s
    t = s.to_arrow(quantiles=[0.1, 0.9], variables=["tension", "hope"])
    assert t.column_names == ["step", "variable", "count", "mean", "sd", "min", "max", "q0.1", "q0.9"]
    assert t.num_rows == 4 * 2 and set(t.column("count").to_pylist()) == {50}
    full = s.to_arrow()
    assert full.num_rows == s.steps * len(s.variables)
    world = pulse.load_world()
    assert pickle.loads(pickle.dumps(world)).variables == world.variables
    assert len(world.variables) > 300


def test_world_state_and_files(tmp_path):
    base = pulse.simulate(40, turns=2, seed=5, noise=0)
    world = pulse.load_world(state={"hope": 0.9})
    changed = pulse.simulate(40, turns=2, seed=5, noise=0, world=world)
    assert changed.stats("hope", 0)["mean"] == pytest.approx(0.9, abs=1e-6)
    assert changed != base
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - id: r\n    when: 'hope >'\n")
    with pytest.raises(pulse.ParseError, match=str(bad)):
        pulse.load_world(rules=bad)
    with pytest.raises(pulse.NotFoundError, match="catalog: no file"):
        pulse.load_world(catalog=tmp_path / "missing.yaml")
    with pytest.raises(pulse.InvalidArgumentError, match="unknown variable 'nope'"):
        pulse.load_world(state={"nope": 1})


def test_errors():
    with pytest.raises(pulse.InvalidArgumentError, match="runs"):
        pulse.simulate(0)
    with pytest.raises(pulse.InvalidArgumentError, match="runs"):
        pulse.simulate(-3)
    with pytest.raises(pulse.InvalidArgumentError, match="noise"):
        pulse.simulate(10, noise=float("nan"))
    s = pulse.simulate(10, turns=2)
    with pytest.raises(pulse.NotFoundError, match="no variable 'nope'"):
        s.stats("nope", 0)
    with pytest.raises(pulse.OutOfRangeError, match="step"):
        s.stats("hope", 3)
    with pytest.raises(pulse.InvalidArgumentError, match="quantiles"):
        s.to_arrow(quantiles=[1.5])
    with pytest.raises(pulse.InvalidArgumentError, match="different simulations"):
        s.merge(pulse.simulate(10, turns=3))
    with pytest.raises(pulse.InvalidArgumentError, match="summary"):
        pulse.Summary.from_bytes(b"junk")
    with pytest.raises(pulse.InvalidArgumentError):
        pulse.Summary.from_bytes(s.to_bytes()[:-20])
    assert s.runs == 10  # the failed merge changed nothing
    with pytest.raises(pulse.InvalidArgumentError, match="empty"):
        pulse.Summary().stats("hope", 0)
    with pytest.raises(pulse.InvalidArgumentError, match="turns"):
        pulse.simulate(10, turns="5")
    assert pulse.merge_summaries([]).runs == 0
