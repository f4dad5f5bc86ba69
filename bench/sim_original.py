#!/usr/bin/env python3
"""Speed baseline of the ORIGINAL Python Pulse's turn loop, the number the C++ simulation is compared to.

Runs scripts/sim/run_original.py `speed` inside the Debian 13 root that scripts/make-sim-golden
builds (the original needs Python >= 3.12): RUNS independent states (WorldState() + the 10 legacy
drivers, construction timed), each stepped TURNS times with run_turn(state, verbose=False), the
original's file side effects off, REPEAT times; prints one JSON line on stdout:

  {"run_turns_per_s_median": ..., "runs": ..., "turns": ..., "repeat": ..., "run_turns_per_s_best": ..., ...}

  sudo python3 bench/sim_original.py [--runs 200] [--turns 52] [--repeat 5] [--symbolic] [--quiet-logging]

With --noise X it runs the REAL workload instead (run_original.py `noisy`): the full state of
Pulse's `--state full` built from the original's registry (5 overlays, 5 capital, 304 registry
variables + the 10 legacy drivers), initial jitter and a Gaussian shock after every run_turn on every
ranged slot (sd = X x range width, clipped to the range; --rng gauss: random.gauss per slot,
--rng numpy: one NumPy draw per state), every step's values kept and summarised with NumPy at the
end. Its JSON line adds cpu_seconds, run_turns_per_cpu_s_median, max_rss_mib, the last step's
stats of the --stats slots, and is checked against data/sim/catalog.yaml: the same slots, in the
same order, with the same ranges, or it fails.

  sudo python3 bench/sim_original.py --noise 0.01 [--rng gauss|numpy] [--seed 1] [--stats hope,us_10y_yield]
                                     [--linear-audit]

--linear-audit replaces the original's rules/rule_audit_layer.audit_rule (which deep-copies the
variables dict once per variable each time a static rule fires: quadratic in the state's size, and
almost all of the time with the full registry) by one that copies each state once and returns the
same record. Not the original as shipped: it shows how much of the gap is that one function.

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


def check_layout(slot_ranges):
    """Fails unless the original's full state has data/sim/catalog.yaml's slots, order and ranges
    (overlays [0, 1], capital without a range, then every variable with its catalog range)."""
    import yaml  # the .venv's; the host's python3 has it too (scripts/make-sim-golden's catalog check)

    cat = yaml.safe_load((ROOT / "data" / "sim" / "catalog.yaml").read_text())
    want = [[o["name"], 0.0, 1.0] for o in cat["overlays"]] + [[c["name"]] for c in cat["capital"]]
    want += [[v["name"], *map(float, v["range"])] if "range" in v else [v["name"]] for v in cat["variables"]]
    got = [[x[0], *map(float, x[1:])] for x in slot_ranges]
    if got != want:
        diff = next(i for i, (g, w) in enumerate(zip(got + [None] * len(want), want + [None] * len(got))) if g != w)
        sys.exit(f"sim_original.py: the original's full state differs from data/sim/catalog.yaml at slot {diff}: "
                 f"{got[diff] if diff < len(got) else None} vs {want[diff] if diff < len(want) else None}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--turns", type=int, default=52)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--symbolic", action="store_true", help="ENABLE_SYMBOLIC_SYSTEM=True (False at HEAD)")
    ap.add_argument("--quiet-logging", action="store_true", help="logging.disable() in the original")
    ap.add_argument("--noise", type=float, default=None,
                    help="run the full state with noise (sd = NOISE x range width) instead of the drivers baseline")
    ap.add_argument("--rng", choices=["gauss", "numpy"], default="gauss", help="with --noise: how draws are made")
    ap.add_argument("--seed", type=int, default=1, help="with --noise: repeat i uses seed + i")
    ap.add_argument("--stats", default="", help="with --noise: slots whose last-step mean, sd, quantiles to print")
    ap.add_argument("--linear-audit", action="store_true",
                    help="with --noise: the original's audit_rule made linear (not as shipped; what its O(n^2) costs)")
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
    if a.noise is not None and not (CHROOT / "usr" / "lib" / "python3" / "dist-packages" / "numpy").is_dir():
        sys.exit(f"sim_original.py: --noise needs NumPy in the root (roots made before it was added lack it): "
                 f"chroot {CHROOT} apt-get install -y python3-numpy, or remove the root and rerun scripts/make-sim-golden")
    driver = CHROOT / "opt" / "pulse-sim" / "run_original.py"
    driver.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "scripts" / "sim" / "run_original.py", driver)

    mode = ["speed"] if a.noise is None else ["noisy", "--noise", repr(a.noise), "--rng", a.rng,
                                               "--seed", str(a.seed), "--stats", a.stats] + ["--linear-audit"] * a.linear_audit
    cmd = ["chroot", str(CHROOT), "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8",
           "python3", "/opt/pulse-sim/run_original.py", "--src", "/opt/pulse-original", *mode,
           "--runs", str(a.runs), "--turns", str(a.turns), "--repeat", str(a.repeat)]
    cmd += ["--symbolic"] * a.symbolic + ["--quiet-logging"] * a.quiet_logging
    with tempfile.TemporaryFile() as err:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        if p.returncode != 0:
            err.seek(0)
            sys.stderr.write(err.read()[-4000:].decode(errors="replace"))
            sys.exit(f"sim_original.py: the {mode[0]} run failed (exit {p.returncode})")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    if a.noise is not None:
        check_layout(res.pop("slot_ranges"))
        res["seconds"] = [round(x, 4) for x in res["seconds"]]
        res["cpu_seconds"] = [round(x, 4) for x in res["cpu_seconds"]]
        print(json.dumps(res))
        return
    out = {"run_turns_per_s_median": round(res["run_turns_per_s_median"], 1), "runs": res["runs"],
           "turns": res["turns"], "repeat": res["repeat"],
           "run_turns_per_s_best": round(res["run_turns_per_s_best"], 1),
           "seconds": [round(s, 4) for s in res["seconds"]], "symbolic": res["symbolic"],
           "quiet_logging": res["quiet_logging"], "python": res["python"]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
