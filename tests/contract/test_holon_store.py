"""Contract of the holon vector store port (Mlt vectors), run against every adapter."""

from __future__ import annotations

import math
import uuid

import numpy as np
import numpy.typing as npt
import pytest

from application.errors import BackendUnavailable, InvalidInput
from application.ports.holon_store import HolonStore, SimilarHolon
from domain.holon import Holon, content_hash
from tests.contract.conftest import HOLON_DIM, Harness

Vector = npt.NDArray[np.float64]


def unit(*components: float) -> Vector:
    vector = np.zeros(HOLON_DIM)
    vector[: len(components)] = components
    normalised: Vector = vector / np.linalg.norm(vector)
    return normalised


def at_angle(degrees: float) -> Vector:
    """A unit vector in the plane of the first two axes, ``degrees`` away from axis 0."""
    radians = math.radians(degrees)
    return unit(math.cos(radians), math.sin(radians))


def holon(
    name: str,
    embedding: Vector,
    kind: str = "fact",
    meta: dict[str, object] | None = None,
    content: str | None = None,
) -> Holon:
    text = content if content is not None else f"the content of {name}"
    return Holon(
        uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        kind=kind,
        content=text,
        embedding=embedding,
        meta=meta or {},
        content_hash=content_hash(text),
        created_at=1_700_000_000.0,
        updated_at=1_700_000_001.5,
    )


def names(found: list[SimilarHolon]) -> list[str]:
    return [s.holon.content.removeprefix("the content of ") for s in found]


class TestExactLookup:
    def test_get_returns_the_stored_holon_field_for_field(
        self, holons: Harness[HolonStore]
    ) -> None:
        stored = holon("a", at_angle(30), meta={"source": "test", "n": 3, "tags": ["x", "y"]})
        holons.adapter.upsert([stored])
        back = holons.adapter.get(stored.uuid)
        assert back is not None
        assert (back.uuid, back.kind, back.content, back.content_hash) == (
            stored.uuid,
            stored.kind,
            stored.content,
            stored.content_hash,
        )
        assert dict(back.meta) == {"source": "test", "n": 3, "tags": ["x", "y"]}
        np.testing.assert_allclose(back.embedding, stored.embedding, rtol=1e-6, atol=1e-7)
        assert back.created_at == pytest.approx(stored.created_at, abs=1e-3)
        assert back.updated_at == pytest.approx(stored.updated_at, abs=1e-3)

    def test_an_unknown_uuid_is_none(self, holons: Harness[HolonStore]) -> None:
        holons.adapter.upsert([holon("a", at_angle(0))])
        assert holons.adapter.get(str(uuid.uuid4())) is None

    def test_lookup_is_by_exact_uuid_even_between_identical_vectors(
        self, holons: Harness[HolonStore]
    ) -> None:
        twins = [holon("a", at_angle(10)), holon("b", at_angle(10))]
        holons.adapter.upsert(twins)
        for twin in twins:
            back = holons.adapter.get(twin.uuid)
            assert back is not None
            assert back.content == twin.content

    def test_upsert_replaces_by_uuid(self, holons: Harness[HolonStore]) -> None:
        first = holon("a", at_angle(0), content="first")
        holons.adapter.upsert([first])
        second = Holon(first.uuid, "fact", "second", at_angle(90), {}, content_hash("second"))
        holons.adapter.upsert([second])
        assert holons.adapter.count() == 1
        back = holons.adapter.get(first.uuid)
        assert back is not None
        assert back.content == "second"
        (best,) = holons.adapter.search(at_angle(90), 1)
        assert best.holon.uuid == first.uuid
        assert best.similarity == pytest.approx(1.0, abs=1e-6)

    def test_a_wrong_dimension_is_refused_and_nothing_of_the_batch_is_written(
        self, holons: Harness[HolonStore]
    ) -> None:
        good = holon("good", at_angle(0))
        bad = Holon(str(uuid.uuid4()), "fact", "bad", np.ones(HOLON_DIM + 1) / 3.0)
        with pytest.raises(ValueError, match="dimension"):
            holons.adapter.upsert([good, bad])
        assert holons.adapter.count() == 0
        assert holons.adapter.get(good.uuid) is None

    def test_delete_removes_one_holon_and_says_whether_it_existed(
        self, holons: Harness[HolonStore]
    ) -> None:
        a, b = holon("a", at_angle(0)), holon("b", at_angle(5))
        holons.adapter.upsert([a, b])
        assert holons.adapter.delete(a.uuid) is True
        assert holons.adapter.delete(a.uuid) is False
        assert holons.adapter.get(a.uuid) is None
        assert holons.adapter.count() == 1
        assert names(holons.adapter.search(at_angle(0), 5)) == ["b"]


class TestSearch:
    def test_results_come_by_descending_cosine_similarity(
        self, holons: Harness[HolonStore]
    ) -> None:
        angles = {"far": 80.0, "near": 10.0, "opposite": 180.0, "mid": 45.0, "same": 0.0}
        holons.adapter.upsert([holon(n, at_angle(a)) for n, a in angles.items()])
        found = holons.adapter.search(at_angle(0), 5)
        assert names(found) == ["same", "near", "mid", "far", "opposite"]
        for result in found:
            expected = math.cos(math.radians(angles[names([result])[0]]))
            assert result.similarity == pytest.approx(expected, abs=1e-5)

    def test_the_query_is_compared_by_direction_not_length(
        self, holons: Harness[HolonStore]
    ) -> None:
        holons.adapter.upsert([holon("x", at_angle(0)), holon("y", at_angle(60))])
        found = holons.adapter.search(3.0 * at_angle(60), 2)
        assert names(found) == ["y", "x"]
        assert found[0].similarity == pytest.approx(1.0, abs=1e-5)

    def test_k_bounds_the_results(self, holons: Harness[HolonStore]) -> None:
        holons.adapter.upsert([holon(f"h{i}", at_angle(10.0 * i)) for i in range(6)])
        assert names(holons.adapter.search(at_angle(0), 2)) == ["h0", "h1"]
        assert len(holons.adapter.search(at_angle(0), 100)) == 6

    def test_an_empty_store_finds_nothing(self, holons: Harness[HolonStore]) -> None:
        assert holons.adapter.search(at_angle(0), 3) == []

    def test_the_kind_filter_applies_before_the_top_k(self, holons: Harness[HolonStore]) -> None:
        holons.adapter.upsert(
            [
                holon("best", at_angle(0), kind="note"),
                holon("second", at_angle(20), kind="note"),
                holon("fact_far", at_angle(70), kind="fact"),
                holon("fact_farther", at_angle(85), kind="fact"),
            ]
        )
        assert names(holons.adapter.search(at_angle(0), 1, kind="fact")) == ["fact_far"]
        assert names(holons.adapter.search(at_angle(0), 5, kind="fact")) == [
            "fact_far",
            "fact_farther",
        ]
        assert holons.adapter.search(at_angle(0), 5, kind="absent") == []

    def test_the_meta_filter_needs_every_key_with_its_value(
        self, holons: Harness[HolonStore]
    ) -> None:
        holons.adapter.upsert(
            [
                holon("both", at_angle(40), meta={"team": "red", "lang": "en"}),
                holon("team_only", at_angle(0), meta={"team": "red"}),
                holon("other_team", at_angle(5), meta={"team": "blue", "lang": "en"}),
                holon("no_meta", at_angle(1)),
            ]
        )
        adapter = holons.adapter
        assert names(adapter.search(at_angle(0), 5, meta={"team": "red"})) == [
            "team_only",
            "both",
        ]
        assert names(adapter.search(at_angle(0), 5, meta={"team": "red", "lang": "en"})) == ["both"]
        assert names(adapter.search(at_angle(0), 1, meta={"lang": "en"})) == ["other_team"]
        assert adapter.search(at_angle(0), 5, meta={"team": "green"}) == []
        assert len(adapter.search(at_angle(0), 5, meta={})) == 4

    def test_kind_and_meta_filters_combine(self, holons: Harness[HolonStore]) -> None:
        holons.adapter.upsert(
            [
                holon("note_red", at_angle(0), kind="note", meta={"team": "red"}),
                holon("fact_red", at_angle(30), kind="fact", meta={"team": "red"}),
                holon("fact_blue", at_angle(10), kind="fact", meta={"team": "blue"}),
            ]
        )
        found = holons.adapter.search(at_angle(0), 5, kind="fact", meta={"team": "red"})
        assert names(found) == ["fact_red"]

    @pytest.mark.parametrize(
        "key",
        [
            "x'}) DETACH DELETE n //",
            "team') OR 1=1 --",
            "a-b",
            "1abc",
            "",
            "a b",
            "meta->>'x'",
            "k" * 65,
        ],
    )
    def test_meta_filter_keys_outside_the_safe_alphabet_are_refused(
        self, holons: Harness[HolonStore], key: str
    ) -> None:
        holons.adapter.upsert([holon("a", at_angle(0), meta={"team": "red"})])
        with pytest.raises(InvalidInput):
            holons.adapter.search(at_angle(0), 5, meta={"team": "red", key: "x"})
        assert holons.adapter.count() == 1

    def test_meta_filter_values_are_data_not_query_text(self, holons: Harness[HolonStore]) -> None:
        tricky = "red' OR '1'='1"
        holons.adapter.upsert(
            [holon("a", at_angle(0), meta={"team": "red"}), holon("b", at_angle(1), meta={})]
        )
        assert holons.adapter.search(at_angle(0), 5, meta={"team": tricky}) == []
        holons.adapter.upsert([holon("c", at_angle(2), meta={"team": tricky})])
        assert names(holons.adapter.search(at_angle(0), 5, meta={"team": tricky})) == ["c"]

    def test_a_query_of_the_wrong_dimension_is_refused(self, holons: Harness[HolonStore]) -> None:
        holons.adapter.upsert([holon("a", at_angle(0))])
        with pytest.raises(ValueError, match="shape"):
            holons.adapter.search(np.ones(HOLON_DIM - 1), 1)


class TestAccounting:
    def test_count_and_bytes_follow_writes_and_deletes(self, holons: Harness[HolonStore]) -> None:
        adapter = holons.adapter
        assert adapter.count() == 0
        empty = adapter.bytes_used()
        small = holon("small", at_angle(0), content="x")
        large = holon("large", at_angle(1), content="y" * 5000)
        adapter.upsert([small])
        with_small = adapter.bytes_used()
        adapter.upsert([large])
        with_both = adapter.bytes_used()
        assert adapter.count() == 2
        assert empty < with_small < with_both
        assert with_both - with_small >= 4000  # the content is counted
        adapter.delete(large.uuid)
        assert adapter.bytes_used() < with_both
        assert adapter.count() == 1

    def test_ping_answers(self, holons: Harness[HolonStore]) -> None:
        holons.adapter.ping()


def test_an_unreachable_backend_raises_backend_unavailable(holons: Harness[HolonStore]) -> None:
    if holons.outage is None:
        pytest.skip("this adapter's harness cannot simulate an outage")
    stored = holon("a", at_angle(0))
    holons.adapter.upsert([stored])
    with holons.outage():
        for call in [
            holons.adapter.ping,
            lambda: holons.adapter.get(stored.uuid),
            lambda: holons.adapter.search(at_angle(0), 1),
            lambda: holons.adapter.upsert([holon("b", at_angle(1))]),
            lambda: holons.adapter.delete(stored.uuid),
            holons.adapter.count,
        ]:
            with pytest.raises(BackendUnavailable):
                call()
    assert holons.adapter.count() == 1
    assert holons.adapter.get(stored.uuid) is not None
