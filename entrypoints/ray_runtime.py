"""Wiring of the Ray runtime: joining Ray, and what an organ actor builds its executor from.

An organ actor runs the handlers in its own process, so its :class:`TaskExecutor` cannot use
the driver's in-process stores. :func:`make_executor_factory` returns a picklable factory that
builds, *inside the actor*, an executor over the stores every process shares:

- working memory (Mw) and the consolidation queue: in the full profile Redis
  (``SEEDCORE_REDIS_URL``); in the embedded profile one shared-memory actor of the namespace
  (:mod:`adapters.ray.shared_memory`), since the in-process Mw is invisible to other processes;
- long-term memory (Mlt): the SQLite file under ``SEEDCORE_DATA_DIR`` (embedded profile, WAL
  lets other processes read it) or PostgreSQL + the Bolt graph (full profile).

:func:`use_ray` wires the driver's adapters to the same stores, or the actors and the API would
not see each other's memory. Memory metrics counted inside an actor (``memory_access``) stay in
that actor; the task metrics are counted by the driver, and the Mw hit and miss figures are
read from the shared store itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import structlog

from application.errors import BackendUnavailable
from application.execution import Execution, TaskExecutor
from application.handlers import HandlerRegistry, default_registry
from domain.config import DomainConfig
from entrypoints.settings import Profile, Settings

log = structlog.get_logger("seedcore.ray")

if TYPE_CHECKING:  # importing Ray takes a second: only when a Ray runtime is built
    from adapters.ray.runtime import RayRuntime
    from adapters.ray.shared_memory import SharedMemoryHost
    from application.ports.consolidation_queue import ConsolidationQueue
    from application.ports.working_memory import WorkingMemory
    from application.services import Services

__all__ = [
    "RayWiring",
    "SharedStoresExecutor",
    "cluster_address",
    "connect",
    "make_executor_factory",
    "ray_runtime",
    "use_ray",
]


def cluster_address(settings: Settings) -> str:
    """The cluster to join: ``SEEDCORE_RAY_ADDRESS``, else Ray's own ``RAY_ADDRESS``, else
    none (a private Ray for this process)."""
    return settings.ray_address or os.environ.get("RAY_ADDRESS", "")


def connect(address: str = "", namespace: str = "seedcore", num_cpus: int | None = None) -> bool:
    """Join the Ray cluster at ``address`` (e.g. ``auto``, ``10.0.0.5:6379`` or
    ``ray://head:10001``), or start a private one on 127.0.0.1 when it is empty. Returns
    whether this call started or joined Ray (False: the process was already connected)."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    if ray.is_initialized():
        return False
    try:
        if address:
            ray.init(address=address, namespace=namespace, log_to_driver=False)
        else:
            # A private Ray must not pick up RAY_ADDRESS behind our back (address=None would).
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1,
                     include_dashboard=False, namespace=namespace, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = address or "a private Ray"
        raise BackendUnavailable("runtime", f"cannot start or join {where}: {error}") from None
    return True


@dataclass(frozen=True, slots=True)
class SharedStoresExecutor:
    """Picklable, zero-argument: builds a :class:`TaskExecutor` over the shared stores the
    settings name (see the module's docstring). Called once in each organ actor.
    ``handlers`` builds the handler registry: it must be the composition root's (a picklable
    top-level function), or the actors would not know its task types."""

    settings: Settings
    config: DomainConfig
    key_prefix: str = "seedcore"
    handlers: Callable[[], HandlerRegistry] = default_registry
    memory_host: SharedMemoryHost | None = None  # the embedded profile's shared Mw and queue

    def __call__(self) -> TaskExecutor:
        from adapters.clock import SystemClock
        from adapters.embedder import HashingEmbedder
        from adapters.memory.metrics import NullMetrics
        from adapters.operations import HttpOperations
        from application.memory import MemoryService
        from application.ports.holon_graph import HolonGraph
        from application.ports.holon_store import HolonStore

        settings, config = self.settings, self.config
        clock = SystemClock()
        embedder = HashingEmbedder(settings.embedding_dim)
        working: WorkingMemory
        queue: ConsolidationQueue
        if self.memory_host is not None:
            from adapters.ray.shared_memory import RayConsolidationQueue, RayWorkingMemory

            working = RayWorkingMemory(self.memory_host)
            queue = RayConsolidationQueue(self.memory_host)
        else:
            from adapters.redis.client import RedisClient
            from adapters.redis.consolidation_queue import RedisConsolidationQueue
            from adapters.redis.working_memory import RedisWorkingMemory

            redis = RedisClient(settings.redis_url)
            working = RedisWorkingMemory(redis, item_cap=config.memory.mw_item_cap,
                                         miss_window_s=config.memory.mw_ttl_s,
                                         prefix=self.key_prefix)
            queue = RedisConsolidationQueue(redis, prefix=self.key_prefix)
        holons: HolonStore
        graph: HolonGraph
        if settings.profile is Profile.FULL:
            from adapters.neo4j.driver import make_driver
            from adapters.neo4j.holon_graph import Neo4jHolonGraph
            from adapters.postgres.holon_store import PostgresHolonStore
            from adapters.postgres.pool import PostgresPool

            holons = PostgresHolonStore(PostgresPool(settings.postgres_dsn),
                                        settings.embedding_dim)
            dialect: Literal["neo4j", "falkordb"] = (
                "falkordb" if settings.neo4j_dialect == "falkordb" else "neo4j")
            graph = Neo4jHolonGraph(
                make_driver(settings.neo4j_url, settings.neo4j_user, settings.neo4j_password),
                dialect,
            )
        else:
            from adapters.sqlite.database import SqliteDatabase
            from adapters.sqlite.holon_graph import SqliteHolonGraph
            from adapters.sqlite.holon_store import SqliteHolonStore

            db = SqliteDatabase(settings.data_dir / "seedcore.sqlite3")
            holons = SqliteHolonStore(db, settings.embedding_dim)
            graph = SqliteHolonGraph(db)
        metrics = NullMetrics()
        memory = MemoryService(working, holons, graph, queue, embedder, clock, metrics,
                               config.memory)
        return TaskExecutor(self.handlers(), memory, HttpOperations(), embedder, clock, config)


def make_executor_factory(
    settings: Settings,
    config: DomainConfig | None = None,
    key_prefix: str = "seedcore",
    handlers: Callable[[], HandlerRegistry] = default_registry,
    memory_host: SharedMemoryHost | None = None,
) -> SharedStoresExecutor:
    """The organ actors' executor factory for these settings (``config`` defaults to the
    domain's defaults; pass the composition root's own, and its handler registry factory).
    With ``memory_host`` the actors use its Mw and queue, else Redis's."""
    return SharedStoresExecutor(settings, config or DomainConfig(), key_prefix, handlers,
                                memory_host)


def ray_runtime(
    settings: Settings,
    config: DomainConfig,
    *,
    namespace: str | None = None,
    detached: bool | None = None,
    key_prefix: str = "seedcore",
    agents_per_actor: int | None = None,
    handlers: Callable[[], HandlerRegistry] = default_registry,
    memory_host: SharedMemoryHost | None = None,
    on_execution: Callable[[Execution], None] | None = None,
) -> RayRuntime:
    """A :class:`adapters.ray.runtime.RayRuntime` for these settings, Ray joined first: actors
    build their executors with :func:`make_executor_factory`; checkpoints go to Redis (full
    profile, or whenever Mw is Redis) or to a SQLite file under the data directory (embedded
    profile with a ``memory_host``). When joining a cluster, actors are detached by default,
    so that the API and the workers share them whichever process started first."""
    from adapters.ray.checkpoints import (
        CheckpointStore,
        RedisCheckpointStore,
        SqliteCheckpointStore,
    )
    from adapters.ray.runtime import RayRuntime

    namespace = namespace or settings.ray_namespace
    address = cluster_address(settings)
    connect(address, namespace)
    store: CheckpointStore
    if settings.profile is Profile.EMBEDDED and memory_host is not None:
        store = SqliteCheckpointStore(settings.data_dir / "checkpoints.sqlite3")
    else:
        store = RedisCheckpointStore(settings.redis_url, key_prefix)
    return RayRuntime(
        make_executor_factory(settings, config, key_prefix, handlers, memory_host),
        config,
        namespace=namespace,
        agents_per_actor=agents_per_actor or settings.agents_per_actor,
        detached=bool(address) if detached is None else detached,
        checkpoint_store=store,
        on_execution=on_execution,
    )


@dataclass
class RayWiring:
    """What the composition root plugs in to run agents on Ray: the ``runtime`` factory and,
    in the embedded profile, the shared ``working`` memory and ``queue`` (None: keep the
    profile's own); ``bind`` once the services exist; ``stop`` when the process stops."""

    runtime: Callable[[TaskExecutor], RayRuntime]
    working: WorkingMemory | None
    queue: ConsolidationQueue | None
    stop: Callable[[], None]
    bind: Callable[[Services], None]


def _private_ray_alive() -> bool:
    """Whether the GCS server of the Ray this process started is still running."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        try:
            if child.name().startswith("gcs_server") and child.status() != psutil.STATUS_ZOMBIE:
                return True
        except psutil.Error:  # it ended while we looked
            continue
    return False


def use_ray(settings: Settings, config: DomainConfig) -> RayWiring:
    """Join or start Ray and say how to run agents on it (see the module's docstring).

    With a private Ray (no cluster address), everything of the namespace is this process's:
    stopping removes the organ actors, their checkpoints and the shared memory, then Ray.
    When joined to a cluster, the actors are detached and shared with the cluster's other
    processes (the API, the workers): stopping only disconnects."""
    address = cluster_address(settings)
    started = connect(address, settings.ray_namespace)
    memory_host: SharedMemoryHost | None = None
    working: WorkingMemory | None = None
    queue: ConsolidationQueue | None = None
    if settings.profile is Profile.EMBEDDED:
        from adapters.ray.shared_memory import (
            RayConsolidationQueue,
            RayWorkingMemory,
            SharedMemoryHost,
        )

        memory_host = SharedMemoryHost(
            settings.ray_namespace, "memory", item_cap=config.memory.mw_item_cap,
            miss_window_s=config.memory.mw_ttl_s, detached=bool(address),
        )
        working = RayWorkingMemory(memory_host)
        queue = RayConsolidationQueue(memory_host)
    built: list[RayRuntime] = []
    bound: list[Services] = []

    def count_reads(execution: Execution) -> None:
        if bound:  # the actors' Mlt lookups, into the driver's memory figures
            bound[0].memory.count_reads_elsewhere(execution.memory_events)

    def runtime(_driver_executor: TaskExecutor) -> RayRuntime:
        # The driver's executor is not used: each actor builds its own (see above).
        made = ray_runtime(settings, config, memory_host=memory_host, on_execution=count_reads)
        built.append(made)
        return made

    def stop() -> None:
        import ray

        # A Ctrl-C in a terminal (or `timeout`) signals the whole process group, Ray's daemons
        # included: then the actors are gone already, and asking the dead GCS to remove them
        # would block for a minute before Ray aborts the process.
        began = time.monotonic()
        removed = not address and (not started or _private_ray_alive())
        if removed:
            for made in built:
                made.close()
            if memory_host is not None:
                memory_host.close()
        cleaned = time.monotonic()
        if started:
            ray.shutdown()
        log.info("ray_left", actors_removed=removed, shut_down=started,
                 cleanup_ms=round((cleaned - began) * 1000, 1),
                 shutdown_ms=round((time.monotonic() - cleaned) * 1000, 1))

    return RayWiring(runtime, working, queue, stop, bound.append)
