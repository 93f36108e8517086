"""The workload simulator (benchmarks and tests only): seeded, hidden, and driving the real
organism (real selection, metering, memory, collaboration)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from application.errors import InvalidInput
from application.simulation import (
    TASK_TYPES,
    SimulatedWorkHandler,
    WorkloadSpec,
    generate_world,
)
from domain.ledger import Scope
from domain.task import Task
from entrypoints.bench_selection import simulate

SMALL = WorkloadSpec(tasks=400)


def test_same_seed_same_world_and_another_seed_another() -> None:
    a = generate_world(SMALL, np.random.default_rng(7))
    b = generate_world(SMALL, np.random.default_rng(7))
    c = generate_world(SMALL, np.random.default_rng(8))
    assert a.agents == b.agents
    assert a.tasks == b.tasks
    assert a.agents != c.agents
    assert [t.task for t in a.tasks] != [t.task for t in c.tasks]


def test_the_task_mix_has_every_type_teams_risk_and_zipf_facts() -> None:
    world = generate_world(replace(SMALL, tasks=3000), np.random.default_rng(1))
    tasks = [t.task for t in world.tasks]
    assert {t.task_type for t in tasks} == set(TASK_TYPES)
    sizes = Counter(t.team_size for t in tasks)
    assert set(sizes) == {1, 2, 3}
    assert 0.15 < (sizes[2] + sizes[3]) / len(tasks) < 0.25
    assert all(0.0 <= t.risk <= 1.0 for t in tasks)
    knowledge = [t for t in tasks if t.task_type == "knowledge"]
    assert all(1 <= len(t.required_facts) <= 3 for t in knowledge)
    assert all(f in world.fact_ids for t in knowledge for f in t.required_facts)
    counts = Counter(f for t in knowledge for f in t.required_facts)
    ranked = [counts[f] for f in world.fact_ids]
    # Zipf-like: the head of the fact set is read far more than the tail.
    assert ranked[0] > 5 * np.mean(ranked[-100:])
    assert sum(ranked[:20]) > sum(ranked[200:])
    arrivals = [t.arrival_s for t in world.tasks]
    assert arrivals == sorted(arrivals)


def test_the_hidden_model_is_per_type_and_specialists_are_better() -> None:
    world = generate_world(replace(SMALL, agents_per_organ=12), np.random.default_rng(2))
    cognitive = [a for a in world.agents if a.organ_id.startswith("cog")]
    actuators = [a for a in world.agents if a.organ_id.startswith("act")]
    assert np.mean([a.proficiency["analysis"] for a in cognitive]) > np.mean(
        [a.proficiency["analysis"] for a in actuators])
    assert np.mean([a.seconds["execution"] for a in actuators]) < np.mean(
        [a.seconds["execution"] for a in cognitive])
    lead, member = world.agents[0].agent_id, world.agents[1].agent_id
    task = replace(world.tasks[0].task, risk=0.0)
    assert world.success_probability([lead], task) == pytest.approx(
        world.agents[0].proficiency[task.task_type])
    # A team splits the work: its total is the members' mean.
    solo = world.cpu_seconds([lead], task)
    pair = world.cpu_seconds([lead, member], task)
    assert sum(pair) == pytest.approx((solo[0] + world.cpu_seconds([member], task)[0]) / 2)


def test_the_handler_refuses_tasks_outside_the_workload() -> None:
    world = generate_world(SMALL, np.random.default_rng(0))
    handler = SimulatedWorkHandler(world, clock=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        handler.validate(Task("not-simulated", "analysis"))


def test_a_run_drives_the_real_organism_end_to_end() -> None:
    report, simulation = simulate("energy-aware", seed=3, spec=SMALL)
    services = simulation.services
    assert len(report.records) == SMALL.tasks
    done = [r for r in report.records if not r.rejected]
    # The cost is the metered CPU time of the simulated work: 15 W per busy core, plus the
    # memory operations of knowledge tasks.
    plain = [r for r in done if r.task_type != "knowledge"]
    assert all(r.joules == pytest.approx(15.0 * r.cpu_seconds) for r in plain)
    knowledge = [r for r in done if r.task_type == "knowledge"]
    assert all(r.joules > 15.0 * r.cpu_seconds for r in knowledge)
    # Knowledge tasks read their facts through the real read path: Mlt first, then Mw hits.
    assert services.memory.mlt_lookups > 0
    assert 0.0 < report.mw_hit_rate < 1.0
    # Team tasks make the pair and hyperedge terms move.
    terms, _ = services.energy.current()
    assert terms.pair < 0.0
    assert terms.hyper < 0.0
    # Agents learnt: skills and consumption estimates per type.
    agents = services.tier0.agents()
    assert sum(a.tasks_processed for a in agents) >= len(done)
    assert any(a.consumption_ewma for a in agents)
    # The control loops ran on simulated time: snapshots and role evolution reached the ledger.
    assert services.energy.balance(Scope.CLUSTER, "cluster") is not None
    assert report.latency_p95_ms() > 0.0


def test_latency_is_wait_plus_service_on_a_single_server() -> None:
    # Far beyond capacity: tasks queue behind each other and latency exceeds service time.
    busy = replace(SMALL, tasks=300, utilisation=3.0)
    report, _ = simulate("round-robin", seed=4, spec=busy)
    done = [r for r in report.records if not r.rejected]
    assert all(r.latency_s >= r.cpu_seconds / len(r.team) - 1e-12 for r in done)
    assert any(r.latency_s > 2 * r.cpu_seconds for r in done)
