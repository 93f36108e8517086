"""Memory-tier rules: namespaces, keys, TTL, the fact read path, consolidation and promotion."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "GLOBAL_NAMESPACE",
    "InvalidKey",
    "ReadDecision",
    "Tier",
    "consolidation_priority",
    "decide_read",
    "expiry",
    "is_expired",
    "organ_namespace",
    "promotion_candidates",
    "read_path",
    "ttl_remaining",
    "validate_key",
    "validate_namespace",
]

GLOBAL_NAMESPACE = "global"
_NAMESPACE = re.compile(r"^(global|organ:[A-Za-z0-9][A-Za-z0-9_.\-]{0,127})$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,255}$")
_ORGAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


class InvalidKey(ValueError):
    """A namespace, key or organ id outside the safe alphabet; refused before any I/O."""


class Tier(StrEnum):
    MW = "mw"
    MLT = "mlt"


def validate_namespace(namespace: str) -> str:
    """``global`` or ``organ:<organ id>``."""
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
        raise InvalidKey(f"namespace {namespace!r} must be 'global' or 'organ:<organ id>'")
    return namespace


def validate_key(key: str) -> str:
    """Letters, digits and ``_ . : -``, 1-256 characters, starting with a letter or digit."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidKey(f"key {key!r} must match {_KEY.pattern}")
    return key


def organ_namespace(organ_id: str) -> str:
    """The working-memory namespace of one organ."""
    if not _ORGAN_ID.fullmatch(organ_id):
        raise InvalidKey(f"organ id {organ_id!r} must match {_ORGAN_ID.pattern}")
    return f"organ:{organ_id}"


def expiry(now: float, ttl_s: float) -> float:
    """When an item written or renewed at ``now`` expires."""
    if ttl_s <= 0:
        raise ValueError("ttl must be positive")
    return now + ttl_s


def is_expired(expires_at: float | None, now: float) -> bool:
    return expires_at is not None and now >= expires_at


def ttl_remaining(expires_at: float | None, now: float) -> float | None:
    """Seconds left, or None for an item without expiry."""
    return None if expires_at is None else max(0.0, expires_at - now)


def read_path(organ_ids: Sequence[str]) -> tuple[str, ...]:
    """Namespaces probed for a fact, in order: each team organ's, then the global one."""
    seen: dict[str, None] = {}
    for organ_id in organ_ids:
        seen.setdefault(organ_namespace(organ_id), None)
    return (*seen, GLOBAL_NAMESPACE)


@dataclass(frozen=True, slots=True)
class ReadDecision:
    """What the read path does after its probes.

    ``found_in`` is the namespace that hit, ``mlt`` for a long-term hit, or None for unknown;
    ``cache_back_to`` is where an Mlt hit is written with the TTL; ``count_item_miss`` says the
    fact missed every working-memory namespace probed.
    """

    found_in: str | None
    cache_back_to: str | None
    count_item_miss: bool


def decide_read(
    path: Sequence[str], mw_hit_namespace: str | None, in_mlt: bool | None
) -> ReadDecision:
    """Turn the probe results into the read path's side effects.

    ``in_mlt`` is None when Mlt was not asked (a working-memory hit stops the path).
    An unknown fact is a miss everywhere and writes nothing.
    """
    if mw_hit_namespace is not None:
        return ReadDecision(mw_hit_namespace, None, count_item_miss=False)
    if in_mlt:
        return ReadDecision(Tier.MLT.value, path[0], count_item_miss=True)
    return ReadDecision(None, None, count_item_miss=True)


def consolidation_priority(surprise: float, age_s: float, kappa: float) -> float:
    """κ·surprise + (1−κ)·age_s: surprising and old items are consolidated first."""
    return kappa * surprise + (1.0 - kappa) * max(0.0, age_s)


def promotion_candidates(
    miss_counts: Mapping[str, int],
    last_promoted: Mapping[str, float],
    now: float,
    ttl_s: float,
    miss_threshold: int,
) -> list[str]:
    """Items whose miss count reached the threshold and were not promoted in the last TTL."""
    due: Iterable[str] = (
        item
        for item, misses in miss_counts.items()
        if misses >= miss_threshold
        and (item not in last_promoted or now - last_promoted[item] >= ttl_s)
    )
    return sorted(due)
