"""Energy-aware selection and teams (spec §4)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.collaboration import pair_key
from domain.config import SelectionWeights
from domain.selection import (
    Candidates,
    eligibility,
    predicted_delta_energy,
    score,
    select,
    select_team,
)

W = SelectionWeights()
GREEDY = replace(W, epsilon=0.0)
ALWAYS_EXPLORE = replace(W, epsilon=1.0)


def candidates(n: int, ids: list[str] | None = None, **features: object) -> Candidates:
    """n agents with every score term at 0 unless given."""
    values: dict[str, object] = {
        "agent_ids": ids if ids is not None else [f"a{k:03d}" for k in range(n)],
        "capability": np.ones(n),
        "role_fit": np.ones(n),
        "consumption": np.zeros(n),
        "load": np.zeros(n),
        "capacity": np.full(n, 4.0),
        "soft_penalty": np.zeros(n),
        "affinity": np.zeros(n),
        "eligible": np.ones(n, dtype=bool),
    }
    for name, value in features.items():
        values[name] = np.asarray(value, dtype=bool if name == "eligible" else float)
    return Candidates(**values)  # type: ignore[arg-type]


def random_candidates(seed: int, n: int) -> Candidates:
    rng = np.random.default_rng(seed)
    return candidates(
        n,
        capability=rng.uniform(0, 1, n),
        role_fit=rng.uniform(0, 1, n),
        consumption=rng.uniform(0, 3, n),
        load=rng.integers(0, 4, n),
        soft_penalty=rng.uniform(0, 1, n) * (rng.random(n) < 0.2),
        affinity=rng.uniform(0, 1, n),
        eligible=rng.random(n) < 0.8,
    )


# --- eligibility -------------------------------------------------------------------------------


def test_eligibility_excludes_each_reason() -> None:
    n = 6
    load = np.array([0, 4, 0, 0, 0, 0], dtype=float)
    capacity = np.full(n, 4.0)
    over_hard = np.array([False, False, True, False, False, False])
    age = np.array([0.0, 0.0, 0.0, 31.0, 30.0, 0.0])
    archived = np.array([False, False, False, False, False, True])
    in_organ = np.ones(n, dtype=bool)
    result = eligibility(load, capacity, over_hard, age, 30.0, archived, in_organ)
    assert result.tolist() == [True, False, False, False, True, False]
    hinted = np.array([False, True, True, True, True, True])
    result = eligibility(load, capacity, over_hard, age, 30.0, archived, hinted)
    assert result.tolist() == [False, False, False, False, True, False]


def test_eligibility_capacity_boundary() -> None:
    result = eligibility(
        np.array([2.0, 3.0, 5.0]), np.array([3.0, 3.0, 3.0]), np.zeros(3, dtype=bool),
        np.zeros(3), 30.0, np.zeros(3, dtype=bool), np.ones(3, dtype=bool),
    )
    assert result.tolist() == [True, False, False]


# --- the score, term by term ---------------------------------------------------------------


def test_score_is_zero_when_every_term_is_zero() -> None:
    assert score(candidates(2), 0.7, 1.0, W).tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("features", "complexity", "j_ref", "expected"),
    [
        ({"capability": [0.2]}, 0.5, 1.0, 1.0 * (1 - 0.2) * 0.5),
        ({"capability": [0.0]}, 1.0, 1.0, 1.0),
        ({"role_fit": [0.3]}, 0.5, 1.0, 0.5 * (1 - 0.3)),
        ({"consumption": [3.0]}, 0.5, 2.0, 0.5 * 3.0 / 2.0),
        ({"load": [3.0], "capacity": [4.0]}, 0.5, 1.0, 1.0 * 3 / 4),
        ({"soft_penalty": [0.6]}, 0.5, 1.0, 0.5 * 0.6),
        ({"affinity": [0.8]}, 0.5, 1.0, -0.5 * 0.8),
    ],
)
def test_score_terms(
    features: dict[str, Any], complexity: float, j_ref: float, expected: float
) -> None:
    assert score(candidates(1, **features), complexity, j_ref, W)[0] == pytest.approx(expected)


def test_score_sums_every_term() -> None:
    c = candidates(
        1, capability=[0.4], role_fit=[0.5], consumption=[2.0], load=[1.0], capacity=[4.0],
        soft_penalty=[0.2], affinity=[0.6],
    )
    expected = 0.6 * 0.8 + 0.5 * 0.5 + 0.5 * 2.0 / 4.0 + 0.25 + 0.5 * 0.2 - 0.5 * 0.6
    assert score(c, 0.8, 4.0, W)[0] == pytest.approx(expected)


def test_score_weights_are_configurable() -> None:
    weights = SelectionWeights(capability=2.0, affinity=0.0)
    c = candidates(1, capability=[0.5], affinity=[1.0])
    assert score(c, 1.0, 1.0, weights)[0] == pytest.approx(1.0)


def test_ineligible_candidates_score_infinity() -> None:
    s = score(candidates(3, eligible=[True, False, True]), 0.5, 1.0, W)
    assert np.isinf(s[1])
    assert np.isfinite(s[[0, 2]]).all()


# --- select ---------------------------------------------------------------------------------


def test_select_picks_the_argmin() -> None:
    c = candidates(4, capability=[0.1, 0.9, 0.5, 0.95], eligible=[True, True, True, False])
    choice = select(c, 1.0, 1.0, GREEDY, np.random.default_rng(0))
    assert choice is not None
    assert choice.agent_ids == ("a001",)
    assert choice.indices == (1,)
    assert choice.score == pytest.approx(0.1)
    assert not choice.explored


def test_ties_are_broken_by_agent_id() -> None:
    c = candidates(4, ids=["delta", "bravo", "charlie", "alpha"],
                   eligible=[True, True, True, False])
    choice = select(c, 0.5, 1.0, GREEDY, np.random.default_rng(0))
    assert choice is not None
    assert choice.agent_ids == ("bravo",)


def test_nothing_eligible_gives_none() -> None:
    c = candidates(3, eligible=[False, False, False])
    assert select(c, 0.5, 1.0, W, np.random.default_rng(0)) is None
    assert select(candidates(0), 0.5, 1.0, W, np.random.default_rng(0)) is None


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), rng_seed=st.integers(0, 1000))
@settings(max_examples=100, deadline=None)
def test_epsilon_zero_always_gives_the_argmin(seed: int, n: int, rng_seed: int) -> None:
    c = random_candidates(seed, n)
    scores = score(c, 0.6, 1.5, W)
    choice = select(c, 0.6, 1.5, GREEDY, np.random.default_rng(rng_seed))
    if not c.eligible.any():
        assert choice is None
        return
    assert choice is not None
    best = min(
        (k for k in range(n) if c.eligible[k]), key=lambda k: (scores[k], c.agent_ids[k])
    )
    assert choice.indices == (best,)
    assert not choice.explored


def best_three(c: Candidates, complexity: float, j_ref: float) -> set[int]:
    scores = score(c, complexity, j_ref, W)
    eligible = [k for k in range(len(c)) if c.eligible[k]]
    return set(sorted(eligible, key=lambda k: (scores[k], c.agent_ids[k]))[:3])


def test_exploration_picks_among_the_three_best() -> None:
    c = random_candidates(4, 30)
    top = best_three(c, 0.5, 1.0)
    rng = np.random.default_rng(123)
    picks: Counter[int] = Counter()
    for _ in range(600):
        choice = select(c, 0.5, 1.0, ALWAYS_EXPLORE, rng)
        assert choice is not None
        assert choice.explored
        assert choice.indices[0] in top
        picks[choice.indices[0]] += 1
    assert set(picks) == top
    assert min(picks.values()) > 120  # uniform: about 200 each


def test_exploration_is_reproducible_with_a_seed() -> None:
    c = random_candidates(8, 50)

    def run(seed: int) -> list[tuple[int, ...]]:
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(200):
            choice = select(c, 0.5, 1.0, W, rng)
            assert choice is not None
            out.append(choice.indices)
        return out

    assert run(42) == run(42)
    assert run(42) != run(43)


def test_exploration_rate_is_about_epsilon() -> None:
    c = random_candidates(2, 100)
    rng = np.random.default_rng(7)
    explored = 0
    for _ in range(4000):
        choice = select(c, 0.5, 1.0, W, rng)
        assert choice is not None
        explored += choice.explored
    assert 0.035 < explored / 4000 < 0.065


def test_exploration_with_fewer_than_three_eligible() -> None:
    c = candidates(3, capability=[0.5, 0.1, 0.9], eligible=[True, False, True])
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(100):
        choice = select(c, 1.0, 1.0, ALWAYS_EXPLORE, rng)
        assert choice is not None
        seen.add(choice.indices[0])
    assert seen == {0, 2}


def test_a_single_eligible_agent_is_always_chosen() -> None:
    c = candidates(3, eligible=[False, True, False])
    for seed in range(20):
        choice = select(c, 0.5, 1.0, ALWAYS_EXPLORE, np.random.default_rng(seed))
        assert choice is not None
        assert choice.indices == (1,)


# --- teams ----------------------------------------------------------------------------------


def unit_rows(*rows: list[float]) -> np.ndarray:
    h = np.array(rows, dtype=float)
    normalised: np.ndarray = h / np.linalg.norm(h, axis=1, keepdims=True)
    return normalised


def test_team_prefers_a_partner_with_a_high_pair_weight() -> None:
    c = candidates(3, capability=[1.0, 0.9, 0.9])  # a000 leads, a001 and a002 tie
    h = unit_rows([1, 0], [1, 0], [1, 0])
    team = select_team(c, h, {pair_key("a000", "a002"): 5.0}, 2, 1.0, 1.0, GREEDY,
                       np.random.default_rng(0))
    assert team is not None
    assert team.agent_ids == ("a000", "a002")
    # without history the tie goes to the smaller id
    plain = select_team(c, h, {}, 2, 1.0, 1.0, GREEDY, np.random.default_rng(0))
    assert plain is not None
    assert plain.agent_ids == ("a000", "a001")


def test_team_prefers_an_aligned_partner() -> None:
    c = candidates(3, capability=[1.0, 0.9, 0.9])
    h = unit_rows([1, 0], [0, 1], [1, 0.1])
    team = select_team(c, h, {}, 2, 1.0, 1.0, GREEDY, np.random.default_rng(0))
    assert team is not None
    assert team.agent_ids == ("a000", "a002")


def test_team_bonus_is_half_the_weighted_cosine_sum() -> None:
    # a001 is worse by 0.4 on its own but aligned (cos 1, w 1): bonus 0.5 beats it
    c = candidates(3, capability=[1.0, 0.5, 0.9])
    h = unit_rows([1, 0], [1, 0], [0, 1])
    team = select_team(c, h, {}, 2, 1.0, 1.0, GREEDY, np.random.default_rng(0))
    assert team is not None
    assert team.agent_ids == ("a000", "a001")
    # at 0.55 worse, the bonus (0.5) is not enough
    c = candidates(3, capability=[1.0, 0.35, 0.9])
    team = select_team(c, h, {}, 2, 1.0, 1.0, GREEDY, np.random.default_rng(0))
    assert team is not None
    assert team.agent_ids == ("a000", "a002")


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25), size=st.integers(1, 6))
@settings(max_examples=100, deadline=None)
def test_team_members_are_distinct_eligible_and_the_lead_comes_first(
    seed: int, n: int, size: int
) -> None:
    c = random_candidates(seed, n)
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, 4))
    weights = {pair_key(c.agent_ids[a], c.agent_ids[b]): float(rng.uniform(0.1, 5))
               for a in range(n) for b in range(a + 1, n) if rng.random() < 0.3}
    team = select_team(c, h, weights, size, 0.5, 1.0, GREEDY, np.random.default_rng(1))
    if int(c.eligible.sum()) < size:
        assert team is None
        return
    assert team is not None
    assert len(team.indices) == size
    assert len(set(team.indices)) == size
    assert all(c.eligible[k] for k in team.indices)
    assert team.agent_ids == tuple(c.agent_ids[k] for k in team.indices)
    lead = select(c, 0.5, 1.0, GREEDY, np.random.default_rng(1))
    assert lead is not None
    assert team.indices[0] == lead.indices[0]
    assert team.score == lead.score


# --- predicted dE ---------------------------------------------------------------------------


def test_predicted_delta_energy_of_the_reg_term() -> None:
    h = np.array([1.0, 0.0])
    e = np.array([0.0, 1.0])
    # h' = 0.95h + 0.05e, ‖h'‖² = 0.905: E_reg falls by λ·0.095
    value = predicted_delta_energy(h, e, 1.0, 0.05, 0.01)
    assert value == pytest.approx(0.01 * (0.905 - 1.0))
    assert value < 0
    assert predicted_delta_energy(h, e, 0.5, 0.05, 0.01) == pytest.approx(value / 2)
    # a short h that is pulled towards an aligned unit task grows: E_reg rises
    small = np.array([0.5, 0.0])
    grown = predicted_delta_energy(small, np.array([1.0, 0.0]), 1.0, 0.05, 0.01)
    assert grown == pytest.approx(0.01 * (0.525**2 - 0.25))
    assert grown > 0
    assert predicted_delta_energy(h, None, 1.0, 0.05, 0.01) == 0.0
    assert predicted_delta_energy(h, h, 1.0, 0.05, 0.01) == 0.0


def test_predicted_delta_energy_adds_the_first_order_pair_term() -> None:
    h = np.array([1.0, 0.0])
    e = np.array([0.0, 1.0])
    gradient = np.array([0.0, -2.0])
    value = predicted_delta_energy(h, e, 1.0, 0.05, 0.0, gradient)
    assert value == pytest.approx(-2.0 * 0.05)
