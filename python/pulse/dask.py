"""Splitting Pulse work over a Dask cluster (a distributed.Client, e.g. on a LocalCluster).

simulate: a Monte Carlo batch as `partitions` chunk tasks (runs split by first_run, as `pulse
simulate --broker` splits them over pulse workers); the chunks' exact summaries merge into the
same bytes as one process's `pulse.simulate` for any number of workers and partitions.

forecast: the series of a frame as `partitions` fit tasks; the client pools every partition's
backtest scores for the split-conformal bands, so the result equals `pulse.forecast`'s.

Needs dask[distributed] (pip install "pulse[dask]").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import forecasting as _forecast
from . import sim as _sim
from ._core import InvalidArgumentError, Summary, World

if TYPE_CHECKING:
    from distributed import Client


def _default_partitions(client: Client) -> int:
    return max(1, sum(client.nthreads().values()))


def _splits(total: int, partitions: int) -> list[tuple[int, int]]:
    """[first, last) of partition k: total * k // partitions .. total * (k + 1) // partitions,
    empty ones left out."""
    bounds = [total * k // partitions for k in range(partitions + 1)]
    return [(bounds[k], bounds[k + 1]) for k in range(partitions) if bounds[k + 1] > bounds[k]]


def _check_partitions(partitions: int) -> int:
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise InvalidArgumentError(f"partitions must be a whole number >= 1, got {partitions!r}")
    return partitions


def _simulate_chunk(world: World | None, first: int, runs: int, options: dict[str, Any]) -> Summary:
    return _sim.simulate(runs, first_run=first, world=world, **options)


def _merge(parts: Sequence[Summary]) -> Summary:
    return _sim.merge_summaries(parts)


def simulate(
    client: Client,
    runs: int,
    *,
    partitions: int | None = None,
    turns: int = 52,
    seed: int = 0,
    noise: float = 0.01,
    symbolic: bool = False,
    decay_rate: float = 0.01,
    threads_per_task: int = 1,
    world: World | None = None,
) -> Summary:
    """The batch of `runs` runs as `partitions` tasks (default: one per worker thread) of
    `threads_per_task` threads each; returns the merged summary, equal (to the byte) to
    pulse.simulate(runs, ...) in one process."""
    _sim._count("runs", runs, 1)
    parts = _check_partitions(partitions if partitions is not None else _default_partitions(client))
    options = dict(turns=turns, seed=seed, noise=noise, symbolic=symbolic, decay_rate=decay_rate,
                   threads=threads_per_task)
    shared = client.scatter(world, broadcast=True) if world is not None else None
    futures = [
        client.submit(_simulate_chunk, shared, first, last - first, options, pure=False)
        for first, last in _splits(runs, parts)
    ]
    # A tree of merges on the workers keeps the client's traffic to one summary.
    while len(futures) > 1:
        futures = [
            client.submit(_merge, futures[i : i + 8], pure=False) for i in range(0, len(futures), 8)
        ]
    return futures[0].result()


def _fit_partition(part: Any, horizon: int, period: int, method: str, min_points: int) -> Any:
    return _forecast._fit(part, horizon, period, method, min_points)


def forecast(
    client: Client,
    data: Any,
    *,
    partitions: int | None = None,
    series: str = "series",
    value: str = "value",
    time: str | None = None,
    horizon: int = 8,
    period: int = 1,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    method: str = "ensemble",
    min_points: int = 8,
) -> _forecast.ForecastResult:
    """pulse.forecast with the series split into `partitions` fit tasks (default: one per worker
    thread); the same result, row for row and bit for bit."""
    lv = _forecast._check(horizon, period, levels, method, min_points)
    prepared = _forecast._prepare(data, series, value, time)
    parts = _check_partitions(partitions if partitions is not None else _default_partitions(client))
    futures = [
        client.submit(_fit_partition, prepared.slice(lo, hi), horizon, period, method, min_points, pure=False)
        for lo, hi in _splits(len(prepared.names), parts)
    ]
    fits = client.gather(futures)
    if not fits:  # no series at all
        fits = [_forecast._fit(prepared, horizon, period, method, min_points)]
    return _forecast._finish(fits, lv)
