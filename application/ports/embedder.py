"""Embedder port: text to a unit-norm vector of a fixed dimension."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["Embedder"]


class Embedder(Protocol):
    @property
    def dim(self) -> int:
        """Dimension of every vector this embedder returns."""
        ...

    def embed(self, text: str) -> npt.NDArray[np.float64]:
        """A unit-norm vector for ``text``; deterministic: the same text, the same vector.
        The empty string is allowed and gives a fixed unit vector."""
        ...

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """(len(texts), dim) array; row i equals ``embed(texts[i])``."""
        ...
