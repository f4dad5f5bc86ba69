"""Pulse from Python: the C++ lake, forecasting, Monte Carlo and trust modules of Pulse.

    import pulse
    lake = pulse.open_lake("file:///data/pulse-lake")      # or s3://bucket/prefix, as the CLI
    signals = lake.read("signals")                         # a pyarrow.Table, zero-copy
    result = pulse.forecast(frame, series="name", value="value", time="ts")
    summary = pulse.simulate(runs=10_000, seed=7)          # exact, mergeable Monte Carlo summary
    summary.to_arrow()

`pulse.dask` splits a Monte Carlo batch or a batch of series over a Dask cluster; the merged result
is bit-identical to the single-process one. Every Pulse error is a `pulse.PulseError` subclass
carrying Pulse's message. Computations release the GIL.
"""

# Python's OpenSSL binding first, so that the system libcrypto is loaded with its own symbols
# before pyarrow's libparquet (which exports copies of them) is (python/CMakeLists.txt says more).
import hashlib as _hashlib  # noqa: F401, I001

import pyarrow as _pyarrow  # noqa: F401  loads libarrow before the extension needs it

from . import _core
from ._core import (
    ConflictError,
    InvalidArgumentError,
    IoError,
    NotFoundError,
    OutOfRangeError,
    ParseError,
    PermissionDeniedError,
    PulseError,
    UnavailableError,
)
from .forecasting import FORECAST_METHODS, Band, ForecastResult, accuracy, forecast
from .lake import Lake, open_lake
from .sim import Summary, World, load_world, merge_summaries, simulate
from .trust import fragility_index, tension, track_record, trust_score

__version__ = "0.1.0"

__all__ = [
    "Band",
    "ConflictError",
    "FORECAST_METHODS",
    "ForecastResult",
    "InvalidArgumentError",
    "IoError",
    "Lake",
    "NotFoundError",
    "OutOfRangeError",
    "ParseError",
    "PermissionDeniedError",
    "PulseError",
    "Summary",
    "UnavailableError",
    "World",
    "accuracy",
    "forecast",
    "fragility_index",
    "load_world",
    "merge_summaries",
    "open_lake",
    "simulate",
    "tension",
    "track_record",
    "trust_score",
]
