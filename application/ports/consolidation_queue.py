"""Consolidation queue port: durable working-memory items waiting to reach Mlt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["ConsolidationQueue", "PendingItem"]


@dataclass(frozen=True, slots=True)
class PendingItem:
    """One item to consolidate. ``item_id`` is unique in the queue; enqueueing it again
    replaces the earlier entry. ``source`` is the uuid the new holon derives from, if any."""

    item_id: str
    content: str
    kind: str
    surprise: float
    written_at: float
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class ConsolidationQueue(Protocol):
    def enqueue(self, item: PendingItem, kappa: float) -> None:
        """Queue by priority κ·surprise + (1−κ)·age. Because age grows equally for all items,
        the order is that of κ·surprise − (1−κ)·written_at, fixed at enqueue time."""
        ...

    def peek(self, limit: int) -> list[PendingItem]:
        """Up to ``limit`` items, highest priority first; they stay queued."""
        ...

    def ack(self, item_ids: Sequence[str]) -> int:
        """Remove items once Mlt holds them; unknown ids are ignored. Returns how many left."""
        ...

    def size(self) -> int:
        """Items waiting."""
        ...
