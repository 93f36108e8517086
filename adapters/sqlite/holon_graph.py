"""The holon graph in SQLite: node and edge tables, breadth-first neighbours."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.sqlite.database import SqliteDatabase
from application.ports.holon_graph import Neighbour
from domain.graph import breadth_first
from domain.holon import (
    Edge,
    validate_depth,
    validate_relationship_filter,
    validate_relationship_type,
)

__all__ = ["SqliteHolonGraph"]


class SqliteHolonGraph:
    """Implements :class:`application.ports.holon_graph.HolonGraph`; same traversal order as
    the in-memory graph (frontier in uuid order, adjacent edges in (rel, uuid) order)."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def merge_nodes(self, uuids: Sequence[str]) -> None:
        with self._db.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO graph_nodes(uuid) VALUES (?)",
                             [(u,) for u in uuids])

    def relate(self, edges: Sequence[Edge]) -> None:
        for edge in edges:
            validate_relationship_type(edge.rel)
        with self._db.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO graph_nodes(uuid) VALUES (?)",
                             [(u,) for e in edges for u in (e.src, e.dst)])
            conn.executemany("INSERT OR IGNORE INTO graph_edges(src, rel, dst) VALUES (?, ?, ?)",
                             [(e.src, e.rel, e.dst) for e in edges])

    def neighbours(
        self, uuid: str, depth: int = 1, rel_types: Sequence[str] | None = None
    ) -> list[Neighbour]:
        allowed = validate_relationship_filter(rel_types)
        validate_depth(depth)
        if not self.has_node(uuid):
            return []
        hops = breadth_first(uuid, depth, self._adjacent, allowed)
        return [Neighbour(node, rel, level) for node, rel, level in hops]

    def _adjacent(self, nodes: Sequence[str]) -> dict[str, set[tuple[str, str]]]:
        marks = ", ".join("?" for _ in nodes)
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT src, rel, dst FROM graph_edges WHERE src IN ({marks})"
                f" UNION SELECT src, rel, dst FROM graph_edges WHERE dst IN ({marks})",
                [*nodes, *nodes],
            ).fetchall()
        wanted = set(nodes)
        adjacent: dict[str, set[tuple[str, str]]] = {}
        for src, rel, dst in rows:
            if src in wanted:
                adjacent.setdefault(src, set()).add((rel, dst))
            if dst in wanted:
                adjacent.setdefault(dst, set()).add((rel, src))
        return adjacent

    def delete_node(self, uuid: str) -> bool:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM graph_edges WHERE src = ? OR dst = ?", (uuid, uuid))
            return conn.execute("DELETE FROM graph_nodes WHERE uuid = ?", (uuid,)).rowcount > 0

    def has_node(self, uuid: str) -> bool:
        with self._db.reading() as conn:
            row = conn.execute("SELECT 1 FROM graph_nodes WHERE uuid = ?", (uuid,)).fetchone()
        return row is not None

    def counts(self) -> tuple[int, int]:
        with self._db.reading() as conn:
            nodes = conn.execute("SELECT COUNT(*) FROM graph_nodes").fetchone()[0]
            edges = conn.execute("SELECT COUNT(*) FROM graph_edges").fetchone()[0]
        return int(nodes), int(edges)

    def ping(self) -> None:
        self._db.ping()
