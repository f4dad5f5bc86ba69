"""pulse's trust functions: the original Pulse's heuristics as src/trust computes them."""

import pytest

import pulse


def test_tension_fragility_and_score():
    assert pulse.tension(0.5, 0.5, 0.5, 0.5, 0.5) == 0.625
    assert pulse.fragility_index(0.625, {"h1": 10.0}) == 0.7  # capped
    s = pulse.trust_score({"h1": 0.01, "h2": 0.02}, fragility=0.2, capital_movement=0.0,
                          memory=[{"h1": 0.01, "h2": 0.02}] * 3)
    assert s["label"] in {"Trusted", "Unstable", "Rejected"} and s["licence"] in {"Licensed", "Unlicensed", "Suppressed"}
    assert 0.4 <= s["confidence"] <= 1 and 0 <= s["risk"] <= 1
    assert s["hist"] == pytest.approx(1.0)
    worse = pulse.trust_score({"h1": 0.01}, fragility=0.9, fragmented=True)
    assert worse["confidence"] <= s["confidence"] and worse["label"] != "Trusted"


def test_track_record():
    good = pulse.track_record([True] * 20)
    bad = pulse.track_record([False] * 20)
    assert good["trust"] > 0.8 > 0.2 > bad["trust"]
    assert good["low"] <= good["trust"] <= good["high"]
    assert pulse.track_record([])["trust"] == 0.5
    with pytest.raises(pulse.InvalidArgumentError, match="decay"):
        pulse.track_record([True], decay=0)
