"""Holon vectors in SQLite: rows on disk, exact cosine search over a cached matrix."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from adapters.sqlite.database import SqliteDatabase
from application.errors import InvalidInput
from application.ports.holon_store import SimilarHolon
from domain.holon import Holon, InvalidMetaFilter, validate_meta_filter

__all__ = ["SqliteHolonStore"]

FloatArray = npt.NDArray[np.float64]
_COLUMNS = "uuid, kind, content, embedding, meta, content_hash, created_at, updated_at"


def _row_to_holon(row: tuple[Any, ...]) -> Holon:
    uuid, kind, content, blob, meta, digest, created, updated = row
    vector = np.frombuffer(blob, dtype=np.float32).astype(np.float64)
    return Holon(str(uuid), str(kind), str(content), vector, json.loads(str(meta)), str(digest),
                 float(created), float(updated))


class SqliteHolonStore:
    """Implements :class:`application.ports.holon_store.HolonStore` for the embedded profile.

    Embeddings are stored as float32 (what pgvector stores too). Search is exact: the whole
    matrix is kept in memory and rebuilt after a write, which suits the embedded profile's
    sizes (100,000 holons of 384 dimensions take about 150 MB). Other processes write the same
    file (organ actors, the worker), so the cache also remembers SQLite's ``data_version``,
    which moves when another connection commits (to any table, hence rebuilds that were not
    needed, the price of never serving a stale matrix)."""

    def __init__(self, db: SqliteDatabase, dim: int) -> None:
        self._db = db
        self.dim = dim
        self._cache_lock = threading.Lock()
        self._ids: list[str] = []
        self._kinds: npt.NDArray[np.object_] = np.empty(0, dtype=object)
        self._metas: list[dict[str, object]] = []
        self._matrix: FloatArray | None = None
        self._data_version: int | None = None  # of the connection, when the matrix was read

    def upsert(self, holons: Sequence[Holon]) -> None:
        for holon in holons:
            if holon.embedding.shape != (self.dim,):
                raise ValueError(f"holon {holon.uuid} must have a {self.dim}-dimensional embedding")
        rows = [
            (h.uuid, h.kind, h.content, h.embedding.astype(np.float32).tobytes(),
             json.dumps(dict(h.meta)), h.content_hash, h.created_at, h.updated_at, h.size_bytes)
            for h in holons
        ]
        with self._db.transaction() as conn:
            conn.executemany(
                f"INSERT OR REPLACE INTO holons ({_COLUMNS}, size_bytes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        self._invalidate()

    def get(self, uuid: str) -> Holon | None:
        with self._db.reading() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM holons WHERE uuid = ?", (uuid,)).fetchone()
        return None if row is None else _row_to_holon(row)

    def search(
        self,
        vector: FloatArray,
        k: int,
        kind: str | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> list[SimilarHolon]:
        try:
            wanted = validate_meta_filter(meta)
        except InvalidMetaFilter as refused:
            raise InvalidInput(str(refused)) from None
        query = np.asarray(vector, dtype=np.float64)
        if query.shape != (self.dim,) or not np.all(np.isfinite(query)):
            raise ValueError(f"query vector must be finite with shape ({self.dim},)")
        if k <= 0:
            return []
        with self._cache_lock:
            ids, kinds, metas, matrix = self._cache()
            mask = np.ones(len(ids), dtype=bool)
            if kind is not None:
                mask &= kinds == kind
            if wanted:
                mask &= np.array([all(m.get(key) == v for key, v in wanted.items())
                                  for m in metas], dtype=bool)
            candidates = np.flatnonzero(mask)
            if candidates.size == 0:
                return []
            norm = float(np.linalg.norm(query))
            similarity = matrix[candidates] @ (query / norm if norm > 0 else query)
            order = np.argsort(-similarity, kind="stable")[:k]
            chosen = [(ids[candidates[i]], float(similarity[i])) for i in order]
        found = {h.uuid: h for h in self._get_many([uuid for uuid, _ in chosen])}
        return [SimilarHolon(found[uuid], score) for uuid, score in chosen if uuid in found]

    def _get_many(self, uuids: Sequence[str]) -> list[Holon]:
        if not uuids:
            return []
        marks = ", ".join("?" for _ in uuids)
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM holons WHERE uuid IN ({marks})", list(uuids)
            ).fetchall()
        return [_row_to_holon(row) for row in rows]

    def delete(self, uuid: str) -> bool:
        with self._db.transaction() as conn:
            removed = conn.execute("DELETE FROM holons WHERE uuid = ?", (uuid,)).rowcount > 0
        if removed:
            self._invalidate()
        return removed

    def count(self) -> int:
        with self._db.reading() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM holons").fetchone()[0])

    def bytes_used(self) -> int:
        with self._db.reading() as conn:
            return int(conn.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM holons")
                       .fetchone()[0])

    def ping(self) -> None:
        self._db.ping()

    def _invalidate(self) -> None:
        with self._cache_lock:
            self._matrix = None

    def _cache(
        self,
    ) -> tuple[list[str], npt.NDArray[np.object_], list[dict[str, object]], FloatArray]:
        with self._db.reading() as conn:
            # Read before the rows: a commit in between makes the next search rebuild again.
            version = int(conn.execute("PRAGMA data_version").fetchone()[0])
            if self._matrix is not None and version == self._data_version:
                return self._ids, self._kinds, self._metas, self._matrix
            rows = conn.execute(
                "SELECT uuid, kind, meta, embedding FROM holons ORDER BY uuid"
            ).fetchall()
        self._data_version = version
        self._ids = [str(r[0]) for r in rows]
        self._kinds = np.array([r[1] for r in rows], dtype=object)
        self._metas = [json.loads(r[2]) for r in rows]
        matrix = np.zeros((len(rows), self.dim))
        for i, row in enumerate(rows):
            matrix[i] = np.frombuffer(row[3], dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self._matrix = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
        return self._ids, self._kinds, self._metas, self._matrix
