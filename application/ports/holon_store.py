"""Holon vector store port (Mlt vectors): exact lookup by uuid and cosine similarity search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from domain.holon import Holon

__all__ = ["HolonStore", "SimilarHolon"]


@dataclass(frozen=True, slots=True, eq=False)
class SimilarHolon:
    holon: Holon
    similarity: float


class HolonStore(Protocol):
    """Raises ``BackendUnavailable`` when the backend cannot be reached."""

    def upsert(self, holons: Sequence[Holon]) -> None:
        """Insert or replace by uuid, all in one transaction. Embeddings must have the store's
        dimension (ValueError otherwise)."""
        ...

    def get(self, uuid: str) -> Holon | None:
        """Exact lookup; None for an unknown uuid."""
        ...

    def search(
        self,
        vector: npt.NDArray[np.float64],
        k: int,
        kind: str | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> list[SimilarHolon]:
        """Up to ``k`` holons by descending cosine similarity, optionally only of one kind and
        whose meta has every given key with the given string value. Filter keys are validated
        (letters, digits, underscore) before any query is built."""
        ...

    def delete(self, uuid: str) -> bool:
        """Remove one holon; True when it existed."""
        ...

    def count(self) -> int:
        """Holons stored."""
        ...

    def bytes_used(self) -> int:
        """Approximate bytes of content and embeddings stored."""
        ...

    def ping(self) -> None:
        """Return when the backend answers; raise ``BackendUnavailable`` otherwise."""
        ...
