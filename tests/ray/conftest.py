"""One Ray session for the whole test session (2 CPUs, no dashboard, on 127.0.0.1), the
bridge back to the test process, and the Ray runtime as the contract suite's
``runtime_factory``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import cast

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import ray

from adapters.memory.clock import FakeClock
from adapters.ray.checkpoints import ActorCheckpointStore
from adapters.ray.runtime import RayRuntime
from application.execution import TaskExecutor
from application.ports.agent_runtime import AgentRuntime
from domain.config import DomainConfig
from tests.contract.conftest import AgentRuntimeFactory, Harness
from tests.ray.bridge import Bridge, ClockFactory, Provide


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """Ray for the session: started here unless the process is already connected."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 namespace="seedcore-tests")
    try:
        yield
    finally:
        if started:
            ray.shutdown()


@pytest.fixture(scope="session")
def bridge() -> Iterator[Bridge]:
    served = Bridge()
    try:
        yield served
    finally:
        served.close()


@pytest.fixture(scope="session")
def checkpoints(ray_session: None) -> Iterator[ActorCheckpointStore]:
    """One checkpoint actor for the session (each runtime has its own namespace and keys)."""
    store = ActorCheckpointStore(namespace="seedcore-tests", name="test-checkpoints")
    try:
        yield store
    finally:
        store.close()


def unique_namespace(kind: str) -> str:
    return f"seedcore-{kind}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def runtime_factory(
    ray_session: None, bridge: Bridge, checkpoints: ActorCheckpointStore
) -> AgentRuntimeFactory:
    """The contract suite's runtime: a :class:`RayRuntime` in a namespace of its own whose
    actors run the test's executor and read the test's clock through the bridge."""

    def make(executor: TaskExecutor, clock: FakeClock, config: DomainConfig
             ) -> Harness[AgentRuntime]:
        runtime = RayRuntime(
            Provide(bridge.expose(executor)),
            config,
            namespace=unique_namespace("contract"),
            agents_per_actor=2,  # so that a few agents already span several actors
            checkpoint_store=checkpoints,
            clock_factory=ClockFactory(bridge.expose(clock)),
            max_concurrency=16,
        )
        return Harness(cast(AgentRuntime, runtime), clock.advance, close=runtime.close)

    return make
