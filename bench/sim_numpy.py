#!/usr/bin/env python3
"""The honest NumPy peer of Pulse's Monte Carlo: the same world model, rules and noise, vectorised over runs.

Reads data/sim/catalog.yaml and data/sim/rules.yaml (the files Pulse runs), compiles every rule
expression into NumPy operations over a (runs,) column per slot, and steps RUNS runs x TURNS turns
the way src/sim does (docs/simulation.md): initial jitter, then per turn decay every overlay
(max(0, o - 0.01)), the causal rules then the static ones in file order (each seeing the earlier
ones' effects; causal `add` scaled by trust x importance; overlay effects are no-ops with the
symbolic switch off, as in the original; capital floored at 0), then a Gaussian shock on every
ranged slot (sd = noise x range width, clipped to the range). Every step it computes what Pulse's
summary holds: per slot and derived column (tension, fragility, the 8 state-tag and 5 arc
indicators, each overlay's change) the mean, sd, min, max and the 5/50/95% quantiles. It keeps no
paths. Random numbers come from NumPy's Philox generator, so the numbers agree with Pulse's within
Monte Carlo error, not bit for bit (bench/sim_bench.py checks that).

  .venv/bin/python bench/sim_numpy.py --runs 10000 --turns 52 [--noise 0.01] [--state full|drivers] [--stats a,b]

Prints one JSON line: runs, turns, seconds, run_turns_per_s, max_rss_mib and, for --stats
columns, the last step's mean, sd and quantiles. Single-threaded: OMP/BLAS threads are irrelevant
(no linear algebra), and NumPy's element-wise kernels run on one core.
"""
import argparse
import json
import resource
import re
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAGS = ["Hope Rising", "Despair Dominant", "Fatigue Plateau", "Collapse Risk", "Symbolic Drain",
        "Hope-Rage Conflict", "Symbolic Exhaustion", "Neutral"]
ARCS = ["Hope Surge", "Collapse Risk", "Rage Arc", "Fatigue Loop", "Unknown"]

TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_.]*)|(<=|>=|==|!=|[-+*/()<>,]))")


def compile_expr(text, index):
    """Parses the expression language of src/sim/expr.h into a function of the state columns."""
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"bad expression {text!r} at {pos}")
        tokens.append(m.group(1) and ("num", float(m.group(1))) or m.group(2) and ("name", m.group(2))
                      or ("sym", m.group(3)))
        pos = m.end()
    tokens.append(("end", None))
    at = [0]

    def peek():
        return tokens[at[0]]

    def take():
        at[0] += 1
        return tokens[at[0] - 1]

    def accept(sym):
        if peek()[1] == sym and peek()[0] in ("sym", "name"):
            take()
            return True
        return False

    f64 = lambda b: b.astype(np.float64)  # noqa: E731 - truth values are 1.0 / 0.0
    binary = {"+": np.add, "-": np.subtract, "*": np.multiply,
              "/": lambda a, b: np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0),
              "<": lambda a, b: f64(a < b), "<=": lambda a, b: f64(a <= b), ">": lambda a, b: f64(a > b),
              ">=": lambda a, b: f64(a >= b), "==": lambda a, b: f64(a == b), "!=": lambda a, b: f64(a != b)}

    def level_or():
        left = level_and()
        while accept("or"):
            a, b = left, level_and()
            left = lambda s, a=a, b=b: f64((a(s) != 0) | (b(s) != 0))  # noqa: E731
        return left

    def level_and():
        left = level_not()
        while accept("and"):
            a, b = left, level_not()
            left = lambda s, a=a, b=b: f64((a(s) != 0) & (b(s) != 0))  # noqa: E731
        return left

    def level_not():
        if accept("not"):
            a = level_not()
            return lambda s: f64(a(s) == 0)
        return level_cmp()

    def level_cmp():
        left = level_sum()
        if peek()[1] in ("<", "<=", ">", ">=", "==", "!="):
            op = binary[take()[1]]
            a, b = left, level_sum()
            left = lambda s, a=a, b=b, op=op: op(a(s), b(s))  # noqa: E731
        return left

    def level_sum():
        left = level_prod()
        while peek()[1] in ("+", "-") and peek()[0] == "sym":
            op = binary[take()[1]]
            a, b = left, level_prod()
            left = lambda s, a=a, b=b, op=op: op(a(s), b(s))  # noqa: E731
        return left

    def level_prod():
        left = unary()
        while peek()[1] in ("*", "/") and peek()[0] == "sym":
            op = binary[take()[1]]
            a, b = left, unary()
            left = lambda s, a=a, b=b, op=op: op(a(s), b(s))  # noqa: E731
        return left

    def unary():
        if accept("-"):
            a = unary()
            return lambda s: -a(s)
        return atom()

    def atom():
        kind, value = take()
        if kind == "num":
            return lambda s, v=value: v
        if kind == "sym" and value == "(":
            e = level_or()
            assert accept(")"), text
            return e
        if kind == "name" and value in ("min", "max", "abs", "clamp"):
            assert accept("("), text
            args = [level_or()]
            while accept(","):
                args.append(level_or())
            assert accept(")"), text
            fn = {"min": np.minimum, "max": np.maximum, "abs": np.abs,
                  "clamp": lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi)}[value]
            return lambda s, fn=fn, args=args: fn(*[a(s) for a in args])
        if kind == "name":
            i = index[value]
            return lambda s, i=i: s[i]
        raise ValueError(f"bad expression {text!r}")

    e = level_or()
    assert peek()[0] == "end", text
    return e


def load(state):
    cat = yaml.safe_load((ROOT / "data/sim/catalog.yaml").read_text())
    slots = []  # (name, kind, initial, range)
    for o in cat["overlays"]:
        slots.append((o["name"], "overlay", o["default"], (0.0, 1.0)))
    for c in cat["capital"]:
        slots.append((c["name"], "capital", c["default"], None))
    for v in cat["variables"]:
        if state == "full" or v.get("type") == "driver":
            slots.append((v["name"], "variable", v["default"], tuple(v["range"]) if "range" in v else None))
    index = {s[0]: i for i, s in enumerate(slots)}
    rules = yaml.safe_load((ROOT / "data/sim/rules.yaml").read_text())["rules"]
    compiled = []
    for kind in ("causal", "static"):
        for r in rules:
            if r["kind"] != kind:
                continue
            mod = r.get("trust", 0.5) * r.get("importance", 1.0) if kind == "causal" else 1.0
            effects = []
            for e in r["effects"]:
                op = "add" if "add" in e else "set" if "set" in e else "scale"
                effects.append((index[e["target"]], op, compile_expr(str(e[op]), index)))
            compiled.append((compile_expr(str(r["when"]), index), mod, effects))
    return slots, index, compiled


def simulate(runs, turns, noise, state, seed, stats_columns):
    slots, index, rules = load(state)
    kinds = [s[1] for s in slots]
    rng = np.random.Generator(np.random.Philox(seed))
    x = [np.full(runs, float(s[2])) for s in slots]
    noisy = [(i, s[3][0], s[3][1], noise * (s[3][1] - s[3][0])) for i, s in enumerate(slots) if s[3] and noise > 0]
    overlays = [i for i, k in enumerate(kinds) if k == "overlay"]
    ov = {name: index.get(name) for name in ("hope", "despair", "rage", "fatigue", "trust")}
    steps = []

    def shock():
        z = rng.standard_normal((len(noisy), runs))
        for j, (i, lo, hi, sd) in enumerate(noisy):
            x[i] = np.clip(x[i] + sd * z[j], lo, hi)

    def record(before):
        # The summary's columns: every slot, tension, fragility, tag and arc indicators, overlay deltas.
        half = np.full(runs, 0.5)
        h, d, g, f, t = (x[ov[k]] if ov[k] is not None else half for k in ("hope", "despair", "rage", "fatigue", "trust"))
        tension = h * d + g * t + 0.5 * f * h
        change = sum(np.abs(x[o] - before[k]) for k, o in enumerate(overlays))
        fragility = np.minimum(0.6 * tension + 0.4 * np.minimum(change / 5, 1.0), 0.7)
        tag = np.select([(h > 0.7) & (d < 0.3) & (g < 0.4), (d > 0.7) & (h < 0.3), (f > 0.7) & (g < 0.4),
                         (g > 0.65) & (f > 0.55), (h < 0.25) & (d < 0.25) & (g < 0.25), (h > 0.6) & (g > 0.6),
                         (f > 0.6) & (d > 0.6)], list(range(7)), 7)
        arc = np.select([h > 0.7, d > 0.6, g > 0.6, f > 0.5], list(range(4)), 4)
        columns = list(x) + [tension, fragility] + [(tag == k).astype(float) for k in range(len(TAGS))] + \
            [(arc == k).astype(float) for k in range(len(ARCS))] + [x[o] - before[k] for k, o in enumerate(overlays)]
        m = np.stack(columns)  # (columns, runs)
        out = {"mean": m.mean(axis=1), "sd": m.std(axis=1, ddof=1) if runs > 1 else np.zeros(len(m)),
               "min": m.min(axis=1), "max": m.max(axis=1),
               "q": np.quantile(m, [0.05, 0.5, 0.95], axis=1, method="inverted_cdf")}
        steps.append(out)

    started = time.perf_counter()
    shock()
    before = [x[o].copy() for o in overlays]
    record(before)
    for _ in range(turns):
        before = [x[o].copy() for o in overlays]
        for o in overlays:
            x[o] = np.maximum(0.0, x[o] - 0.01)
        for when, mod, effects in rules:
            mask = when(x) != 0
            if not mask.any():
                continue
            for target, op, value in effects:
                if kinds[target] == "overlay":
                    continue  # the original's adjust_overlay with the symbolic switch off
                v = np.broadcast_to(value(x), (runs,))
                new = x[target] + mod * v if op == "add" else v if op == "set" else x[target] * v
                if kinds[target] == "capital":
                    new = np.maximum(new, 0.0)
                x[target] = np.where(mask, new, x[target])
        shock()
        record(before)
    seconds = time.perf_counter() - started
    names = [s[0] for s in slots] + ["tension", "fragility"] + ["tag." + t for t in TAGS] + \
        ["arc." + a for a in ARCS] + ["delta." + slots[o][0] for o in overlays]
    last = steps[-1]
    stats = {}
    for c in stats_columns:
        i = names.index(c)
        stats[c] = {"mean": float(last["mean"][i]), "sd": float(last["sd"][i]),
                    "quantiles": [float(q) for q in last["q"][:, i]]}
    return seconds, len(slots), stats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10000)
    ap.add_argument("--turns", type=int, default=52)
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--state", choices=["full", "drivers"], default="full")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stats", default="", help="comma-separated columns whose last-step statistics to print")
    a = ap.parse_args()
    seconds, nslots, stats = simulate(a.runs, a.turns, a.noise, a.state, a.seed, [c for c in a.stats.split(",") if c])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"runs": a.runs, "turns": a.turns, "noise": a.noise, "slots": nslots, "seconds": round(seconds, 6),
                      "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 6),
                      "run_turns_per_s": round(a.runs * a.turns / seconds, 1),
                      "max_rss_mib": round(usage.ru_maxrss / 1024, 1), "stats": stats}))


if __name__ == "__main__":
    main()
