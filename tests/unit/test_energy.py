"""System energy (spec §3.1, §3.2): terms, bound, gradients, attribution, memory cost."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.config import EnergyWeights, MemoryPolicy
from domain.energy import (
    EnergyInputs,
    EnergyTerms,
    MemoryCostInputs,
    attribute,
    compute_energy,
    energy_lower_bound,
    memory_cost,
    organ_totals,
)

WEIGHTS = EnergyWeights()
POLICY = MemoryPolicy()


def random_pairs(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    """Up to ``count`` distinct unordered pairs of distinct agents."""
    if n < 2 or count == 0:
        return np.zeros((0, 2), dtype=np.int64)
    i = rng.integers(0, n, count)
    j = (i + rng.integers(1, n, count)) % n
    pairs = np.unique(np.sort(np.stack([i, j], axis=1), axis=1), axis=0)
    return pairs.astype(np.int64)


def random_inputs(
    seed: int,
    n: int = 8,
    d: int = 5,
    pairs_per_agent: float = 2.0,
    patterns: int = 10,
    zero_rows: int = 0,
) -> EnergyInputs:
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, d))
    h *= rng.uniform(0.2, 1.2, (n, 1)) / np.linalg.norm(h, axis=1, keepdims=True)
    h[:zero_rows] = 0.0
    pairs = random_pairs(rng, n, int(pairs_per_agent * n))
    return EnergyInputs(
        h=h,
        p=rng.dirichlet(np.ones(3), n),
        pairs=pairs,
        pair_weights=np.asarray(rng.uniform(0.1, 5.0, pairs.shape[0]), dtype=np.float64),
        pattern_scores=rng.uniform(0.0, 10.0, patterns),
        memory=MemoryCostInputs(
            bytes_used=float(rng.uniform(0, 2000)),
            bytes_budget=1000.0,
            recon_loss=float(rng.uniform(0, 1)),
            miss_rate=float(rng.uniform(0, 1)),
        ),
        bytes_written=rng.uniform(0, 100, n),
    )


# --- reference implementation, written from the spec text only -------------------------------


def spec_cos(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = math.sqrt(float(a @ a)), math.sqrt(float(b @ b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(a @ b) / (na * nb)


def spec_entropy(p: np.ndarray) -> float:
    q = np.clip(p, 1e-12, 1.0)
    q = q / q.sum()
    return float(-(q * np.log(q)).sum())


def spec_terms(inputs: EnergyInputs, w: EnergyWeights = WEIGHTS) -> dict[str, float]:
    def clamp(x: float) -> float:
        return min(10.0, max(0.0, x))

    w_pair, w_hyper = clamp(w.w_pair), clamp(w.w_hyper)
    alpha, lam, beta = clamp(w.alpha), clamp(w.lambda_reg), clamp(w.beta_mem)
    pair = -w_pair * sum(
        wij * spec_cos(inputs.h[i], inputs.h[j])
        for (i, j), wij in zip(inputs.pairs.tolist(), inputs.pair_weights.tolist(), strict=True)
    )
    scores = sorted((s for s in inputs.pattern_scores.tolist() if s > 0), reverse=True)[:64]
    hyper = -w_hyper * sum(s / scores[0] for s in scores) if scores else 0.0
    entropy = -alpha * sum(spec_entropy(row) for row in inputs.p)
    reg = lam * sum(float(row @ row) for row in inputs.h)
    m = inputs.memory
    cost = (
        0.4 * min(1.0, m.bytes_used / m.bytes_budget)
        + 0.4 * min(1.0, max(0.0, m.recon_loss))
        + 0.2 * min(1.0, max(0.0, m.miss_rate))
    )
    return {"pair": pair, "hyper": hyper, "entropy": entropy, "reg": reg, "mem": beta * cost}


# --- the terms ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_every_term_matches_the_spec_formula(seed: int) -> None:
    inputs = random_inputs(seed, n=12, d=6, patterns=80, zero_rows=1)
    terms, _ = compute_energy(inputs, WEIGHTS, POLICY)
    expected = spec_terms(inputs)
    for name, value in expected.items():
        assert getattr(terms, name) == pytest.approx(value, rel=1e-12, abs=1e-12), name


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_total_is_the_sum_of_the_five_terms(seed: int) -> None:
    terms, _ = compute_energy(random_inputs(seed), WEIGHTS, POLICY)
    parts = [terms.pair, terms.hyper, terms.entropy, terms.reg, terms.mem]
    assert terms.total == pytest.approx(math.fsum(parts), rel=1e-12, abs=1e-12)
    assert terms.as_dict()["total"] == terms.total
    assert set(terms.as_dict()) == {"pair", "hyper", "entropy", "reg", "mem", "total"}


def test_terms_are_the_same_with_and_without_gradients() -> None:
    inputs = random_inputs(3, n=50, d=16)
    plain, none = compute_energy(inputs, WEIGHTS, POLICY)
    with_grad, grads = compute_energy(inputs, WEIGHTS, POLICY, with_gradients=True)
    assert none is None
    assert grads is not None
    assert plain == with_grad


def test_empty_organism_gives_all_terms_zero() -> None:
    inputs = EnergyInputs.empty(384)
    terms, grads = compute_energy(inputs, WEIGHTS, POLICY, with_gradients=True)
    assert terms == EnergyTerms.zero()
    assert terms.total == 0.0
    assert grads is not None
    assert grads.dh.shape == (0, 384)
    assert grads.dp.shape == (0, 3)
    assert attribute(inputs, [], [], WEIGHTS, POLICY) == ({}, {})


# --- the lower bound ---------------------------------------------------------------------------


def test_lower_bound_formula() -> None:
    w = EnergyWeights(w_pair=2.0, w_hyper=3.0, alpha=0.7)
    expected = -5 * 2.0 * 11 - 64 * 3.0 - 0.7 * 17 * math.log(3)
    assert energy_lower_bound(11, 17, w) == pytest.approx(expected, rel=1e-15)
    # the weights in the bound are clamped like everywhere else
    assert energy_lower_bound(1, 0, EnergyWeights(w_pair=50.0, w_hyper=-1.0)) == -50.0


weight_values = st.floats(min_value=-1.0, max_value=12.0, allow_nan=False)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 24),
    d=st.integers(1, 8),
    pairs_per_agent=st.floats(0.0, 4.0),
    patterns=st.integers(0, 120),
    norm_exponent=st.floats(-170.0, 0.5),
    aligned=st.booleans(),
    max_pair_weights=st.booleans(),
    w_pair=weight_values,
    w_hyper=weight_values,
    alpha=weight_values,
)
@settings(max_examples=200, deadline=None)
def test_energy_never_falls_below_the_bound(
    seed: int,
    n: int,
    d: int,
    pairs_per_agent: float,
    patterns: int,
    norm_exponent: float,
    aligned: bool,
    max_pair_weights: bool,
    w_pair: float,
    w_hyper: float,
    alpha: float,
) -> None:
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, d)) * 10.0**norm_exponent
    if aligned and n:
        h[:] = h[0]  # every cosine 1: the pair term at its most negative
    h[rng.random(n) < 0.1] = 0.0
    pairs = random_pairs(rng, n, int(pairs_per_agent * n))
    p = rng.dirichlet(np.full(3, 0.2), n)
    if n:
        p[rng.random(n) < 0.3] = (1 / 3, 1 / 3, 1 / 3)
        p[rng.random(n) < 0.1] = (1.0, 0.0, 0.0)
    inputs = EnergyInputs(
        h=h,
        p=p,
        pairs=pairs,
        pair_weights=np.full(pairs.shape[0], 5.0)
        if max_pair_weights
        else np.asarray(rng.uniform(0.1, 5.0, pairs.shape[0]), dtype=np.float64),
        pattern_scores=rng.exponential(3.0, patterns),
    )
    weights = EnergyWeights(w_pair=w_pair, w_hyper=w_hyper, alpha=alpha)
    terms, _ = compute_energy(inputs, weights, POLICY)
    bound = energy_lower_bound(pairs.shape[0], n, weights)
    assert terms.total >= bound - 1e-9 * (1.0 + abs(bound))


@given(
    seed=st.integers(0, 2**32 - 1),
    exponent=st.floats(-170.0, 5.0),
    ratio=st.floats(1e-3, 1e3),
    same_direction=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_pair_term_stays_within_its_range_at_any_scale(
    seed: int, exponent: float, ratio: float, same_direction: bool
) -> None:
    """|cos| ≤ 1 even for norms near the subnormal range, so E_pair ≥ −w_pair·Σ w_ij."""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((2, 4)) * 10.0**exponent
    if same_direction:
        h[1] = h[0] * ratio
    inputs = EnergyInputs(
        h=h, p=np.full((2, 3), 1 / 3), pairs=np.array([(0, 1)]), pair_weights=np.array([5.0])
    )
    terms, _ = compute_energy(inputs, WEIGHTS, POLICY)
    assert -5.0 <= terms.pair <= 5.0


def test_lower_bound_is_reached_by_the_extreme_state() -> None:
    """Aligned h, pair weights at 5, ≥ 64 equal patterns, uniform roles, no reg or memory."""
    n = 6
    h = np.tile(np.array([[0.6, 0.8]]), (n, 1))
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64)
    inputs = EnergyInputs(
        h=h,
        p=np.full((n, 3), 1 / 3),
        pairs=pairs,
        pair_weights=np.full(pairs.shape[0], 5.0),
        pattern_scores=np.full(100, 2.5),
    )
    weights = EnergyWeights(lambda_reg=0.0, beta_mem=0.0)
    terms, _ = compute_energy(inputs, weights, POLICY)
    assert terms.total == pytest.approx(energy_lower_bound(pairs.shape[0], n, weights), rel=1e-12)


# --- gradients ---------------------------------------------------------------------------------


def total_energy(inputs: EnergyInputs, weights: EnergyWeights) -> float:
    return compute_energy(inputs, weights, POLICY)[0].total


@pytest.mark.parametrize(
    ("seed", "weights"),
    [
        (0, WEIGHTS),
        (1, WEIGHTS),
        (2, EnergyWeights(w_pair=2.5, lambda_reg=0.3)),
        (3, EnergyWeights(w_pair=0.0, lambda_reg=1.0)),
        (4, EnergyWeights(w_pair=7.0, lambda_reg=0.0)),
    ],
)
def test_dh_matches_central_finite_differences(seed: int, weights: EnergyWeights) -> None:
    inputs = random_inputs(seed, n=7, d=4, pairs_per_agent=1.5)
    _, grads = compute_energy(inputs, weights, POLICY, with_gradients=True)
    assert grads is not None
    eps = 1e-6
    numeric = np.zeros_like(inputs.h)
    for a in range(inputs.h.shape[0]):
        for k in range(inputs.h.shape[1]):
            up, down = inputs.h.copy(), inputs.h.copy()
            up[a, k] += eps
            down[a, k] -= eps
            numeric[a, k] = (
                total_energy(replace(inputs, h=up), weights)
                - total_energy(replace(inputs, h=down), weights)
            ) / (2 * eps)
    np.testing.assert_allclose(grads.dh, numeric, rtol=1e-5, atol=1e-7)


def test_dh_with_an_agent_in_many_pairs_and_a_zero_vector() -> None:
    rng = np.random.default_rng(11)
    h = rng.standard_normal((5, 3))
    h[4] = 0.0
    pairs = np.array([(0, 1), (0, 2), (0, 3), (1, 2), (0, 4), (3, 4)], dtype=np.int64)
    inputs = EnergyInputs(
        h=h,
        p=np.full((5, 3), 1 / 3),
        pairs=pairs,
        pair_weights=np.asarray(rng.uniform(0.1, 5.0, 6), dtype=np.float64),
    )
    _, grads = compute_energy(inputs, WEIGHTS, POLICY, with_gradients=True)
    assert grads is not None
    assert np.all(np.isfinite(grads.dh))
    # the zero vector has no pair gradient and its reg gradient is 2λ·0
    np.testing.assert_array_equal(grads.dh[4], np.zeros(3))
    eps = 1e-6
    for a in range(4):
        for k in range(3):
            up, down = h.copy(), h.copy()
            up[a, k] += eps
            down[a, k] -= eps
            numeric = (
                total_energy(replace(inputs, h=up), WEIGHTS)
                - total_energy(replace(inputs, h=down), WEIGHTS)
            ) / (2 * eps)
            assert grads.dh[a, k] == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_dh_on_a_larger_organism_matches_directional_finite_differences() -> None:
    """Exercises the blocked neighbour sums: many agents, uneven degrees, one hub."""
    rng = np.random.default_rng(5)
    n, d = 3000, 12
    h = rng.standard_normal((n, d))
    pairs = random_pairs(rng, n, 3 * n)
    hub = np.array([(0, j) for j in range(1, 1500)], dtype=np.int64)
    pairs = np.unique(np.concatenate([pairs, hub]), axis=0)
    inputs = EnergyInputs(
        h=h,
        p=rng.dirichlet(np.ones(3), n),
        pairs=pairs,
        pair_weights=np.asarray(rng.uniform(0.1, 5.0, pairs.shape[0]), dtype=np.float64),
    )
    _, grads = compute_energy(inputs, WEIGHTS, POLICY, with_gradients=True)
    assert grads is not None
    for _ in range(3):
        direction = rng.standard_normal((n, d))
        eps = 1e-6
        numeric = (
            total_energy(replace(inputs, h=h + eps * direction), WEIGHTS)
            - total_energy(replace(inputs, h=h - eps * direction), WEIGHTS)
        ) / (2 * eps)
        analytic = float((grads.dh * direction).sum())
        assert analytic == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("alpha", [0.5, 0.1, 3.0])
def test_dp_is_alpha_times_log_q_plus_one(alpha: float) -> None:
    """∂E/∂p = α(ln q + 1): the derivative of −α·Σ_i H(p_i) with q = p, inside the simplex."""
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.full(3, 4.0), 6)
    p = 0.9 * p + 0.1 / 3  # strictly inside, far from the clip
    weights = EnergyWeights(alpha=alpha)
    inputs = EnergyInputs(h=rng.standard_normal((6, 2)), p=p)
    terms, grads = compute_energy(inputs, weights, POLICY, with_gradients=True)
    assert grads is not None

    def unnormalised(probs: np.ndarray) -> float:
        return -alpha * float((-(probs * np.log(probs))).sum())

    assert terms.entropy == pytest.approx(unnormalised(p), rel=1e-12)
    eps = 1e-7
    for a in range(6):
        for k in range(3):
            up, down = p.copy(), p.copy()
            up[a, k] += eps
            down[a, k] -= eps
            numeric = (unnormalised(up) - unnormalised(down)) / (2 * eps)
            assert grads.dp[a, k] == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    np.testing.assert_allclose(grads.dp, alpha * (np.log(p) + 1.0), rtol=1e-12)


def test_dh_is_the_reg_gradient_alone_without_pairs() -> None:
    h = np.array([[0.3, -0.4], [1.0, 2.0]])
    _, grads = compute_energy(
        EnergyInputs(h=h, p=np.full((2, 3), 1 / 3)), WEIGHTS, POLICY, with_gradients=True
    )
    assert grads is not None
    np.testing.assert_allclose(grads.dh, 2 * 0.01 * h)


# --- cosine, weights, hyper --------------------------------------------------------------------


def test_cosine_is_zero_when_a_norm_is_zero() -> None:
    h = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    inputs = EnergyInputs(
        h=h,
        p=np.full((3, 3), 1 / 3),
        pairs=np.array([(0, 1), (0, 2)], dtype=np.int64),
        pair_weights=np.array([5.0, 5.0]),
    )
    terms, grads = compute_energy(inputs, WEIGHTS, POLICY, with_gradients=True)
    assert terms.pair == 0.0
    assert grads is not None
    assert np.all(np.isfinite(grads.dh))
    both = replace(inputs, pairs=np.array([(0, 1), (1, 2)]), pair_weights=np.array([5.0, 2.0]))
    assert compute_energy(both, WEIGHTS, POLICY)[0].pair == pytest.approx(-2.0)


def test_pair_term_is_minus_weight_times_cosine() -> None:
    h = np.array([[1.0, 0.0], [1.0, 1.0], [-3.0, 0.0]])
    inputs = EnergyInputs(
        h=h,
        p=np.full((3, 3), 1 / 3),
        pairs=np.array([(0, 1), (2, 0)], dtype=np.int64),
        pair_weights=np.array([2.0, 0.5]),
    )
    terms, _ = compute_energy(inputs, EnergyWeights(w_pair=3.0), POLICY)
    assert terms.pair == pytest.approx(-3.0 * (2.0 * math.sqrt(0.5) + 0.5 * -1.0))


@pytest.mark.parametrize("name", ["w_pair", "w_hyper", "alpha", "lambda_reg", "beta_mem"])
def test_weights_are_clamped_to_0_10(name: str) -> None:
    inputs = random_inputs(9)

    def energy_with(value: float) -> EnergyTerms:
        changes: dict[str, Any] = {name: value}
        return compute_energy(inputs, replace(WEIGHTS, **changes), POLICY)[0]

    at_ten, above, at_zero, below = (energy_with(v) for v in (10.0, 1e6, 0.0, -4.0))
    assert above == at_ten
    assert below == at_zero
    assert at_ten != at_zero


def test_clamped_weights() -> None:
    clamped = EnergyWeights(w_pair=11, w_hyper=-1, alpha=5, lambda_reg=10.5, beta_mem=0).clamped()
    assert (clamped.w_pair, clamped.w_hyper, clamped.alpha) == (10.0, 0.0, 5.0)
    assert (clamped.lambda_reg, clamped.beta_mem, clamped.top_patterns) == (10.0, 0.0, 64)


def hyper_of(scores: list[float], w_hyper: float = 1.0) -> float:
    inputs = EnergyInputs(h=np.zeros((0, 2)), p=np.zeros((0, 3)), pattern_scores=np.array(scores))
    return compute_energy(inputs, EnergyWeights(w_hyper=w_hyper), POLICY)[0].hyper


def test_hyper_term_normalises_by_the_best_score() -> None:
    assert hyper_of([2.0, 1.0, 0.5]) == pytest.approx(-(1.0 + 0.5 + 0.25))
    assert hyper_of([0.5, 2.0, 1.0], w_hyper=2.0) == pytest.approx(-2 * 1.75)
    assert hyper_of([7.0]) == pytest.approx(-1.0)
    assert hyper_of([3.0, 3.0]) == pytest.approx(-2.0)


def test_hyper_term_keeps_the_64_highest() -> None:
    scores = [float(k) for k in range(1, 101)]
    expected = -sum(k / 100 for k in range(37, 101))
    assert hyper_of(scores) == pytest.approx(expected)
    assert hyper_of([1.0] * 500) == pytest.approx(-64.0)


def test_hyper_term_is_zero_without_patterns() -> None:
    assert hyper_of([]) == 0.0
    assert hyper_of([0.0, 0.0]) == 0.0


@given(st.lists(st.floats(0.0, 1e6), max_size=200))
@settings(max_examples=100, deadline=None)
def test_hyper_term_is_between_minus_64_and_0(scores: list[float]) -> None:
    value = hyper_of(scores)
    assert -64.0 - 1e-9 <= value <= 0.0
    if any(s > 0 for s in scores):
        assert value <= -1.0 + 1e-12  # the best pattern always counts 1


# --- attribution -------------------------------------------------------------------------------


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 20), patterns=st.integers(0, 90))
@settings(max_examples=60, deadline=None)
def test_attribution_sums_to_the_total(seed: int, n: int, patterns: int) -> None:
    inputs = random_inputs(seed, n=n, patterns=patterns)
    rng = np.random.default_rng(seed)
    organs = [f"organ-{k}" for k in range(5)]
    pattern_organs = [
        sorted(rng.choice(organs, int(rng.integers(2, 5)), replace=False).tolist())
        for _ in range(patterns)
    ]
    ids = [f"agent-{k}" for k in range(n)]
    terms, _ = compute_energy(inputs, WEIGHTS, POLICY)
    per_agent, per_organ = attribute(inputs, ids, pattern_organs, WEIGHTS, POLICY)
    assert set(per_agent) == set(ids)
    assert math.fsum(per_agent.values()) == pytest.approx(terms.total - terms.hyper, abs=1e-9)
    assert math.fsum(per_organ.values()) == pytest.approx(terms.hyper, abs=1e-9)


def test_attribution_of_one_agent_term_by_term() -> None:
    h = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 2.0]])
    p = np.array([[0.2, 0.5, 0.3], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    inputs = EnergyInputs(
        h=h,
        p=p,
        pairs=np.array([(0, 1), (1, 2)], dtype=np.int64),
        pair_weights=np.array([2.0, 4.0]),
        pattern_scores=np.array([4.0, 1.0]),
        memory=MemoryCostInputs(bytes_used=500, bytes_budget=1000, recon_loss=0.5, miss_rate=1.0),
        bytes_written=np.array([0.0, 300.0, 100.0]),
    )
    per_agent, per_organ = attribute(
        inputs, ["a", "b", "c"], [["x", "y"], ["x", "y", "z"]], WEIGHTS, POLICY
    )
    mem = 0.2 * (0.4 * 0.5 + 0.4 * 0.5 + 0.2 * 1.0)
    expected_b = (
        0.5 * -(2.0 * 0.6)
        + 0.5 * -(4.0 * 0.8)
        - 0.5 * math.log(3)
        + 0.01 * 1.0
        + mem * 300 / 400
    )
    assert per_agent["b"] == pytest.approx(expected_b, rel=1e-12)
    expected_a = 0.5 * -(2.0 * 0.6) - 0.5 * spec_entropy(p[0]) + 0.01 * 1.0 + 0.0
    assert per_agent["a"] == pytest.approx(expected_a, rel=1e-12)
    assert per_organ == pytest.approx({"x": -0.5 - 0.25 / 3, "y": -0.5 - 0.25 / 3, "z": -0.25 / 3})


def test_attribution_splits_memory_evenly_when_nobody_wrote() -> None:
    inputs = replace(random_inputs(1, n=4), bytes_written=None)
    no_mem = replace(inputs, memory=MemoryCostInputs())
    with_mem, _ = attribute(inputs, list("abcd"), [["x", "y"]] * 10, WEIGHTS, POLICY)
    without, _ = attribute(no_mem, list("abcd"), [["x", "y"]] * 10, WEIGHTS, POLICY)
    shares = {k: with_mem[k] - without[k] for k in "abcd"}
    mem = compute_energy(inputs, WEIGHTS, POLICY)[0].mem
    assert shares == pytest.approx(dict.fromkeys("abcd", mem / 4))


def test_attribution_refuses_misaligned_ids() -> None:
    inputs = random_inputs(0, n=3, patterns=2)
    with pytest.raises(ValueError, match="agent_ids"):
        attribute(inputs, ["a", "b"], [["x", "y"]] * 2, WEIGHTS, POLICY)
    with pytest.raises(ValueError, match="pattern_organs"):
        attribute(inputs, ["a", "b", "c"], [["x", "y"]], WEIGHTS, POLICY)


def test_organ_totals_sum_agents_by_organ() -> None:
    totals = organ_totals({"a": 1.0, "b": -2.5, "c": 4.0}, {"a": "x", "b": "x", "c": "y"})
    assert totals == {"x": -1.5, "y": 4.0}


# --- memory cost -------------------------------------------------------------------------------


def test_memory_cost_formula() -> None:
    cost = memory_cost(MemoryCostInputs(250, 1000, 0.5, 0.1), POLICY)
    assert cost == pytest.approx(0.4 * 0.25 + 0.4 * 0.5 + 0.2 * 0.1)


def test_memory_cost_clamps_every_figure() -> None:
    assert memory_cost(MemoryCostInputs(5000, 1000, 3.0, 2.0), POLICY) == pytest.approx(1.0)
    assert memory_cost(MemoryCostInputs(-5, 1000, -1.0, -0.5), POLICY) == 0.0
    assert memory_cost(MemoryCostInputs(1000, 1000, 0.0, 0.0), POLICY) == pytest.approx(0.4)


def test_memory_cost_needs_a_positive_budget() -> None:
    with pytest.raises(ValueError, match="bytes_budget"):
        memory_cost(MemoryCostInputs(1, 0, 0, 0), POLICY)


@given(
    st.floats(-1e12, 1e12), st.floats(1e-3, 1e12), st.floats(-10, 10), st.floats(-10, 10)
)
@settings(max_examples=100, deadline=None)
def test_memory_cost_stays_in_0_1(used: float, budget: float, recon: float, miss: float) -> None:
    assert 0.0 <= memory_cost(MemoryCostInputs(used, budget, recon, miss), POLICY) <= 1.0


def test_memory_term_is_beta_times_cost() -> None:
    memory = MemoryCostInputs(600, 1000, 0.2, 0.5)
    inputs = replace(EnergyInputs.empty(3), memory=memory)
    terms, _ = compute_energy(inputs, EnergyWeights(beta_mem=0.7), POLICY)
    assert terms.mem == pytest.approx(0.7 * (0.4 * 0.6 + 0.4 * 0.2 + 0.2 * 0.5))
