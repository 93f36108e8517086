"""Decorators that time long-term memory operations into the metrics port.

They wrap any holon store or graph, so every backend is measured the same way and no adapter
carries timing code of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from application.ports.clock import Clock
from application.ports.holon_graph import HolonGraph, Neighbour
from application.ports.holon_store import HolonStore, SimilarHolon
from application.ports.metrics import Metrics
from domain.holon import Edge, Holon

__all__ = ["TimedHolonGraph", "TimedHolonStore"]

T = TypeVar("T")


class _Timer:
    def __init__(self, metrics: Metrics, clock: Clock) -> None:
        self._metrics = metrics
        self._clock = clock

    def __call__(self, op: str, call: Callable[[], T]) -> T:
        started = self._clock.monotonic()
        try:
            return call()
        finally:
            self._metrics.mlt_operation(op, self._clock.monotonic() - started)


class TimedHolonStore:
    """A :class:`HolonStore` that reports get, search, upsert and delete durations."""

    def __init__(self, inner: HolonStore, metrics: Metrics, clock: Clock) -> None:
        self.inner = inner
        self._time = _Timer(metrics, clock)

    def upsert(self, holons: Sequence[Holon]) -> None:
        self._time("upsert", lambda: self.inner.upsert(holons))

    def get(self, uuid: str) -> Holon | None:
        return self._time("get", lambda: self.inner.get(uuid))

    def search(
        self,
        vector: npt.NDArray[np.float64],
        k: int,
        kind: str | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> list[SimilarHolon]:
        return self._time("search", lambda: self.inner.search(vector, k, kind, meta))

    def delete(self, uuid: str) -> bool:
        return self._time("delete", lambda: self.inner.delete(uuid))

    def count(self) -> int:
        return self.inner.count()

    def bytes_used(self) -> int:
        return self.inner.bytes_used()

    def ping(self) -> None:
        self.inner.ping()


class TimedHolonGraph:
    """A :class:`HolonGraph` that reports relate and neighbours durations."""

    def __init__(self, inner: HolonGraph, metrics: Metrics, clock: Clock) -> None:
        self.inner = inner
        self._time = _Timer(metrics, clock)

    def merge_nodes(self, uuids: Sequence[str]) -> None:
        self.inner.merge_nodes(uuids)

    def relate(self, edges: Sequence[Edge]) -> None:
        self._time("graph_relate", lambda: self.inner.relate(edges))

    def neighbours(
        self, uuid: str, depth: int = 1, rel_types: Sequence[str] | None = None
    ) -> list[Neighbour]:
        return self._time("graph_neighbours", lambda: self.inner.neighbours(uuid, depth,
                                                                           rel_types))

    def delete_node(self, uuid: str) -> bool:
        return self.inner.delete_node(uuid)

    def has_node(self, uuid: str) -> bool:
        return self.inner.has_node(uuid)

    def counts(self) -> tuple[int, int]:
        return self.inner.counts()

    def ping(self) -> None:
        self.inner.ping()
