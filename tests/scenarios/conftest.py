"""Fixtures for the scenarios: services wired by the composition root around the in-memory
adapters on a fake clock. The real-backend worlds join the ``world`` parametrisation."""

from __future__ import annotations

import socket

import pytest

from adapters.memory.clock import FakeClock
from entrypoints.bootstrap import build_services, in_memory_adapters
from tests.scenarios.world import World, scenario_config


@pytest.fixture(params=["memory"])
def world(request: pytest.FixtureRequest) -> World:
    clock = FakeClock()
    config = scenario_config()
    adapters = in_memory_adapters(clock=clock, config=config)
    return World(build_services(adapters, config), adapters, clock, config)


@pytest.fixture
def refused_url() -> str:
    """A URL on loopback where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/launch"
