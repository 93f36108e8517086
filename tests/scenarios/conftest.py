"""Worlds for the scenarios: services wired by the composition root around the in-memory
adapters on a fake clock, and around the real backends (Redis, PostgreSQL + pgvector, the Bolt
graph server, MySQL), each isolated under names of its own for the test."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from adapters.memory.clock import FakeClock
from entrypoints.bootstrap import Adapters, build_services, in_memory_adapters
from tests.contract.backends import postgres_graph, redis_mysql
from tests.contract.conftest import Harness
from tests.scenarios.world import World, scenario_config


def _memory_world() -> Iterator[World]:
    clock = FakeClock()
    config = scenario_config()
    adapters = in_memory_adapters(clock=clock, config=config)

    def incident_outage() -> ExitStack:
        stack = ExitStack()
        store = adapters.incidents
        store.down = True  # type: ignore[attr-defined]
        stack.callback(setattr, store, "down", False)
        return stack

    yield World(build_services(adapters, config), adapters, clock, config, incident_outage)


def _full_world() -> Iterator[World]:
    clock = FakeClock()
    config = scenario_config()
    adapters: Adapters = in_memory_adapters(clock=clock, config=config)
    harnesses: list[Harness[object]] = []

    def use(harness: Harness[object]) -> object:
        harnesses.append(harness)
        return harness.adapter

    try:
        adapters.working = use(redis_mysql.make_redis_working_memory(  # type: ignore[assignment]
            clock, item_cap=config.memory.mw_item_cap, miss_window_s=config.memory.mw_ttl_s))
        adapters.queue = use(redis_mysql.make_redis_consolidation_queue(clock))  # type: ignore[assignment]
        adapters.lock = use(redis_mysql.make_redis_lock(clock))  # type: ignore[assignment]
        adapters.outcomes = use(redis_mysql.make_redis_outcome_store(clock))  # type: ignore[assignment]
        incidents = redis_mysql.make_mysql_incident_store(clock)
        adapters.incidents = use(incidents)  # type: ignore[assignment]
        adapters.holons = use(postgres_graph.make_postgres_holon_store(  # type: ignore[assignment]
            clock, dim=adapters.embedder.dim))
        adapters.ledger = use(postgres_graph.make_postgres_ledger_store(clock))  # type: ignore[assignment]
        adapters.graph = use(postgres_graph.make_bolt_holon_graph(clock))  # type: ignore[assignment]

        def incident_outage() -> ExitStack:
            assert incidents.outage is not None
            stack = ExitStack()
            stack.enter_context(incidents.outage())
            return stack

        def advance(seconds: float) -> None:
            # Real backends keep time on their own clocks: TTLs pass for real.
            time.sleep(seconds)
            clock.advance(seconds)

        world = World(build_services(adapters, config), adapters, clock, config,
                      incident_outage, advance)
        yield world
    finally:
        for harness in reversed(harnesses):
            harness.close()


@pytest.fixture(params=[
    pytest.param("memory"),
    pytest.param("full", marks=pytest.mark.backends),
])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    yield from (_memory_world() if request.param == "memory" else _full_world())


@pytest.fixture
def refused_url() -> str:
    """A URL on loopback where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/launch"
