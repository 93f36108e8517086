"""Real-backend adapter factories for the contract suites: Redis and MySQL (MariaDB).

Each factory builds a fresh, isolated adapter:

* Redis adapters get their own client and a random key prefix; ``close`` deletes every key
  under that prefix (SCAN + UNLINK) and closes the client's connections.
* The incident store runs in a database created once per test process
  (``seedcore_ct_<pid>_<random>``, allowed by the ``seedcore\\_%`` grant of
  ``scripts/services.sh``) and dropped when the process exits; ``close`` empties the table,
  which is much faster than a table per test.

Time is the servers' own, so ``advance`` is ``time.sleep``. ``outage`` cuts *the adapter
under test* off its server without touching the server (other tests and processes keep
using it): new connections go to a port nothing listens on, and the open ones are closed.
Stopping the real services is left to ``tests/backends/test_redis_mysql_faults.py``.
"""

from __future__ import annotations

import atexit
import functools
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pymysql
import pytest

from adapters.memory.clock import FakeClock
from adapters.mysql.incident_store import MySqlIncidentStore, parse_mysql_url
from adapters.redis.client import RedisClient
from adapters.redis.consolidation_queue import RedisConsolidationQueue
from adapters.redis.lock import RedisLeaseLock
from adapters.redis.outcome_store import RedisOutcomeStore
from adapters.redis.working_memory import RedisWorkingMemory
from application.ports.consolidation_queue import ConsolidationQueue
from application.ports.incident_store import IncidentStore
from application.ports.lock import LeaseLock
from application.ports.outcome_store import OutcomeStore
from application.ports.working_memory import WorkingMemory
from tests.backends import backend_url

if TYPE_CHECKING:
    from tests.contract.conftest import Harness

__all__ = [
    "CONSOLIDATION_QUEUE",
    "HOLON_GRAPH",
    "HOLON_STORE",
    "INCIDENT_STORE",
    "LEDGER_STORE",
    "LOCK",
    "OUTCOME_STORE",
    "WORKING_MEMORY",
    "closed_port",
    "mysql_test_database_url",
    "redis_key_prefix",
]

Outage = Callable[[], AbstractContextManager[None]]
T = TypeVar("T")


def _harness(adapter: T, outage: Outage, close: Callable[[], None]) -> Harness[T]:
    # Imported late: the conftest that defines Harness imports this module first.
    from tests.contract.conftest import Harness

    return Harness(adapter, time.sleep, outage, close)


def closed_port() -> int:
    """A local TCP port nothing listens on (connections to it are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- Redis ---------------------------------------------------------------------------------


def redis_key_prefix() -> str:
    return f"sctest-{uuid.uuid4().hex[:16]}"


def _redis_client() -> RedisClient:
    return RedisClient(backend_url("SEEDCORE_REDIS_URL"))


def _redis_outage(client: RedisClient) -> Outage:
    @contextmanager
    def outage() -> Iterator[None]:
        pool, kwargs = client.pool, client.pool.connection_kwargs
        port = kwargs["port"]
        kwargs["port"] = closed_port()  # connections made from now on: refused
        pool.disconnect()
        pool.reset()  # forget the connections to the live server
        try:
            yield
        finally:
            kwargs["port"] = port
            pool.disconnect()
            pool.reset()

    return outage


def _redis_close(client: RedisClient, prefix: str) -> Callable[[], None]:
    def close() -> None:
        try:
            batch = list(client.redis.scan_iter(match=f"{prefix}:*", count=1000))
            while batch:
                client.redis.unlink(*batch[:1000])
                batch = batch[1000:]
        finally:
            client.close()

    return close


def make_redis_working_memory(
    clock: FakeClock, *, item_cap: int, miss_window_s: float
) -> Harness[WorkingMemory]:
    client, prefix = _redis_client(), redis_key_prefix()
    adapter: WorkingMemory = RedisWorkingMemory(
        client, item_cap=item_cap, miss_window_s=miss_window_s, prefix=prefix
    )
    return _harness(adapter, _redis_outage(client), _redis_close(client, prefix))


def make_redis_consolidation_queue(clock: FakeClock) -> Harness[ConsolidationQueue]:
    client, prefix = _redis_client(), redis_key_prefix()
    adapter: ConsolidationQueue = RedisConsolidationQueue(client, prefix=prefix)
    return _harness(adapter, _redis_outage(client), _redis_close(client, prefix))


def make_redis_lock(clock: FakeClock) -> Harness[LeaseLock]:
    client, prefix = _redis_client(), redis_key_prefix()
    adapter: LeaseLock = RedisLeaseLock(client, prefix=prefix)
    return _harness(adapter, _redis_outage(client), _redis_close(client, prefix))


def make_redis_outcome_store(clock: FakeClock) -> Harness[OutcomeStore]:
    client, prefix = _redis_client(), redis_key_prefix()
    adapter: OutcomeStore = RedisOutcomeStore(client, prefix=prefix)
    return _harness(adapter, _redis_outage(client), _redis_close(client, prefix))


# -- MySQL ---------------------------------------------------------------------------------


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def _server_connection(url: str) -> pymysql.connections.Connection[Any]:
    params = parse_mysql_url(url)
    del params["database"]
    return pymysql.connect(**params, connect_timeout=2, read_timeout=10, autocommit=True)


@functools.cache
def mysql_test_database_url() -> str:
    """A database of this test process, created on first use and dropped at exit."""
    base = backend_url("SEEDCORE_MYSQL_URL")
    name = f"seedcore_ct_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = _server_connection(base)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        conn.close()

    def drop() -> None:
        with suppress(pymysql.err.Error, OSError):
            dropper = _server_connection(base)
            try:
                with dropper.cursor() as cur:
                    cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            finally:
                dropper.close()

    atexit.register(drop)
    return _with_database(base, name)


def _mysql_outage(store: MySqlIncidentStore) -> Outage:
    @contextmanager
    def outage() -> Iterator[None]:
        kwargs = store.pool.connect_kwargs
        port = kwargs["port"]
        kwargs["port"] = closed_port()
        store.pool.disconnect()
        try:
            yield
        finally:
            kwargs["port"] = port
            store.pool.disconnect()

    return outage


def _mysql_close(store: MySqlIncidentStore) -> Callable[[], None]:
    def close() -> None:
        try:
            with store.pool.connection() as conn, conn.cursor() as cur:
                cur.execute("DELETE FROM incidents")
        except pymysql.err.ProgrammingError:
            pass  # the test never reached the database: no table yet
        finally:
            store.close()

    return close


def make_mysql_incident_store(clock: FakeClock) -> Harness[IncidentStore]:
    store = MySqlIncidentStore(mysql_test_database_url())
    adapter: IncidentStore = store
    return _harness(adapter, _mysql_outage(store), _mysql_close(store))


# -- the lists the contract conftest reads -------------------------------------------------

_BACKENDS = pytest.mark.backends

WORKING_MEMORY: list[Any] = [pytest.param(make_redis_working_memory, id="redis", marks=_BACKENDS)]
CONSOLIDATION_QUEUE: list[Any] = [
    pytest.param(make_redis_consolidation_queue, id="redis", marks=_BACKENDS)
]
HOLON_STORE: list[Any] = []
HOLON_GRAPH: list[Any] = []
INCIDENT_STORE: list[Any] = [
    pytest.param(make_mysql_incident_store, id="mysql", marks=_BACKENDS)
]
LEDGER_STORE: list[Any] = []
OUTCOME_STORE: list[Any] = [pytest.param(make_redis_outcome_store, id="redis", marks=_BACKENDS)]
LOCK: list[Any] = [pytest.param(make_redis_lock, id="redis", marks=_BACKENDS)]
