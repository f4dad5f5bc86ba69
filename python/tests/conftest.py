"""Fixtures for the pulse package's tests: the pulse binary (to make lakes and compare with the CLI)
and a lake with the bundled US macro dataset ingested and forecast."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def pulse_bin() -> str:
    path = os.environ.get("PULSE_BIN", str(ROOT / "build/dev/apps/pulse/pulse"))
    assert Path(path).exists(), f"pulse binary not found at {path}: run through scripts/test"
    return path


def run_pulse(pulse_bin, *args, env=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    full_env.update(env or {})
    proc = subprocess.run([pulse_bin, *map(str, args)], capture_output=True, text=True, env=full_env, timeout=600)
    assert proc.returncode == 0, f"pulse {' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="session")
def macro_lake(pulse_bin, tmp_path_factory) -> Path:
    """A lake after `pulse run` on the bundled US macro dataset: signals, forecasts, simulations,
    trust scores."""
    work = tmp_path_factory.mktemp("macro")
    run_pulse(pulse_bin, "--lake", work / "lake", "run", "--out", work / "report")
    return work / "lake"
