"""The Tier-0 manager on in-process adapters: placement, liveness, and adoption of the agents
another process of a shared runtime created."""

from __future__ import annotations

import uuid

import pytest

from adapters.memory.clock import FakeClock
from application.errors import NoEligibleAgent, NotFound
from application.ports.agent_runtime import AgentRuntime
from application.services import Services
from application.tier0 import AgentSpec
from domain.config import DomainConfig
from domain.task import Task
from entrypoints.bootstrap import build_services, in_memory_adapters

CONFIG = DomainConfig()


def _services(clock: FakeClock, runtime: AgentRuntime | None = None) -> Services:
    adapters = in_memory_adapters(clock, dim=32, config=CONFIG)
    if runtime is not None:
        adapters.runtime = lambda _executor: runtime  # a second process on the same runtime
    return build_services(adapters, CONFIG)


def _populate(services: Services, n: int = 3) -> list[str]:
    services.tier0.create_organ("organ-a", "cognitive")
    states = services.tier0.create_agents([AgentSpec("organ-a", f"a{k}") for k in range(n)])
    return [s.agent_id for s in states]


def _general() -> Task:
    return Task(str(uuid.uuid4()), "general", description="sum the figures")


def test_agents_are_placed_when_created_and_heartbeats_confirm_their_host() -> None:
    services = _services(FakeClock())
    ids = _populate(services)
    assert services.tier0.host_of("a0") == "inprocess"
    report = services.tier0.collect_heartbeats()
    assert (report.agents, report.adopted, report.stale, report.hosts) == (3, 0, 0, 1)
    assert services.tier0.placement() == {"inprocess": ids}
    assert services.tier0.heartbeat("a1").host == "inprocess"
    (host,) = services.tier0.hosts()
    assert host.name == "inprocess" and host.agents == 3 and host.pid > 0
    with pytest.raises(NotFound):
        services.tier0.host_of("nobody")


def test_deleting_an_agent_forgets_its_placement() -> None:
    services = _services(FakeClock())
    _populate(services)
    services.tier0.collect_heartbeats()
    services.tier0.delete_agent("a0")
    assert services.tier0.placement() == {"inprocess": ["a1", "a2"]}
    assert services.tier0.hosts()[0].agents == 2


def test_a_silent_agent_goes_stale_and_is_not_selected_until_it_answers_again() -> None:
    clock = FakeClock()
    services = _services(clock)
    _populate(services)
    services.tier0.collect_heartbeats()
    assert services.tier0.is_live("a0", clock.now())
    clock.advance(CONFIG.loops.heartbeat_stale_s + 1.0)
    assert not services.tier0.is_live("a0", clock.now())
    assert services.tier0.stale_agents(clock.now()) == 3
    with pytest.raises(NoEligibleAgent):
        services.organism.submit(_general())
    report = services.tier0.collect_heartbeats()
    assert report.stale == 0
    assert services.organism.submit(_general()).agent_id in {"a0", "a1", "a2"}


def test_a_second_process_adopts_the_agents_and_organs_the_first_created() -> None:
    clock = FakeClock()
    api = _services(clock)
    ids = _populate(api)
    worker = _services(clock, runtime=api.runtime)
    assert worker.tier0.agents() == []

    report = worker.tier0.collect_heartbeats()

    assert report.adopted == 3
    assert [a.agent_id for a in worker.tier0.agents()] == ids
    (organ,) = worker.tier0.organs()
    assert (organ.organ_id, organ.organ_type) == ("organ-a", "cognitive")
    assert worker.tier0.collect_heartbeats().adopted == 0
    # The adopted agents take tasks, and what they learn is what the shared runtime holds.
    outcome = worker.organism.submit(_general())
    assert outcome.agent_id in ids
    assert api.runtime.agent(outcome.agent_id).tasks_processed == 1
    api.tier0.collect_heartbeats()
    assert api.tier0.agent(outcome.agent_id).tasks_processed == 1
