"""Tasks (spec §1, §4): validation and the complexity estimate."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.task import MAX_TEAM_SIZE, Size, Task, estimate_complexity


def test_defaults() -> None:
    task = Task("t1", "analysis")
    assert (task.risk, task.severity, task.team_size, task.complexity) == (0.5, 1.0, 1, None)


@pytest.mark.parametrize("field", ["risk", "severity"])
@pytest.mark.parametrize("value", [-0.01, 1.01, math.nan, math.inf, -math.inf])
def test_risk_and_severity_outside_0_1_are_refused(field: str, value: float) -> None:
    changes: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=field):
        Task("t1", "analysis", **changes)


@pytest.mark.parametrize("field", ["risk", "severity"])
@pytest.mark.parametrize("value", [0.0, 0.7, 1.0])
def test_risk_and_severity_bounds_are_inclusive(field: str, value: float) -> None:
    changes: dict[str, Any] = {field: value}
    assert getattr(Task("t1", "analysis", **changes), field) == value


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan])
def test_given_complexity_outside_0_1_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="complexity"):
        Task("t1", "analysis", complexity=value)


def test_empty_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="task_id"):
        Task("", "analysis")
    with pytest.raises(ValueError, match="task_type"):
        Task("t1", "")


def test_team_size_bounds() -> None:
    assert Task("t1", "analysis", team_size=1).team_size == 1
    assert Task("t1", "analysis", team_size=MAX_TEAM_SIZE).team_size == MAX_TEAM_SIZE
    for bad in (0, -1, MAX_TEAM_SIZE + 1):
        with pytest.raises(ValueError, match="team_size"):
            Task("t1", "analysis", team_size=bad)


@pytest.mark.parametrize(
    ("task_type", "size", "urgent", "expected"),
    [
        ("misc", Size.MEDIUM, False, 0.5),
        ("optimization", Size.MEDIUM, False, 0.8),
        ("analysis", Size.MEDIUM, False, 0.8),
        ("exploration", Size.MEDIUM, False, 0.7),
        ("discovery", Size.MEDIUM, False, 0.7),
        ("misc", Size.LARGE, False, 0.7),
        ("misc", Size.SMALL, False, 0.4),
        ("misc", Size.MEDIUM, True, 0.6),
        ("analysis", Size.LARGE, True, 1.0),  # 1.1 clamped
        ("optimization", Size.LARGE, False, 1.0),
        ("exploration", Size.SMALL, True, 0.7),
        ("monitoring", Size.SMALL, False, 0.4),
    ],
)
def test_complexity_estimate(task_type: str, size: Size, urgent: bool, expected: float) -> None:
    task = Task("t1", task_type, size=size, urgent=urgent)
    assert estimate_complexity(task) == pytest.approx(expected)


def test_a_given_complexity_wins() -> None:
    assert estimate_complexity(Task("t1", "analysis", complexity=0.05, urgent=True)) == 0.05


@given(
    st.sampled_from(["optimization", "analysis", "exploration", "discovery", "misc"]),
    st.sampled_from(list(Size)),
    st.booleans(),
)
@settings(max_examples=50, deadline=None)
def test_complexity_estimate_is_clamped(task_type: str, size: Size, urgent: bool) -> None:
    assert 0.1 <= estimate_complexity(Task("t", task_type, size=size, urgent=urgent)) <= 1.0
