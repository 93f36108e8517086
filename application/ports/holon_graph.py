"""Holon graph port (Mlt graph): ``Holon{uuid}`` nodes, typed directed edges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.holon import Edge

__all__ = ["HolonGraph", "Neighbour"]


@dataclass(frozen=True, slots=True)
class Neighbour:
    uuid: str
    rel: str
    depth: int


class HolonGraph(Protocol):
    """Relationship types are validated (``domain.holon.validate_relationship_type``) before
    any query is built; every value is a query parameter. Raises ``BackendUnavailable`` when
    the backend cannot be reached."""

    def merge_nodes(self, uuids: Sequence[str]) -> None:
        """Create the nodes that do not exist yet; uuids are unique."""
        ...

    def relate(self, edges: Sequence[Edge]) -> None:
        """Create each edge once (merging a repeated edge) and its end nodes if missing."""
        ...

    def neighbours(
        self, uuid: str, depth: int = 1, rel_types: Sequence[str] | None = None
    ) -> list[Neighbour]:
        """Nodes reachable within ``depth`` (1-5) hops in either direction, optionally only
        over the given types, each once at its smallest depth, sorted by (depth, uuid)."""
        ...

    def delete_node(self, uuid: str) -> bool:
        """Remove the node and every edge touching it, nothing else; True when it existed."""
        ...

    def has_node(self, uuid: str) -> bool:
        ...

    def counts(self) -> tuple[int, int]:
        """(nodes, edges)."""
        ...

    def ping(self) -> None:
        """Return when the backend answers; raise ``BackendUnavailable`` otherwise."""
        ...
