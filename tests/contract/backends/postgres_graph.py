"""Real-backend factories: PostgreSQL + pgvector (holon store, ledger) and a Bolt graph server.

Isolation on shared servers: every PostgreSQL harness migrates its own schema (dropped by
``close``); every graph harness uses its own node label (its nodes and index removed by
``close``). Each harness reaches its server through a :class:`TcpProxy`, so ``outage`` cuts
that harness's connections and refuses new ones without stopping a server other tests use.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from adapters.neo4j.driver import make_driver
from adapters.neo4j.holon_graph import Neo4jHolonGraph
from adapters.postgres.holon_store import PostgresHolonStore
from adapters.postgres.ledger_store import PostgresLedgerStore
from adapters.postgres.migrations import migrate
from adapters.postgres.pool import PostgresPool
from application.errors import BackendUnavailable
from tests.backends import backend_url

if TYPE_CHECKING:
    from adapters.memory.clock import FakeClock
    from application.ports.holon_graph import HolonGraph
    from application.ports.holon_store import HolonStore
    from application.ports.ledger_store import LedgerStore
    from tests.contract.conftest import Harness

__all__ = [
    "HOLON_GRAPH",
    "HOLON_STORE",
    "LEDGER_STORE",
    "TcpProxy",
    "make_bolt_holon_graph",
    "make_postgres_holon_store",
    "make_postgres_ledger_store",
]

#: Seconds a harness waits, after an outage, for its backend to answer through the adapter.
RECOVERY_S = 15.0
#: The ledger suite does not use vectors, but the migrations create every table.
_UNUSED_DIM = 8


class TcpProxy:
    """Forwards a local port to ``target``. :meth:`outage` cuts every forwarded connection and
    refuses new ones for the duration of the block (they are accepted, then closed)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._down = False
        self._closed = False
        threading.Thread(target=self._accept, name=f"proxy-{self.port}", daemon=True).start()

    @contextmanager
    def outage(self, answers: Callable[[], None]) -> Iterator[None]:
        """The backend is unreachable inside the block; after it, wait until ``answers``
        (e.g. the adapter's ``ping``) stops raising ``BackendUnavailable``."""
        self._down = True
        self._drop_all()
        try:
            yield
        finally:
            self._down = False
            deadline = time.monotonic() + RECOVERY_S
            while True:
                try:
                    answers()
                    break
                except BackendUnavailable:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self._drop_all()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=2.0)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source)
            self._drop(sink)

    def _drop_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


# -- PostgreSQL --------------------------------------------------------------------------


def _postgres(dim: int) -> tuple[PostgresPool, TcpProxy, Callable[[], None]]:
    """A pool pinned to a fresh, migrated schema behind a proxy, and how to drop it all."""
    dsn = backend_url("SEEDCORE_POSTGRES_DSN")
    params = conninfo_to_dict(dsn)
    proxy = TcpProxy(str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432))
    schema = f"contract_{uuid.uuid4().hex[:16]}"
    pool = PostgresPool(
        make_conninfo(dsn, host="127.0.0.1", port=proxy.port),
        schema=schema,
        max_size=2,
        timeout=1.0,
        reconnect_timeout=1.0,
        name=schema,
    )

    def close() -> None:
        pool.close()
        proxy.close()
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    try:
        migrate(pool, dim)
    except BaseException:
        close()
        raise
    return pool, proxy, close


def make_postgres_holon_store(clock: FakeClock, *, dim: int) -> Harness[HolonStore]:
    from tests.contract.conftest import Harness

    pool, proxy, close = _postgres(dim)
    store = PostgresHolonStore(pool, dim)
    return Harness(store, time.sleep, partial(proxy.outage, store.ping), close)


def make_postgres_ledger_store(clock: FakeClock) -> Harness[LedgerStore]:
    from tests.contract.conftest import Harness

    pool, proxy, close = _postgres(_UNUSED_DIM)
    store = PostgresLedgerStore(pool)
    return Harness(store, time.sleep, partial(proxy.outage, store.ping), close)


# -- Bolt graph ----------------------------------------------------------------------------


def make_bolt_holon_graph(clock: FakeClock) -> Harness[HolonGraph]:
    from tests.contract.conftest import Harness

    url = urlsplit(backend_url("SEEDCORE_NEO4J_URL"))
    dialect: Any = backend_url("SEEDCORE_NEO4J_DIALECT")
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 7687)
    driver = make_driver(f"{url.scheme}://127.0.0.1:{proxy.port}", url.username or "",
                         url.password or "")
    graph = Neo4jHolonGraph(driver, dialect, label=f"HolonT{uuid.uuid4().hex[:16]}")

    def close() -> None:
        try:
            graph_cleanup(driver, graph)
        finally:
            driver.close()
            proxy.close()

    try:
        graph.ensure_schema()
    except BaseException:
        close()
        raise
    return Harness(graph, time.sleep, partial(proxy.outage, graph.ping), close)


def graph_cleanup(driver: Any, graph: Neo4jHolonGraph) -> None:
    """Remove the label's nodes, their edges and its uuid index or constraint."""
    label = graph.label
    with driver.session() as session:
        session.run(f"MATCH (h:{label}) DETACH DELETE h").consume()
        if graph.dialect == "neo4j":
            session.run(f"DROP CONSTRAINT {label.lower()}_uuid IF EXISTS").consume()
            return
        indexes = session.run("CALL db.indexes() YIELD label RETURN label").value()
        if label in indexes:  # FalkorDB has no DROP INDEX ... IF EXISTS
            session.run(f"DROP INDEX FOR (h:{label}) ON (h.uuid)").consume()


HOLON_STORE: list[Any] = [
    pytest.param(make_postgres_holon_store, id="postgres", marks=pytest.mark.backends)
]
LEDGER_STORE: list[Any] = [
    pytest.param(make_postgres_ledger_store, id="postgres", marks=pytest.mark.backends)
]
HOLON_GRAPH: list[Any] = [
    pytest.param(make_bolt_holon_graph, id="bolt", marks=pytest.mark.backends)
]
