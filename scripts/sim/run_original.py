#!/usr/bin/env python3
"""Drives the ORIGINAL Python Pulse turn loop (github.com/repengine/pulse @ 6a9f1131) offline.

Runs inside the Debian 13 chroot that scripts/make-sim-golden builds (Python >= 3.12 + PyYAML, and
NumPy for `noisy`; the original does not parse on 3.11), with the original source at /opt/pulse-original:

  python3 run_original.py [--src DIR] golden --out DIR [--turns 40]   golden trajectories + manifest.json
  python3 run_original.py [--src DIR] speed [--runs 200 --turns 52 --repeat 5 --symbolic --quiet-logging]
  python3 run_original.py [--src DIR] noisy [--runs 200 --turns 52 --repeat 3 --noise 0.01 --rng gauss|numpy
                                             --seed 1 --stats a,b --quiet-logging]   full state with noise
  python3 run_original.py [--src DIR] route [--symbolic] [NAME ...]   narrative events (route_signal), JSON
  python3 run_original.py list                                        the golden scenarios

The original source is never edited. After import, the driver:
  * puts a stub `pydantic` module first on sys.path (only the unused engine.pulse_config.PulseConfig
    needs it) and makes cwd the source root (the original uses cwd-relative paths);
  * switches off the side effects: the learning log (analytics.pulse_learning_log._logger.log_event,
    engine.state_mutation.log_learning_event), trace logging (engine.turn_engine.ENABLE_TRACE_LOGGING),
    the proposed-rule-changes read (rules.static_rules.load_proposed_rule_changes) and the symbolic
    bias log (engine.rule_engine.bias_tracker.record); clears state.event_log after every turn;
  * replaces engine.causal_rules.log_bayesian_trust_metrics (a print + log append, called only when
    a causal rule's effect completed) by a recorder: that is how causal firings are captured;
  * sets engine.pulse_config.ENABLE_SYMBOLIC_SYSTEM per scenario (False at HEAD).
Import-time prints of the original go to stderr, so stdout carries only this driver's output.
"""
import argparse
import contextlib
import json
import logging
import os
import random
import resource
import statistics
import sys
import tempfile
import time

COMMIT = "6a9f11313c983e0269c4f81e24a9cdfa58d2ea8f"

# The 10 variables the rules read, at their legacy defaults (core/variable_registry.py @ d71b456c).
# At 6a9f1131 none is in the registry, so WorldState() starts without them.
LEGACY_DRIVERS = {
    "fed_funds_rate": 0.05,
    "inflation_index": 0.03,
    "unemployment_rate": 0.05,
    "ai_policy_risk": 0.2,
    "geopolitical_stability": 0.7,
    "media_sentiment_score": 0.4,
    "market_volatility_index": 0.2,
    "public_trust_level": 0.6,
    "energy_price_index": 0.5,
    "crypto_instability": 0.3,
}

# Ranges of the 10 drivers in Pulse's catalog (data/sim/catalog.yaml): [0, 1], energy_price_index [0, 2].
# The original has no range for them at 6a9f1131 (they are not in its registry).
DRIVER_RANGES = {k: (0.0, 2.0 if k == "energy_price_index" else 1.0) for k in LEGACY_DRIVERS}
OVERLAY_NAMES = ("hope", "despair", "rage", "fatigue", "trust")
CAPITAL_NAMES = ("nvda", "msft", "ibit", "spy", "cash")

ORIG = {}        # the imported original modules
FIRED = []       # causal rule ids whose effect completed during the current turn


class _Discard(logging.Handler):
    """Keeps WARNING/ERROR records (the R001 TypeError every turn it fires, negative-capital clamps)
    away from logging's lastResort stderr handler."""

    def emit(self, record):
        pass


def bootstrap(src, silence_logging=True):
    src = os.path.abspath(src)
    if not os.path.isfile(os.path.join(src, "engine", "turn_engine.py")):
        sys.exit(f"run_original.py: no original source at {src}")
    stubs = tempfile.mkdtemp(prefix="pulse-stubs-")
    with open(os.path.join(stubs, "pydantic.py"), "w") as f:
        f.write("class BaseModel:\n    pass\n\n\ndef Field(*args, **kwargs):\n    return None\n")
    # Any learning-log write that slipped through lands in a temporary directory, not the tree.
    os.environ["PULSE_LEARNING_LOG_PATH"] = os.path.join(stubs, "learning_log.jsonl")
    sys.path[:0] = [stubs, src]
    os.chdir(src)
    with contextlib.redirect_stdout(sys.stderr):
        import analytics.pulse_learning_log as learning_log
        import engine.causal_rules as causal_rules
        import engine.pulse_config as pulse_config
        import engine.pulse_signal_router as signal_router
        import engine.rule_engine as rule_engine
        import engine.state_mutation as state_mutation
        import engine.turn_engine as turn_engine
        import rules.static_rules as static_rules
        from engine.worldstate import WorldState

    def nothing(*args, **kwargs):
        return None

    learning_log._logger.log_event = nothing
    state_mutation.log_learning_event = nothing
    causal_rules.log_bayesian_trust_metrics = lambda rule_id, kind="rule": FIRED.append(rule_id)
    turn_engine.ENABLE_TRACE_LOGGING = False
    static_rules.load_proposed_rule_changes = nothing
    rule_engine.bias_tracker.record = nothing
    if silence_logging:
        logging.getLogger().addHandler(_Discard())
    ORIG.update(pulse_config=pulse_config, turn_engine=turn_engine, WorldState=WorldState,
                signal_router=signal_router)


# --------------------------------------------------------------------------------------------
# Golden scenarios
# --------------------------------------------------------------------------------------------

def drivers(**changes):
    d = dict(LEGACY_DRIVERS)
    d.update(changes)
    return d


HIGH = drivers(inflation_index=0.08, geopolitical_stability=0.3, media_sentiment_score=0.7,
               ai_policy_risk=0.6, market_volatility_index=0.6, public_trust_level=0.3,
               fed_funds_rate=0.08, crypto_instability=0.6, energy_price_index=1.6)
HIGH_CAPITAL = {"nvda": 10000.0, "msft": 5000.0, "ibit": 1500.0, "spy": 8000.0}
CUSTOM_OVERLAYS = {"hope": 0.9, "despair": 0.8, "rage": 0.2, "fatigue": 0.65, "trust": 0.75}
CUSTOM_CAPITAL = {"nvda": 1000.0, "ibit": 600.0}
FATIGUE_OVERLAYS = {"hope": 0.6, "despair": 0.7, "rage": 0.3, "fatigue": 0.9, "trust": 0.4}
FATIGUE_CAPITAL = {"ibit": 5000.0, "nvda": 2000.0}
CLAMP_OVERLAYS = {"hope": 1.0, "despair": 0.0, "rage": 0.005, "fatigue": 0.0, "trust": 0.995}


def injection(t):
    """The injection snapshot passed to the t-th run_turn (t = 0, 1, ...): two rule drivers on ramps
    and two registry variables. Only variable names: the original writes every injected key into
    state.variables, even one named like an overlay."""
    return {
        "energy_price_index": round(0.3 + 0.04 * t, 6),
        "public_trust_level": round(0.75 - 0.01 * t, 6),
        "spx_close": 4000.0 + 25.0 * t,
        "vix_close": 20.0 + (t % 7),
    }


def S(name, desc, symbolic, variables, overlays=None, dynamic=None, capital=None, decay=0.01, inject=False):
    return dict(name=name, description=desc, symbolic=symbolic, variables=variables, overlays=overlays or {},
                dynamic=dynamic or {}, capital=capital or {}, decay_rate=decay, inject=inject)


SCENARIOS = [
    S("head_empty", "WorldState() as HEAD builds it: no variables, so every driver reads 0.0 (R007 and R011 "
      "fire as no-ops); symbolic off.", False, {}),
    S("legacy_default", "Default overlays and capital + the 10 legacy drivers; symbolic off (HEAD config). "
      "Static R001 raises inflation_index 0.01/turn; R006 fires from turn 4.", False, LEGACY_DRIVERS),
    S("legacy_default_symbolic", "As legacy_default with the symbolic switch on.", True, LEGACY_DRIVERS),
    S("drivers_high", "Drivers set so that causal R006..R015 and static R001 fire every turn; capital "
      "nvda/msft/ibit/spy 10000/5000/1500/8000 (ibit hits the 0 floor at turn 22); symbolic off.",
      False, HIGH, capital=HIGH_CAPITAL),
    S("drivers_high_symbolic", "As drivers_high with the symbolic switch on.", True, HIGH, capital=HIGH_CAPITAL),
    S("overlays_custom", "Non-default overlays, a dynamic overlay 'anticipation' 0.3 (decays like the core "
      "five), capital nvda 1000 / ibit 600, public_trust_level 0.7 (static R002 lowers ai_policy_risk "
      "0.02/turn to its 0 floor); symbolic off.", False, drivers(public_trust_level=0.7),
      overlays=CUSTOM_OVERLAYS, dynamic={"anticipation": 0.3}, capital=CUSTOM_CAPITAL),
    S("overlays_custom_symbolic", "As overlays_custom with the symbolic switch on (R002/R003/R004 interplay).",
      True, drivers(public_trust_level=0.7), overlays=CUSTOM_OVERLAYS, dynamic={"anticipation": 0.3},
      capital=CUSTOM_CAPITAL),
    S("fatigue_high", "fatigue 0.9: R005 fires (ibit -75/turn) and R001 is blocked while fatigue > 0.7; "
      "ai_policy_risk and market_volatility_index 0.6 (R009, R010); symbolic off.", False,
      drivers(ai_policy_risk=0.6, market_volatility_index=0.6), overlays=FATIGUE_OVERLAYS, capital=FATIGUE_CAPITAL),
    S("fatigue_high_symbolic", "As fatigue_high with the symbolic switch on.", True,
      drivers(ai_policy_risk=0.6, market_volatility_index=0.6), overlays=FATIGUE_OVERLAYS, capital=FATIGUE_CAPITAL),
    S("overlay_clamp_symbolic", "Overlays at or near 0 and 1 with decay_rate 0.001, so rule pushes beat decay: "
      "trust saturates at 1 (R001 + R015 against R007), hope stays clamped at 1 until R006 starts at turn 4, "
      "fatigue is clamped at 0 mid-turn (R008) before R014 adds; symbolic on.",
      True, drivers(energy_price_index=1.8, media_sentiment_score=0.9, geopolitical_stability=0.2),
      overlays=CLAMP_OVERLAYS, decay=0.001),
    S("injection", "Legacy drivers + an injection snapshot before every turn (manifest 'injections'): "
      "energy_price_index 0.3+0.04t (static R001 from turn 4, R014 from 19, R015 from 32), "
      "public_trust_level 0.75-0.01t (static R002 turns 1-10, R011 from 37), spx_close, vix_close; "
      "symbolic off.", False, LEGACY_DRIVERS, inject=True),
    S("injection_symbolic", "As injection with the symbolic switch on.", True, LEGACY_DRIVERS, inject=True),
    S("decay_0p05_symbolic", "High drivers (as drivers_high, default capital) with decay_rate 0.05; symbolic on.",
      True, HIGH, decay=0.05),
]


def make_state(sc):
    s = ORIG["WorldState"]()
    for k, v in sc["overlays"].items():
        setattr(s.overlays, k, v)
    for k, v in sc["dynamic"].items():
        s.overlays.add_overlay(k, v)
    for k, v in sc["capital"].items():
        setattr(s.capital, k, v)
    s.variables.data.update(sc["variables"])
    s.event_log.clear()
    return s


def state_dict(s):
    return {"overlays": s.overlays.as_dict(), "capital": s.capital.as_dict(), "variables": dict(s.variables.data)}


def run_scenario(sc, turns):
    ORIG["pulse_config"].ENABLE_SYMBOLIC_SYSTEM = sc["symbolic"]
    run_turn = ORIG["turn_engine"].run_turn
    s = make_state(sc)
    steps = [dict(step=0, turn=s.turn, **state_dict(s), causal_fired=[], static_fired=[])]
    injections = [injection(t) for t in range(turns)] if sc["inject"] else None
    for t in range(turns):
        FIRED.clear()
        audits = run_turn(s, decay_rate=sc["decay_rate"], verbose=False,
                          injection_snapshot=injections[t] if injections else None)
        steps.append(dict(step=t + 1, turn=s.turn, **state_dict(s), causal_fired=list(FIRED),
                          static_fired=[a["rule_id"] for a in audits]))
        s.event_log.clear()
    ORIG["pulse_config"].ENABLE_SYMBOLIC_SYSTEM = False
    return steps, injections


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


MANIFEST_NOTES = {
    "step": "0 = the initial state before any run_turn; k = the state after the k-th run_turn",
    "turn": "state.turn (run_turn ends with advance_turn, so turn == step)",
    "overlays": "state.overlays.as_dict(): hope, despair, rage, fatigue, trust, then dynamic overlays",
    "capital": "state.capital.as_dict(): nvda, msft, ibit, spy, cash",
    "variables": "state.variables.data, exactly: variables absent from it read 0.0 in the original "
                 "(get_variable); the 304 registry variables are not seeded",
    "causal_fired": "causal rules whose effect completed this turn, in order. R001_HopeTrust never appears: "
                    "whenever its condition holds its effect raises TypeError after its trust +0.02*mod "
                    "(applied, visible only with symbolic on), so the original counts it as not fired",
    "static_fired": "static rules that fired this turn (run_turn's audit list), in order",
    "turn_call": "run_turn(state, decay_rate=<decay_rate>, verbose=False, injection_snapshot=<injections[k-1] or None>) "
                 "for step k; the injection is written raw into state.variables before decay",
    "initial_state": "how step 0 was built: WorldState(), then these overlays (setattr), dynamic_overlays "
                     "(add_overlay), capital (setattr) and variables (state.variables.data.update); "
                     "everything else at WorldState() defaults. Step 0 of the scenario file is the result",
    "floats": "JSON numbers are Python repr of the doubles (round-trip exact)",
}


def cmd_golden(a):
    bootstrap(a.src)
    os.makedirs(a.out, exist_ok=True)
    manifest = {
        "source": "github.com/repengine/pulse", "commit": a.commit, "python": sys.version.split()[0],
        "driver": "scripts/sim/run_original.py golden", "turns": a.turns,
        "legacy_drivers": LEGACY_DRIVERS, "notes": MANIFEST_NOTES, "scenarios": [],
    }
    for sc in SCENARIOS:
        steps, injections = run_scenario(sc, a.turns)
        head = {"scenario": sc["name"], "commit": a.commit, "symbolic": sc["symbolic"],
                "decay_rate": sc["decay_rate"], "turns": a.turns}
        with open(os.path.join(a.out, sc["name"] + ".json"), "w") as f:
            f.write(dumps(head)[:-1] + ',"steps":[\n')
            f.write(",\n".join(dumps(st) for st in steps))
            f.write("\n]}\n")
        manifest["scenarios"].append({
            "name": sc["name"], "file": sc["name"] + ".json", "description": sc["description"],
            "symbolic": sc["symbolic"], "decay_rate": sc["decay_rate"], "turns": a.turns,
            "initial_state": {"overlays": sc["overlays"], "dynamic_overlays": sc["dynamic"],
                              "capital": sc["capital"], "variables": sc["variables"]},
            "injections": injections,
        })
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, allow_nan=False)
        f.write("\n")
    print(f"wrote {len(SCENARIOS)} scenarios x {a.turns} turns to {a.out}", file=sys.stderr)


def cmd_speed(a):
    # Without --quiet-logging, R001's error goes through logging's lastResort handler to stderr every
    # turn it fires, as in the shipped original; that cost is part of the baseline.
    bootstrap(a.src, silence_logging=False)
    if a.quiet_logging:
        logging.disable(logging.CRITICAL)
    ORIG["pulse_config"].ENABLE_SYMBOLIC_SYSTEM = a.symbolic
    WorldState, run_turn = ORIG["WorldState"], ORIG["turn_engine"].run_turn

    def batch():
        t0 = time.perf_counter()
        for _ in range(a.runs):
            s = WorldState()
            s.variables.data.update(LEGACY_DRIVERS)
            for _ in range(a.turns):
                run_turn(s, verbose=False)
                s.event_log.clear()
        return time.perf_counter() - t0

    times = [batch() for _ in range(a.repeat)]
    rt = a.runs * a.turns
    print(json.dumps({
        "runs": a.runs, "turns": a.turns, "repeat": a.repeat, "symbolic": a.symbolic,
        "quiet_logging": a.quiet_logging, "python": sys.version.split()[0], "seconds": times,
        "run_turns_per_s_median": rt / statistics.median(times), "run_turns_per_s_best": rt / min(times),
    }))


def full_state_layout():
    """The slots of Pulse's `--state full`, from the original itself: the 5 overlays, the 5 capital
    assets, the registry's variables (engine.variable_registry.get_default_variable_state(), registry
    order) and the 10 legacy drivers. Returns (initial variables dict, slot names, ranges by name)."""
    from engine.variable_registry import VARIABLE_REGISTRY, get_default_variable_state
    variables = get_default_variable_state()
    variables.update(LEGACY_DRIVERS)
    ranges = {k: (float(v["range"][0]), float(v["range"][1])) for k, v in VARIABLE_REGISTRY.items() if "range" in v}
    ranges.update(DRIVER_RANGES)
    for k in OVERLAY_NAMES:
        ranges[k] = (0.0, 1.0)
    return variables, list(OVERLAY_NAMES) + list(CAPITAL_NAMES) + list(variables), ranges


def linear_audit_rule(rule_id, state_before, state_after, symbolic_tags, turn):
    """The record rules/rule_audit_layer.audit_rule returns, with each state's variables and overlays
    copied once instead of once per key (the original's as_dict() deep-copies the whole dict on every
    lookup: O(variables^2) per fired static rule). Only for measuring what that costs."""
    def deltas(before, after):
        out = {}
        for key, b in before.items():
            v = after.get(key)
            if v != b:
                out[key] = {"from": round(b, 4), "to": round(v, 4)} if b is not None and v is not None \
                    else {"from": b, "to": v}
        return out

    return {"rule_id": rule_id, "timestamp": turn, "symbolic_tags": symbolic_tags,
            "variables_changed": deltas(state_before.variables.as_dict(), state_after.variables.as_dict()),
            "overlays_changed": deltas(state_before.overlays.as_dict(), state_after.overlays.as_dict())}


def cmd_noisy(a):
    """The real workload as a user of the original would write it: per run, WorldState() seeded with
    the registry defaults and the legacy drivers, Gaussian jitter on every ranged slot (sd = noise x
    range width, clipped to the range: overlays by setattr, variables in state.variables.data), then
    per turn run_turn(state, verbose=False) and one such shock; every step's 324 values are kept in a
    (runs, turns+1, slots) NumPy array and summarised at the end (mean, sd, min, max, 5/50/95%
    quantiles of every slot at every step). Capital takes no noise (no range), as in Pulse.
    --rng gauss draws with random.Random(seed).gauss, one call per slot; --rng numpy draws the
    state's normals at once (numpy Generator(Philox(seed)).standard_normal) and clips with np.clip.
    --linear-audit swaps in linear_audit_rule (same audit records, not the original's code path)."""
    import numpy as np

    bootstrap(a.src, silence_logging=False)
    if a.linear_audit:
        import engine.rule_engine as rule_engine
        rule_engine.audit_rule = linear_audit_rule
    if a.quiet_logging:
        logging.disable(logging.CRITICAL)
    ORIG["pulse_config"].ENABLE_SYMBOLIC_SYSTEM = a.symbolic
    WorldState, run_turn = ORIG["WorldState"], ORIG["turn_engine"].run_turn
    initial, names, ranges = full_state_layout()
    var_names = names[len(OVERLAY_NAMES) + len(CAPITAL_NAMES):]
    noisy_ov = [(k, *ranges[k], a.noise * (ranges[k][1] - ranges[k][0])) for k in OVERLAY_NAMES]
    noisy_var = [(k, *ranges[k], a.noise * (ranges[k][1] - ranges[k][0])) for k in var_names if k in ranges]
    if a.noise <= 0:
        noisy_ov, noisy_var = [], []
    lo = np.array([x[1] for x in noisy_ov + noisy_var])
    hi = np.array([x[2] for x in noisy_ov + noisy_var])
    sd = np.array([x[3] for x in noisy_ov + noisy_var])
    nov = len(noisy_ov)
    noisy_var_names = [x[0] for x in noisy_var]

    def gauss_shock(s, gauss):
        ov = s.overlays
        for k, low, high, sdev in noisy_ov:
            v = getattr(ov, k) + gauss(0.0, sdev)
            setattr(ov, k, low if v < low else high if v > high else v)
        d = s.variables.data
        for k, low, high, sdev in noisy_var:
            v = d[k] + gauss(0.0, sdev)
            d[k] = low if v < low else high if v > high else v

    def numpy_shock(s, gen):
        ov, d = s.overlays, s.variables.data
        cur = np.array([getattr(ov, k) for k in OVERLAY_NAMES[:nov]] + [d[k] for k in noisy_var_names])
        new = np.clip(cur + sd * gen.standard_normal(len(cur)), lo, hi).tolist()
        for k, v in zip(OVERLAY_NAMES[:nov], new):
            setattr(ov, k, v)
        d.update(zip(noisy_var_names, new[nov:]))

    def row(s):
        ov, cap, d = s.overlays, s.capital, s.variables.data
        return [ov.hope, ov.despair, ov.rage, ov.fatigue, ov.trust,
                cap.nvda, cap.msft, cap.ibit, cap.spy, cap.cash] + [d[k] for k in var_names]

    def batch(seed):
        if a.rng == "gauss":
            shock, source = gauss_shock, random.Random(seed).gauss
        else:
            shock, source = numpy_shock, np.random.Generator(np.random.Philox(seed))
        t0, c0 = time.perf_counter(), time.process_time()
        values = np.empty((a.runs, a.turns + 1, len(names)))
        for r in range(a.runs):
            s = WorldState()
            s.variables.data.update(initial)
            s.event_log.clear()
            shock(s, source)
            values[r, 0] = row(s)
            for t in range(a.turns):
                run_turn(s, verbose=False)
                s.event_log.clear()
                shock(s, source)
                values[r, t + 1] = row(s)
        t1, c1 = time.perf_counter(), time.process_time()
        summary = {"mean": values.mean(axis=0), "sd": values.std(axis=0, ddof=1), "min": values.min(axis=0),
                   "max": values.max(axis=0),
                   "q": np.quantile(values, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")}
        t2, c2 = time.perf_counter(), time.process_time()
        return summary, (t2 - t0, c2 - c0, t2 - t1, c2 - c1)

    results = [batch(a.seed + i) for i in range(a.repeat)]
    summary = results[-1][0]
    times = [r[1] for r in results]
    rt = a.runs * a.turns
    wall, cpu = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)
    stats = {}
    for col in [c for c in a.stats.split(",") if c]:
        if col in names:
            j = names.index(col)
            stats[col] = {"mean": float(summary["mean"][-1, j]), "sd": float(summary["sd"][-1, j]),
                          "quantiles": [float(q) for q in summary["q"][:, -1, j]]}
    print(json.dumps({
        "runs": a.runs, "turns": a.turns, "repeat": a.repeat, "noise": a.noise, "rng": a.rng, "seed": a.seed,
        "symbolic": a.symbolic, "quiet_logging": a.quiet_logging, "linear_audit": a.linear_audit, "python": sys.version.split()[0],
        "numpy": np.__version__, "slots": len(names), "noisy_slots": len(noisy_ov) + len(noisy_var),
        "slot_ranges": [[k, *ranges[k]] if k in ranges else [k] for k in names],
        "seconds": [t[0] for t in times], "cpu_seconds": [t[1] for t in times],
        "summary_seconds": [t[2] for t in times], "summary_cpu_seconds": [t[3] for t in times],
        "run_turns_per_s_median": rt / wall, "run_turns_per_cpu_s_median": rt / cpu,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "stats": stats,
    }))


def cmd_route(a):
    """Applies each narrative event to a fresh state (legacy drivers, capital 1000 per asset) and
    prints before/after, so event bundles can be checked against route_signal itself."""
    bootstrap(a.src)
    ORIG["pulse_config"].ENABLE_SYMBOLIC_SYSTEM = a.symbolic
    names = a.names or list(ORIG["signal_router"]._signal_handlers)
    out = []
    for n in names:
        s = make_state(S(n, "", a.symbolic, LEGACY_DRIVERS,
                         capital={"nvda": 1000.0, "msft": 1000.0, "ibit": 1000.0, "spy": 1000.0}))
        before = state_dict(s)
        ok = ORIG["signal_router"].route_signal(s, n)
        out.append({"event": n, "symbolic": a.symbolic, "handled": ok, "before": before, "after": state_dict(s)})
    print(json.dumps(out, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default="/opt/pulse-original", help="root of the original source tree")
    ap.add_argument("--commit", default=COMMIT, help="recorded in the fixtures")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("golden", help="write the golden trajectories and manifest.json")
    g.add_argument("--out", required=True)
    g.add_argument("--turns", type=int, default=40)
    g.set_defaults(fn=cmd_golden)
    sp = sub.add_parser("speed", help="time RUNS independent states x TURNS run_turn calls")
    sp.add_argument("--runs", type=int, default=200)
    sp.add_argument("--turns", type=int, default=52)
    sp.add_argument("--repeat", type=int, default=5)
    sp.add_argument("--symbolic", action="store_true")
    sp.add_argument("--quiet-logging", action="store_true", help="logging.disable(CRITICAL)")
    sp.set_defaults(fn=cmd_speed)
    n = sub.add_parser("noisy", help="full state with jitter + per-turn shocks, values kept, summarised")
    n.add_argument("--runs", type=int, default=200)
    n.add_argument("--turns", type=int, default=52)
    n.add_argument("--repeat", type=int, default=3)
    n.add_argument("--noise", type=float, default=0.01, help="sd as a fraction of each slot's range width")
    n.add_argument("--rng", choices=["gauss", "numpy"], default="gauss")
    n.add_argument("--seed", type=int, default=1, help="repeat i uses seed + i")
    n.add_argument("--stats", default="", help="slot names whose last-step mean, sd, 5/50/95%% are printed")
    n.add_argument("--symbolic", action="store_true")
    n.add_argument("--quiet-logging", action="store_true", help="logging.disable(CRITICAL)")
    n.add_argument("--linear-audit", action="store_true",
                   help="replace the original's quadratic audit_rule by linear_audit_rule (what it costs)")
    n.set_defaults(fn=cmd_noisy)
    r = sub.add_parser("route", help="apply narrative events (engine/pulse_signal_router.route_signal)")
    r.add_argument("--symbolic", action="store_true")
    r.add_argument("names", nargs="*")
    r.set_defaults(fn=cmd_route)
    sub.add_parser("list", help="list the golden scenarios").set_defaults(
        fn=lambda a: [print(f"{s['name']:26s} {s['description']}") for s in SCENARIOS])
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
