#!/usr/bin/env python3
"""Drives the ORIGINAL Python Pulse turn loop (github.com/repengine/pulse @ 6a9f1131) offline.

Runs inside the Debian 13 chroot that scripts/make-sim-golden builds (Python >= 3.12 + PyYAML; the
original does not parse on 3.11), with the original source at /opt/pulse-original:

  python3 run_original.py [--src DIR] golden --out DIR [--turns 40]   golden trajectories + manifest.json
  python3 run_original.py [--src DIR] speed [--runs 200 --turns 52 --repeat 5 --symbolic --quiet-logging]
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
