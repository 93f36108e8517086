"""The composition root: one function builds every adapter from the settings and hands them to
the services. Tests call :func:`build_services` with fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from prometheus_client import CollectorRegistry

from adapters.clock import SystemClock
from adapters.embedder import HashingEmbedder
from adapters.memory.agent_runtime import InProcessRuntime
from adapters.memory.consolidation_queue import InMemoryConsolidationQueue
from adapters.memory.holon_graph import InMemoryHolonGraph
from adapters.memory.holon_store import InMemoryHolonStore
from adapters.memory.incident_store import InMemoryIncidentStore
from adapters.memory.ledger_store import InMemoryLedgerStore
from adapters.memory.lock import InMemoryLeaseLock
from adapters.memory.metrics import NullMetrics
from adapters.memory.outcome_store import InMemoryOutcomeStore
from adapters.memory.working_memory import InMemoryWorkingMemory
from adapters.operations import HttpOperations
from adapters.prometheus.metrics import PrometheusMetrics
from adapters.timed import TimedHolonGraph, TimedHolonStore
from application.budgets import BudgetTracker
from application.energy import EnergyService
from application.execution import TaskExecutor
from application.handlers import HandlerRegistry, default_registry
from application.incidents import IncidentService
from application.memory import MemoryService
from application.organism import OrganismService
from application.population import Population
from application.ports.agent_runtime import AgentRuntime
from application.ports.clock import Clock
from application.ports.consolidation_queue import ConsolidationQueue
from application.ports.embedder import Embedder
from application.ports.holon_graph import HolonGraph
from application.ports.holon_store import HolonStore
from application.ports.incident_store import IncidentStore
from application.ports.ledger_store import LedgerStore
from application.ports.lock import LeaseLock
from application.ports.metrics import Metrics
from application.ports.operations import OperationExecutor
from application.ports.outcome_store import OutcomeStore
from application.ports.working_memory import WorkingMemory
from application.services import Services, alert_responder
from application.tier0 import Tier0Manager
from domain.config import DomainConfig, MemoryPolicy
from entrypoints.settings import Profile, RuntimeKind, Settings, SettingsError

__all__ = [
    "Adapters",
    "bootstrap",
    "build_services",
    "domain_config",
    "embedded_adapters",
    "full_adapters",
    "in_memory_adapters",
]

RuntimeFactory = Callable[[TaskExecutor], AgentRuntime]


@dataclass(slots=True)
class Adapters:
    """One implementation per port. ``runtime`` is built last, around the task executor."""

    clock: Clock
    embedder: Embedder
    working: WorkingMemory
    queue: ConsolidationQueue
    holons: HolonStore
    graph: HolonGraph
    incidents: IncidentStore
    ledger: LedgerStore
    outcomes: OutcomeStore
    lock: LeaseLock
    metrics: Metrics
    operations: OperationExecutor
    runtime: RuntimeFactory


def domain_config(settings: Settings) -> DomainConfig:
    """The domain defaults with the settings' overrides applied."""
    base = DomainConfig()
    memory: MemoryPolicy = replace(
        base.memory, mw_ttl_s=settings.mw_ttl_s, mw_item_cap=settings.mw_item_cap
    )
    config = replace(base, memory=memory)
    if settings.selection_weights:
        from entrypoints.weights import load_weights

        try:
            weights = load_weights(settings.selection_weights, config.selection)
        except (OSError, ValueError, TypeError) as error:
            raise SettingsError(f"SEEDCORE_SELECTION_WEIGHTS: {error}") from None
        config = replace(config, selection=weights)
    return config


def in_memory_adapters(
    clock: Clock | None = None,
    dim: int = 384,
    config: DomainConfig | None = None,
    metrics: Metrics | None = None,
    operations: OperationExecutor | None = None,
) -> Adapters:
    """Every port on its in-process adapter: the embedded profile's Mw, and the tests' fakes."""
    clock = clock or SystemClock()
    config = config or DomainConfig()
    return Adapters(
        clock=clock,
        embedder=HashingEmbedder(dim),
        working=InMemoryWorkingMemory(clock, item_cap=config.memory.mw_item_cap),
        queue=InMemoryConsolidationQueue(),
        holons=InMemoryHolonStore(dim),
        graph=InMemoryHolonGraph(),
        incidents=InMemoryIncidentStore(),
        ledger=InMemoryLedgerStore(),
        outcomes=InMemoryOutcomeStore(),
        lock=InMemoryLeaseLock(clock),
        metrics=metrics or NullMetrics(),
        operations=operations or HttpOperations(),
        runtime=lambda executor: InProcessRuntime(executor, clock, config),
    )


def build_services(
    adapters: Adapters,
    config: DomainConfig | None = None,
    seed: int = 0,
    handlers: HandlerRegistry | None = None,
) -> Services:
    """Wire the services around the given adapters (the one place that does it)."""
    config = config or DomainConfig()
    population = Population()
    budgets = BudgetTracker(config.budgets, adapters.metrics)
    holons = TimedHolonStore(adapters.holons, adapters.metrics, adapters.clock)
    graph = TimedHolonGraph(adapters.graph, adapters.metrics, adapters.clock)
    memory = MemoryService(
        adapters.working, holons, graph, adapters.queue, adapters.embedder,
        adapters.clock, adapters.metrics, config.memory,
    )
    registry = handlers or default_registry()
    executor = TaskExecutor(
        registry, memory, adapters.operations, adapters.embedder, adapters.clock, config
    )
    runtime = adapters.runtime(executor)
    tier0 = Tier0Manager(population, runtime, budgets, adapters.embedder, adapters.clock, config)
    incidents = IncidentService(adapters.incidents, adapters.clock, adapters.metrics,
                                config.salience)
    organism = OrganismService(
        tier0, runtime, registry, memory, incidents, budgets, adapters.outcomes,
        adapters.embedder, adapters.clock, adapters.metrics, config,
        np.random.default_rng(seed),
    )
    energy = EnergyService(population, runtime, memory, adapters.ledger, budgets,
                           adapters.clock, adapters.metrics, config)
    services = Services(
        tier0=tier0,
        organism=organism,
        memory=memory,
        incidents=incidents,
        energy=energy,
        budgets=budgets,
        runtime=runtime,
        clock=adapters.clock,
        metrics=adapters.metrics,
        config=config,
        lock=adapters.lock,
    )
    services.alerts = alert_responder(services)
    return services


def embedded_adapters(settings: Settings, config: DomainConfig) -> Adapters:
    """No external service: Mlt (vectors and graph), Mfb and the ledger persist in one SQLite
    file under the data directory; working memory and the runtime are in-process."""
    from adapters.sqlite.database import SqliteDatabase
    from adapters.sqlite.holon_graph import SqliteHolonGraph
    from adapters.sqlite.holon_store import SqliteHolonStore
    from adapters.sqlite.incident_store import SqliteIncidentStore
    from adapters.sqlite.ledger_store import SqliteLedgerStore

    adapters = in_memory_adapters(dim=settings.embedding_dim, config=config)
    db = SqliteDatabase(settings.data_dir / "seedcore.sqlite3")
    adapters.holons = SqliteHolonStore(db, settings.embedding_dim)
    adapters.graph = SqliteHolonGraph(db)
    adapters.incidents = SqliteIncidentStore(db)
    adapters.ledger = SqliteLedgerStore(db)
    return adapters


def full_adapters(settings: Settings, config: DomainConfig) -> Adapters:
    """The real backends: Redis (Mw, queue, leases, outcomes), PostgreSQL + pgvector (holon
    vectors, ledger), Neo4j over Bolt (holon graph), MySQL (incidents). Schemas are migrated
    (idempotently) here, so a fresh database is ready after the first start."""
    from adapters.mysql.incident_store import MySqlIncidentStore
    from adapters.neo4j.driver import make_driver
    from adapters.neo4j.holon_graph import Neo4jHolonGraph
    from adapters.postgres.holon_store import PostgresHolonStore
    from adapters.postgres.ledger_store import PostgresLedgerStore
    from adapters.postgres.migrations import migrate
    from adapters.postgres.pool import PostgresPool
    from adapters.redis.client import RedisClient
    from adapters.redis.consolidation_queue import RedisConsolidationQueue
    from adapters.redis.lock import RedisLeaseLock
    from adapters.redis.outcome_store import RedisOutcomeStore
    from adapters.redis.working_memory import RedisWorkingMemory

    adapters = in_memory_adapters(dim=settings.embedding_dim, config=config)
    redis = RedisClient(settings.redis_url)
    adapters.working = RedisWorkingMemory(redis, item_cap=settings.mw_item_cap,
                                          miss_window_s=config.memory.mw_ttl_s)
    adapters.queue = RedisConsolidationQueue(redis)
    adapters.lock = RedisLeaseLock(redis)
    adapters.outcomes = RedisOutcomeStore(redis)
    pool = PostgresPool(settings.postgres_dsn)
    migrate(pool, settings.embedding_dim)
    adapters.holons = PostgresHolonStore(pool, settings.embedding_dim)
    adapters.ledger = PostgresLedgerStore(pool)
    dialect: Literal["neo4j", "falkordb"] = (
        "falkordb" if settings.neo4j_dialect == "falkordb" else "neo4j")
    graph = Neo4jHolonGraph(
        make_driver(settings.neo4j_url, settings.neo4j_user, settings.neo4j_password), dialect)
    graph.ensure_schema()
    adapters.graph = graph
    adapters.incidents = MySqlIncidentStore(settings.mysql_url)
    return adapters


def bootstrap(settings: Settings, registry: CollectorRegistry | None = None) -> Services:
    """Build the services the settings ask for: the embedded profile and the Ray runtime by
    default (``SEEDCORE_RUNTIME=inprocess`` keeps agents in this process). With a Prometheus
    ``registry``, events are counted into it. Call ``services.close()`` when done: it leaves
    Ray (removing the actors of a private one)."""
    config = domain_config(settings)
    if settings.profile is Profile.FULL:
        adapters = full_adapters(settings, config)
    else:
        adapters = embedded_adapters(settings, config)
    if registry is not None:
        adapters.metrics = PrometheusMetrics(registry)
    if settings.runtime is not RuntimeKind.RAY:
        return build_services(adapters, config, seed=settings.seed)
    from entrypoints.ray_runtime import use_ray

    wiring = use_ray(settings, config)
    adapters.runtime = wiring.runtime
    if wiring.working is not None and wiring.queue is not None:
        adapters.working, adapters.queue = wiring.working, wiring.queue
    try:
        services = build_services(adapters, config, seed=settings.seed)
    except BaseException:
        wiring.stop()
        raise
    wiring.bind(services)
    services.on_close.append(wiring.stop)
    return services
