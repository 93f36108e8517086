"""Wiring of the Ray runtime: joining Ray, and what an organ actor builds its executor from.

An organ actor runs the handlers in its own process, so its :class:`TaskExecutor` cannot use
the driver's in-process stores. :func:`make_executor_factory` returns a picklable factory that
builds, *inside the actor*, an executor over the stores every process shares:

- working memory (Mw) and the consolidation queue in Redis (``SEEDCORE_REDIS_URL``), whatever
  the profile: the embedded profile's in-process Mw is invisible to other processes, so a
  Ray deployment needs Redis even when it is otherwise embedded;
- long-term memory (Mlt): the SQLite file under ``SEEDCORE_DATA_DIR`` (embedded profile, WAL
  lets other processes read it) or PostgreSQL + the Bolt graph (full profile).

The driver's services must be wired to the same stores (same URLs and key prefix), or the
actors and the API would not see each other's memory. Memory metrics counted inside an actor
(``memory_access``) stay in that actor; the task metrics are counted by the driver.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from application.execution import TaskExecutor
from application.handlers import HandlerRegistry, default_registry
from domain.config import DomainConfig
from entrypoints.settings import Profile, Settings

if TYPE_CHECKING:  # importing Ray takes a second: only when a Ray runtime is built
    from adapters.ray.runtime import RayRuntime

__all__ = ["SharedStoresExecutor", "connect", "make_executor_factory", "ray_runtime"]


def connect(address: str = "", namespace: str = "seedcore", num_cpus: int | None = None) -> None:
    """Join the Ray cluster at ``address`` (``SEEDCORE_RAY_ADDRESS``, e.g. ``auto`` or
    ``ray://head:10001``), or start a private one on 127.0.0.1 when it is empty. Does nothing
    if this process is already connected."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, namespace=namespace, log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                 namespace=namespace, log_to_driver=False)


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

    def __call__(self) -> TaskExecutor:
        from adapters.clock import SystemClock
        from adapters.embedder import HashingEmbedder
        from adapters.memory.metrics import NullMetrics
        from adapters.operations import HttpOperations
        from adapters.redis.client import RedisClient
        from adapters.redis.consolidation_queue import RedisConsolidationQueue
        from adapters.redis.working_memory import RedisWorkingMemory
        from application.memory import MemoryService
        from application.ports.holon_graph import HolonGraph
        from application.ports.holon_store import HolonStore

        settings, config = self.settings, self.config
        clock = SystemClock()
        embedder = HashingEmbedder(settings.embedding_dim)
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
) -> SharedStoresExecutor:
    """The organ actors' executor factory for these settings (``config`` defaults to the
    domain's defaults; pass the composition root's own, and its handler registry factory)."""
    return SharedStoresExecutor(settings, config or DomainConfig(), key_prefix, handlers)


def ray_runtime(
    settings: Settings,
    config: DomainConfig,
    *,
    namespace: str = "seedcore",
    detached: bool | None = None,
    key_prefix: str = "seedcore",
    agents_per_actor: int = 1000,
    handlers: Callable[[], HandlerRegistry] = default_registry,
) -> RayRuntime:
    """A :class:`adapters.ray.runtime.RayRuntime` for these settings, Ray joined first: actors
    build their executors with :func:`make_executor_factory`, checkpoints go to Redis. When
    joining a cluster (``ray_address`` set) actors are detached by default, so that the API
    and the workers share them whichever process started first."""
    from adapters.ray.checkpoints import RedisCheckpointStore
    from adapters.ray.runtime import RayRuntime

    connect(settings.ray_address, namespace)
    return RayRuntime(
        make_executor_factory(settings, config, key_prefix, handlers),
        config,
        namespace=namespace,
        agents_per_actor=agents_per_actor,
        detached=bool(settings.ray_address) if detached is None else detached,
        checkpoint_store=RedisCheckpointStore(settings.redis_url, key_prefix),
    )
