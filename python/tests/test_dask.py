"""pulse.dask: a Monte Carlo batch and a batch of series split over a Dask cluster give exactly the
single-process result, for 1, 2 and 4 workers and any number of partitions (threads, and once
worker processes)."""

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

import pulse  # noqa: E402
import pulse.dask  # noqa: E402

RUNS, TURNS, SEED = 1000, 8, 42


@pytest.fixture(scope="module")
def whole():
    return pulse.simulate(RUNS, turns=TURNS, seed=SEED)


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(9)
    rows = []
    for i in range(23):
        n = 12 + (i % 9) * 3
        y = 50 + np.cumsum(rng.normal(0.3, 1 + i % 4, n))
        rows.append(pd.DataFrame({"series": f"s{i:02d}", "value": y}))
    rows.append(pd.DataFrame({"series": "tiny", "value": [1.0, 2.0]}))
    return pd.concat(rows, ignore_index=True)


def cluster(workers, processes=False):
    c = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                                 dashboard_address=None, silence_logs=40)
    return c, distributed.Client(c)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_simulate_is_bit_identical_to_one_process(whole, frame, workers):
    c, client = cluster(workers)
    try:
        for partitions in (None, 1, 3, 7, 20):
            got = pulse.dask.simulate(client, RUNS, partitions=partitions, turns=TURNS, seed=SEED)
            assert got.to_bytes() == whole.to_bytes(), (workers, partitions)
            assert got.rule_fired == whole.rule_fired
        want = pulse.forecast(frame, horizon=5, period=1)
        for partitions in (None, 1, 5, 30):
            r = pulse.dask.forecast(client, frame, partitions=partitions, horizon=5, period=1)
            assert r.forecasts.equals(want.forecasts) and r.models.equals(want.models), (workers, partitions)
            assert r.bands == want.bands and r.skipped == want.skipped == ["tiny: 2 points, fewer than 8"]
    finally:
        client.close()
        c.close()


def test_worker_processes(whole, frame):
    c, client = cluster(2, processes=True)
    try:
        world = pulse.load_world(state={"hope": 0.7})
        got = pulse.dask.simulate(client, RUNS, partitions=5, turns=TURNS, seed=SEED, world=world)
        assert got == pulse.simulate(RUNS, turns=TURNS, seed=SEED, world=world)
        assert pulse.dask.simulate(client, RUNS, turns=TURNS, seed=SEED) == whole
        r = pulse.dask.forecast(client, frame, partitions=3, horizon=5)
        assert r.forecasts.equals(pulse.forecast(frame, horizon=5).forecasts)
    finally:
        client.close()
        c.close()


def test_errors_reach_the_caller():
    c, client = cluster(1)
    try:
        with pytest.raises(pulse.InvalidArgumentError, match="partitions"):
            pulse.dask.simulate(client, 10, partitions=0)
        with pytest.raises(pulse.InvalidArgumentError, match="runs"):
            pulse.dask.simulate(client, 0)
        with pytest.raises(pulse.InvalidArgumentError, match="noise"):
            pulse.dask.simulate(client, 10, noise=-1.0)
    finally:
        client.close()
        c.close()
