"""Collaboration memory of the organism: pair weights and hyperedge patterns with decay."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "PAIR_WEIGHT_INITIAL",
    "PairKey",
    "PatternKey",
    "PatternStats",
    "normalised_pattern_scores",
    "pair_key",
    "pattern_key",
    "update_pair_weight",
    "update_pattern",
]

PAIR_WEIGHT_INITIAL = 1.0
_PAIR_MIN, _PAIR_MAX = 0.1, 5.0
_PAIR_UP, _PAIR_DOWN = 1.1, 0.9
PATTERN_HALF_LIFE_S = 900.0

PairKey = tuple[str, str]
PatternKey = tuple[str, ...]


def pair_key(a: str, b: str) -> PairKey:
    """Order-free key of an unordered agent pair; an agent cannot pair with itself."""
    if a == b:
        raise ValueError("a pair needs two distinct agents")
    return (a, b) if a < b else (b, a)


def update_pair_weight(weight: float, success: bool) -> float:
    """×1.1 on a collaborative success (capped at 5), ×0.9 on failure (floored at 0.1)."""
    if success:
        return min(_PAIR_MAX, _PAIR_UP * weight)
    return max(_PAIR_MIN, _PAIR_DOWN * weight)


def pattern_key(organ_ids: Iterable[str]) -> PatternKey | None:
    """The sorted set of organs of one task, or None when fewer than two organs took part."""
    organs = tuple(sorted(set(organ_ids)))
    return organs if len(organs) >= 2 else None


@dataclass(frozen=True, slots=True)
class PatternStats:
    """Decaying statistics of one hyperedge pattern."""

    count: float = 0.0
    successes: float = 0.0
    score: float = 0.0
    last_update: float = 0.0

    def decayed(self, now: float, half_life_s: float = PATTERN_HALF_LIFE_S) -> PatternStats:
        """The stats as they stand at ``now``: halved every ``half_life_s`` seconds."""
        dt = max(0.0, now - self.last_update)
        factor = math.exp(-math.log(2.0) * dt / half_life_s)
        return PatternStats(
            self.count * factor, self.successes * factor, self.score * factor, now
        )


def update_pattern(
    stats: PatternStats | None,
    success: bool,
    latency_ms: float,
    now: float,
    half_life_s: float = PATTERN_HALF_LIFE_S,
) -> PatternStats:
    """Decay, then add one event: count +1, successes +success, score +blend of both."""
    current = (stats or PatternStats(last_update=now)).decayed(now, half_life_s)
    count = current.count + 1.0
    successes = current.successes + (1.0 if success else 0.0)
    gain = 0.5 * successes / count + 0.5 / (1.0 + max(0.0, latency_ms) / 2000.0)
    return PatternStats(count, successes, current.score + gain, now)


def normalised_pattern_scores(scores: Iterable[float], top: int) -> list[float]:
    """The ``top`` highest scores divided by the highest: each in [0, 1], the best is 1."""
    best = sorted((s for s in scores if s > 0.0), reverse=True)[:top]
    if not best:
        return []
    return [s / best[0] for s in best]
