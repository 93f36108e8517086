"""Consumption metering in joules (spec §3.3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.config import ConsumptionCosts
from domain.consumption import Op, joules, split_joules

COSTS = ConsumptionCosts()


def test_nominal_costs() -> None:
    assert COSTS.cpu_watts == 15.0
    expected = {
        Op.MW_READ: 0.001, Op.MW_WRITE: 0.001, Op.MLT_READ: 0.01, Op.MLT_SEARCH: 0.05,
        Op.GRAPH_HOP: 0.005, Op.MFB_WRITE: 0.02,
    }
    for op, cost in expected.items():
        assert joules(0.0, {op: 1}, COSTS) == pytest.approx(cost)


def test_joules_formula() -> None:
    ops = {Op.MW_READ: 3, Op.MLT_SEARCH: 2, Op.GRAPH_HOP: 4, Op.MFB_WRITE: 1}
    expected = 15.0 * 0.2 + 3 * 0.001 + 2 * 0.05 + 4 * 0.005 + 0.02
    assert joules(0.2, ops, COSTS) == pytest.approx(expected)
    assert joules(0.0, {}, COSTS) == 0.0


def test_costs_are_configurable() -> None:
    costs = ConsumptionCosts(cpu_watts=30.0, mlt_read=1.0)
    assert joules(1.0, {Op.MLT_READ: 2}, costs) == pytest.approx(32.0)


def test_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="cpu_seconds"):
        joules(-0.1, {}, COSTS)
    with pytest.raises(ValueError, match="negative"):
        joules(0.1, {Op.MW_READ: -1}, COSTS)


@given(st.floats(0, 1e4), st.dictionaries(st.sampled_from(list(Op)), st.integers(0, 10**6)))
@settings(max_examples=100, deadline=None)
def test_joules_are_non_negative_and_grow_with_cpu(cpu: float, ops: dict[Op, int]) -> None:
    value = joules(cpu, ops, COSTS)
    assert value >= 0.0
    assert joules(cpu + 1.0, ops, COSTS) == pytest.approx(value + 15.0)


def test_split_joules_evenly_among_the_team() -> None:
    shares = split_joules(0.9, ["a", "b", "c"])
    assert shares == pytest.approx({"a": 0.3, "b": 0.3, "c": 0.3})
    assert sum(shares.values()) == pytest.approx(0.9)
    assert split_joules(2.0, ["solo"]) == {"solo": 2.0}
    with pytest.raises(ValueError, match="at least one"):
        split_joules(1.0, [])
