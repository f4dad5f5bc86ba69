"""`pulse forecast eval` on the M4 subsets in ../shared/data/m4: the accuracy and calibration
targets of the forecast issue, asserted on behaviour (not timing)."""
import json
from pathlib import Path

import pytest

from conftest import ROOT, run_pulse

M4 = ROOT.parent / "shared" / "data" / "m4"


@pytest.mark.parametrize("group,period", [("Weekly", 1), ("Hourly", 24)])
def test_m4_accuracy_and_calibrated_coverage(pulse_bin, group, period):
    train, test = M4 / f"{group}-train.csv", M4 / f"{group}-test.csv"
    assert train.exists(), f"missing {train}"
    out = json.loads(run_pulse(pulse_bin, "forecast", "eval", "--train", train, "--test", test,
                               "--period", period, "--json").stdout)
    methods = {m["method"]: m for m in out["methods"]}
    assert out["skipped"] == 0
    assert methods["Naive2"]["owa"] == pytest.approx(1.0)
    # The ensemble beats Theta by at least 3% OWA.
    assert methods["Ensemble"]["owa"] <= 0.97 * methods["Theta"]["owa"]
    # Calibrated coverage of the ensemble hits the targets.
    cover = {round(i["level"] * 100): i["coverage_calibrated"] for i in methods["Ensemble"]["intervals"]}
    assert 0.935 <= cover[95] <= 0.965
    assert 0.77 <= cover[80] <= 0.83


def test_bad_m4_input_is_a_clear_error(pulse_bin, tmp_path):
    bad = tmp_path / "bad-train.csv"
    bad.write_text('"V1","V2","V3"\n"W1","1","x"\n')
    test = tmp_path / "bad-test.csv"
    test.write_text('"V1","V2"\n"W1","1"\n')
    proc = run_pulse(pulse_bin, "forecast", "eval", "--train", bad, "--test", test, "--period", "1", check=False)
    assert proc.returncode == 1 and "bad number 'x'" in proc.stderr and ":2:" in proc.stderr
    proc = run_pulse(pulse_bin, "forecast", "eval", "--train", bad, "--test", test, "--period", "0", check=False)
    assert proc.returncode == 1 and "--period" in proc.stderr
    proc = run_pulse(pulse_bin, "forecast", "eval", "--train", tmp_path / "none.csv", "--test", test,
                     "--period", "1", check=False)
    assert proc.returncode == 1 and "none.csv" in proc.stderr
