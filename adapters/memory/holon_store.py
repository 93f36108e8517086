"""In-memory holon vector store: exact cosine search over a cached numpy matrix."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from application.errors import BackendUnavailable, InvalidInput
from application.ports.holon_store import SimilarHolon
from domain.holon import Holon

__all__ = ["META_KEY", "InMemoryHolonStore"]

#: Meta filter keys a query may name; anything else is refused before the search runs.
META_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

FloatArray = npt.NDArray[np.float64]


class InMemoryHolonStore:
    """Implements :class:`application.ports.holon_store.HolonStore` with brute-force cosine
    similarity (exact, so it is the reference the HNSW backends are compared with).

    ``reads`` counts :meth:`get` calls (tests check the read path through it). Set ``down``
    to make every call raise ``BackendUnavailable("holon_store", ...)``. Thread-safe.
    """

    def __init__(self, dim: int) -> None:
        if dim < 1:
            raise ValueError("dim must be at least 1")
        self.dim = dim
        self.reads = 0
        self.down = False
        self._lock = threading.Lock()
        self._holons: dict[str, Holon] = {}
        self._bytes = 0
        # Search cache, rebuilt on the first search after a write: uuids in sorted order (so
        # a stable sort breaks similarity ties by uuid), their kinds, unit-norm rows.
        self._ids: list[str] = []
        self._kinds: npt.NDArray[np.object_] = np.empty(0, dtype=object)
        self._matrix: FloatArray | None = None

    def upsert(self, holons: Sequence[Holon]) -> None:
        for holon in holons:
            if holon.embedding.shape != (self.dim,):
                raise ValueError(
                    f"holon {holon.uuid} has an embedding of shape {holon.embedding.shape},"
                    f" the store holds vectors of dimension {self.dim}"
                )
        with self._lock:
            self._check_up()
            for holon in holons:
                previous = self._holons.get(holon.uuid)
                if previous is not None:
                    self._bytes -= previous.size_bytes
                self._holons[holon.uuid] = holon
                self._bytes += holon.size_bytes
            if holons:
                self._matrix = None

    def get(self, uuid: str) -> Holon | None:
        with self._lock:
            self._check_up()
            self.reads += 1
            return self._holons.get(uuid)

    def search(
        self,
        vector: FloatArray,
        k: int,
        kind: str | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> list[SimilarHolon]:
        wanted = dict(meta or {})
        for key, value in wanted.items():
            if not isinstance(key, str) or not META_KEY.fullmatch(key):
                raise InvalidInput(f"meta filter key {key!r} must match {META_KEY.pattern}")
            if not isinstance(value, str):
                raise InvalidInput(f"meta filter value of {key!r} must be a string")
        query = np.asarray(vector, dtype=np.float64)
        if query.shape != (self.dim,):
            raise ValueError(f"query vector must have shape ({self.dim},), got {query.shape}")
        if not np.all(np.isfinite(query)):
            raise ValueError("query vector must be finite")
        if k < 0:
            raise ValueError("k must not be negative")
        with self._lock:
            self._check_up()
            matrix = self._search_matrix()
            if k == 0 or not self._ids:
                return []
            mask = np.ones(len(self._ids), dtype=bool)
            if kind is not None:
                mask &= self._kinds == kind
            if wanted:
                mask &= np.fromiter(
                    (_meta_matches(self._holons[i].meta, wanted) for i in self._ids),
                    dtype=bool,
                    count=len(self._ids),
                )
            candidates = np.flatnonzero(mask)
            if candidates.size == 0:
                return []
            norm = float(np.linalg.norm(query))
            unit = query / norm if norm > 0 else query
            similarity = matrix[candidates] @ unit
            order = np.argsort(-similarity, kind="stable")[:k]
            return [
                SimilarHolon(self._holons[self._ids[candidates[i]]], float(similarity[i]))
                for i in order
            ]

    def delete(self, uuid: str) -> bool:
        with self._lock:
            self._check_up()
            holon = self._holons.pop(uuid, None)
            if holon is None:
                return False
            self._bytes -= holon.size_bytes
            self._matrix = None
            return True

    def count(self) -> int:
        with self._lock:
            self._check_up()
            return len(self._holons)

    def bytes_used(self) -> int:
        """Sum of ``Holon.size_bytes`` (UTF-8 content plus embedding bytes)."""
        with self._lock:
            self._check_up()
            return self._bytes

    def ping(self) -> None:
        with self._lock:
            self._check_up()

    def _check_up(self) -> None:
        if self.down:
            raise BackendUnavailable("holon_store", "the in-memory backend is switched down")

    def _search_matrix(self) -> FloatArray:
        if self._matrix is None:
            self._ids = sorted(self._holons)
            self._kinds = np.array([self._holons[i].kind for i in self._ids], dtype=object)
            rows = np.zeros((len(self._ids), self.dim), dtype=np.float64)
            for row, holon_id in enumerate(self._ids):
                rows[row] = self._holons[holon_id].embedding
            norms = np.linalg.norm(rows, axis=1, keepdims=True)
            # A zero embedding has no direction: its similarity to anything is 0, not NaN.
            self._matrix = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
        return self._matrix


def _meta_matches(meta: Mapping[str, object], wanted: Mapping[str, str]) -> bool:
    """Every wanted key present with exactly that string value (non-strings never match)."""
    return all(
        meta.get(key) == value and isinstance(meta.get(key), str) for key, value in wanted.items()
    )
