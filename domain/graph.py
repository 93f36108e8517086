"""Neighbour traversal of the holon graph, the same on every backend.

Backends differ only in how they fetch the edges around a frontier; the order of the answer is
a rule: each node once at its smallest depth, the frontier expanded in uuid order and its edges
in (type, uuid) order, so the type reported for a node (the edge it was first reached through)
is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = ["Adjacency", "breadth_first"]

#: Edges around a frontier: node → {(relationship type, other end)}, in either direction.
Adjacency = Callable[[Sequence[str]], Mapping[str, Iterable[tuple[str, str]]]]


def breadth_first(
    start: str, depth: int, adjacent: Adjacency, allowed: frozenset[str] | None
) -> list[tuple[str, str, int]]:
    """``(uuid, rel, depth)`` of every node within ``depth`` hops of ``start``, sorted by
    (depth, uuid); ``allowed`` limits the relationship types followed (None: all)."""
    seen = {start}
    found: list[tuple[str, str, int]] = []
    frontier = [start]
    for level in range(1, depth + 1):
        edges = adjacent(frontier)
        reached: dict[str, str] = {}
        for node in sorted(frontier):
            for rel, other in sorted(edges.get(node, ())):
                if other in seen or other in reached:
                    continue
                if allowed is None or rel in allowed:
                    reached[other] = rel
        if not reached:
            break
        seen.update(reached)
        found.extend((node, reached[node], level) for node in sorted(reached))
        frontier = sorted(reached)
    return found
