#!/usr/bin/env python3
"""Speed baseline of the ORIGINAL Python Pulse's turn loop, the number the C++ simulation is compared to.

Runs scripts/sim/run_original.py `speed` inside the Debian 13 root that scripts/make-sim-golden
builds (the original needs Python >= 3.12): RUNS independent states (WorldState() + the 10 legacy
drivers, construction timed), each stepped TURNS times with run_turn(state, verbose=False), the
original's file side effects off, REPEAT times; prints one JSON line on stdout:

  {"run_turns_per_s_median": ..., "runs": ..., "turns": ..., "repeat": ..., "run_turns_per_s_best": ..., ...}

  sudo python3 bench/sim_original.py [--runs 200] [--turns 52] [--repeat 5] [--symbolic] [--quiet-logging]

Needs root (chroot). The root lives at ${PULSE_CACHE:-~/.cache/pulse}/trixie-root. Without
--quiet-logging the original's per-turn R001 error goes through logging to stderr as shipped
(discarded here, but its cost is counted); --quiet-logging disables logging.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("PULSE_CACHE", Path.home() / ".cache" / "pulse"))
CHROOT = CACHE / "trixie-root"
SRC = CACHE / "original-pulse" / "src"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--turns", type=int, default=52)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--symbolic", action="store_true", help="ENABLE_SYMBOLIC_SYSTEM=True (False at HEAD)")
    ap.add_argument("--quiet-logging", action="store_true", help="logging.disable() in the original")
    a = ap.parse_args()

    if not (CHROOT / "usr" / "bin" / "python3").exists():
        sys.exit(f"sim_original.py: no Debian root at {CHROOT}. Build it (and the original's source export) "
                 "with scripts/make-sim-golden, as root; see its header.")
    if os.geteuid() != 0:
        sys.exit("sim_original.py: run as root (it uses chroot into " + str(CHROOT) + ")")
    original = CHROOT / "opt" / "pulse-original"
    if not (original / "engine" / "turn_engine.py").exists():
        if not (SRC / "engine" / "turn_engine.py").exists():
            sys.exit(f"sim_original.py: the original source is neither in {original} nor in {SRC}; "
                     "run scripts/make-sim-golden first")
        shutil.copytree(SRC, original, symlinks=True)
    driver = CHROOT / "opt" / "pulse-sim" / "run_original.py"
    driver.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "scripts" / "sim" / "run_original.py", driver)

    cmd = ["chroot", str(CHROOT), "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8",
           "python3", "/opt/pulse-sim/run_original.py", "--src", "/opt/pulse-original", "speed",
           "--runs", str(a.runs), "--turns", str(a.turns), "--repeat", str(a.repeat)]
    cmd += ["--symbolic"] * a.symbolic + ["--quiet-logging"] * a.quiet_logging
    with tempfile.TemporaryFile() as err:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        if p.returncode != 0:
            err.seek(0)
            sys.stderr.write(err.read()[-4000:].decode(errors="replace"))
            sys.exit(f"sim_original.py: the speed run failed (exit {p.returncode})")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    out = {"run_turns_per_s_median": round(res["run_turns_per_s_median"], 1), "runs": res["runs"],
           "turns": res["turns"], "repeat": res["repeat"],
           "run_turns_per_s_best": round(res["run_turns_per_s_best"], 1),
           "seconds": [round(s, 4) for s in res["seconds"]], "symbolic": res["symbolic"],
           "quiet_logging": res["quiet_logging"], "python": res["python"]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
