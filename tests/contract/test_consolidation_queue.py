"""Contract of the consolidation queue port, run against every adapter in the conftest list."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.clock import FakeClock
from application.ports.consolidation_queue import ConsolidationQueue, PendingItem
from tests.contract.conftest import Harness

QueueFactory = Callable[[FakeClock], Harness[ConsolidationQueue]]
T0 = 1_700_000_000.0


def item(item_id: str, surprise: float = 0.0, written_at: float = T0, **extra: str) -> PendingItem:
    return PendingItem(
        item_id=item_id,
        content=extra.get("content", f"content of {item_id}"),
        kind="consolidated",
        surprise=surprise,
        written_at=written_at,
        source=extra.get("source"),
        meta={"namespace": "global", "key": item_id},
    )


def ids(items: list[PendingItem]) -> list[str]:
    return [i.item_id for i in items]


def test_surprising_items_come_first_at_equal_age(queue: Harness[ConsolidationQueue]) -> None:
    q = queue.adapter
    for name, surprise in [("low", 0.1), ("high", 0.9), ("mid", 0.5)]:
        q.enqueue(item(name, surprise), 0.5)
    assert ids(q.peek(10)) == ["high", "mid", "low"]


def test_older_items_come_first_at_equal_surprise(queue: Harness[ConsolidationQueue]) -> None:
    q = queue.adapter
    q.enqueue(item("new", 0.2, T0 + 10), 0.5)
    q.enqueue(item("old", 0.2, T0), 0.5)
    q.enqueue(item("mid", 0.2, T0 + 5), 0.5)
    assert ids(q.peek(10)) == ["old", "mid", "new"]


def test_priority_weighs_surprise_against_age_with_kappa(
    queue: Harness[ConsolidationQueue],
) -> None:
    q = queue.adapter
    # κ = 0.8 makes one unit of surprise worth four seconds of age (0.8 / 0.2): surprise 1.0
    # outweighs being 3 s younger, not being 5 s younger.
    q.enqueue(item("older", 0.0, T0), 0.8)
    q.enqueue(item("surprising", 1.0, T0 + 3), 0.8)
    q.enqueue(item("too_late", 1.0, T0 + 5), 0.8)
    assert ids(q.peek(3)) == ["surprising", "older", "too_late"]


def test_kappa_extremes_are_pure_surprise_and_pure_age(
    consolidation_queue_factory: QueueFactory, clock: FakeClock
) -> None:
    for kappa, expected in [(1.0, ["b", "a"]), (0.0, ["a", "b"])]:
        harness = consolidation_queue_factory(clock)
        try:
            harness.adapter.enqueue(item("a", 0.1, T0), kappa)
            harness.adapter.enqueue(item("b", 0.9, T0 + 100), kappa)
            assert ids(harness.adapter.peek(2)) == expected
        finally:
            harness.close()


def test_equal_priorities_are_ordered_by_item_id(queue: Harness[ConsolidationQueue]) -> None:
    q = queue.adapter
    for name in ["c", "a", "b"]:
        q.enqueue(item(name, 0.3), 0.5)
    assert ids(q.peek(10)) == ["a", "b", "c"]


def test_peek_leaves_items_queued_and_respects_the_limit(
    queue: Harness[ConsolidationQueue],
) -> None:
    q = queue.adapter
    for index in range(5):
        q.enqueue(item(f"i{index}", index / 10), 0.5)
    assert ids(q.peek(2)) == ["i4", "i3"]
    assert ids(q.peek(2)) == ["i4", "i3"]
    assert q.peek(0) == []
    assert q.size() == 5


def test_peek_returns_the_items_as_enqueued(queue: Harness[ConsolidationQueue]) -> None:
    original = item("x", 0.25, T0 + 1.5, source="6f1c1c1e-5eed-4c0e-9a1b-000000000001")
    queue.adapter.enqueue(original, 0.5)
    (back,) = queue.adapter.peek(1)
    assert back == original


def test_enqueueing_an_id_again_replaces_the_entry(queue: Harness[ConsolidationQueue]) -> None:
    q = queue.adapter
    q.enqueue(item("a", 0.9), 0.5)
    q.enqueue(item("b", 0.5), 0.5)
    q.enqueue(item("a", 0.1, content="newer"), 0.5)
    assert q.size() == 2
    first, second = q.peek(10)
    assert (first.item_id, second.item_id) == ("b", "a")
    assert (second.content, second.surprise) == ("newer", 0.1)


def test_ack_removes_the_given_items_and_ignores_unknown_ones(
    queue: Harness[ConsolidationQueue],
) -> None:
    q = queue.adapter
    for name in ["a", "b", "c"]:
        q.enqueue(item(name), 0.5)
    assert q.ack(["a", "zzz", "c"]) == 2
    assert q.ack(["a"]) == 0
    assert q.ack([]) == 0
    assert ids(q.peek(10)) == ["b"]
    assert q.size() == 1


def test_an_acked_item_can_be_queued_again(queue: Harness[ConsolidationQueue]) -> None:
    q = queue.adapter
    q.enqueue(item("a"), 0.5)
    q.ack(["a"])
    q.enqueue(item("a", 0.4), 0.5)
    assert ids(q.peek(5)) == ["a"]


@settings(max_examples=60, deadline=None)
@given(
    entries=st.dictionaries(
        keys=st.text(alphabet="abcdefgh", min_size=1, max_size=4),
        values=st.tuples(
            st.floats(min_value=0.0, max_value=1.0),
            st.floats(min_value=T0 - 3600, max_value=T0 + 3600),
        ),
        max_size=30,
    ),
    kappa=st.floats(min_value=0.0, max_value=1.0),
    limit=st.integers(min_value=0, max_value=40),
)
def test_peek_follows_the_priority_order_for_any_items(
    consolidation_queue_factory: QueueFactory,
    entries: dict[str, tuple[float, float]],
    kappa: float,
    limit: int,
) -> None:
    harness = consolidation_queue_factory(FakeClock())
    try:
        for name, (surprise, written_at) in entries.items():
            harness.adapter.enqueue(item(name, surprise, written_at), kappa)
        expected = sorted(
            entries,
            key=lambda n: (-(kappa * entries[n][0] - (1 - kappa) * entries[n][1]), n),
        )
        assert ids(harness.adapter.peek(limit)) == expected[:limit]
        assert harness.adapter.size() == len(entries)
    finally:
        harness.close()


@pytest.mark.parametrize("kappa", [-0.1, 1.1, float("nan")])
def test_kappa_outside_the_unit_interval_is_refused(
    queue: Harness[ConsolidationQueue], kappa: float
) -> None:
    with pytest.raises(ValueError, match="kappa"):
        queue.adapter.enqueue(item("a"), kappa)
    assert queue.adapter.size() == 0
