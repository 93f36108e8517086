"""Holons (long-term memory records), graph edges and their validation."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "HOLON_NAMESPACE",
    "MAX_NEIGHBOUR_DEPTH",
    "Edge",
    "Holon",
    "InvalidMetaFilter",
    "InvalidRelationshipType",
    "content_hash",
    "holon_uuid",
    "validate_depth",
    "validate_meta_filter",
    "validate_relationship_filter",
    "validate_relationship_type",
]

FloatArray = npt.NDArray[np.float64]

#: Namespace of the content-derived holon identities: the same content, the same uuid.
HOLON_NAMESPACE = uuid.UUID("6f1c1c1e-5eed-4c0e-9a1b-5eedc0de0001")
_RELATIONSHIP_TYPE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


class InvalidRelationshipType(ValueError):
    """A relationship type that could smuggle text into a query; refused before any I/O."""


def validate_relationship_type(rel: str) -> str:
    """Return ``rel`` if it matches ``^[A-Z][A-Z0-9_]{0,63}$``, else raise."""
    if not isinstance(rel, str) or not _RELATIONSHIP_TYPE.fullmatch(rel):
        raise InvalidRelationshipType(
            f"relationship type {rel!r} must match ^[A-Z][A-Z0-9_]{{0,63}}$"
        )
    return rel


def content_hash(content: str) -> str:
    """SHA-256 of the UTF-8 content, hex."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def holon_uuid(digest: str) -> str:
    """UUIDv5 of a content hash, so re-writing the same content creates no duplicate."""
    return str(uuid.uuid5(HOLON_NAMESPACE, digest))


@dataclass(frozen=True, slots=True, eq=False)
class Holon:
    """One long-term memory record. ``embedding`` is a unit-norm float vector."""

    uuid: str
    kind: str
    content: str
    embedding: FloatArray
    meta: Mapping[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        uuid.UUID(self.uuid)  # raises ValueError on a malformed id
        if not self.kind:
            raise ValueError("kind must not be empty")
        if self.embedding.ndim != 1 or not np.all(np.isfinite(self.embedding)):
            raise ValueError("embedding must be a finite 1-D vector")

    @property
    def size_bytes(self) -> int:
        return len(self.content.encode("utf-8")) + int(self.embedding.nbytes)


@dataclass(frozen=True, slots=True)
class Edge:
    """A directed, typed relationship between two holon uuids."""

    src: str
    rel: str
    dst: str

    def __post_init__(self) -> None:
        validate_relationship_type(self.rel)
        uuid.UUID(self.src)
        uuid.UUID(self.dst)


MAX_NEIGHBOUR_DEPTH = 5
_META_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def validate_relationship_filter(rel_types: Iterable[str] | None) -> frozenset[str] | None:
    """The validated set of relationship types to follow; None (or empty) means every type."""
    if rel_types is None:
        return None
    if isinstance(rel_types, str):
        # A bare string would be iterated character by character: "KNOWS" as K, N, O, ...
        raise TypeError("rel_types must be a sequence of relationship types, not a string")
    allowed = frozenset(validate_relationship_type(rel) for rel in rel_types)
    return allowed or None


def validate_depth(depth: int) -> int:
    """A neighbour traversal depth: an integer within [1, 5]."""
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise ValueError("depth must be an integer")
    if not 1 <= depth <= MAX_NEIGHBOUR_DEPTH:
        raise ValueError(f"depth must be an integer within [1, {MAX_NEIGHBOUR_DEPTH}]")
    return depth


def validate_meta_filter(meta: Mapping[str, str] | None) -> dict[str, str]:
    """Meta filter keys are identifiers and values strings; anything else is refused before a
    query is built (keys end up in JSON paths on some backends)."""
    wanted = dict(meta or {})
    for key, value in wanted.items():
        if not isinstance(key, str) or not _META_KEY.fullmatch(key):
            raise InvalidMetaFilter(f"meta filter key {key!r} must match {_META_KEY.pattern}")
        if not isinstance(value, str):
            raise InvalidMetaFilter(f"meta filter value of {key!r} must be a string")
    return wanted


class InvalidMetaFilter(ValueError):
    """A meta filter that is not identifier keys with string values."""
