#!/usr/bin/env python3
"""Regenerates data/sim/catalog.yaml, the simulation's world-state catalog.

The catalog lists the 5 symbolic overlays, the 5 capital assets and the variables: the 304 entries
of the original Pulse's variable registry (repengine/pulse @ 6a9f1131, engine/variable_registry.py,
VARIABLE_REGISTRY, in registry order) followed by the 10 rule drivers that the causal and static
rules read, at their legacy defaults (they are absent from the registry at that commit; their
defaults and descriptions come from core/variable_registry.py at d71b456c, 2025-04-24).

  python3 scripts/sim/make-catalog.py                      # reads the exported original source
  python3 scripts/sim/make-catalog.py --source DIR         # DIR = root of the original source tree
  python3 scripts/sim/make-catalog.py --registry-json FILE # the registry dumped as JSON
  python3 scripts/sim/make-catalog.py --check              # exit 1 if the file on disk differs

The default source is ${PULSE_CACHE:-~/.cache/pulse}/original-pulse/src, which scripts/make-sim-golden
exports. The registry is read with ast.literal_eval; nothing of the original is imported or run.
Output is deterministic (byte-identical for the same registry).
"""
import argparse
import ast
import json
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "data" / "sim" / "catalog.yaml"
COMMIT = "6a9f11313c983e0269c4f81e24a9cdfa58d2ea8f"
LEGACY_COMMIT = "d71b456c"

OVERLAYS = [("hope", 0.5), ("despair", 0.5), ("rage", 0.5), ("fatigue", 0.5), ("trust", 0.5)]
CAPITAL = [("nvda", 0.0), ("msft", 0.0), ("ibit", 0.0), ("spy", 0.0), ("cash", 100000.0)]

# name, legacy default, legacy range (core/variable_registry.py @ d71b456c), legacy description, readers
DRIVERS = [
    ("fed_funds_rate", 0.05, (0.0, 0.10), "US Federal Funds Rate", "causal R012"),
    ("inflation_index", 0.03, (0.0, 0.15), "Consumer price inflation rate", "causal R006; written by static R001"),
    ("unemployment_rate", 0.05, (0.0, 0.25), "Unemployment rate", "no rule (seeded only)"),
    ("ai_policy_risk", 0.2, (0.0, 1.0), "AI policy/regulation risk", "causal R009; written by static R002"),
    ("geopolitical_stability", 0.7, (0.0, 1.0), "Geopolitical stability index", "causal R007"),
    ("media_sentiment_score", 0.4, (0.0, 1.0), "Media sentiment score", "causal R008"),
    ("market_volatility_index", 0.2, (0.0, 1.0), "Simulated VIX", "causal R010"),
    ("public_trust_level", 0.6, (0.0, 1.0), "Public trust in institutions", "causal R011, static R002"),
    ("energy_price_index", 0.5, (0.0, 2.0), "Energy price index", "causal R014, R015, static R001"),
    ("crypto_instability", 0.3, (0.0, 1.0), "Crypto market instability index", "causal R013"),
]
# The catalog's driver ranges: [0, 1], except energy_price_index [0, 2].
DRIVER_RANGE = {"energy_price_index": (0.0, 2.0)}

# Plain scalars that YAML 1.1 (PyYAML) would not read back as strings.
_YAML_SPECIAL = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ""}


def num(x):
    """A number as YAML that both PyYAML (YAML 1.1) and yaml-cpp read back as the same double."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite number {x}")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    s = repr(x)
    if "e" in s and "." not in s.split("e")[0]:  # PyYAML needs a dot in the mantissa: 1e-05 -> 1.0e-05
        m, e = s.split("e")
        s = f"{m}.0e{e}"
    return s


def name(s):
    if not s.isidentifier() or s.lower() in _YAML_SPECIAL:
        raise ValueError(f"name not usable as a plain YAML scalar / expression name: {s!r}")
    return s


def text(s):
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def registry_from_source(src):
    path = Path(src) / "engine" / "variable_registry.py"
    tree = ast.parse(path.read_text(), str(path))
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id == "VARIABLE_REGISTRY":
            return ast.literal_eval(node.value), f"l.{node.lineno}"
    raise SystemExit(f"VARIABLE_REGISTRY not found in {path}")


def render(registry, origin):
    for k, v in registry.items():
        if set(v) != {"type", "default", "range", "description"} or len(v["range"]) != 2:
            raise SystemExit(f"unexpected registry entry {k}: {v}")
    dup = [d[0] for d in DRIVERS if d[0] in registry]
    types = {}
    for v in registry.values():
        types[v["type"]] = types.get(v["type"], 0) + 1
    L = []
    w = L.append
    w("# Pulse simulation world-state catalog: symbolic overlays, capital assets and variables.")
    w("#")
    w(f"# Source: the original Pulse (github.com/repengine/pulse) at commit {COMMIT}.")
    w(f"#   variables 1-{len(registry)}: engine/variable_registry.py VARIABLE_REGISTRY ({origin}), in registry order")
    w("#     (" + ", ".join(f"{n} {t}" for t, n in types.items()) + "); `range` is metadata only: the original never")
    w("#     enforces it and neither clamps nor checks variables.")
    w(f"#   the {len(DRIVERS)} `driver` variables after them: the variables the causal/static rules read. They are absent")
    w("#     from the registry at that commit (so the original reads them as 0.0 unless a caller seeds them);")
    w(f"#     defaults and descriptions are the legacy ones from core/variable_registry.py at {LEGACY_COMMIT}.")
    w("#     Catalog ranges: [0, 1], except energy_price_index [0, 2].")
    if dup:
        w("#     Already in the registry, so not repeated here: " + ", ".join(dup) + ".")
    else:
        w("#     None of the 10 driver names occurs in the registry, so none is dropped as a duplicate.")
    w("#   overlays: engine/worldstate.py SymbolicOverlays (core five; dynamic overlays are not catalogued).")
    w("#   capital:  engine/worldstate.py CapitalExposure.")
    w("#")
    w("# Generated by scripts/sim/make-catalog.py; do not edit by hand.")
    w("overlays:        # symbolic overlays, clamped to [0, 1] on every write")
    for n, d in OVERLAYS:
        w(f"  - {{name: {name(n)}, default: {num(d)}}}")
    w("capital:         # exposure in dollars, floored at 0 (the original's clamp)")
    for n, d in CAPITAL:
        w(f"  - {{name: {name(n)}, default: {num(d)}}}")
    w(f"variables:       # the {len(registry)} registry entries, then the {len(DRIVERS) - len(dup)} rule drivers at their legacy defaults")
    taken = {n for n, _ in OVERLAYS} | {n for n, _ in CAPITAL}
    for k, v in registry.items():
        if k in taken:
            raise SystemExit(f"registry name {k} collides with an overlay/capital name")
        lo, hi = v["range"]
        w(f"  - {{name: {name(k)}, type: {name(v['type'])}, default: {num(v['default'])}, "
          f"range: [{num(lo)}, {num(hi)}], description: {text(v['description'])}}}")
    for n, d, (llo, lhi), desc, readers in DRIVERS:
        if n in dup:
            continue
        lo, hi = DRIVER_RANGE.get(n, (0.0, 1.0))
        note = (f"legacy rule driver ({desc}; core/variable_registry.py@{LEGACY_COMMIT}, legacy range "
                f"[{num(llo)}, {num(lhi)}]; not in the registry at 6a9f1131; read by {readers})")
        w(f"  - {{name: {name(n)}, type: driver, default: {num(d)}, range: [{num(lo)}, {num(hi)}], "
          f"description: {text(note)}}}")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--source", help="root of the original source tree")
    g.add_argument("--registry-json", help="VARIABLE_REGISTRY dumped as JSON (key order = registry order)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    a = ap.parse_args()
    if a.registry_json:
        with open(a.registry_json) as f:
            registry = json.load(f)
        origin = "l.21"  # where VARIABLE_REGISTRY starts at 6a9f1131
    else:
        src = a.source or os.path.join(os.environ.get("PULSE_CACHE", os.path.expanduser("~/.cache/pulse")),
                                       "original-pulse", "src")
        if not os.path.isfile(os.path.join(src, "engine", "variable_registry.py")):
            raise SystemExit(f"original source not found at {src}: run scripts/make-sim-golden first, "
                             "or pass --source DIR / --registry-json FILE")
        registry, origin = registry_from_source(src)
    text_out = render(registry, origin)
    if a.check:
        same = Path(a.out).is_file() and Path(a.out).read_text() == text_out
        print(f"{a.out}: {'up to date' if same else 'DIFFERS'}", file=sys.stderr)
        sys.exit(0 if same else 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text_out)
    print(f"wrote {a.out}: {len(OVERLAYS)} overlays, {len(CAPITAL)} capital, "
          f"{len(registry)} registry + {len(DRIVERS)} driver variables", file=sys.stderr)


if __name__ == "__main__":
    main()
