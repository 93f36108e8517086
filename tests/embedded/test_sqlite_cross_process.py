"""Processes sharing the embedded SQLite file see each other's holons.

Organ actors, the worker and the API each open the file; a holon store caches the vector
matrix, so a write by one process must reach the searches of the others. Two
:class:`SqliteDatabase` objects on one file stand for two processes: each has its own
connection, which is what SQLite's ``data_version`` tells apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.holon_store import SqliteHolonStore
from domain.holon import Holon, content_hash

DIM = 4


def holon(name: str, *components: float) -> Holon:
    vector: npt.NDArray[np.float64] = np.zeros(DIM)
    vector[: len(components)] = components
    text = f"the content of {name}"
    return Holon(str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "fact", text,
                 vector / np.linalg.norm(vector), {}, content_hash(text), 1.0, 1.0)


def found(store: SqliteHolonStore, *query: float) -> list[str]:
    vector: npt.NDArray[np.float64] = np.zeros(DIM)
    vector[: len(query)] = query
    return [s.holon.content.removeprefix("the content of ") for s in store.search(vector, 10)]


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[SqliteHolonStore, SqliteHolonStore]]:
    path = tmp_path / "seedcore.db"
    first, second = SqliteDatabase(path), SqliteDatabase(path)
    try:
        yield SqliteHolonStore(first, DIM), SqliteHolonStore(second, DIM)
    finally:
        first.close()
        second.close()


def test_a_search_sees_holons_written_and_deleted_by_another_process(
    two_processes: tuple[SqliteHolonStore, SqliteHolonStore],
) -> None:
    writer, reader = two_processes
    writer.upsert([holon("a", 1.0)])
    assert found(reader, 1.0) == ["a"]  # the reader's matrix is cached from here on

    writer.upsert([holon("b", 0.0, 1.0)])
    assert found(reader, 0.0, 1.0) == ["b", "a"]

    writer.upsert([holon("a", 0.0, 0.0, 1.0)])  # replaced: a new embedding
    assert found(reader, 0.0, 0.0, 1.0)[0] == "a"

    assert writer.delete(holon("b", 0.0, 1.0).uuid)
    assert found(reader, 0.0, 1.0) == ["a"]


def test_each_side_sees_its_own_writes_and_the_others(
    two_processes: tuple[SqliteHolonStore, SqliteHolonStore],
) -> None:
    left, right = two_processes
    left.upsert([holon("left", 1.0)])
    assert found(left, 1.0) == found(right, 1.0) == ["left"]
    right.upsert([holon("right", 1.0, 0.1)])
    assert found(left, 1.0, 0.1) == found(right, 1.0, 0.1) == ["right", "left"]


def test_a_search_without_writes_in_between_reuses_the_matrix(
    two_processes: tuple[SqliteHolonStore, SqliteHolonStore],
) -> None:
    writer, reader = two_processes
    writer.upsert([holon("a", 1.0)])
    found(reader, 1.0)
    matrix = reader._matrix  # the cache, read to prove it is not rebuilt for nothing
    assert found(reader, 1.0) == ["a"]
    assert reader._matrix is matrix
