"""Contract of the agent runtime port, run against every runtime in the conftest list."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest

from adapters.embedder import HashingEmbedder
from adapters.memory.clock import FakeClock
from adapters.memory.consolidation_queue import InMemoryConsolidationQueue
from adapters.memory.holon_graph import InMemoryHolonGraph
from adapters.memory.holon_store import InMemoryHolonStore
from adapters.memory.metrics import RecordingMetrics
from adapters.memory.operations import ScriptedOperations
from adapters.memory.working_memory import InMemoryWorkingMemory
from application.errors import Conflict, InvalidInput, NotFound, OperationFailed
from application.execution import Job, TaskExecutor
from application.handlers import HandlerContext, HandlerResult, default_registry
from application.memory import MemoryService
from application.ports.agent_runtime import AgentRuntime
from domain.agent import AgentState, Lesson, learn, new_agent
from domain.config import DomainConfig
from domain.task import Task
from tests.contract.conftest import AgentRuntimeFactory, Harness

DIM = 32


@dataclass
class ProbeHandler:
    """Records the load each run sees; optionally waits at a barrier so runs overlap."""

    barrier: threading.Barrier | None = None
    pause_s: float = 0.0
    seen: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def validate(self, task: Task) -> None:
        return None

    def handle(self, context: HandlerContext) -> HandlerResult:
        with self.lock:
            self.seen.append((context.agent.agent_id, context.agent.load))
        if self.barrier is not None:
            self.barrier.wait(timeout=10)
        if self.pause_s:
            time.sleep(self.pause_s)
        return HandlerResult(success=True, quality=0.8)


class BrokenHandler:
    def validate(self, task: Task) -> None:
        return None

    def handle(self, context: HandlerContext) -> HandlerResult:
        raise RuntimeError("handler bug")


@dataclass
class World:
    runtime: AgentRuntime
    clock: FakeClock
    config: DomainConfig
    memory: MemoryService
    metrics: RecordingMetrics
    operations: ScriptedOperations
    probe: ProbeHandler
    harness: Harness[AgentRuntime]

    def agent(self, agent_id: str, organ_id: str = "cognitive-1") -> AgentState:
        return new_agent(
            agent_id, organ_id, "cognitive", DIM, self.clock.now(), self.config.learning
        )


@pytest.fixture
def world(runtime_factory: AgentRuntimeFactory) -> Iterator[World]:
    clock, config = FakeClock(), DomainConfig()
    embedder = HashingEmbedder(dim=DIM)
    metrics = RecordingMetrics()
    memory = MemoryService(
        InMemoryWorkingMemory(clock),
        InMemoryHolonStore(DIM),
        InMemoryHolonGraph(),
        InMemoryConsolidationQueue(),
        embedder,
        clock,
        metrics,
        config.memory,
    )
    operations = ScriptedOperations()
    probe = ProbeHandler()
    registry = default_registry()
    registry.register("probe", probe)
    registry.register("broken", BrokenHandler())
    executor = TaskExecutor(registry, memory, operations, embedder, clock, config)
    harness = runtime_factory(executor, clock, config)
    try:
        yield World(harness.adapter, clock, config, memory, metrics, operations, probe, harness)
    finally:
        harness.close()


def job(task_type: str = "general", task_id: str = "t-1", **fields: object) -> Job:
    task = Task(task_id=task_id, task_type=task_type, **fields)  # type: ignore[arg-type]
    return Job(task=task, team=("lead",), team_organs=("cognitive-1",))


class TestHosting:
    def test_added_agents_are_hosted_as_given(self, world: World) -> None:
        a, b = world.agent("a"), world.agent("b", "actuator-1")
        world.runtime.add_agents([a, b])
        back = world.runtime.agent("b")
        assert (back.agent_id, back.organ_id, back.tasks_processed, back.load) == (
            "b",
            "actuator-1",
            0,
            0,
        )
        np.testing.assert_allclose(back.h, b.h)
        assert back.roles == b.roles

    def test_adding_is_all_or_none(self, world: World) -> None:
        world.runtime.add_agents([world.agent("a")])
        with pytest.raises(Conflict):
            world.runtime.add_agents([world.agent("new"), world.agent("a")])
        with pytest.raises(Conflict):
            world.runtime.add_agents([world.agent("x"), world.agent("x")])
        assert sorted(h.state.agent_id for h in world.runtime.heartbeats()) == ["a"]

    def test_remove_returns_the_last_state_and_forgets_the_agent(self, world: World) -> None:
        world.runtime.add_agents([world.agent("a")])
        world.runtime.execute("a", job())
        removed = world.runtime.remove_agent("a")
        assert removed.tasks_processed == 1
        with pytest.raises(NotFound):
            world.runtime.agent("a")
        world.runtime.add_agents([world.agent("a")])  # the id is free again
        assert world.runtime.agent("a").tasks_processed == 0

    def test_unknown_ids_are_not_found_everywhere(self, world: World) -> None:
        world.runtime.add_agents([world.agent("a")])
        lesson = Lesson(task_type="general", success=True, quality=1.0, joules=0.0)
        calls: list[Callable[[], object]] = [
            lambda: world.runtime.agent("ghost"),
            lambda: world.runtime.remove_agent("ghost"),
            lambda: world.runtime.execute("ghost", job()),
            lambda: world.runtime.teach("ghost", lesson),
            lambda: world.runtime.record_salient_event("ghost"),
            lambda: world.runtime.set_roles({"a": (0.2, 0.3, 0.5), "ghost": (0.2, 0.3, 0.5)}),
        ]
        for call in calls:
            with pytest.raises(NotFound) as failure:
                call()
            assert failure.value.ident == "ghost"
        assert world.runtime.agent("a").roles == world.agent("a").roles  # all or none

    def test_heartbeats_snapshot_every_agent_with_host_time_and_uptime(self, world: World) -> None:
        world.runtime.add_agents([world.agent("b"), world.agent("a")])
        world.clock.advance(7.0)
        world.runtime.execute("a", job())
        beats = {beat.state.agent_id: beat for beat in world.runtime.heartbeats()}
        assert set(beats) == {"a", "b"}
        for beat in beats.values():
            assert beat.taken_at == world.clock.now()
            assert beat.uptime_s == pytest.approx(7.0)
            assert beat.host
        assert beats["a"].state.tasks_processed == 1
        assert beats["a"].to_snapshot()["agent_id"] == "a"

    def test_hosts_account_for_every_agent_and_name_the_heartbeats_hosts(
        self, world: World
    ) -> None:
        ids = ["a", "b", "c", "d", "e"]
        placed = world.runtime.add_agents(
            [world.agent(i, f"organ-{k % 2}") for k, i in enumerate(ids)]
        )
        hosts = world.runtime.hosts()
        names = [h.name for h in hosts]
        assert names == sorted(set(names))
        assert sum(h.agents for h in hosts) == len(ids)
        assert sorted(placed) == ids and set(placed.values()) <= set(names)
        assert {beat.state.agent_id: beat.host for beat in world.runtime.heartbeats()} == placed
        for host in hosts:
            assert host.pid > 0 and host.node and host.restored >= 0 and host.checkpoints >= 0
            assert host.rss_bytes is None or host.rss_bytes > 0
        world.runtime.remove_agent("c")
        assert sum(h.agents for h in world.runtime.hosts()) == len(ids) - 1


class TestExecution:
    def test_a_job_counts_in_the_load_while_it_runs_and_is_learnt_from(self, world: World) -> None:
        world.runtime.add_agents([world.agent("a")])
        execution = world.runtime.execute("a", job("probe"))
        assert world.probe.seen == [("a", 1)]
        assert execution.state_before.load == 1
        assert execution.state_before.tasks_processed == 0
        after = execution.state_after
        assert (after.tasks_processed, after.tasks_succeeded, after.load) == (1, 1, 0)
        assert after.last_task_at == world.clock.now()
        assert after.capability == pytest.approx(0.9 * 0.5 + 0.1 * (0.6 + 0.4 * 0.8))
        stored = world.runtime.agent("a")
        assert (stored.tasks_processed, stored.load, stored.capability) == (
            1,
            0,
            after.capability,
        )
        np.testing.assert_allclose(stored.h, after.h)

    def test_a_failing_handler_leaves_the_load_as_it_was(self, world: World) -> None:
        world.runtime.add_agents([world.agent("a")])
        with pytest.raises(RuntimeError, match="handler bug"):
            world.runtime.execute("a", job("broken"))
        state = world.runtime.agent("a")
        assert (state.load, state.tasks_processed) == (0, 0)

    def test_overlapping_jobs_on_one_agent_both_count_and_both_are_learnt(
        self, world: World
    ) -> None:
        world.runtime.add_agents([world.agent("a")])
        world.probe.barrier = threading.Barrier(2)  # both handlers run at the same time
        errors: list[BaseException] = []

        def run(task_id: str) -> None:
            try:
                world.runtime.execute("a", job("probe", task_id))
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)

        workers = [threading.Thread(target=run, args=(f"t-{i}",)) for i in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []
        assert sorted(load for _, load in world.probe.seen) == [1, 2]
        state = world.runtime.agent("a")
        assert (state.tasks_processed, state.tasks_succeeded, state.load) == (2, 2, 0)
        assert state.skills["probe"] == pytest.approx(0.5 + 0.1 * 0.5 + 0.1 * (1 - 0.55))

    def test_many_threads_on_a_few_agents_lose_no_update(self, world: World) -> None:
        agents = ["a0", "a1", "a2", "a3"]
        world.runtime.add_agents([world.agent(a) for a in agents])
        world.probe.pause_s = 0.0005
        threads, per_thread = 8, 40
        errors: list[BaseException] = []

        def run(index: int) -> None:
            agent_id = agents[index % len(agents)]  # two threads per agent
            try:
                for n in range(per_thread):
                    world.runtime.execute(agent_id, job("probe", f"t-{index}-{n}"))
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []
        per_agent = threads // len(agents) * per_thread
        for agent_id in agents:
            state = world.runtime.agent(agent_id)
            assert (state.tasks_processed, state.load) == (per_agent, 0)
            loads = [load for seen_id, load in world.probe.seen if seen_id == agent_id]
            assert len(loads) == per_agent
            assert set(loads) <= {1, 2}  # the job itself, plus at most the other thread's
        assert len(world.probe.seen) == threads * per_thread

    def test_a_knowledge_job_reads_through_the_memory_service(self, world: World) -> None:
        world.runtime.add_agents([world.agent("a")])
        fact = world.memory.make_holon("the capital of France is Paris", "fact")
        world.memory.remember([fact])
        execution = world.runtime.execute("a", job("knowledge", required_facts=(fact.uuid,)))
        assert execution.success is True
        assert execution.result["content"] == "the capital of France is Paris"
        assert execution.memory_events["mlt_read"] == 1
        assert world.metrics.memory_accesses[("mlt", True)] == 1
        assert world.memory.working.contains_many("organ:cognitive-1", [fact.uuid]) == [True]

    def test_a_failed_operation_is_a_failed_execution(self, world: World) -> None:
        def refuse(operation: object, timeout_s: float) -> dict[str, object]:
            raise OperationFailed("ConnectionRefused", "refused", "E_CONN_REFUSED")

        world.operations.register("refuse", refuse)
        world.runtime.add_agents([world.agent("a")])
        execution = world.runtime.execute(
            "a", job("high_stakes", risk=0.9, payload={"operation": {"name": "refuse"}})
        )
        assert execution.success is False
        assert execution.error is not None
        assert execution.error.code == "E_CONN_REFUSED"
        state = world.runtime.agent("a")
        assert (state.tasks_processed, state.tasks_succeeded, state.load) == (1, 0, 0)


class TestLessonsAndRoles:
    def test_teach_applies_the_lesson(self, world: World) -> None:
        world.runtime.add_agents([world.agent("a")])
        lesson = Lesson(task_type="analysis", success=True, quality=0.6, joules=0.25)
        before = world.runtime.agent("a")
        taught = world.runtime.teach("a", lesson)
        expected = learn(before, lesson, world.clock.now(), world.config.learning)
        for name in ("capability", "tasks_processed", "tasks_succeeded", "load"):
            assert getattr(taught, name) == getattr(expected, name)
        assert dict(taught.skills) == dict(expected.skills)
        assert dict(taught.consumption_ewma) == {"analysis": 0.25}
        assert world.runtime.agent("a").tasks_processed == 1

    def test_set_roles_replaces_them_and_clears_the_success_window(self, world: World) -> None:
        world.runtime.add_agents([world.agent("a"), world.agent("b")])
        world.runtime.execute("a", job("probe"))
        world.runtime.execute("b", job("probe"))
        assert world.runtime.agent("a").successes_since_evolution == {"probe": 1}
        world.runtime.set_roles({"a": (0.25, 0.5, 0.25)})
        a, b = world.runtime.agent("a"), world.runtime.agent("b")
        assert a.roles == (0.25, 0.5, 0.25)
        assert dict(a.successes_since_evolution) == {}
        assert a.tasks_processed == 1
        assert dict(b.successes_since_evolution) == {"probe": 1}

    @pytest.mark.parametrize("roles", [(0.5, 0.5, 0.5), (-0.1, 0.6, 0.5), (float("nan"), 0.5, 0.5)])
    def test_set_roles_refuses_vectors_off_the_simplex(
        self, world: World, roles: tuple[float, float, float]
    ) -> None:
        world.runtime.add_agents([world.agent("a"), world.agent("b")])
        with pytest.raises(InvalidInput):
            world.runtime.set_roles({"a": (0.2, 0.3, 0.5), "b": roles})
        assert world.runtime.agent("a").roles == world.agent("a").roles

    def test_record_salient_event_adds_one(self, world: World) -> None:
        world.runtime.add_agents([world.agent("a")])
        assert world.runtime.record_salient_event("a").salient_events_logged == 1
        assert world.runtime.record_salient_event("a").salient_events_logged == 2
        assert world.runtime.agent("a").salient_events_logged == 2


def test_a_job_finishing_after_its_agent_was_removed_does_not_bring_it_back(
    world: World,
) -> None:
    world.runtime.add_agents([world.agent("a")])
    world.probe.barrier = threading.Barrier(2)
    done = threading.Event()

    def run() -> None:
        world.runtime.execute("a", job("probe"))
        done.set()

    worker = threading.Thread(target=run)
    worker.start()
    removed = world.runtime.remove_agent("a") if _wait_for(world.probe) else None
    world.probe.barrier.wait(timeout=10)  # let the handler finish
    worker.join()
    assert done.is_set()
    assert removed is not None
    assert removed.load == 1
    with pytest.raises(NotFound):
        world.runtime.agent("a")


def _wait_for(probe: ProbeHandler) -> bool:
    """Until the probe has started once (so the job is in flight)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with probe.lock:
            if probe.seen:
                return True
        time.sleep(0.001)
    return False
