"""Holon vectors in PostgreSQL with pgvector: exact lookup by uuid, cosine HNSW search."""

from __future__ import annotations

import math
import uuid as uuidlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from pgvector import Vector
from psycopg import sql
from psycopg.types.json import Jsonb

from adapters.postgres.migrations import HNSW_INDEX, create_hnsw_index
from adapters.postgres.pool import Connection, PostgresPool
from application.errors import InvalidInput
from application.ports.holon_store import SimilarHolon
from domain.holon import Holon, InvalidMetaFilter, validate_meta_filter

__all__ = ["BULK_LOAD_MAINTENANCE_WORK_MEM", "DEFAULT_EF_SEARCH", "PostgresHolonStore"]

FloatArray = npt.NDArray[np.float64]

#: Candidates the HNSW search keeps per query (``hnsw.ef_search``, raised to ``k`` when
#: smaller); measured by ``entrypoints/bench_mlt.py`` against exact search.
DEFAULT_EF_SEARCH = 100
#: Memory for building the HNSW index after a bulk load: the graph must fit in it, or the
#: build slows down by an order of magnitude (100,000 x 384 dimensions take about 200 MB).
BULK_LOAD_MAINTENANCE_WORK_MEM = "1GB"

_COLUMNS = (
    "uuid, kind, content, embedding, meta, content_hash,"
    " extract(epoch FROM created_at)::float8 AS created_s,"
    " extract(epoch FROM updated_at)::float8 AS updated_s"
)
_ROW_TYPES = ["uuid", "text", "text", "vector", "jsonb", "text", "timestamptz", "timestamptz",
              "int8"]
_INSERTED = (
    "(uuid, kind, content, embedding, meta, content_hash, created_at, updated_at, size_bytes)"
)
_ON_CONFLICT = (
    " ON CONFLICT (uuid) DO UPDATE SET kind = EXCLUDED.kind, content = EXCLUDED.content,"
    " embedding = EXCLUDED.embedding, meta = EXCLUDED.meta,"
    " content_hash = EXCLUDED.content_hash, created_at = EXCLUDED.created_at,"
    " updated_at = EXCLUDED.updated_at, size_bytes = EXCLUDED.size_bytes"
)


class PostgresHolonStore:
    """Implements :class:`application.ports.holon_store.HolonStore` on a ``holons`` table made
    by :func:`adapters.postgres.migrations.migrate` (run it first, with the same ``dim``).

    Embeddings are stored as float32 (pgvector's ``vector``). Search walks the HNSW index with
    ``hnsw.ef_search`` and ``hnsw.iterative_scan = relaxed_order`` set on the connection's
    session (once per connection, see ``PostgresPool.connection``, so a search is a single
    statement): filters are applied while the index is walked, and a filtered query still
    finds ``k`` matches when there are that many near the query. When the walk returns fewer
    than ``k`` rows (few matches, or matches the walk did not reach within
    ``hnsw.max_scan_tuples``) the query is answered again by an exact scan of the matching
    rows, so "up to ``k``" means "``k`` unless fewer match". Results are approximate (HNSW)
    otherwise, filtered ones more than unfiltered ones: ``entrypoints/bench_mlt.py`` measures
    both. On a small table the planner may prefer an exact scan, which is also correct.
    """

    def __init__(self, pool: PostgresPool, dim: int, *, ef_search: int = DEFAULT_EF_SEARCH) -> None:
        if dim < 1:
            raise ValueError("dim must be at least 1")
        if not 1 <= ef_search <= 1000:
            raise ValueError("ef_search must be within [1, 1000]")
        self._pool = pool
        self.dim = dim
        self.ef_search = ef_search

    def upsert(self, holons: Sequence[Holon]) -> None:
        self._check_dimensions(holons)
        if not holons:
            return
        rows = [
            (h.uuid, h.kind, h.content, h.embedding, Jsonb(dict(h.meta)), h.content_hash,
             h.created_at, h.updated_at, h.size_bytes)
            for h in holons
        ]
        with self._pool.transaction() as conn, conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO holons {_INSERTED} VALUES (%s, %s, %s, %s, %s, %s,"
                f" to_timestamp(%s), to_timestamp(%s), %s){_ON_CONFLICT}",
                rows,
            )

    def bulk_load(self, holons: Sequence[Holon]) -> int:
        """Insert or replace many holons in one transaction through binary ``COPY``; return
        how many distinct uuids were written (a repeated uuid keeps its last holon).

        Into an empty table the rows are copied straight in and the HNSW index is rebuilt
        afterwards (much faster than growing it row by row); the table is locked against
        readers until the load commits. Otherwise the rows go through a temporary staging
        table and ``INSERT ... ON CONFLICT``, and readers are not blocked. The table is
        analysed at the end.
        """
        self._check_dimensions(holons)
        latest = {h.uuid: h for h in holons}
        if not latest:
            return 0
        with self._pool.transaction() as conn:
            # Serialises concurrent loads and writes (readers are not blocked by this mode).
            conn.execute("LOCK TABLE holons IN SHARE ROW EXCLUSIVE MODE")
            row = conn.execute("SELECT EXISTS (SELECT 1 FROM holons)").fetchone()
            if row is not None and not row[0]:
                conn.execute(
                    "SELECT set_config('maintenance_work_mem', %s, true)",
                    (BULK_LOAD_MAINTENANCE_WORK_MEM,),
                )
                conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(HNSW_INDEX)))
                _copy(conn, "holons", latest.values())
                conn.execute(create_hnsw_index())
            else:
                conn.execute(
                    "CREATE TEMPORARY TABLE holons_load (LIKE holons INCLUDING DEFAULTS)"
                    " ON COMMIT DROP"
                )
                _copy(conn, "holons_load", latest.values())
                conn.execute(
                    f"INSERT INTO holons {_INSERTED} SELECT {_INSERTED[1:-1]} FROM holons_load"
                    f"{_ON_CONFLICT}"
                )
            # Fresh statistics, so the planner weighs the index against filters correctly
            # right away rather than after autovacuum gets round to it.
            conn.execute("ANALYZE holons")
        return len(latest)

    def get(self, uuid: str) -> Holon | None:
        if not _is_uuid(uuid):
            return None
        with self._pool.connection() as conn, conn.cursor(binary=True) as cur:
            row = cur.execute(f"SELECT {_COLUMNS} FROM holons WHERE uuid = %s", (uuid,)).fetchone()
        return None if row is None else _holon(row)

    def search(
        self,
        vector: FloatArray,
        k: int,
        kind: str | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> list[SimilarHolon]:
        where, params = self._search_terms(vector, k, kind, meta)
        if k == 0:
            return []
        with self._pool.connection(self._settings(k)) as conn, conn.cursor(binary=True) as cur:
            rows = cur.execute(_nearest(where), params).fetchall()
            if len(rows) < k:
                rows = cur.execute(_exact(where), params).fetchall()
        return [SimilarHolon(_holon(row), _similarity(row[-1])) for row in rows]

    def explain_search(
        self,
        vector: FloatArray,
        k: int,
        kind: str | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> str:
        """The plan PostgreSQL chooses for the index-backed query of :meth:`search` with these
        arguments (``EXPLAIN``, not run), one line per plan node."""
        where, params = self._search_terms(vector, k, kind, meta)
        with self._pool.connection(self._settings(k)) as conn:
            rows = conn.execute(sql.SQL("EXPLAIN ") + _nearest(where), params).fetchall()
        return "\n".join(str(row[0]) for row in rows)

    def _search_terms(
        self,
        vector: FloatArray,
        k: int,
        kind: str | None,
        meta: Mapping[str, str] | None,
    ) -> tuple[sql.Composable, dict[str, Any]]:
        """Validate a search and build its WHERE clause and parameters. Every value is a
        parameter, meta keys included; only generated placeholder names are composed."""
        try:
            wanted = validate_meta_filter(meta)
        except InvalidMetaFilter as refused:
            raise InvalidInput(str(refused)) from None
        query = np.asarray(vector, dtype=np.float64)
        if query.shape != (self.dim,):
            raise ValueError(f"query vector must have shape ({self.dim},), got {query.shape}")
        if not np.all(np.isfinite(query)):
            raise ValueError("query vector must be finite")
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ValueError("k must be a non-negative integer")
        params: dict[str, Any] = {"query": query, "k": k}
        conditions: list[sql.Composable] = []
        if kind is not None:
            params["kind"] = kind
            conditions.append(sql.SQL("kind = %(kind)s"))
        for index, (key, value) in enumerate(sorted(wanted.items())):
            params[f"key{index}"], params[f"value{index}"] = key, value
            conditions.append(
                sql.SQL("meta -> {key} = to_jsonb({value}::text)").format(
                    key=sql.Placeholder(f"key{index}"), value=sql.Placeholder(f"value{index}")
                )
            )
        if not conditions:
            return sql.SQL(""), params
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions), params

    def _settings(self, k: int) -> dict[str, str]:
        """The session settings a search for ``k`` holons runs with."""
        return {
            "hnsw.ef_search": str(min(max(self.ef_search, k), 1000)),
            "hnsw.iterative_scan": "relaxed_order",
        }

    def delete(self, uuid: str) -> bool:
        if not _is_uuid(uuid):
            return False
        with self._pool.connection() as conn:
            return conn.execute("DELETE FROM holons WHERE uuid = %s", (uuid,)).rowcount > 0

    def count(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT count(*) FROM holons").fetchone()
        return 0 if row is None else int(row[0])

    def bytes_used(self) -> int:
        """Sum of ``Holon.size_bytes`` (UTF-8 content plus the embedding as float64), the same
        figure as the other adapters; the table and its indexes take more on disk."""
        with self._pool.connection() as conn:
            row = conn.execute("SELECT coalesce(sum(size_bytes), 0) FROM holons").fetchone()
        return 0 if row is None else int(row[0])

    def ping(self) -> None:
        self._pool.ping()

    def _check_dimensions(self, holons: Sequence[Holon]) -> None:
        for holon in holons:
            if holon.embedding.shape != (self.dim,):
                raise ValueError(
                    f"holon {holon.uuid} has an embedding of shape {holon.embedding.shape},"
                    f" the store holds vectors of dimension {self.dim}"
                )


def _nearest(where: sql.Composable) -> sql.Composed:
    """Top ``k`` by the HNSW index (the inner ORDER BY is what the index serves), re-sorted
    because a relaxed-order iterative scan may return neighbours slightly out of order."""
    return sql.SQL(
        "SELECT * FROM (SELECT {columns}, embedding <=> %(query)s AS distance FROM holons{where}"
        " ORDER BY embedding <=> %(query)s LIMIT %(k)s) AS nearest ORDER BY distance, uuid"
    ).format(columns=sql.SQL(_COLUMNS), where=where)


def _exact(where: sql.Composable) -> sql.Composed:
    """Top ``k`` among all matching rows: the materialised set cannot use the HNSW index."""
    return sql.SQL(
        "WITH matching AS MATERIALIZED (SELECT {columns} FROM holons{where})"
        " SELECT *, embedding <=> %(query)s AS distance FROM matching"
        " ORDER BY distance, uuid LIMIT %(k)s"
    ).format(columns=sql.SQL(_COLUMNS), where=where)


def _copy(conn: Connection, table: str, holons: Any) -> None:
    with conn.cursor() as cur, cur.copy(
        sql.SQL("COPY {} {} FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(table), sql.SQL(_INSERTED)
        )
    ) as copy:
        copy.set_types(_ROW_TYPES)
        for h in holons:
            copy.write_row(
                (uuidlib.UUID(h.uuid), h.kind, h.content, h.embedding, dict(h.meta),
                 h.content_hash, _timestamp(h.created_at), _timestamp(h.updated_at),
                 h.size_bytes)
            )


def _holon(row: Sequence[Any]) -> Holon:
    uuid, kind, content, embedding, meta, digest, created, updated = row[:8]
    vector = embedding.to_numpy() if isinstance(embedding, Vector) else np.asarray(embedding)
    return Holon(str(uuid), str(kind), str(content), vector.astype(np.float64), meta,
                 str(digest), float(created), float(updated))


def _similarity(distance: float) -> float:
    # A zero vector has no direction: pgvector's distance is NaN, similarity is 0.
    return 0.0 if math.isnan(distance) else 1.0 - float(distance)


def _timestamp(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _is_uuid(value: str) -> bool:
    try:
        uuidlib.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True
