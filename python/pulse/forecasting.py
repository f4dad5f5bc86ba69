"""Forecasting a frame of series as `pulse forecast` does: per series the accuracy-weighted
ensemble of the M4 benchmark methods (or one of them), intervals calibrated by split-conformal
backtests pooled over every series of the call, and the models' backtest metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _arrow, _core
from ._core import InvalidArgumentError

FORECAST_METHODS: list[str] = list(_core.FORECAST_METHODS)


@dataclass(frozen=True)
class Band:
    """An interval level and its multiplier of the model sd: split-conformal (calibrated) when
    enough backtest scores were pooled, else the Gaussian one (calibrated False)."""

    level: float
    multiplier: float
    calibrated: bool


@dataclass
class ForecastResult:
    """forecasts: series, step, mean, sd, level, lower, upper, calibrated (one row per series,
    horizon step and level); models: series, method, weight (ensemble weights; 1 for the
    ensemble), backtest_mase (out of sample, NaN without a backtest); bands: the levels'
    multipliers; skipped: "series: reason" for series that were not forecast."""

    forecasts: pa.Table
    models: pa.Table
    bands: list[Band]
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Series:
    names: list[str]
    values: np.ndarray
    offsets: np.ndarray

    def slice(self, start: int, stop: int) -> _Series:
        lo, hi = int(self.offsets[start]), int(self.offsets[stop])
        return _Series(self.names[start:stop], self.values[lo:hi], self.offsets[start : stop + 1] - lo)


@dataclass
class _Fit:
    points: pa.Table
    models: pa.Table
    scores: np.ndarray
    skipped: list[str]


def _as_table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    try:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    except ImportError:
        pass
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise InvalidArgumentError(f"expected a pandas DataFrame or a pyarrow Table, got {type(data).__name__}")


def _prepare(data: Any, series: str, value: str, time: str | None) -> _Series:
    """Groups the rows by `series` (in order of first appearance), each series' rows in `time`
    order when given (else in row order)."""
    table = _as_table(data)
    for name in (series, value) + ((time,) if time else ()):
        if name not in table.column_names:
            raise InvalidArgumentError(f"the frame has no column '{name}' (columns: {', '.join(table.column_names)})")
    values_col = table.column(value)
    if values_col.null_count:
        raise InvalidArgumentError(f"column '{value}' has {values_col.null_count} null values")
    try:
        values = values_col.cast(pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise InvalidArgumentError(f"column '{value}' is not numeric: {e}") from None
    keys = table.column(series)
    if keys.null_count:
        raise InvalidArgumentError(f"column '{series}' has {keys.null_count} null values")
    encoded = pc.dictionary_encode(keys.cast(pa.string())).combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names = [str(n) for n in encoded.dictionary.to_pylist()]
    if time:
        t = table.column(time)
        if t.null_count:
            raise InvalidArgumentError(f"column '{time}' has {t.null_count} null values")
        order = np.lexsort((pc.rank(t, sort_keys="ascending", tiebreaker="first").to_numpy(), codes))
    else:
        order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(names))
    offsets = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return _Series(names, np.ascontiguousarray(values[order], dtype=np.float64), offsets)


def _fit(part: _Series, horizon: int, period: int, method: str, min_points: int) -> _Fit:
    points, models, scores, skipped = _core.fit_series(
        part.names, part.values, part.offsets, horizon, period, method, min_points
    )
    return _Fit(_arrow.table(points), _arrow.table(models), scores, list(skipped))


def _bands(points: pa.Table, bands: list[Band]) -> pa.Table:
    """The points (series, step, mean, sd) with a row per level: mean -+ multiplier * sd (a zero
    band where sd is 0, as pulse forecast writes)."""
    n, k = points.num_rows, len(bands)
    mean = points.column("mean").to_numpy()
    sd = points.column("sd").to_numpy()
    mult = np.array([b.multiplier for b in bands], dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        half = np.where(sd[:, None] > 0, mult[None, :] * sd[:, None], 0.0)
    idx = np.repeat(np.arange(n), k)
    base = points.take(pa.array(idx))
    return pa.table(
        {
            "series": base.column("series"),
            "step": base.column("step"),
            "mean": base.column("mean"),
            "sd": base.column("sd"),
            "level": np.tile(np.array([b.level for b in bands], dtype=np.float64), n),
            "lower": (mean[:, None] - half).reshape(-1),
            "upper": (mean[:, None] + half).reshape(-1),
            "calibrated": np.tile(np.array([b.calibrated for b in bands], dtype=bool), n),
        }
    )


def _check(horizon: int, period: int, levels: Sequence[float], method: str, min_points: int) -> list[float]:
    for name, v, lo in (("horizon", horizon, 1), ("period", period, 1), ("min_points", min_points, 4)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InvalidArgumentError(f"{name} must be a whole number >= {lo}, got {v!r}")
    if method.lower() not in {m.lower() for m in FORECAST_METHODS}:
        raise InvalidArgumentError(f"unknown forecast method '{method}' (one of: {', '.join(FORECAST_METHODS)})")
    out = [float(x) for x in levels]
    if not out or any(not (0 < x < 1) for x in out):
        raise InvalidArgumentError("interval levels must be in (0, 1)")
    return out


def _finish(fits: list[_Fit], levels: list[float]) -> ForecastResult:
    scores = np.concatenate([f.scores for f in fits]) if fits else np.zeros(0)
    bands = [Band(level, m, c) for level, m, c in _core.calibrate(scores, levels)]
    points = pa.concat_tables([f.points for f in fits])
    models = pa.concat_tables([f.models for f in fits])
    return ForecastResult(_bands(points, bands), models, bands, [s for f in fits for s in f.skipped])


def forecast(
    data: Any,
    *,
    series: str = "series",
    value: str = "value",
    time: str | None = None,
    horizon: int = 8,
    period: int = 1,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    method: str = "ensemble",
    min_points: int = 8,
) -> ForecastResult:
    """Forecasts every series of `data` (a pandas DataFrame or pyarrow Table in long form: a row
    per observation with its series key and value, ordered by `time` when given) `horizon` steps
    ahead with seasonal period `period`. `method` is "ensemble" (pulse forecast's model) or one of
    FORECAST_METHODS. Series shorter than `min_points`, or that a model refuses (NaN, ...), are
    listed in `skipped`. Every row is an observation (rows with the same time are not merged, as
    `pulse forecast` merges them when reading the lake). Series are fitted in parallel with the
    GIL released."""
    lv = _check(horizon, period, levels, method, min_points)
    return _finish([_fit(_prepare(data, series, value, time), horizon, period, method, min_points)], lv)


def accuracy(
    actual: Sequence[float],
    forecast: Sequence[float],
    train: Sequence[float],
    *,
    period: int = 1,
    lower: Sequence[float] | None = None,
    upper: Sequence[float] | None = None,
    level: float = 0.95,
) -> dict[str, float]:
    """M4 metrics of one series' forecast: sMAPE, MASE (scaled by `train`'s seasonal-naive error)
    and, given the band, MSIS at `level` and coverage."""

    def arr(x: Sequence[float] | None) -> np.ndarray | None:
        return None if x is None else np.asarray(x, dtype=np.float64)

    return _core.accuracy(arr(actual), arr(forecast), arr(train), period, arr(lower), arr(upper), level)
