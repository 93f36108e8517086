"""The three scenarios with the Ray runtime: agents in organ actors, handlers run there.

Two ways of giving the actors their executor:

- ``ray_world``: the scenario functions of tests/scenarios, unchanged, on services built by
  ``build_services`` whose runtime is a :class:`RayRuntime`. Each actor builds its own
  executor with the built-in handlers and real HTTP operations (scenario 2's refused
  connection is made from the actor's process); it reaches the driver's memory service and fake
  clock through the test bridge, because the scenarios count Mlt lookups on that service and
  move that clock (the TTLs of its in-memory working memory follow it).
- ``test_a_knowledge_task_runs_in_an_actor_over_the_shared_stores``: the deployment's way,
  :func:`entrypoints.ray_runtime.ray_runtime`: the actor builds its executor over Redis working
  memory and the SQLite file, which the driver's services share; checkpoints go to Redis.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from adapters.clock import SystemClock
from adapters.memory.clock import FakeClock
from adapters.ray.checkpoints import ActorCheckpointStore
from adapters.ray.runtime import RayRuntime
from application.execution import TaskExecutor
from application.memory import FactRead
from application.services import Services
from application.tier0 import AgentSpec
from domain.config import DomainConfig
from domain.task import Task
from entrypoints.bootstrap import build_services, in_memory_adapters
from entrypoints.ray_runtime import ray_runtime
from entrypoints.settings import Settings
from tests.backends import backend_url
from tests.ray.bridge import Bridge, BridgedClock, Remote
from tests.ray.conftest import unique_namespace
from tests.scenarios import test_scenario1_knowledge_gap as scenario_1
from tests.scenarios import test_scenario2_flashbulb as scenario_2
from tests.scenarios import test_scenario3_proactive_caching as scenario_3
from tests.scenarios.world import World, scenario_config

pytestmark = pytest.mark.ray


@dataclass
class FactsSlot:
    """Forwards reads to the memory service, which exists only once the services are built
    (after the runtime factory was called)."""

    memory: Any = None

    def read_fact(self, fact_id: str, organ_ids: list[str]) -> FactRead:
        read: FactRead = self.memory.read_fact(fact_id, organ_ids)
        return read


@dataclass(frozen=True)
class ActorExecutor:
    """Built in each organ actor: the built-in handlers, real HTTP operations and a local
    embedder; facts and time from the test process."""

    facts: Remote
    clock: Remote
    config: DomainConfig
    dim: int

    def __call__(self) -> TaskExecutor:
        from adapters.embedder import HashingEmbedder
        from adapters.operations import HttpOperations
        from application.handlers import default_registry

        return TaskExecutor(default_registry(), self.facts, HttpOperations(),
                            HashingEmbedder(self.dim), BridgedClock(self.clock), self.config)


@dataclass
class Runtimes:
    built: list[RayRuntime] = field(default_factory=list)


@pytest.fixture
def ray_world(
    bridge: Bridge, checkpoints: ActorCheckpointStore
) -> Iterator[World]:
    clock = FakeClock()
    config = scenario_config()
    adapters = in_memory_adapters(clock=clock, config=config)
    slot = FactsSlot()
    runtimes = Runtimes()

    def ray_runtime(executor: TaskExecutor) -> RayRuntime:
        del executor  # the driver's: the actors build their own
        runtime = RayRuntime(
            ActorExecutor(bridge.expose(slot), bridge.expose(clock), config,
                          adapters.embedder.dim),
            config,
            namespace=unique_namespace("scenario"),
            checkpoint_store=checkpoints,
            clock_factory=_ClockFactory(bridge.expose(clock)),
        )
        runtimes.built.append(runtime)
        return runtime

    adapters.runtime = ray_runtime
    services = build_services(adapters, config)
    slot.memory = services.memory
    assert isinstance(services.runtime, RayRuntime)

    def incident_outage() -> ExitStack:
        stack = ExitStack()
        store = adapters.incidents
        store.down = True  # type: ignore[attr-defined]
        stack.callback(setattr, store, "down", False)
        return stack

    try:
        yield World(services=services, adapters=adapters, clock=clock, config=config,
                    incident_outage=incident_outage)
    finally:
        for runtime in runtimes.built:
            runtime.close()


@pytest.fixture
def refused_url() -> str:
    """A URL on loopback where nothing listens (as in tests/scenarios)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/launch"


@dataclass(frozen=True)
class _ClockFactory:
    remote: Remote

    def __call__(self) -> BridgedClock:
        return BridgedClock(self.remote)


def test_scenario_1_on_ray(ray_world: World) -> None:
    scenario_1.test_scenario_1(ray_world)


def test_scenario_2_on_ray(ray_world: World, refused_url: str) -> None:
    scenario_2.test_scenario_2(ray_world, refused_url)
    # The flashbulb agent's state lives in its actor: the heartbeat came from there.
    runtime = ray_world.services.runtime
    assert isinstance(runtime, RayRuntime)
    assert runtime.agent("Agent-Critical-Ops").salient_events_logged == 2


def test_scenario_3_on_ray(ray_world: World) -> None:
    scenario_3.test_scenario_3(ray_world)
    runtime = ray_world.services.runtime
    assert isinstance(runtime, RayRuntime)
    # 10 one-agent organs and the crowd of 20 in one organ: one actor per organ.
    assert "organ:crowd:0" in runtime.actor_names()
    assert len(runtime.heartbeats()) == 30


@pytest.mark.backends
def test_a_knowledge_task_runs_in_an_actor_over_the_shared_stores(
    tmp_path: Path, ray_session: None
) -> None:
    from adapters.redis.client import RedisClient
    from adapters.redis.working_memory import RedisWorkingMemory
    from adapters.sqlite.database import SqliteDatabase
    from adapters.sqlite.holon_graph import SqliteHolonGraph
    from adapters.sqlite.holon_store import SqliteHolonStore

    url = backend_url("SEEDCORE_REDIS_URL")
    prefix = f"raytest-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=tmp_path, redis_url=url, embedding_dim=64)
    config = scenario_config()
    # The driver's services on the same stores as the actors': Redis Mw, the SQLite file.
    adapters = in_memory_adapters(clock=SystemClock(), dim=64, config=config)
    client = RedisClient(url)
    adapters.working = RedisWorkingMemory(client, item_cap=config.memory.mw_item_cap,
                                          miss_window_s=config.memory.mw_ttl_s, prefix=prefix)
    db = SqliteDatabase(tmp_path / "seedcore.sqlite3")
    adapters.holons = SqliteHolonStore(db, 64)
    adapters.graph = SqliteHolonGraph(db)
    # The composition root's way: Ray joined (already, here), Redis checkpoints.
    adapters.runtime = lambda _executor: ray_runtime(
        settings, config, namespace=unique_namespace("shared"), key_prefix=prefix
    )
    services = build_services(adapters, config)
    try:
        _knowledge_through_the_actors(services, prefix)
    finally:
        runtime = services.runtime
        assert isinstance(runtime, RayRuntime)
        runtime.close()
        _drop_keys(url, prefix)
        client.close()
        db.close()


def _knowledge_through_the_actors(services: Services, prefix: str) -> None:
    tier0, organism, memory = services.tier0, services.organism, services.memory
    tier0.create_organ("organ-a", "cognitive")
    tier0.create_agents([AgentSpec("organ-a", "agent-B")])
    content, fact_x = scenario_1.CONTENT, scenario_1.FACT_X
    memory.remember([memory.make_holon(content, "fact", {"name": "fact_X"}, holon_id=fact_x)])
    working = memory.working

    def knowledge() -> Task:
        return Task(str(uuid.uuid4()), "knowledge", required_facts=(fact_x,),
                    agent_hint="agent-B")

    cold = organism.submit(knowledge())
    assert cold.success and cold.result["content"] == content
    assert cold.memory_events["mlt_read"] == 1
    # The actor read Mlt (the SQLite file) and cached the fact in Redis, which the driver sees;
    # the driver's own memory service looked nothing up.
    assert memory.mlt_lookups == 0
    assert working.ttl("organ:organ-a", fact_x) is not None
    hits = working.stats("organ:organ-a").hits
    warm = organism.submit(knowledge())
    assert warm.success and "mlt_read" not in warm.memory_events
    assert working.stats("organ:organ-a").hits == hits + 1
    assert tier0.heartbeat("agent-B").state.tasks_processed == 2


def _drop_keys(url: str, prefix: str) -> None:
    connection = redis.Redis.from_url(url)
    try:
        keys = list(connection.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            connection.delete(*keys)
    finally:
        connection.close()
