"""In-memory holon graph: a node set, an edge set and an adjacency index for BFS."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from application.errors import BackendUnavailable, InvalidInput
from application.ports.holon_graph import Neighbour
from domain.graph import breadth_first
from domain.holon import Edge, validate_relationship_filter, validate_relationship_type

__all__ = ["MAX_DEPTH", "InMemoryHolonGraph"]

MAX_DEPTH = 5


class InMemoryHolonGraph:
    """Implements :class:`application.ports.holon_graph.HolonGraph`.

    Failure switches for tests of all-or-nothing writes: ``down = True`` makes every call
    raise ``BackendUnavailable("graph", ...)``; ``fail_next = n`` makes the next ``n`` write
    calls (``merge_nodes``, ``relate``, ``delete_node``) raise it without writing anything.
    Validation always comes first, as it would before a real query is built. Thread-safe.
    """

    def __init__(self) -> None:
        self.down = False
        self.fail_next = 0
        self._lock = threading.Lock()
        self._nodes: set[str] = set()
        self._edges: set[tuple[str, str, str]] = set()
        # node -> {(rel, other end)} over edges in both directions.
        self._adjacent: dict[str, set[tuple[str, str]]] = {}

    def merge_nodes(self, uuids: Sequence[str]) -> None:
        with self._lock:
            self._check_write()
            self._nodes.update(uuids)

    def relate(self, edges: Sequence[Edge]) -> None:
        for edge in edges:
            validate_relationship_type(edge.rel)
        with self._lock:
            self._check_write()
            for edge in edges:
                self._nodes.update((edge.src, edge.dst))
                triple = (edge.src, edge.rel, edge.dst)
                if triple in self._edges:
                    continue
                self._edges.add(triple)
                self._adjacent.setdefault(edge.src, set()).add((edge.rel, edge.dst))
                self._adjacent.setdefault(edge.dst, set()).add((edge.rel, edge.src))

    def neighbours(
        self, uuid: str, depth: int = 1, rel_types: Sequence[str] | None = None
    ) -> list[Neighbour]:
        """Breadth-first in either direction. Frontiers are expanded in uuid order and
        adjacent edges in (rel, uuid) order, so ``rel`` (the type of the edge a node was
        first reached through) is deterministic. An empty ``rel_types`` means no filter."""
        allowed = validate_relationship_filter(rel_types)
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
            raise InvalidInput(f"depth must be an integer within [1, {MAX_DEPTH}]")
        with self._lock:
            self._check_up()
            if uuid not in self._nodes:
                return []
            hops = breadth_first(
                uuid, depth, lambda nodes: {n: self._adjacent.get(n, ()) for n in nodes}, allowed
            )
            return [Neighbour(node, rel, level) for node, rel, level in hops]

    def delete_node(self, uuid: str) -> bool:
        with self._lock:
            self._check_write()
            if uuid not in self._nodes:
                return False
            self._nodes.discard(uuid)
            for rel, other in self._adjacent.pop(uuid, set()):
                self._edges.discard((uuid, rel, other))
                self._edges.discard((other, rel, uuid))
                others = self._adjacent.get(other)
                if others is not None:
                    others.discard((rel, uuid))
                    if not others:
                        del self._adjacent[other]
            return True

    def has_node(self, uuid: str) -> bool:
        with self._lock:
            self._check_up()
            return uuid in self._nodes

    def counts(self) -> tuple[int, int]:
        with self._lock:
            self._check_up()
            return len(self._nodes), len(self._edges)

    def ping(self) -> None:
        with self._lock:
            self._check_up()

    def _check_up(self) -> None:
        if self.down:
            raise BackendUnavailable("graph", "the in-memory backend is switched down")

    def _check_write(self) -> None:
        self._check_up()
        if self.fail_next > 0:
            self.fail_next -= 1
            raise BackendUnavailable("graph", "injected write failure")
