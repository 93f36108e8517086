"""Pair weights and hyperedge patterns (spec §3.1)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.collaboration import (
    PAIR_WEIGHT_INITIAL,
    PatternStats,
    normalised_pattern_scores,
    pair_key,
    pattern_key,
    update_pair_weight,
    update_pattern,
)


def test_pair_key_is_order_free() -> None:
    assert pair_key("b", "a") == pair_key("a", "b") == ("a", "b")


def test_an_agent_cannot_pair_with_itself() -> None:
    with pytest.raises(ValueError, match="distinct"):
        pair_key("a", "a")


@given(st.text(min_size=1), st.text(min_size=1))
@settings(max_examples=100, deadline=None)
def test_pair_key_is_symmetric_for_any_ids(a: str, b: str) -> None:
    if a == b:
        return
    assert pair_key(a, b) == pair_key(b, a)
    assert set(pair_key(a, b)) == {a, b}


def test_pair_weight_update_rule() -> None:
    assert PAIR_WEIGHT_INITIAL == 1.0
    assert update_pair_weight(1.0, success=True) == pytest.approx(1.1)
    assert update_pair_weight(1.0, success=False) == pytest.approx(0.9)
    assert update_pair_weight(4.9, success=True) == 5.0
    assert update_pair_weight(0.105, success=False) == 0.1
    assert update_pair_weight(5.0, success=True) == 5.0
    assert update_pair_weight(0.1, success=False) == 0.1


@given(st.lists(st.booleans(), max_size=300), st.floats(0.1, 5.0))
@settings(max_examples=200, deadline=None)
def test_pair_weight_stays_in_01_5(outcomes: list[bool], start: float) -> None:
    for weight in (PAIR_WEIGHT_INITIAL, start):
        for success in outcomes:
            weight = update_pair_weight(weight, success)
            assert 0.1 <= weight <= 5.0


def test_pattern_key_is_the_sorted_set_of_two_or_more_organs() -> None:
    assert pattern_key(["y", "x", "y"]) == ("x", "y")
    assert pattern_key(["c", "a", "b"]) == ("a", "b", "c")
    assert pattern_key(["x", "x"]) is None
    assert pattern_key(["x"]) is None
    assert pattern_key([]) is None


def test_first_pattern_event() -> None:
    stats = update_pattern(None, success=True, latency_ms=0.0, now=10.0)
    assert (stats.count, stats.successes, stats.last_update) == (1.0, 1.0, 10.0)
    assert stats.score == pytest.approx(0.5 * 1 + 0.5 / (1 + 0))
    slow = update_pattern(None, success=False, latency_ms=2000.0, now=10.0)
    assert slow.score == pytest.approx(0.0 + 0.5 / 2)
    assert slow.successes == 0.0


def test_pattern_update_decays_then_adds() -> None:
    first = update_pattern(None, success=True, latency_ms=1000.0, now=0.0)
    second = update_pattern(first, success=False, latency_ms=6000.0, now=900.0)
    count = 0.5 * 1 + 1
    successes = 0.5 * 1 + 0
    expected = 0.5 * first.score + 0.5 * successes / count + 0.5 / (1 + 3.0)
    assert second.count == pytest.approx(count)
    assert second.successes == pytest.approx(successes)
    assert second.score == pytest.approx(expected)
    assert second.last_update == 900.0


@pytest.mark.parametrize(("dt", "factor"), [(0.0, 1.0), (900.0, 0.5), (1800.0, 0.25),
                                             (450.0, 2**-0.5), (9000.0, 2**-10)])
def test_pattern_without_events_halves_every_900_s(dt: float, factor: float) -> None:
    stats = PatternStats(count=4.0, successes=2.0, score=3.0, last_update=100.0)
    later = stats.decayed(100.0 + dt)
    assert later.score == pytest.approx(3.0 * factor)
    assert later.count == pytest.approx(4.0 * factor)
    assert later.successes == pytest.approx(2.0 * factor)
    assert later.last_update == 100.0 + dt


def test_decay_never_grows_a_pattern_backwards_in_time() -> None:
    stats = PatternStats(count=1.0, successes=1.0, score=1.0, last_update=100.0)
    assert stats.decayed(50.0).score == 1.0


@given(
    st.lists(
        st.tuples(st.booleans(), st.floats(0, 1e6), st.floats(0, 5000)), min_size=1, max_size=50
    )
)
@settings(max_examples=100, deadline=None)
def test_pattern_stats_stay_consistent(events: list[tuple[bool, float, float]]) -> None:
    stats: PatternStats | None = None
    now = 0.0
    for success, latency, gap in events:
        now += gap
        stats = update_pattern(stats, success, latency, now)
        assert 0.0 <= stats.successes <= stats.count
        assert stats.count >= 1.0
        assert stats.score > 0.0
        # each event adds at most 1 to the score, and the score decays like the count
        assert stats.score <= stats.count + 1e-9
        assert math.isfinite(stats.score)


def test_normalised_pattern_scores() -> None:
    assert normalised_pattern_scores([], 64) == []
    assert normalised_pattern_scores([0.0], 64) == []
    assert normalised_pattern_scores([1.0, 4.0, 2.0], 64) == pytest.approx([1.0, 0.5, 0.25])
    top = normalised_pattern_scores([float(k) for k in range(1, 101)], 64)
    assert len(top) == 64
    assert top[0] == 1.0
    assert min(top) == pytest.approx(0.37)
