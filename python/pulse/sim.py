"""Monte Carlo world simulation: a batch or a chunk of one, and exact merging of chunk summaries."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from . import _arrow, _core
from ._core import InvalidArgumentError, NotFoundError, Summary, World

_DATA = Path(__file__).resolve().parent / "data" / "sim"


def load_world(
    catalog: str | Path | None = None,
    rules: str | Path | None = None,
    state: Mapping[str, float] | None = None,
) -> World:
    """The world a simulation starts from: the catalog and rules files (default: the ones bundled
    with Pulse, as `pulse simulate` uses) and `state`, initial values replacing the catalog's.
    Errors name the file and line at fault, as the CLI prints them."""
    catalog_path = Path(catalog) if catalog is not None else _DATA / "catalog.yaml"
    rules_path = Path(rules) if rules is not None else _DATA / "rules.yaml"
    texts = []
    for flag, path in (("catalog", catalog_path), ("rules", rules_path)):
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError(f"{flag}: no file '{path}'") from None
        except (OSError, UnicodeDecodeError) as e:
            raise _core.IoError(f"{flag}: cannot read '{path}': {e}") from None
    values = {str(k): float(v) for k, v in (state or {}).items()}
    return World(texts[0], str(catalog_path), texts[1], str(rules_path), values)


@functools.lru_cache(maxsize=1)
def _bundled_world() -> World:
    return load_world()


def _count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value >= 2**64:
        raise InvalidArgumentError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return value


def simulate(
    runs: int,
    *,
    turns: int = 52,
    seed: int = 0,
    first_run: int = 0,
    noise: float = 0.01,
    symbolic: bool = False,
    decay_rate: float = 0.01,
    threads: int = 0,
    world: World | None = None,
) -> Summary:
    """Runs `runs` Monte Carlo runs of `turns` turns - runs first_run .. first_run + runs - 1 of
    the batch keyed by `seed`, so a chunk of a larger batch is a call with its first_run - and
    returns their exact summary. `noise` is the sd of the initial jitter and of every turn's
    shock as a fraction of each ranged variable's width (`pulse simulate --noise`); `threads` 0
    uses every core. Summaries of any split of a batch merge (merge_summaries) into exactly the
    summary of the whole batch. The GIL is released while it runs."""
    if _count("turns", turns, 1) > 2**32 - 1:
        raise InvalidArgumentError(f"turns must be at most {2**32 - 1}, got {turns}")
    return _core.simulate(
        world if world is not None else _bundled_world(),
        _count("runs", runs, 1),
        _count("turns", turns, 1),
        _count("seed", seed, 0),
        _count("first_run", first_run, 0),
        float(noise),
        bool(symbolic),
        float(decay_rate),
        _count("threads", threads, 0),
    )


def merge_summaries(summaries: Iterable[Summary]) -> Summary:
    """One summary of all the runs of `summaries` (chunks of one batch): exact, so any split and
    any order give the same bytes. InvalidArgumentError for summaries of different shapes."""
    out = Summary()
    for s in summaries:
        out.merge(s)
    return out


def _to_arrow(
    self: Summary, quantiles: Sequence[float] = (0.05, 0.5, 0.95), variables: Sequence[str] | None = None
) -> pa.Table:
    """One row per (step, variable): count, mean, sd, min, max and a column per quantile
    ("q0.05"). Step 0 is the initial state after jitter."""
    return _arrow.table(self._table_stream(list(quantiles), list(variables) if variables is not None else None))


def _to_pandas(self: Summary, quantiles: Sequence[float] = (0.05, 0.5, 0.95), variables: Sequence[str] | None = None):  # type: ignore[no-untyped-def]
    return _to_arrow(self, quantiles, variables).to_pandas()


def _add(self: Summary, other: Summary) -> Summary:
    return merge_summaries((self, other))


Summary.to_arrow = _to_arrow  # type: ignore[attr-defined]
Summary.to_pandas = _to_pandas  # type: ignore[attr-defined]
Summary.__add__ = _add  # type: ignore[operator]
Summary.__repr__ = lambda self: f"pulse.Summary(runs={self.runs}, steps={self.steps}, variables={len(self.variables)})"  # type: ignore[method-assign]
