"""Roles (spec §2 and §5): initial roles, ideal roles, entropy, evolution with the floor."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.config import RolePolicy
from domain.roles import (
    Role,
    entropy,
    evolve_roles,
    ideal_role,
    initial_roles,
    role_distribution,
)

POLICY = RolePolicy()
UNIFORM = np.full(3, 1 / 3)


def spec_entropy(p: np.ndarray | tuple[float, float, float]) -> float:
    q = np.clip(np.asarray(p, dtype=float), 1e-12, 1.0)
    q = q / q.sum()
    return float(-(q * np.log(q)).sum())


@pytest.mark.parametrize(
    ("organ_type", "expected"),
    [
        ("cognitive", (0.3, 0.6, 0.1)),
        ("actuator", (0.7, 0.2, 0.1)),
        ("utility", (0.2, 0.3, 0.5)),
        ("custom-sensor", (1 / 3, 1 / 3, 1 / 3)),
        ("", (1 / 3, 1 / 3, 1 / 3)),
    ],
)
def test_initial_roles_by_organ_type(organ_type: str, expected: tuple[float, ...]) -> None:
    roles = initial_roles(organ_type)
    assert roles == pytest.approx(expected)
    assert sum(roles) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    ("task_type", "role"),
    [
        ("exploration", Role.E),
        ("discovery", Role.E),
        ("research", Role.E),
        ("optimization", Role.S),
        ("analysis", Role.S),
        ("execution", Role.S),
        ("knowledge", Role.S),
        ("high_stakes", Role.S),
        ("monitoring", Role.O),
        ("maintenance", Role.O),
        ("observation", Role.O),
        ("unheard_of", Role.S),
        ("", Role.S),
        ("Exploration", Role.S),
    ],
)
def test_ideal_role_map(task_type: str, role: Role) -> None:
    assert ideal_role(task_type, POLICY) is role


def test_ideal_role_map_is_configurable() -> None:
    policy = RolePolicy(ideal_roles=(("triage", "O"),), default_role="E")
    assert ideal_role("triage", policy) is Role.O
    assert ideal_role("exploration", policy) is Role.E
    assert ideal_role("analysis", policy) is Role.E


def test_role_indices() -> None:
    assert (Role.E, Role.S, Role.O) == (0, 1, 2)


def test_entropy_in_nats() -> None:
    assert float(entropy((1 / 3, 1 / 3, 1 / 3))) == pytest.approx(math.log(3))
    assert float(entropy((0.5, 0.5, 0.0))) == pytest.approx(math.log(2), abs=1e-9)
    assert 0.0 <= float(entropy((1.0, 0.0, 0.0))) < 1e-9
    many = entropy(np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]))
    assert many.shape == (2,)
    assert many[0] == pytest.approx(spec_entropy((0.2, 0.3, 0.5)))


def test_role_distribution_of_successes() -> None:
    t = role_distribution({"exploration": 1, "analysis": 2, "monitoring": 1, "x": 0}, POLICY)
    assert t == pytest.approx((0.25, 0.5, 0.25))
    assert role_distribution({"weird": 3}, POLICY) == (0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="successful"):
        role_distribution({"analysis": 0}, POLICY)


def test_evolution_moves_five_percent_towards_the_target() -> None:
    p, t = (0.3, 0.6, 0.1), (0.0, 1.0, 0.0)
    assert evolve_roles(p, t, POLICY) == pytest.approx((0.285, 0.62, 0.095))


def smallest_mu(moved: np.ndarray, floor: float) -> float:
    """Brute force from the spec: the smallest μ in steps of 0.05 restoring H ≥ h_min."""
    for k in range(21):
        mu = k * 0.05
        if spec_entropy((1 - mu) * moved + mu * UNIFORM) >= floor:
            return mu
    raise AssertionError("uniform always restores the floor")


@pytest.mark.parametrize(
    ("p", "t"),
    [
        ((1.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
        ((0.0, 0.0, 1.0), (0.0, 0.0, 1.0)),
        ((0.98, 0.01, 0.01), (1.0, 0.0, 0.0)),
        ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    ],
)
def test_evolution_mixes_with_the_smallest_mu_in_005_steps(
    p: tuple[float, float, float], t: tuple[float, float, float]
) -> None:
    moved = 0.95 * np.asarray(p) + 0.05 * np.asarray(t)
    result = np.asarray(evolve_roles(p, t, POLICY))
    mu = smallest_mu(moved, 0.2)
    if spec_entropy(moved) >= 0.2:
        pytest.fail("the case must need mixing")
    assert mu > 0
    np.testing.assert_allclose(result, (1 - mu) * moved + mu * UNIFORM, atol=1e-12)
    assert spec_entropy(result) >= 0.2


def test_evolution_from_a_vertex_needs_mixing_of_exactly_the_brute_force_mu() -> None:
    result = np.asarray(evolve_roles((1.0, 0.0, 0.0), (1.0, 0.0, 0.0), POLICY))
    # recover μ from the E component: (1−μ)·1 + μ/3
    mu = (1.0 - result[0]) * 1.5
    assert mu == pytest.approx(smallest_mu(np.array([1.0, 0.0, 0.0]), 0.2))
    assert round(mu / 0.05) * 0.05 == pytest.approx(mu)


def test_evolution_respects_a_custom_floor_and_step() -> None:
    policy = RolePolicy(entropy_floor=0.9, mix_step=0.1)
    result = evolve_roles((1.0, 0.0, 0.0), (1.0, 0.0, 0.0), policy)
    assert spec_entropy(result) >= 0.9
    mu = (1.0 - result[0]) * 1.5
    assert round(mu / 0.1) * 0.1 == pytest.approx(mu)
    previous = (1 - (mu - 0.1)) * np.array([1.0, 0, 0]) + (mu - 0.1) * UNIFORM
    assert spec_entropy(previous) < 0.9


def vertex_or_near(index: int, eps: float) -> tuple[float, float, float]:
    p = [eps / 2, eps / 2, eps / 2]
    p[index] = 1.0 - eps
    return (p[0], p[1], p[2])


simplex_points = st.one_of(
    st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
    .filter(lambda x: sum(x) > 1e-6)
    .map(lambda x: (x[0] / sum(x), x[1] / sum(x), x[2] / sum(x))),
    st.builds(vertex_or_near, st.integers(0, 2), st.sampled_from([0.0, 1e-300, 1e-15, 1e-6, 0.01])),
)


@given(p=simplex_points, t=simplex_points, rounds=st.integers(1, 30))
@settings(max_examples=300, deadline=None)
def test_evolution_stays_on_the_simplex_above_the_floor(
    p: tuple[float, float, float], t: tuple[float, float, float], rounds: int
) -> None:
    current = p
    for _ in range(rounds):
        previous = current
        current = evolve_roles(current, t, POLICY)
        arr = np.asarray(current)
        assert np.all(arr >= 0.0)
        assert abs(arr.sum() - 1.0) <= 1e-9
        assert spec_entropy(arr) >= 0.2
        moved = 0.95 * np.asarray(previous) + 0.05 * np.asarray(t)
        moved = moved / moved.sum()
        if spec_entropy(moved) >= 0.2:
            np.testing.assert_allclose(arr, moved, atol=1e-12)
        else:
            mu = smallest_mu(moved, 0.2)
            np.testing.assert_allclose(arr, (1 - mu) * moved + mu * UNIFORM, atol=1e-12)
