"""A deterministic embedder with no model: feature hashing of words and character 3-grams."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["HashingEmbedder"]

_WORD = re.compile(r"\w+")
#: A word counts twice as much as each of its 3-grams: shared words matter most, shared
#: fragments ("consolidate", "consolidation") still pull vectors together.
_WORD_WEIGHT = 1.0
_TRIGRAM_WEIGHT = 0.5
_HASH_PERSON = b"seedcore-embed"


class HashingEmbedder:
    """Implements :class:`application.ports.embedder.Embedder`.

    Lowercased word tokens and the character 3-grams of each space-padded word are hashed
    with BLAKE2b into ``dim`` signed buckets, summed and L2-normalised. The same text gives
    the same vector in every process (no use of Python's salted ``hash``); texts sharing words
    get a higher cosine than unrelated ones. A text without any word character (the empty
    string included) gives the fixed unit vector ``(1, ..., 1)/√dim``.
    """

    def __init__(self, dim: int = 384) -> None:
        if dim < 1:
            raise ValueError("dim must be at least 1")
        self._dim = dim
        self._fallback = np.full(dim, 1.0 / np.sqrt(dim))

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, text: str) -> npt.NDArray[np.float64]:
        # Through embed_many, so that a row of a batch is bit-for-bit this vector.
        row: npt.NDArray[np.float64] = self.embed_many([text])[0]
        return row

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        rows: list[int] = []
        columns: list[int] = []
        values: list[float] = []
        for index, text in enumerate(texts):
            for bucket, value in _features(text, self._dim):
                rows.append(index)
                columns.append(bucket)
                values.append(value)
        matrix = np.zeros((len(texts), self._dim), dtype=np.float64)
        np.add.at(
            matrix,
            (np.asarray(rows, dtype=np.intp), np.asarray(columns, dtype=np.intp)),
            np.asarray(values, dtype=np.float64),
        )
        norms = np.linalg.norm(matrix, axis=1)
        # Cancelling signs can zero a non-empty text's vector too; it gets the fallback.
        empty = norms == 0.0
        matrix[empty] = self._fallback
        norms[empty] = 1.0
        matrix /= norms[:, None]
        return matrix


def _features(text: str, dim: int) -> list[tuple[int, float]]:
    features: list[tuple[int, float]] = []
    for word in _WORD.findall(text.lower()):
        bucket, sign = _bucket("w:" + word, dim)
        features.append((bucket, sign * _WORD_WEIGHT))
        padded = f" {word} "
        for start in range(len(padded) - 2):
            bucket, sign = _bucket("c:" + padded[start : start + 3], dim)
            features.append((bucket, sign * _TRIGRAM_WEIGHT))
    return features


@functools.lru_cache(maxsize=1 << 16)
def _bucket(feature: str, dim: int) -> tuple[int, float]:
    """The bucket of a feature and its sign (a pure function, memoised: words repeat)."""
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8, person=_HASH_PERSON)
    value = int.from_bytes(digest.digest(), "little")
    return value % dim, (1.0 if value >> 63 else -1.0)
