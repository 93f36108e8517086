"""The working-memory and consolidation-queue contract suites (tests/contract/), unchanged, run
against :mod:`adapters.ray.shared_memory`: their tests are collected here again, and the
factory fixtures they take build the Ray proxies instead, each on a host actor of its own (a
fresh namespace) whose clock is the test's, read through the bridge. Tests added to the suites
later are picked up too. Then what only the Ray host has: many processes, pickling, a lost
host."""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import ray

from adapters.memory.clock import FakeClock
from adapters.ray.shared_memory import RayConsolidationQueue, RayWorkingMemory, SharedMemoryHost
from application.errors import BackendUnavailable
from application.ports.consolidation_queue import ConsolidationQueue, PendingItem
from application.ports.working_memory import WorkingMemory
from tests.contract import conftest as contract
from tests.contract import test_consolidation_queue as queue_suite
from tests.contract import test_working_memory as memory_suite
from tests.contract.conftest import Harness, WorkingMemoryFactory
from tests.ray.bridge import Bridge, ClockFactory
from tests.ray.conftest import unique_namespace

pytestmark = pytest.mark.ray

# The suites' fixtures live in tests/contract/conftest.py, out of this directory's reach.
clock = contract.clock
wm = contract.wm
queue = contract.queue

for _suite in (memory_suite, queue_suite):
    globals().update(
        {name: test for name, test in vars(_suite).items() if name.startswith(("Test", "test_"))}
    )


def _host(bridge: Bridge, clock: FakeClock, item_cap: int, miss_window_s: float
          ) -> SharedMemoryHost:
    return SharedMemoryHost(unique_namespace("memory"), clock_factory=ClockFactory(
        bridge.expose(clock)), item_cap=item_cap, miss_window_s=miss_window_s)


def _outage(host: SharedMemoryHost) -> Callable[[], AbstractContextManager[None]]:
    @contextmanager
    def outage() -> Iterator[None]:
        host.set_down(True)
        try:
            yield
        finally:
            host.set_down(False)

    return outage


@pytest.fixture(scope="module")
def working_memory_factory(ray_session: None, bridge: Bridge) -> WorkingMemoryFactory:
    def make(clock: FakeClock, *, item_cap: int, miss_window_s: float
             ) -> Harness[WorkingMemory]:
        host = _host(bridge, clock, item_cap, miss_window_s)
        memory: WorkingMemory = RayWorkingMemory(host)
        return Harness(memory, clock.advance, _outage(host), close=host.close)

    return make


@pytest.fixture(scope="module")
def consolidation_queue_factory(
    ray_session: None, bridge: Bridge
) -> Iterator[Callable[[FakeClock], Harness[ConsolidationQueue]]]:
    """Queues on hosts that are emptied through the port when a test ends and handed to the
    next one: starting a host process per example would make the hypothesis test take about
    a minute. The queue reads no clock, so its hosts keep the system one."""
    spare: list[SharedMemoryHost] = []

    def make(clock: FakeClock) -> Harness[ConsolidationQueue]:
        host = spare.pop() if spare else SharedMemoryHost(unique_namespace("queue"))
        queue = RayConsolidationQueue(host)
        assert queue.size() == 0, "a recycled queue must start empty"

        def close() -> None:
            queue.ack([item.item_id for item in queue.peek(queue.size())])
            if queue.size() == 0:
                spare.append(host)
            else:
                host.close()

        return Harness(queue, clock.advance, _outage(host), close=close)

    try:
        yield make
    finally:
        for host in spare:
            host.close()


# -- what is particular to the Ray host ----------------------------------------------------


@ray.remote(num_cpus=0)
def _write_elsewhere(memory: RayWorkingMemory, queue: RayConsolidationQueue) -> int:
    """In a Ray worker: one item in Mw, one in the queue; the worker's pid."""
    memory.set("global", "from-a-task", b"hello", 60.0)
    queue.enqueue(PendingItem("item-1", "content", "fact", 0.5, 1.0), 0.5)
    return os.getpid()


def test_every_process_of_the_namespace_shares_one_host(ray_session: None) -> None:
    host = SharedMemoryHost(unique_namespace("memory"))
    memory, queue = RayWorkingMemory(host), RayConsolidationQueue(host)
    try:
        memory.ping()  # created here, so owned by this process
        # A pickled proxy carries the address, not the handle.
        assert pickle.loads(pickle.dumps(memory)).host._actor is None
        pids = ray.get([_write_elsewhere.remote(memory, queue) for _ in range(4)], timeout=60)
        assert os.getpid() not in pids
        assert memory.get("global", "from-a-task") == b"hello"
        assert [item.item_id for item in queue.peek(10)] == ["item-1"]
        elsewhere = RayWorkingMemory(SharedMemoryHost(host.namespace))  # same address
        assert elsewhere.contains_many("global", ["from-a-task"]) == [True]
        names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                 if a["namespace"] == host.namespace]
        assert names == ["memory"]
    finally:
        host.close()


def test_errors_keep_their_type_and_name_their_backend(ray_session: None) -> None:
    host = SharedMemoryHost(unique_namespace("memory"))
    memory, queue = RayWorkingMemory(host), RayConsolidationQueue(host)
    try:
        with pytest.raises(ValueError, match="kappa"):
            queue.enqueue(PendingItem("x", "c", "fact", 0.5, 1.0), 2.0)
        host.set_down(True)
        with pytest.raises(BackendUnavailable) as memory_down:
            memory.ping()
        with pytest.raises(BackendUnavailable) as queue_down:
            queue.size()
        assert (memory_down.value.backend, queue_down.value.backend) == (
            "working_memory", "consolidation_queue")
    finally:
        host.close()


def test_a_lost_host_is_backend_unavailable_and_comes_back_empty(ray_session: None) -> None:
    host = SharedMemoryHost(unique_namespace("memory"))
    memory = RayWorkingMemory(host)
    try:
        for no_restart in (False, True):  # a crash (Ray restarts it), then for good
            memory.set("global", "k", b"v", 60.0)
            ray.kill(ray.get_actor(host.name, namespace=host.namespace), no_restart=no_restart)
            # The kill lands a little later; then the content is gone with the process.
            failures = _until(lambda: memory.contains_many("global", ["k"]) == [False])
            assert {f.backend for f in failures} <= {"working_memory"}
        # Only a failed call makes the proxy look the host up again, and create a new one.
        assert failures
    finally:
        host.close()


def _until(condition: Callable[[], bool], timeout_s: float = 30.0) -> list[BackendUnavailable]:
    """Wait until ``condition`` holds; the ``BackendUnavailable`` it raised until then."""
    failures: list[BackendUnavailable] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return failures
        except BackendUnavailable as failure:
            failures.append(failure)
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout_s:g} s; last failures: {failures[-1:]}")
