"""Holons (long-term memory records), graph edges and their validation."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "HOLON_NAMESPACE",
    "Edge",
    "Holon",
    "InvalidRelationshipType",
    "content_hash",
    "holon_uuid",
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
