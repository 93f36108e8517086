"""In-memory consolidation queue: a sorted list of priority keys plus a dict of items."""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Sequence

from application.ports.consolidation_queue import PendingItem

__all__ = ["InMemoryConsolidationQueue"]

# Sort key: ascending order of this tuple is descending priority κ·surprise − (1−κ)·written_at
# (the age term of the port's priority without the "now" every item shares), ties by item id.
_Key = tuple[float, str]


class InMemoryConsolidationQueue:
    """Implements :class:`application.ports.consolidation_queue.ConsolidationQueue`.

    The key list stays sorted with ``bisect``, so ``peek`` reads its front and ``ack`` finds
    an entry in O(log n) (plus the list shift). Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._order: list[_Key] = []
        self._items: dict[str, tuple[_Key, PendingItem]] = {}

    def enqueue(self, item: PendingItem, kappa: float) -> None:
        """Queue ``item``; an item id already queued is replaced (and re-prioritised)."""
        if not (math.isfinite(kappa) and 0.0 <= kappa <= 1.0):
            raise ValueError(f"kappa must be within [0, 1], got {kappa!r}")
        if not (math.isfinite(item.surprise) and math.isfinite(item.written_at)):
            raise ValueError("surprise and written_at must be finite")
        key = (-(kappa * item.surprise - (1.0 - kappa) * item.written_at), item.item_id)
        with self._lock:
            self._remove(item.item_id)
            bisect.insort(self._order, key)
            self._items[item.item_id] = (key, item)

    def peek(self, limit: int) -> list[PendingItem]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        with self._lock:
            return [self._items[item_id][1] for _, item_id in self._order[:limit]]

    def ack(self, item_ids: Sequence[str]) -> int:
        with self._lock:
            return sum(1 for item_id in set(item_ids) if self._remove(item_id))

    def size(self) -> int:
        with self._lock:
            return len(self._items)

    def _remove(self, item_id: str) -> bool:
        entry = self._items.pop(item_id, None)
        if entry is None:
            return False
        index = bisect.bisect_left(self._order, entry[0])
        del self._order[index]
        return True
