"""Agent state (spec §2): defaults, the post-task updates, heartbeats."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.agent import AgentState, Heartbeat, Lesson, initial_embedding, learn, new_agent
from domain.config import AgentLearning

CFG = AgentLearning()
DIM = 16


def agent(agent_id: str = "agent-1", organ_type: str = "cognitive") -> AgentState:
    return new_agent(agent_id, "organ-a", organ_type, DIM, now=100.0, learning=CFG)


def lesson(**kwargs: object) -> Lesson:
    values: dict[str, object] = {
        "task_type": "analysis", "success": True, "quality": 1.0, "joules": 1.0
    }
    values.update(kwargs)
    return Lesson(**values)  # type: ignore[arg-type]


def unit(vector: np.ndarray) -> np.ndarray:
    normalised: np.ndarray = vector / np.linalg.norm(vector)
    return normalised


# --- defaults ----------------------------------------------------------------------------------


def test_new_agent_has_the_spec_defaults() -> None:
    state = agent()
    assert state.capability == 0.5
    assert state.memory_utility == 0.0
    assert dict(state.skills) == {}
    assert (state.load, state.capacity) == (0, 4)
    assert dict(state.consumption_ewma) == {}
    counters = (
        state.tasks_processed, state.tasks_succeeded, state.memory_writes,
        state.memory_hits, state.salient_events_logged,
    )
    assert counters == (0, 0, 0, 0, 0)
    assert state.recent_quality == ()
    assert state.roles == pytest.approx((0.3, 0.6, 0.1))
    assert agent(organ_type="actuator").roles == pytest.approx((0.7, 0.2, 0.1))
    assert agent(organ_type="utility").roles == pytest.approx((0.2, 0.3, 0.5))
    assert agent(organ_type="gizmo").roles == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    np.testing.assert_array_equal(state.h, initial_embedding("agent-1", DIM))
    assert state.created_at == 100.0
    assert not state.archived


def test_new_agent_capacity_override_and_empty_id() -> None:
    assert new_agent("a", "o", "utility", DIM, 0.0, CFG, capacity=9).capacity == 9
    with pytest.raises(ValueError, match="agent_id"):
        new_agent("", "o", "utility", DIM, 0.0, CFG)


@given(st.text(min_size=1, max_size=40), st.integers(1, 512))
@settings(max_examples=50, deadline=None)
def test_initial_embedding_is_deterministic_and_unit_norm(agent_id: str, dim: int) -> None:
    first = initial_embedding(agent_id, dim)
    second = initial_embedding(agent_id, dim)
    assert first.shape == (dim,)
    np.testing.assert_array_equal(first, second)
    assert float(np.linalg.norm(first)) == pytest.approx(1.0, abs=1e-12)


def test_initial_embeddings_differ_between_agents_and_are_read_only() -> None:
    a, b = initial_embedding("agent-1", 384), initial_embedding("agent-2", 384)
    assert abs(float(a @ b)) < 0.5
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 1.0


def test_with_load_never_goes_negative() -> None:
    assert agent().with_load(3).load == 3
    assert agent().with_load(-2).load == 0


# --- capability, utility, skills, consumption ---------------------------------------------------


def test_capability_update_formula() -> None:
    state = learn(agent(), lesson(success=True, quality=0.8), 1.0, CFG)
    assert state.capability == pytest.approx(0.9 * 0.5 + 0.1 * (0.6 * 1 + 0.4 * 0.8))
    state = learn(state, lesson(success=False, quality=0.3), 2.0, CFG)
    expected = 0.9 * (0.9 * 0.5 + 0.1 * 0.92) + 0.1 * (0.4 * 0.3)
    assert state.capability == pytest.approx(expected)


def test_memory_utility_update_formula() -> None:
    state = learn(
        agent(), lesson(memory_hit=1.0, compression_gain=0.5, salient=1.0), 1.0, CFG
    )
    assert state.memory_utility == pytest.approx(0.1 * (0.5 * 1 + 0.3 * 0.5 + 0.2 * 1))
    again = learn(state, lesson(memory_hit=0.0, compression_gain=0.0, salient=0.0), 2.0, CFG)
    assert again.memory_utility == pytest.approx(0.9 * state.memory_utility)


any_number = st.floats(allow_nan=False, min_value=-1e6, max_value=1e6)
unit_number = st.floats(0.0, 1.0)


@given(
    st.lists(
        st.tuples(st.booleans(), any_number, unit_number, unit_number, unit_number),
        min_size=1,
        max_size=60,
    ),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
@settings(max_examples=150, deadline=None)
def test_capability_and_utility_stay_in_0_1(
    lessons: list[tuple[bool, float, float, float, float]], c0: float, u0: float
) -> None:
    state = AgentState(
        agent_id="a", organ_id="o", organ_type="utility", h=np.zeros(2),
        roles=(1 / 3, 1 / 3, 1 / 3), capability=c0, memory_utility=u0,
    )
    for now, (success, quality, hit, gain, salient) in enumerate(lessons):
        state = learn(
            state,
            lesson(success=success, quality=quality, memory_hit=hit,
                   compression_gain=gain, salient=salient),
            float(now),
            CFG,
        )
        assert 0.0 <= state.capability <= 1.0
        assert 0.0 <= state.memory_utility <= 1.0
        assert all(0.0 <= q <= 1.0 for q in state.recent_quality)
        assert all(0.0 <= s <= 1.0 for s in state.skills.values())


def test_skill_is_an_ewma_of_success_starting_at_half() -> None:
    state = learn(agent(), lesson(task_type="analysis", success=True), 1.0, CFG)
    assert state.skills["analysis"] == pytest.approx(0.5 + 0.1 * (1 - 0.5))
    state = learn(state, lesson(task_type="analysis", success=False), 2.0, CFG)
    assert state.skills["analysis"] == pytest.approx(0.55 + 0.1 * (0 - 0.55))
    state = learn(state, lesson(task_type="monitoring", success=False), 3.0, CFG)
    assert state.skills["monitoring"] == pytest.approx(0.45)
    assert state.skills["analysis"] == pytest.approx(0.495)


def test_consumption_is_an_ewma_with_rate_02_per_task_type() -> None:
    state = learn(agent(), lesson(task_type="analysis", joules=10.0), 1.0, CFG)
    assert state.consumption_ewma["analysis"] == pytest.approx(10.0)
    state = learn(state, lesson(task_type="analysis", joules=20.0), 2.0, CFG)
    assert state.consumption_ewma["analysis"] == pytest.approx(10.0 + 0.2 * (20.0 - 10.0))
    state = learn(state, lesson(task_type="analysis", joules=0.0), 3.0, CFG)
    assert state.consumption_ewma["analysis"] == pytest.approx(12.0 * 0.8)
    state = learn(state, lesson(task_type="monitoring", joules=3.0), 4.0, CFG)
    assert state.consumption_ewma == pytest.approx({"analysis": 9.6, "monitoring": 3.0})


# --- the embedding -------------------------------------------------------------------------------


def test_h_moves_towards_the_task_on_success_without_renormalising() -> None:
    start = agent()
    e = unit(np.linalg.svd(np.vstack([start.h, np.zeros(DIM)]))[2][-1])  # orthogonal to h
    assert abs(float(e @ start.h)) < 1e-12
    moved = learn(start, lesson(success=True, task_embedding=e), 1.0, CFG)
    np.testing.assert_allclose(moved.h, 0.95 * start.h + 0.05 * e)
    assert float(np.linalg.norm(moved.h)) == pytest.approx(np.sqrt(0.95**2 + 0.05**2))
    assert float(np.linalg.norm(moved.h)) < 1.0


def test_h_does_not_move_on_failure_or_without_an_embedding() -> None:
    start = agent()
    e = unit(np.ones(DIM))
    failed = learn(start, lesson(success=False, task_embedding=e), 1.0, CFG)
    np.testing.assert_array_equal(failed.h, start.h)
    blind = learn(start, lesson(success=True, task_embedding=None), 1.0, CFG)
    np.testing.assert_array_equal(blind.h, start.h)


def test_h_grows_towards_one_for_repeated_similar_tasks() -> None:
    state = AgentState(
        agent_id="a", organ_id="o", organ_type="x", h=0.2 * unit(np.ones(DIM)),
        roles=(1 / 3, 1 / 3, 1 / 3),
    )
    e = unit(np.ones(DIM))
    norms = []
    for k in range(200):
        state = learn(state, lesson(task_embedding=e), float(k), CFG)
        norms.append(float(np.linalg.norm(state.h)))
    assert all(b > a for a, b in itertools.pairwise(norms))
    assert norms[-1] <= 1.0
    assert norms[-1] == pytest.approx(1.0, abs=1e-3)


# --- counters and history ------------------------------------------------------------------------


def test_counters_and_the_last_20_qualities() -> None:
    state = agent()
    for k in range(25):
        state = learn(
            state,
            lesson(success=k % 2 == 0, quality=k / 100, memory_writes=2, memory_hits=1),
            float(k),
            CFG,
        )
    assert state.tasks_processed == 25
    assert state.tasks_succeeded == 13
    assert state.memory_writes == 50
    assert state.memory_hits == 25
    assert state.recent_quality == pytest.approx(tuple(k / 100 for k in range(5, 25)))
    assert state.last_task_at == 24.0
    assert dict(state.successes_since_evolution) == {"analysis": 13}


def test_learn_leaves_the_original_state_untouched() -> None:
    start = agent()
    learn(start, lesson(task_embedding=unit(np.ones(DIM))), 1.0, CFG)
    assert start.tasks_processed == 0
    assert start.capability == 0.5
    np.testing.assert_array_equal(start.h, initial_embedding("agent-1", DIM))


# --- heartbeat -------------------------------------------------------------------------------


def test_heartbeat_freshness_and_snapshot() -> None:
    beat = Heartbeat(agent(), host="host-1", taken_at=50.0, uptime_s=12.0,
                     window_joules=3.0, budget_joules=10.0)
    assert beat.is_fresh(now=80.0, stale_after_s=30.0)
    assert not beat.is_fresh(now=80.5, stale_after_s=30.0)
    snapshot = beat.to_snapshot()
    assert snapshot["agent_id"] == "agent-1"
    assert snapshot["organ_id"] == "organ-a"
    assert snapshot["host"] == "host-1"
    assert snapshot["uptime_s"] == 12.0
    assert snapshot["energy"] == {"window_joules": 3.0, "budget_joules": 10.0}
    assert snapshot["roles"] == pytest.approx({"E": 0.3, "S": 0.6, "O": 0.1})
    assert len(snapshot["h"]) == DIM
    for field in ("capability", "memory_utility", "skills", "load", "capacity",
                  "consumption_ewma_j", "tasks_processed", "tasks_succeeded", "memory_writes",
                  "memory_hits", "salient_events_logged", "recent_quality", "last_task_at"):
        assert field in snapshot
