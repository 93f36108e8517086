"""The holon graph over Bolt: ``(:Holon {uuid})`` nodes and typed edges, in portable Cypher."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import neo4j
from neo4j import exceptions

from application.errors import BackendUnavailable
from application.ports.holon_graph import Neighbour
from domain.graph import breadth_first
from domain.holon import (
    Edge,
    validate_depth,
    validate_relationship_filter,
    validate_relationship_type,
)

__all__ = [
    "BACKEND",
    "DEFAULT_LABEL",
    "FALKORDB_MESSAGE_BYTES",
    "NODE_LABEL",
    "Dialect",
    "Neo4jHolonGraph",
]

#: The name every ``BackendUnavailable`` of this adapter carries.
BACKEND = "graph"
DEFAULT_LABEL = "Holon"
#: Node labels an adapter may be configured with (a label cannot be a query parameter).
NODE_LABEL = re.compile(r"^[A-Z][A-Za-z0-9_]{0,63}$")

Dialect = Literal["neo4j", "falkordb"]

#: FalkorDB 4.16 aborts (SIGABRT, the whole server) on a Bolt query whose text and
#: parameters exceed about 4 KB (measured: a list of 101 strings of 36 characters passes, 102
#: kill it; by the estimate below, 3,896 bytes pass and 3,934 kill it). On
#: that dialect every query is kept under this many bytes (estimated as PackStream), batches
#: are split to fit, and a single value that cannot fit is refused with ``ValueError``.
FALKORDB_MESSAGE_BYTES = 3_500

#: Driver failures that mean "the graph cannot answer now". FalkorDB reports every server-side
#: error, a syntax error included, as one generic ``DatabaseError``, so it is counted here.
_UNAVAILABLE = (
    exceptions.ServiceUnavailable,  # IncompleteCommit and the routing failures included
    exceptions.SessionExpired,
    exceptions.DatabaseError,
    exceptions.TransientError,
    exceptions.ConnectionPoolError,
    exceptions.AuthError,
    OSError,
)


class Neo4jHolonGraph:
    """Implements :class:`application.ports.holon_graph.HolonGraph` with the official driver.

    Every value travels as a query parameter. Two names cannot: the node label (a constructor
    argument checked against :data:`NODE_LABEL`; tests give each adapter its own label to share
    one server) and relationship types in ``relate``, interpolated into ``MERGE`` only after
    ``validate_relationship_type`` accepted them. Type filters of ``neighbours`` are
    validated too, then passed as a list parameter.

    Writes are auto-commit queries that never rely on a rollback (FalkorDB's Bolt endpoint has
    no real transactions) and only ``MERGE``, so repeating one is harmless. On Neo4j a write
    call is one query, hence atomic. On FalkorDB a call is one query, hence atomic, while it
    fits in :data:`FALKORDB_MESSAGE_BYTES`; a larger batch is split into several queries, each
    atomic, and a failure between them leaves a part of the batch written, which the caller's
    retry completes.

    Uniqueness of ``uuid``: on Neo4j a uniqueness constraint; FalkorDB cannot create one over
    Bolt (its constraints are a Redis command, ``GRAPH.CONSTRAINT``), so :meth:`ensure_schema`
    creates an exact-match index and uniqueness rests on every write being a ``MERGE``, which
    FalkorDB runs one query at a time per graph. ``neighbours`` is a breadth-first search with
    one query per level (at most five; on FalkorDB more when a frontier does not fit in one
    message), which gives on both servers the in-memory graph's order: frontier in uuid order,
    adjacent edges in (type, uuid) order, each node once at its smallest depth. Its levels are
    separate reads, not one snapshot.
    """

    def __init__(
        self,
        driver: neo4j.Driver,
        dialect: Dialect = "neo4j",
        database: str | None = None,
        *,
        label: str = DEFAULT_LABEL,
    ) -> None:
        if dialect not in ("neo4j", "falkordb"):
            raise ValueError(f"dialect must be neo4j or falkordb, not {dialect!r}")
        if not NODE_LABEL.fullmatch(label):
            raise ValueError(f"label {label!r} must match {NODE_LABEL.pattern}")
        self._driver = driver
        self.dialect = dialect
        self._database = database
        self.label = label
        self._budget = FALKORDB_MESSAGE_BYTES if dialect == "falkordb" else None

    def ensure_schema(self) -> None:
        """Make ``uuid`` unique (Neo4j) or indexed (FalkorDB) on the label; idempotent."""
        if self.dialect == "neo4j":
            self._run(
                f"CREATE CONSTRAINT {self.label.lower()}_uuid IF NOT EXISTS"
                f" FOR (h:{self.label}) REQUIRE h.uuid IS UNIQUE"
            )
            return
        if self._has_uuid_index():
            return
        try:
            self._run(f"CREATE INDEX FOR (h:{self.label}) ON (h.uuid)")
        except BackendUnavailable:
            # FalkorDB refuses an index that exists with the same generic error as an outage:
            # another process may have created it in between.
            if not self._has_uuid_index():
                raise

    def merge_nodes(self, uuids: Sequence[str]) -> None:
        query = f"UNWIND $uuids AS node MERGE (:{self.label} {{uuid: node}})"
        for batch in self._batches(list(dict.fromkeys(uuids)), query):
            self._run(query, uuids=batch)

    def relate(self, edges: Sequence[Edge]) -> None:
        """One ``MERGE`` section per relationship type (a type cannot be a parameter), all
        chained in one query when it fits."""
        by_type: dict[str, set[tuple[str, str]]] = {}
        for edge in edges:
            rel = validate_relationship_type(edge.rel)
            by_type.setdefault(rel, set()).add((edge.src, edge.dst))
        sections = [(rel, [list(pair) for pair in sorted(pairs)])
                    for rel, pairs in sorted(by_type.items())]
        if not sections:
            return
        query = " ".join(
            (f"WITH count(*) AS step{index} " if index else "") + self._merge_edges(rel, index)
            for index, (rel, _) in enumerate(sections)
        )
        params = {f"e{index}": pairs for index, (_, pairs) in enumerate(sections)}
        if self._fits(query, params):
            self._run(query, **params)
            return
        for rel, pairs in sections:
            section = self._merge_edges(rel, 0)
            for batch in self._batches(pairs, section):
                self._run(section, e0=batch)

    def neighbours(
        self, uuid: str, depth: int = 1, rel_types: Sequence[str] | None = None
    ) -> list[Neighbour]:
        allowed = validate_relationship_filter(rel_types)
        validate_depth(depth)
        query = (
            f"UNWIND $frontier AS node MATCH (a:{self.label} {{uuid: node}})-[r]-(b:{self.label})"
            + ("" if allowed is None else " WHERE type(r) IN $types")
            + " RETURN a.uuid AS src, type(r) AS rel, b.uuid AS dst"
        )
        types = None if allowed is None else sorted(allowed)

        def adjacent(frontier: Sequence[str]) -> dict[str, set[tuple[str, str]]]:
            edges: dict[str, set[tuple[str, str]]] = {}
            for batch in self._batches(list(frontier), query, types=types):
                for record in self._run(query, frontier=batch, types=types):
                    edges.setdefault(record["src"], set()).add((record["rel"], record["dst"]))
            return edges

        # The query already filters by type; breadth_first filters again, harmlessly.
        hops = breadth_first(uuid, depth, adjacent, allowed)
        return [Neighbour(node, rel, level) for node, rel, level in hops]

    def delete_node(self, uuid: str) -> bool:
        (record,) = self._run(
            f"MATCH (h:{self.label} {{uuid: $uuid}}) DETACH DELETE h RETURN count(*) AS deleted",
            uuid=uuid,
        )
        return int(record["deleted"]) > 0

    def has_node(self, uuid: str) -> bool:
        (record,) = self._run(
            f"MATCH (h:{self.label} {{uuid: $uuid}}) RETURN count(h) AS found", uuid=uuid
        )
        return int(record["found"]) > 0

    def counts(self) -> tuple[int, int]:
        label = self.label
        (record,) = self._run(
            f"MATCH (h:{label}) WITH count(h) AS nodes"
            f" OPTIONAL MATCH (:{label})-[r]->(:{label}) RETURN nodes, count(r) AS edges"
        )
        return int(record["nodes"]), int(record["edges"])

    def ping(self) -> None:
        self._run("RETURN 1 AS ok")

    def _merge_edges(self, rel: str, index: int) -> str:
        """A self-contained section: both ends and the edge, for each pair of ``$e<index>``."""
        label = self.label
        return (
            f"UNWIND $e{index} AS e MERGE (a:{label} {{uuid: e[0]}})"
            f" MERGE (b:{label} {{uuid: e[1]}}) MERGE (a)-[:{rel}]->(b)"
        )

    def _has_uuid_index(self) -> bool:
        records = self._run("CALL db.indexes() YIELD label, properties RETURN label, properties")
        return any(r["label"] == self.label and "uuid" in r["properties"] for r in records)

    def _fits(self, query: str, params: Mapping[str, Any]) -> bool:
        return self._budget is None or _message_size(query, params) <= self._budget

    def _batches(self, items: list[Any], query: str, **fixed: Any) -> Iterator[list[Any]]:
        """Consecutive runs of ``items`` that fit in one message with ``query`` and the other
        parameters; all of them at once when the dialect has no limit. Nothing for no items."""
        if not items:
            return
        if self._budget is None:
            yield items
            return
        base = _message_size(query, {**fixed, "items": []})
        batch: list[Any] = []
        size = base
        for item in items:
            item_size = _packed_size(item)
            if base + item_size > self._budget:
                raise ValueError(f"a value of {item_size} bytes does not fit in one query")
            if batch and size + item_size > self._budget:
                yield batch
                batch, size = [], base
            batch.append(item)
            size += item_size
        yield batch

    def _run(self, query: str, **params: Any) -> list[Mapping[str, Any]]:
        """One auto-commit query (no driver retries of managed transactions), all records."""
        if not self._fits(query, params):
            raise ValueError("the query and its parameters are too large for one message")
        try:
            with self._driver.session(database=self._database) as session:
                return list(session.run(query, params))
        except _UNAVAILABLE as failure:
            raise BackendUnavailable(BACKEND, _reason(failure)) from None


def _message_size(query: str, params: Mapping[str, Any]) -> int:
    """Bytes of a RUN message's query and parameters, with list headers counted at their
    largest (5 bytes) so that a growing batch never outgrows its estimate."""
    return _packed_size(query) + _packed_size(dict(params)) + 5 * (len(params) + 1)


def _packed_size(value: Any) -> int:
    """PackStream size of a parameter value (strings, lists, maps, numbers, None)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return 9
    if isinstance(value, float):
        return 9
    if isinstance(value, str):
        length = len(value.encode("utf-8"))
        return length + _header(length)
    if isinstance(value, Mapping):
        return _header(len(value)) + sum(
            _packed_size(str(k)) + _packed_size(v) for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):
        return _header(len(value)) + sum(_packed_size(v) for v in value)
    return len(str(value)) + 5


def _header(length: int) -> int:
    if length < 16:
        return 1
    if length < 256:
        return 2
    return 3 if length < 65_536 else 5


def _reason(failure: BaseException) -> str:
    message = " ".join(str(failure).split())
    return f"{type(failure).__name__}: {message}" if message else type(failure).__name__
