"""The extension releases the GIL while it computes: a pure-Python thread keeps running during a
long simulate / fit_series / lake read, and two threads' calls run at once and agree with
sequential ones."""

import threading
import time

import numpy as np

import pulse


def python_progress_during(call):
    """Runs call() in a thread while this thread spins in Python; returns (the call's duration,
    the longest pause of the Python loop while the call ran)."""
    stamps = []
    done = threading.Event()
    window = {}

    def target():
        window["start"] = time.perf_counter()
        call()
        window["end"] = time.perf_counter()
        done.set()

    t = threading.Thread(target=target)
    t.start()
    while not done.is_set():
        stamps.append(time.perf_counter())
    t.join()
    inside = [s for s in stamps if window["start"] <= s <= window["end"]]
    edges = [window["start"], *inside, window["end"]]
    return window["end"] - window["start"], max(b - a for a, b in zip(edges, edges[1:]))


def assert_releases_gil(call):
    duration, pause = python_progress_during(call)
    assert duration > 0.2, f"the call took {duration:.3f}s: too short to tell"
    # Holding the GIL would stop the loop for the whole call; the interpreter's switch interval is 5 ms.
    assert pause < 0.5 * duration, f"the Python thread stalled {pause:.3f}s of a {duration:.3f}s call"


def test_simulate_releases_the_gil():
    # 160,000 run-turns: about 1 s on one quiet core, long enough to time (2,000 x 8 became too
    # short once the Monte Carlo got faster).
    assert_releases_gil(lambda: pulse.simulate(10000, turns=16, threads=1))


def test_fit_series_releases_the_gil():
    rng = np.random.default_rng(0)
    n, length = 40, 60
    values = rng.normal(10, 1, n * length).cumsum()
    offsets = np.arange(0, n * length + 1, length, dtype=np.int64)
    assert_releases_gil(lambda: pulse._core.fit_series([f"s{i}" for i in range(n)], values, offsets, 8, 4))


def test_two_threads_simulate_at_once_and_agree():
    want = [pulse.simulate(1000, turns=8, seed=s, threads=1).to_bytes() for s in (1, 2)]
    got = {}
    threads = [threading.Thread(target=lambda s=s: got.__setitem__(s, pulse.simulate(1000, turns=8, seed=s, threads=1).to_bytes()))
               for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[1], got[2]] == want
