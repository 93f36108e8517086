"""Working memory (Mw) port: namespaced key-value items with a TTL, counted hits and misses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["NamespaceStats", "WorkingMemory"]


@dataclass(frozen=True, slots=True)
class NamespaceStats:
    """Counters kept in the backend itself, so every process sees the same figures."""

    namespace: str
    hits: int
    misses: int
    items: int
    bytes: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class WorkingMemory(Protocol):
    """Namespaces are ``global`` or ``organ:<id>`` and keys match ``domain.memory``'s alphabet;
    every method raises ``domain.memory.InvalidKey`` for anything else before touching the
    backend, and ``application.errors.BackendUnavailable`` when the backend cannot be reached.
    """

    def set(self, namespace: str, key: str, value: bytes, expires_in: float) -> None:
        """Store ``value`` for ``expires_in`` seconds (> 0), replacing any previous value.
        When the namespace holds its item cap, the least recently used item is evicted."""
        ...

    def get(self, namespace: str, key: str, renew_for: float | None = None) -> bytes | None:
        """The value, or None when absent or expired. Counts one hit or one miss in the
        namespace. With ``renew_for``, the TTL is reset to it atomically with the read.
        A hit makes the item the most recently used."""
        ...

    def contains_many(self, namespace: str, keys: Sequence[str]) -> list[bool]:
        """Which keys are present, in one round trip; counts nothing and renews nothing."""
        ...

    def ttl(self, namespace: str, key: str) -> float | None:
        """Seconds the item has left, or None when it is absent or expired. Counts nothing."""
        ...

    def delete(self, namespace: str, key: str) -> bool:
        """Remove one item; True when it existed."""
        ...

    def delete_namespace(self, namespace: str) -> int:
        """Remove every item of one namespace and nothing else; returns how many. Refuses an
        empty or invalid namespace, so it can never wipe the whole store."""
        ...

    def stats(self, namespace: str) -> NamespaceStats:
        """Hits, misses, live items and their bytes for one namespace."""
        ...

    def namespaces(self) -> list[str]:
        """Every namespace that holds items or counters, sorted."""
        ...

    def record_item_miss(self, key: str) -> int:
        """Add one to the miss count of a fact that missed every namespace; returns the new
        count. Counts live for the configured miss window after their last miss."""
        ...

    def item_misses(self, keys: Sequence[str] | None = None) -> Mapping[str, int]:
        """Current miss counts, of the given keys (0 for unknown ones) or of every item."""
        ...

    def ping(self) -> None:
        """Return when the backend answers; raise ``BackendUnavailable`` otherwise."""
        ...
