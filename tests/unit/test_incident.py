"""Flashbulb incidents (spec §1, §7)."""

from __future__ import annotations

import pytest

from domain.incident import Incident, IncidentStats


def incident(salience: float) -> Incident:
    return Incident("i1", 0.0, salience, "a1", "o1", {"task_id": "t1"}, {"type": "Boom"},
                    {"agent_id": "a1"})


@pytest.mark.parametrize("value", [0.0, 0.7, 1.0])
def test_salience_within_0_1_is_kept_as_a_float(value: float) -> None:
    assert incident(value).salience == value


@pytest.mark.parametrize("value", [-0.01, 1.01, float("nan")])
def test_salience_outside_0_1_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="salience"):
        incident(value)


def test_stats_fields() -> None:
    stats = IncidentStats(count=3, last_24h=1, mean_salience=0.8)
    assert (stats.count, stats.last_24h, stats.mean_salience) == (3, 1, 0.8)
