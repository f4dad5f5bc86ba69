"""The original Pulse's trust heuristics and Bayesian track record (pure functions)."""

from __future__ import annotations

from ._core import fragility_index, tension, track_record, trust_score

__all__ = ["fragility_index", "tension", "track_record", "trust_score"]
