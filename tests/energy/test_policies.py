"""Baseline policies, and energy-aware selection against them on a small seeded workload."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from io import StringIO
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from application.baselines import (
    LeastLoadedPolicy,
    OraclePolicy,
    RandomPolicy,
    RoundRobinPolicy,
)
from application.selection_policy import EnergyAwarePolicy, SelectionContext, SelectionPolicy
from application.simulation import WorkloadSpec, generate_world
from domain.config import ConsumptionCosts, DomainConfig, SelectionWeights
from domain.selection import Candidates
from domain.task import Task
from entrypoints import bench_selection, energy_tune

IDS = ["a0", "a1", "a2", "a3", "a4", "a5"]


def context(
    eligible: Sequence[bool] = (True,) * 6,
    load: Sequence[float] = (0,) * 6,
    team_size: int = 1,
) -> SelectionContext:
    n = len(IDS)
    candidates = Candidates(
        agent_ids=IDS,
        capability=np.full(n, 0.5),
        role_fit=np.full(n, 0.5),
        consumption=np.ones(n),
        load=np.asarray(load, dtype=float),
        capacity=np.full(n, 4.0),
        soft_penalty=np.zeros(n),
        affinity=np.zeros(n),
        eligible=np.asarray(eligible, dtype=bool),
    )
    return SelectionContext(Task("t", "analysis", team_size=team_size), candidates,
                            np.eye(n), {}, 0.5, 1.0)


class Model:
    """A hidden model: agent k succeeds with p[k] and needs s[k] seconds."""

    p: ClassVar[dict[str, float]] = dict(zip(IDS, (0.5, 0.9, 0.9, 0.2, 0.8, 0.9), strict=True))
    s: ClassVar[dict[str, float]] = dict(zip(IDS, (0.1, 0.2, 0.1, 0.01, 0.3, 0.4), strict=True))

    def success_probability(self, team: Sequence[str], task: Task) -> float:
        return sum(self.p[a] for a in team) / len(team)

    def cpu_seconds(self, team: Sequence[str], task: Task) -> tuple[float, ...]:
        return tuple(self.s[a] / len(team) for a in team)


def every_policy() -> list[SelectionPolicy]:
    return [RandomPolicy(), RoundRobinPolicy(), LeastLoadedPolicy(),
            OraclePolicy(Model(), ConsumptionCosts()), EnergyAwarePolicy(SelectionWeights())]


@pytest.mark.parametrize("team_size", [1, 2, 3])
def test_every_policy_chooses_distinct_eligible_agents(team_size: int) -> None:
    eligible = (True, False, True, True, False, True)
    for policy in every_policy():
        rng = np.random.default_rng(0)
        for _ in range(30):
            choice = policy.choose(context(eligible, team_size=team_size), rng)
            assert choice is not None
            assert len(choice.agent_ids) == team_size == len(set(choice.agent_ids))
            assert all(eligible[i] and IDS[i] == a
                       for i, a in zip(choice.indices, choice.agent_ids, strict=True))


def test_every_policy_returns_none_without_enough_eligible_agents() -> None:
    eligible = (False, True, False, False, True, False)
    for policy in every_policy():
        assert policy.choose(context(eligible, team_size=3), np.random.default_rng(0)) is None
        assert policy.choose(context((False,) * 6), np.random.default_rng(0)) is None


def test_random_covers_the_eligible_agents_uniformly() -> None:
    rng = np.random.default_rng(1)
    picks = [RandomPolicy().choose(context(), rng) for _ in range(1200)]
    counts = np.bincount([c.indices[0] for c in picks if c is not None], minlength=6)
    assert counts.min() > 150


def test_round_robin_takes_turns_by_id_and_skips_the_ineligible() -> None:
    policy = RoundRobinPolicy()
    rng = np.random.default_rng(0)
    eligible = (True, True, False, True, True, True)
    order = [policy.choose(context(eligible), rng).agent_ids[0]  # type: ignore[union-attr]
             for _ in range(6)]
    assert order == ["a0", "a1", "a3", "a4", "a5", "a0"]
    team = policy.choose(context(eligible, team_size=2), rng)
    assert team is not None and team.agent_ids == ("a1", "a3")


def test_least_loaded_prefers_the_emptiest_and_breaks_ties_at_random() -> None:
    policy = LeastLoadedPolicy()
    load = (3, 1, 2, 0, 0, 4)
    eligible = (True, True, True, True, True, False)
    leads = {
        policy.choose(context(eligible, load), np.random.default_rng(seed)).agent_ids[0]  # type: ignore[union-attr]
        for seed in range(20)
    }
    assert leads == {"a3", "a4"}
    team = policy.choose(context(eligible, load, team_size=3), np.random.default_rng(0))
    assert team is not None and set(team.agent_ids) == {"a3", "a4", "a1"}


def test_the_oracle_minimises_expected_joules_per_success() -> None:
    oracle = OraclePolicy(Model(), ConsumptionCosts())
    choice = oracle.choose(context(), np.random.default_rng(0))
    # Expected joules per success, 15 W · s / p: a3 0.75 (cheap though it often fails),
    # a2 1.67, a0 3.0, a1 3.33 — and a2, the best that succeeds most, once a3 is ineligible.
    assert choice is not None and choice.agent_ids == ("a3",)
    without = oracle.choose(context((True, True, True, False, True, True)),
                            np.random.default_rng(0))
    assert without is not None and without.agent_ids == ("a2",)


# -- on a small seeded workload -------------------------------------------------------------

TINY = WorkloadSpec(tasks=1000)


@pytest.fixture(scope="module")
def tiny_runs() -> dict[str, list[tuple[float, float]]]:
    runs: dict[str, list[tuple[float, float]]] = {}
    for name in ("random", "energy-aware", "oracle"):
        for seed in (11, 12):
            report, _ = bench_selection.simulate(name, seed, TINY)
            runs.setdefault(name, []).append((report.joules_per_success, report.success_rate))
    return runs


def test_ordering_oracle_then_energy_aware_then_random(
    tiny_runs: dict[str, list[tuple[float, float]]],
) -> None:
    for k in range(2):
        oracle, energy, rand = (tiny_runs[n][k] for n in ("oracle", "energy-aware", "random"))
        assert oracle[0] <= energy[0] < rand[0]
        assert energy[1] >= rand[1]


SMALL_ORGANISM = replace(WorkloadSpec(), agents_per_organ=2)


def test_the_benchmark_is_deterministic() -> None:
    first = bench_selection.run(seeds=2, tasks=150, out=StringIO(), table_path=None,
                                spec=SMALL_ORGANISM)
    second = bench_selection.run(seeds=2, tasks=150, out=StringIO(), table_path=None,
                                 spec=SMALL_ORGANISM)
    assert first["table"] == second["table"]
    assert first["per_seed"] == second["per_seed"]
    assert set(first["summary"]) == set(bench_selection.POLICIES)
    for stats in first["summary"].values():
        for figure in stats.values():
            assert figure["low"] <= figure["mean"] <= figure["high"]


def test_the_benchmark_writes_its_table_and_a_plot_beside_it(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    table = tmp_path / "sel.md"
    printed = StringIO()
    result = bench_selection.run(seeds=2, tasks=150, out=printed, table_path=table,
                                 spec=SMALL_ORGANISM, policies=("random", "energy-aware", "oracle"))
    text = table.read_text(encoding="utf-8")
    assert result["table"] in text and result["table"] in printed.getvalue()
    assert "machine:" in text and "seedcore bench selection" in text
    assert table.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_t_interval() -> None:
    mean, low, high = bench_selection.t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert high - mean == pytest.approx(4.303 * 1.0 / np.sqrt(3), rel=1e-6)
    assert low == pytest.approx(2 * mean - high)


def test_the_tuner_writes_weights_it_can_read_back(tmp_path: Path) -> None:
    path = tmp_path / "weights.json"
    spec = replace(WorkloadSpec(), agents_per_organ=2)
    result = energy_tune.run(generations=1, population=2, tasks=120, train_seeds=(1,),
                             holdout_seeds=(2,), write=path, out=StringIO(), spec=spec)
    weights = energy_tune.load_weights(path)
    assert {name: getattr(weights, name) for name in energy_tune.TUNED} == result["tuned"]
    for name, (low, high) in energy_tune.BOUNDS.items():
        assert low <= getattr(weights, name) <= high
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["train_seeds"] == [1] and document["holdout_seeds"] == [2]
    path.write_text(json.dumps({"selection": {"bogus": 1.0}}), encoding="utf-8")
    with pytest.raises(ValueError, match="bogus"):
        energy_tune.load_weights(path)


def test_cma_es_finds_the_minimum_of_a_quadratic() -> None:
    target = np.array([0.2, 0.7, 0.4])
    strategy = energy_tune.CmaEs(np.full(3, 0.5), 0.3, 8, np.random.default_rng(0))
    for _ in range(60):
        points = strategy.ask()
        strategy.tell(points, [float(np.sum((x - target) ** 2)) for x in points])
    assert np.allclose(strategy.mean, target, atol=1e-2)


def test_unknown_policy_names_are_refused() -> None:
    world = generate_world(TINY, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown policy"):
        bench_selection.policy_for("greedy", world, DomainConfig())
