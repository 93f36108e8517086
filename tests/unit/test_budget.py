"""Consumption budgets and the energy-rising alert (spec §3.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.budget import (
    BudgetLevel,
    budget_level,
    crossing,
    rising_since,
    should_alert_rising,
    soft_penalty,
    window_total,
)
from domain.config import BudgetPolicy

POLICY = BudgetPolicy()


def test_window_total_boundaries() -> None:
    events = [(39.9, 1.0), (40.0, 2.0), (40.1, 4.0), (100.0, 8.0), (100.1, 16.0)]
    # the window is (now − 60, now]: 40.0 is out, 100.0 is in, the future is out
    assert window_total(events, now=100.0, window_s=60.0) == pytest.approx(12.0)
    assert window_total(events, now=100.1, window_s=60.0) == pytest.approx(28.0)
    assert window_total([], now=0.0, window_s=60.0) == 0.0


@pytest.mark.parametrize(
    ("used", "level"),
    [
        (0.0, BudgetLevel.OK),
        (79.99, BudgetLevel.OK),
        (80.0, BudgetLevel.SOFT),
        (99.99, BudgetLevel.SOFT),
        (100.0, BudgetLevel.HARD),
        (250.0, BudgetLevel.HARD),
    ],
)
def test_budget_levels_at_80_and_100_percent(used: float, level: BudgetLevel) -> None:
    assert budget_level(used, 100.0, POLICY) is level


def test_no_budget_is_always_ok() -> None:
    assert budget_level(1e9, None, POLICY) is BudgetLevel.OK
    assert soft_penalty(1e9, None, POLICY) == 0.0


@pytest.mark.parametrize(
    ("used", "penalty"),
    [(0.0, 0.0), (80.0, 0.0), (85.0, 0.25), (90.0, 0.5), (100.0, 1.0), (400.0, 1.0)],
)
def test_soft_penalty_rises_from_0_to_1(used: float, penalty: float) -> None:
    assert soft_penalty(used, 100.0, POLICY) == pytest.approx(penalty)


@given(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(1e-3, 1e6))
@settings(max_examples=150, deadline=None)
def test_soft_penalty_is_monotone_in_0_1(a: float, b: float, budget: float) -> None:
    low, high = sorted((a, b))
    p_low, p_high = soft_penalty(low, budget, POLICY), soft_penalty(high, budget, POLICY)
    assert 0.0 <= p_low <= p_high <= 1.0
    if budget_level(low, budget, POLICY) is BudgetLevel.OK:
        assert p_low == 0.0
    if budget_level(high, budget, POLICY) is BudgetLevel.HARD:
        assert p_high == 1.0


def test_crossing_events_only_on_change() -> None:
    level = BudgetLevel.OK
    events = []
    for used in [10, 50, 79, 81, 85, 99, 101, 120, 95, 60, 30, 30]:
        event = crossing("agent", "a1", level, float(used), 100.0, POLICY)
        if event is not None:
            assert event.previous is level
            assert event.current is not level
            assert (event.scope, event.scope_id) == ("agent", "a1")
            assert (event.used_joules, event.budget_joules) == (float(used), 100.0)
            events.append((used, event.previous, event.current))
            level = event.current
        else:
            assert budget_level(float(used), 100.0, POLICY) is level
    assert events == [
        (81, BudgetLevel.OK, BudgetLevel.SOFT),
        (101, BudgetLevel.SOFT, BudgetLevel.HARD),
        (95, BudgetLevel.HARD, BudgetLevel.SOFT),
        (60, BudgetLevel.SOFT, BudgetLevel.OK),
    ]


def test_a_jump_from_ok_to_hard_is_one_crossing() -> None:
    event = crossing("organ", "o1", BudgetLevel.OK, 150.0, 100.0, POLICY)
    assert event is not None
    assert (event.previous, event.current) == (BudgetLevel.OK, BudgetLevel.HARD)


def run_alert(observations: list[tuple[float, float]]) -> list[bool]:
    since: float | None = None
    fired = []
    for ts, d_e in observations:
        since = rising_since(since, ts, d_e)
        fired.append(should_alert_rising(since, ts, POLICY))
    return fired


def test_rising_alert_fires_only_after_more_than_300_s() -> None:
    # one snapshot every 5 s, every one rising, from t = 0
    fired = run_alert([(5.0 * k, 0.1) for k in range(70)])
    first = fired.index(True)
    assert 5.0 * first == 305.0  # 300 s of rising is not "more than 300 s"
    assert all(fired[first:])


def test_rising_alert_resets_on_a_non_positive_delta() -> None:
    rising = [(5.0 * k, 0.1) for k in range(50)]  # 0 … 245 s
    flat = [(250.0, 0.0)]
    again = [(255.0 + 5.0 * k, 0.2) for k in range(70)]  # restarts at 255
    fired = run_alert(rising + flat + again)
    assert not any(fired[:51])
    first = fired.index(True)
    assert (rising + flat + again)[first][0] == 255.0 + 305.0
    falling = run_alert([(5.0 * k, 0.1 if k != 40 else -0.5) for k in range(150)])
    assert falling.index(True) == 41 + 61


def test_rising_since_keeps_the_start() -> None:
    assert rising_since(None, 10.0, 1.0) == 10.0
    assert rising_since(10.0, 15.0, 1.0) == 10.0
    assert rising_since(10.0, 15.0, 0.0) is None
    assert rising_since(10.0, 15.0, -1.0) is None
    assert not should_alert_rising(None, 1e9, POLICY)
    assert not should_alert_rising(0.0, 300.0, POLICY)
    assert should_alert_rising(0.0, 300.001, POLICY)
