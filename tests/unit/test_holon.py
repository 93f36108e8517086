"""Holons, content-derived ids and relationship types (spec §6)."""

from __future__ import annotations

import hashlib
import re
import uuid

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.holon import (
    HOLON_NAMESPACE,
    Edge,
    Holon,
    InvalidRelationshipType,
    content_hash,
    holon_uuid,
    validate_relationship_type,
)

SPEC_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def test_content_hash_is_sha256_hex() -> None:
    assert content_hash("héllo") == hashlib.sha256("héllo".encode()).hexdigest()


@given(st.text(max_size=200))
@settings(max_examples=100, deadline=None)
def test_holon_uuid_is_uuidv5_of_the_content_hash(content: str) -> None:
    digest = content_hash(content)
    value = holon_uuid(digest)
    parsed = uuid.UUID(value)
    assert parsed.version == 5
    assert parsed == uuid.uuid5(HOLON_NAMESPACE, digest)
    assert holon_uuid(content_hash(content)) == value


def test_different_content_gives_different_uuids() -> None:
    assert holon_uuid(content_hash("a")) != holon_uuid(content_hash("b"))


@pytest.mark.parametrize("rel", ["DERIVED_FROM", "A", "A" * 64, "RELATES_TO_2", "X_"])
def test_valid_relationship_types(rel: str) -> None:
    assert validate_relationship_type(rel) == rel


@pytest.mark.parametrize(
    "rel",
    ["", "a", "derived_from", "Derived", "A" * 65, "1A", "_A", "A-B", "A B", "A\n", "A`",
     "A]->(n) DETACH DELETE n //", "A:B", "Ä"],
)
def test_invalid_relationship_types_are_refused(rel: str) -> None:
    with pytest.raises(InvalidRelationshipType):
        validate_relationship_type(rel)


@given(st.text(max_size=70))
@settings(max_examples=300, deadline=None)
def test_relationship_types_follow_the_spec_regex(rel: str) -> None:
    accepted = True
    try:
        validate_relationship_type(rel)
    except InvalidRelationshipType:
        accepted = False
    assert accepted == bool(SPEC_PATTERN.fullmatch(rel))


def test_edge_validates_its_type_and_ids() -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    assert Edge(a, "DERIVED_FROM", b).rel == "DERIVED_FROM"
    with pytest.raises(InvalidRelationshipType):
        Edge(a, "derived from", b)
    with pytest.raises(ValueError, match="badly formed"):
        Edge("not-a-uuid", "DERIVED_FROM", b)


def test_holon_validation_and_size() -> None:
    embedding = np.array([0.6, 0.8])
    holon = Holon(str(uuid.uuid4()), "fact", "héllo", embedding)
    assert holon.size_bytes == len("héllo".encode()) + 16
    with pytest.raises(ValueError, match="badly formed"):
        Holon("nope", "fact", "x", embedding)
    with pytest.raises(ValueError, match="kind"):
        Holon(str(uuid.uuid4()), "", "x", embedding)
    with pytest.raises(ValueError, match="finite"):
        Holon(str(uuid.uuid4()), "fact", "x", np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="1-D"):
        Holon(str(uuid.uuid4()), "fact", "x", np.ones((2, 2)))
