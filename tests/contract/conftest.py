"""Adapter factories of the contract suites: one list per port, every suite runs on each entry.

To prove a new adapter, append a ``pytest.param(factory, id=..., marks=...)`` to its port's
list; the suites do not change. A factory receives the test's :class:`FakeClock` and returns a
:class:`Harness`: the adapter plus how to move *its* time (``clock.advance`` for an in-memory
adapter; ``time.sleep`` for a real backend whose TTLs run on the server's clock, which is why
the suites keep their TTLs within about a second) and, when it can, how to make the backend
unreachable for a while (``outage``). ``close`` runs after the test (e.g. to flush a database).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import pytest

from adapters.embedder import HashingEmbedder
from adapters.memory.agent_runtime import InProcessRuntime
from adapters.memory.clock import FakeClock
from adapters.memory.consolidation_queue import InMemoryConsolidationQueue
from adapters.memory.holon_graph import InMemoryHolonGraph
from adapters.memory.holon_store import InMemoryHolonStore
from adapters.memory.incident_store import InMemoryIncidentStore
from adapters.memory.ledger_store import InMemoryLedgerStore
from adapters.memory.lock import InMemoryLeaseLock
from adapters.memory.outcome_store import InMemoryOutcomeStore
from adapters.memory.working_memory import InMemoryWorkingMemory
from adapters.operations import HttpOperations
from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.holon_graph import SqliteHolonGraph
from adapters.sqlite.holon_store import SqliteHolonStore
from adapters.sqlite.incident_store import SqliteIncidentStore
from adapters.sqlite.ledger_store import SqliteLedgerStore
from application.execution import TaskExecutor
from application.ports.agent_runtime import AgentRuntime
from application.ports.consolidation_queue import ConsolidationQueue
from application.ports.embedder import Embedder
from application.ports.holon_graph import HolonGraph
from application.ports.holon_store import HolonStore
from application.ports.incident_store import IncidentStore
from application.ports.ledger_store import LedgerStore
from application.ports.lock import LeaseLock
from application.ports.operations import OperationExecutor
from application.ports.outcome_store import OutcomeStore
from application.ports.working_memory import WorkingMemory
from domain.config import DomainConfig
from tests.contract.backends import postgres_graph, redis_mysql

T = TypeVar("T")

#: Dimension of the vectors in the holon-store suite (small, so cases are easy to reason about).
HOLON_DIM = 8


def _nothing() -> None:
    return None


@dataclass
class Harness(Generic[T]):
    """An adapter under test and the levers the suites need around it."""

    adapter: T
    advance: Callable[[float], None]
    outage: Callable[[], AbstractContextManager[None]] | None = None
    close: Callable[[], None] = field(default=_nothing)


def _switch_down(target: Any) -> Callable[[], AbstractContextManager[None]]:
    """An outage of an in-memory adapter: its ``down`` switch, on for the block."""

    @contextmanager
    def outage() -> Iterator[None]:
        target.down = True
        try:
            yield
        finally:
            target.down = False

    return outage


# -- factory signatures ------------------------------------------------------------------


class WorkingMemoryFactory(Protocol):
    def __call__(
        self, clock: FakeClock, *, item_cap: int, miss_window_s: float
    ) -> Harness[WorkingMemory]: ...


class HolonStoreFactory(Protocol):
    def __call__(self, clock: FakeClock, *, dim: int) -> Harness[HolonStore]: ...


class AgentRuntimeFactory(Protocol):
    def __call__(
        self, executor: TaskExecutor, clock: FakeClock, config: DomainConfig
    ) -> Harness[AgentRuntime]: ...


# -- in-memory factories -----------------------------------------------------------------


def make_inmemory_working_memory(
    clock: FakeClock, *, item_cap: int, miss_window_s: float
) -> Harness[WorkingMemory]:
    adapter = InMemoryWorkingMemory(clock, item_cap=item_cap, miss_window_s=miss_window_s)
    return Harness(adapter, clock.advance, _switch_down(adapter))


def make_inmemory_consolidation_queue(clock: FakeClock) -> Harness[ConsolidationQueue]:
    return Harness(InMemoryConsolidationQueue(), clock.advance)


def make_inmemory_holon_store(clock: FakeClock, *, dim: int) -> Harness[HolonStore]:
    adapter = InMemoryHolonStore(dim)
    return Harness(adapter, clock.advance, _switch_down(adapter))


def make_inmemory_holon_graph(clock: FakeClock) -> Harness[HolonGraph]:
    adapter = InMemoryHolonGraph()
    return Harness(adapter, clock.advance, _switch_down(adapter))


def make_inmemory_incident_store(clock: FakeClock) -> Harness[IncidentStore]:
    adapter = InMemoryIncidentStore()
    return Harness(adapter, clock.advance, _switch_down(adapter))


def make_inmemory_ledger_store(clock: FakeClock) -> Harness[LedgerStore]:
    return Harness(InMemoryLedgerStore(), clock.advance)


def make_inmemory_outcome_store(clock: FakeClock) -> Harness[OutcomeStore]:
    return Harness(InMemoryOutcomeStore(), clock.advance)


def make_inmemory_lock(clock: FakeClock) -> Harness[LeaseLock]:
    return Harness(InMemoryLeaseLock(clock), clock.advance)


def make_hashing_embedder() -> Embedder:
    return HashingEmbedder(dim=384)


def make_inprocess_runtime(
    executor: TaskExecutor, clock: FakeClock, config: DomainConfig
) -> Harness[AgentRuntime]:
    return Harness(InProcessRuntime(executor, clock, config), clock.advance)


def make_http_operations() -> Harness[OperationExecutor]:
    adapter = HttpOperations()
    return Harness(adapter, lambda _: None, close=adapter.close)


# -- SQLite factories (the embedded profile's persistence) ------------------------------


def _sqlite() -> SqliteDatabase:
    return SqliteDatabase(":memory:")


def make_sqlite_holon_store(clock: FakeClock, *, dim: int) -> Harness[HolonStore]:
    db = _sqlite()
    return Harness(SqliteHolonStore(db, dim), clock.advance, close=db.close)


def make_sqlite_holon_graph(clock: FakeClock) -> Harness[HolonGraph]:
    db = _sqlite()
    return Harness(SqliteHolonGraph(db), clock.advance, close=db.close)


def make_sqlite_incident_store(clock: FakeClock) -> Harness[IncidentStore]:
    db = _sqlite()
    return Harness(SqliteIncidentStore(db), clock.advance, close=db.close)


def make_sqlite_ledger_store(clock: FakeClock) -> Harness[LedgerStore]:
    db = _sqlite()
    return Harness(SqliteLedgerStore(db), clock.advance, close=db.close)


# -- the lists real adapters are added to ------------------------------------------------

WORKING_MEMORY_FACTORIES = [
    pytest.param(make_inmemory_working_memory, id="memory"),
    *redis_mysql.WORKING_MEMORY,
]
CONSOLIDATION_QUEUE_FACTORIES = [
    pytest.param(make_inmemory_consolidation_queue, id="memory"),
    *redis_mysql.CONSOLIDATION_QUEUE,
]
HOLON_STORE_FACTORIES = [
    pytest.param(make_inmemory_holon_store, id="memory"),
    pytest.param(make_sqlite_holon_store, id="sqlite"),
    *postgres_graph.HOLON_STORE,
]
HOLON_GRAPH_FACTORIES = [
    pytest.param(make_inmemory_holon_graph, id="memory"),
    pytest.param(make_sqlite_holon_graph, id="sqlite"),
    *postgres_graph.HOLON_GRAPH,
]
INCIDENT_STORE_FACTORIES = [
    pytest.param(make_inmemory_incident_store, id="memory"),
    pytest.param(make_sqlite_incident_store, id="sqlite"),
    *redis_mysql.INCIDENT_STORE,
]
LEDGER_STORE_FACTORIES = [
    pytest.param(make_inmemory_ledger_store, id="memory"),
    pytest.param(make_sqlite_ledger_store, id="sqlite"),
    *postgres_graph.LEDGER_STORE,
]
OUTCOME_STORE_FACTORIES = [
    pytest.param(make_inmemory_outcome_store, id="memory"),
    *redis_mysql.OUTCOME_STORE,
]
LOCK_FACTORIES = [pytest.param(make_inmemory_lock, id="memory"), *redis_mysql.LOCK]
EMBEDDER_FACTORIES = [pytest.param(make_hashing_embedder, id="hashing")]
AGENT_RUNTIME_FACTORIES = [pytest.param(make_inprocess_runtime, id="inprocess")]
HTTP_OPERATION_FACTORIES = [pytest.param(make_http_operations, id="httpx")]


# -- fixtures ----------------------------------------------------------------------------
# Factory fixtures are session-scoped (a factory is a plain function), so hypothesis tests can
# take them and build a fresh adapter per example.


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _use(harness: Harness[T]) -> Iterator[Harness[T]]:
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture(scope="session", params=WORKING_MEMORY_FACTORIES)
def working_memory_factory(request: pytest.FixtureRequest) -> WorkingMemoryFactory:
    factory: WorkingMemoryFactory = request.param
    return factory


@pytest.fixture
def wm(
    working_memory_factory: WorkingMemoryFactory, clock: FakeClock
) -> Iterator[Harness[WorkingMemory]]:
    """Working memory with a cap of 50 items per namespace and a 1 s miss window."""
    yield from _use(working_memory_factory(clock, item_cap=50, miss_window_s=1.0))


@pytest.fixture(scope="session", params=CONSOLIDATION_QUEUE_FACTORIES)
def consolidation_queue_factory(
    request: pytest.FixtureRequest,
) -> Callable[[FakeClock], Harness[ConsolidationQueue]]:
    factory: Callable[[FakeClock], Harness[ConsolidationQueue]] = request.param
    return factory


@pytest.fixture
def queue(
    consolidation_queue_factory: Callable[[FakeClock], Harness[ConsolidationQueue]],
    clock: FakeClock,
) -> Iterator[Harness[ConsolidationQueue]]:
    yield from _use(consolidation_queue_factory(clock))


@pytest.fixture(scope="session", params=HOLON_STORE_FACTORIES)
def holon_store_factory(request: pytest.FixtureRequest) -> HolonStoreFactory:
    factory: HolonStoreFactory = request.param
    return factory


@pytest.fixture
def holons(
    holon_store_factory: HolonStoreFactory, clock: FakeClock
) -> Iterator[Harness[HolonStore]]:
    yield from _use(holon_store_factory(clock, dim=HOLON_DIM))


@pytest.fixture(params=HOLON_GRAPH_FACTORIES)
def graph(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Harness[HolonGraph]]:
    yield from _use(request.param(clock))


@pytest.fixture(params=INCIDENT_STORE_FACTORIES)
def incidents(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Harness[IncidentStore]]:
    yield from _use(request.param(clock))


@pytest.fixture(params=LEDGER_STORE_FACTORIES)
def ledger(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Harness[LedgerStore]]:
    yield from _use(request.param(clock))


@pytest.fixture(params=OUTCOME_STORE_FACTORIES)
def outcomes(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Harness[OutcomeStore]]:
    yield from _use(request.param(clock))


@pytest.fixture(params=LOCK_FACTORIES)
def lease_lock(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Harness[LeaseLock]]:
    yield from _use(request.param(clock))


@pytest.fixture(scope="session", params=EMBEDDER_FACTORIES)
def embedder(request: pytest.FixtureRequest) -> Embedder:
    embedder: Embedder = request.param()
    return embedder


@pytest.fixture(scope="session", params=AGENT_RUNTIME_FACTORIES)
def runtime_factory(request: pytest.FixtureRequest) -> AgentRuntimeFactory:
    factory: AgentRuntimeFactory = request.param
    return factory


@pytest.fixture(scope="module", params=HTTP_OPERATION_FACTORIES)
def http_operations(request: pytest.FixtureRequest) -> Iterator[Harness[OperationExecutor]]:
    yield from _use(request.param())
