"""In-memory working memory (Mw): namespaced items with a TTL on the injected clock.

Each namespace is an ``OrderedDict`` kept in least-recently-used order, so the cap evicts from
its front. Expired items are dropped lazily when touched and swept by :meth:`purge_expired`
(which ``stats`` and ``namespaces`` also run). One lock guards everything, which makes the
get-and-renew atomic like the Lua script of a real backend.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from application.errors import BackendUnavailable
from application.ports.clock import Clock
from application.ports.working_memory import NamespaceStats
from domain.memory import expiry, is_expired, ttl_remaining, validate_key, validate_namespace

__all__ = ["InMemoryWorkingMemory"]

#: Below this many tracked miss counts, sweeping expired ones is not worth the pass.
_MIN_MISS_SWEEP = 1024


@dataclass(slots=True)
class _Item:
    value: bytes
    expires_at: float


@dataclass(slots=True)
class _MissCount:
    count: int
    expires_at: float


class InMemoryWorkingMemory:
    """Implements :class:`application.ports.working_memory.WorkingMemory`.

    ``item_cap`` bounds every namespace; ``miss_window_s`` is how long an item's miss count
    lives after its last miss. Set ``down`` to make every call (after validation) raise
    ``BackendUnavailable("working_memory", ...)``, as an unreachable backend would.
    """

    def __init__(self, clock: Clock, item_cap: int = 10_000, miss_window_s: float = 600.0) -> None:
        if item_cap < 1:
            raise ValueError("item_cap must be at least 1")
        if not (math.isfinite(miss_window_s) and miss_window_s > 0):
            raise ValueError("miss_window_s must be positive")
        self._clock = clock
        self._item_cap = item_cap
        self._miss_window_s = miss_window_s
        self._lock = threading.Lock()
        self._items: dict[str, OrderedDict[str, _Item]] = {}
        self._hits: Counter[str] = Counter()
        self._misses: Counter[str] = Counter()
        self._item_misses: dict[str, _MissCount] = {}
        self._miss_sweep_at = _MIN_MISS_SWEEP
        self.down = False

    # -- items ---------------------------------------------------------------------------

    def set(self, namespace: str, key: str, value: bytes, expires_in: float) -> None:
        validate_namespace(namespace)
        validate_key(key)
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"value must be bytes, got {type(value).__name__}")
        _check_seconds(expires_in, "expires_in")
        data = bytes(value)
        with self._lock:
            self._check_up()
            now = self._clock.now()
            items = self._items.setdefault(namespace, OrderedDict())
            items.pop(key, None)
            if len(items) >= self._item_cap:
                # Expired items go first: evicting a live item while dead ones hold the
                # cap would lose data for nothing.
                self._purge_namespace(namespace, now)
                items = self._items.setdefault(namespace, OrderedDict())
                while len(items) >= self._item_cap:
                    items.popitem(last=False)
            items[key] = _Item(data, expiry(now, expires_in))

    def get(self, namespace: str, key: str, renew_for: float | None = None) -> bytes | None:
        validate_namespace(namespace)
        validate_key(key)
        if renew_for is not None:
            _check_seconds(renew_for, "renew_for")
        with self._lock:
            self._check_up()
            now = self._clock.now()
            item = self._live_item(namespace, key, now)
            if item is None:
                self._misses[namespace] += 1
                return None
            self._hits[namespace] += 1
            if renew_for is not None:
                item.expires_at = expiry(now, renew_for)
            self._items[namespace].move_to_end(key)
            return item.value

    def contains_many(self, namespace: str, keys: Sequence[str]) -> list[bool]:
        validate_namespace(namespace)
        for key in keys:
            validate_key(key)
        with self._lock:
            self._check_up()
            now = self._clock.now()
            items: Mapping[str, _Item] = self._items.get(namespace) or {}
            return [key in items and not is_expired(items[key].expires_at, now) for key in keys]

    def ttl(self, namespace: str, key: str) -> float | None:
        validate_namespace(namespace)
        validate_key(key)
        with self._lock:
            self._check_up()
            now = self._clock.now()
            item = self._live_item(namespace, key, now)
            return None if item is None else ttl_remaining(item.expires_at, now)

    def delete(self, namespace: str, key: str) -> bool:
        validate_namespace(namespace)
        validate_key(key)
        with self._lock:
            self._check_up()
            now = self._clock.now()
            if self._live_item(namespace, key, now) is None:
                return False
            del self._items[namespace][key]
            self._drop_if_empty(namespace)
            return True

    def delete_namespace(self, namespace: str) -> int:
        """Remove the namespace's items (its hit and miss counters stay); returns how many
        live items went. ``validate_namespace`` refuses "", "*", "organ:*" and the like."""
        validate_namespace(namespace)
        with self._lock:
            self._check_up()
            now = self._clock.now()
            items = self._items.pop(namespace, None)
            if items is None:
                return 0
            return sum(1 for item in items.values() if not is_expired(item.expires_at, now))

    # -- counters ------------------------------------------------------------------------

    def stats(self, namespace: str) -> NamespaceStats:
        validate_namespace(namespace)
        with self._lock:
            self._check_up()
            self._purge_namespace(namespace, self._clock.now())
            items: Mapping[str, _Item] = self._items.get(namespace) or {}
            return NamespaceStats(
                namespace=namespace,
                hits=self._hits[namespace],
                misses=self._misses[namespace],
                items=len(items),
                bytes=sum(len(item.value) for item in items.values()),
            )

    def namespaces(self) -> list[str]:
        with self._lock:
            self._check_up()
            now = self._clock.now()
            for namespace in list(self._items):
                self._purge_namespace(namespace, now)
            names = set(self._items) | set(+self._hits) | set(+self._misses)
            return sorted(names)

    def record_item_miss(self, key: str) -> int:
        validate_key(key)
        with self._lock:
            self._check_up()
            now = self._clock.now()
            entry = self._item_misses.get(key)
            count = 1 if entry is None or is_expired(entry.expires_at, now) else entry.count + 1
            self._item_misses[key] = _MissCount(count, expiry(now, self._miss_window_s))
            if len(self._item_misses) >= self._miss_sweep_at:
                # Amortised sweep: keys missed once and never again must not pile up.
                self._sweep_item_misses(now)
                self._miss_sweep_at = max(_MIN_MISS_SWEEP, 2 * len(self._item_misses))
            return count

    def item_misses(self, keys: Sequence[str] | None = None) -> Mapping[str, int]:
        if keys is not None:
            for key in keys:
                validate_key(key)
        with self._lock:
            self._check_up()
            now = self._clock.now()
            if keys is None:
                self._sweep_item_misses(now)
                return {key: entry.count for key, entry in self._item_misses.items()}
            counts: dict[str, int] = {}
            for key in keys:
                entry = self._item_misses.get(key)
                live = entry is not None and not is_expired(entry.expires_at, now)
                counts[key] = entry.count if entry is not None and live else 0
            return counts

    def ping(self) -> None:
        with self._lock:
            self._check_up()

    def purge_expired(self) -> int:
        """Drop every expired item and miss count now; returns how many items went."""
        with self._lock:
            now = self._clock.now()
            removed = sum(self._purge_namespace(ns, now) for ns in list(self._items))
            self._sweep_item_misses(now)
            return removed

    # -- internals (call with the lock held) ---------------------------------------------

    def _check_up(self) -> None:
        if self.down:
            raise BackendUnavailable("working_memory", "the in-memory backend is switched down")

    def _live_item(self, namespace: str, key: str, now: float) -> _Item | None:
        items = self._items.get(namespace)
        if items is None:
            return None
        item = items.get(key)
        if item is None:
            return None
        if is_expired(item.expires_at, now):
            del items[key]
            self._drop_if_empty(namespace)
            return None
        return item

    def _purge_namespace(self, namespace: str, now: float) -> int:
        items = self._items.get(namespace)
        if items is None:
            return 0
        dead = [key for key, item in items.items() if is_expired(item.expires_at, now)]
        for key in dead:
            del items[key]
        self._drop_if_empty(namespace)
        return len(dead)

    def _drop_if_empty(self, namespace: str) -> None:
        if not self._items.get(namespace, True):
            del self._items[namespace]

    def _sweep_item_misses(self, now: float) -> None:
        dead = [k for k, entry in self._item_misses.items() if is_expired(entry.expires_at, now)]
        for key in dead:
            del self._item_misses[key]


def _check_seconds(seconds: float, name: str) -> None:
    if isinstance(seconds, bool) or not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{name} must be a positive number of seconds, got {seconds!r}")
