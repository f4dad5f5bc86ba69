"""pulse.forecast: the numbers `pulse forecast` writes for the same series, models and intervals
from pandas or pyarrow frames, skipped series, M4 accuracy, errors as Pulse exceptions."""

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import pulse


def test_matches_pulse_forecast_on_the_macro_lake(macro_lake):
    lake = pulse.open_lake(str(macro_lake))
    signals = lake.read("signals")
    usable = signals.filter(pc.not_equal(signals.column("gate"), "suppress"))
    # The bundled dataset is quarterly: pulse forecast's period 4 and horizon 8.
    frame = usable.select(["name", "ts", "value"])
    got = pulse.forecast(frame, series="name", value="value", time="ts", horizon=8, period=4)
    want = lake.read("forecasts").sort_by([("series", "ascending"), ("step", "ascending"), ("level", "ascending")])
    mine = got.forecasts.sort_by([("series", "ascending"), ("step", "ascending"), ("level", "ascending")])
    assert mine.num_rows == want.num_rows > 0
    assert mine.column("series").to_pylist() == want.column("series").to_pylist()
    for col in ("mean", "lower", "upper"):
        assert mine.column(col).to_pylist() == want.column(col).to_pylist(), col
    assert mine.column("calibrated").to_pylist() == want.column("calibrated").to_pylist()


def test_pandas_frame_models_and_intervals():
    rng = np.random.default_rng(4)
    t = np.arange(40)
    frames = []
    for name, y in {
        "seasonal": 10 + 3 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 0.2, 40),
        "trend": 5 + 0.5 * t + rng.normal(0, 0.5, 40),
        "short": np.arange(5.0),
    }.items():
        frames.append(pd.DataFrame({"id": name, "y": y[: len(y)], "t": np.arange(len(y))[::-1]}))
    df = pd.concat(frames).sample(frac=1, random_state=0)  # shuffled rows: `time` orders them
    r = pulse.forecast(df, series="id", value="y", time="t", horizon=6, period=4, levels=[0.8, 0.95])
    assert r.skipped == ["short: 5 points, fewer than 8"]
    f = r.forecasts
    assert set(f.column("series").to_pylist()) == {"seasonal", "trend"}
    assert f.num_rows == 2 * 6 * 2
    assert all(lo <= m <= hi for lo, m, hi in zip(f["lower"].to_pylist(), f["mean"].to_pylist(), f["upper"].to_pylist()))
    assert [b.level for b in r.bands] == [0.8, 0.95] and r.bands[0].multiplier < r.bands[1].multiplier
    m = r.models
    assert set(m.column("method").to_pylist()) == set(pulse.FORECAST_METHODS)
    weights = m.filter(pc.and_(pc.equal(m["series"], "trend"), pc.not_equal(m["method"], "Ensemble")))["weight"]
    assert math.isclose(sum(weights.to_pylist()), 1.0)
    one = pulse.forecast(pa.Table.from_pandas(df), series="id", value="y", time="t", horizon=6, period=4, method="theta")
    assert one.forecasts.num_rows == 2 * 6 * 3 and one.forecasts != r.forecasts


def test_bad_series_are_skipped_with_the_models_reason():
    df = pd.DataFrame({"series": ["a"] * 10 + ["b"] * 10, "value": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10] + [1.0] * 9 + [math.inf]})
    r = pulse.forecast(df, horizon=2)
    assert r.forecasts.column("series").unique().to_pylist() == ["a"]
    assert len(r.skipped) == 1 and r.skipped[0].startswith("b: ")


def test_errors():
    df = pd.DataFrame({"series": ["a"] * 10, "value": np.arange(10.0)})
    with pytest.raises(pulse.InvalidArgumentError, match="no column 'v'"):
        pulse.forecast(df, value="v")
    with pytest.raises(pulse.InvalidArgumentError, match="unknown forecast method 'magic'"):
        pulse.forecast(df, method="magic")
    with pytest.raises(pulse.InvalidArgumentError, match="levels"):
        pulse.forecast(df, levels=[1.2])
    with pytest.raises(pulse.InvalidArgumentError, match="horizon"):
        pulse.forecast(df, horizon=0)
    with pytest.raises(pulse.InvalidArgumentError, match="null"):
        pulse.forecast(pd.DataFrame({"series": ["a", "a"], "value": [1.0, None]}))
    with pytest.raises(pulse.InvalidArgumentError, match="pandas DataFrame or a pyarrow Table"):
        pulse.forecast([1, 2, 3])
    with pytest.raises(pulse.InvalidArgumentError, match="offsets"):
        pulse._core.fit_series(["a"], np.arange(10.0), np.array([0, 5], dtype=np.int64), 2, 1)


def test_accuracy():
    m = pulse.accuracy([2.0, 4.0], [2.0, 2.0], [1.0, 2.0, 3.0, 4.0], lower=[1.0, 1.0], upper=[3.0, 3.0], level=0.8)
    assert m["smape"] == pytest.approx(100 * (0 + 2 / 6))
    assert m["mase"] == pytest.approx(1.0)
    assert m["coverage"] == 0.5
    assert m["msis"] == pytest.approx((2 + 2 + 2 / 0.2 * 1) / 2)
    with pytest.raises(pulse.InvalidArgumentError, match="MASE is undefined"):
        pulse.accuracy([1.0], [1.0], [3.0, 3.0, 3.0])
