"""A psycopg connection pool whose failures surface as ``BackendUnavailable("postgres", ...)``."""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types import TypeInfo
from psycopg_pool import ConnectionPool

from application.errors import BackendUnavailable

__all__ = ["BACKEND", "SCHEMA_NAME", "PostgresPool"]

#: The name every ``BackendUnavailable`` of these adapters carries.
BACKEND = "postgres"
#: Schema names a pool may be pinned to (they are interpolated into ``search_path``).
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: Server setting names and values a pool may set at connection time.
_SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_.]{0,62}$")
_SETTING_VALUE = re.compile(r"^[A-Za-z0-9_.:+-]{1,64}$")

Connection = psycopg.Connection[Any]


class PostgresPool:
    """Connections to one database, optionally pinned to one schema and with server
    ``settings`` for every connection (e.g. ``{"statement_timeout": "30s"}``).

    Connections are in autocommit mode: a single statement commits by itself and every
    multi-statement unit of work is an explicit :meth:`transaction`. Each new connection
    registers pgvector's types (when the extension exists yet), so numpy vectors go in and
    ``pgvector.Vector`` comes out. A connection is checked before it is lent, so a server that
    restarted costs one failed check, not one failed call.

    Any ``psycopg.OperationalError`` (server down, connection lost, no connection within
    ``timeout`` seconds: ``PoolTimeout`` is one) becomes ``BackendUnavailable("postgres",
    reason)``; the reason never contains the DSN's password. The pool gives up reconnecting
    in the background after ``reconnect_timeout`` seconds and tries again at the next call,
    so a server that comes back is used within about that long.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        settings: Mapping[str, str] | None = None,
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout: float = 2.0,
        timeout: float = 2.0,
        reconnect_timeout: float = 2.0,
        name: str = "seedcore",
    ) -> None:
        if schema is not None and not SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema {schema!r} must match {SCHEMA_NAME.pattern}")
        server = dict(settings or {})
        for key, value in server.items():
            if not _SETTING_NAME.fullmatch(key) or not _SETTING_VALUE.fullmatch(value):
                raise ValueError(f"server setting {key}={value!r} is not allowed")
        if schema is not None:
            # The extension's types and operators live in public, so it stays on the path.
            server["search_path"] = f"{schema},public"
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.ProgrammingError:
            raise ValueError("the PostgreSQL DSN is malformed") from None
        self.schema = schema
        # Session settings applied to each live connection by ``connection(settings=...)``.
        self._sessions: weakref.WeakKeyDictionary[Connection, dict[str, str]] = (
            weakref.WeakKeyDictionary()
        )
        self._sessions_lock = threading.Lock()
        self._secrets = [str(params["password"])] if params.get("password") else []
        options: dict[str, Any] = {"connect_timeout": max(1, round(connect_timeout))}
        if server:
            options["options"] = " ".join(f"-c {key}={value}" for key, value in server.items())
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            make_conninfo(dsn, **options),
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            reconnect_timeout=reconnect_timeout,
            kwargs={"autocommit": True},
            configure=_configure,
            check=ConnectionPool.check_connection,
            name=name,
            open=True,
        )

    @contextmanager
    def connection(self, settings: Mapping[str, str] | None = None) -> Iterator[Connection]:
        """A connection for the block, given back afterwards (broken ones are replaced).

        ``settings`` are server settings the block needs for the session (``set_config(...,
        false)``); each connection remembers what it was given, so a setting costs a round
        trip only the first time a connection needs it, or when it needs another value."""
        with self.translated(), self._pool.connection() as conn:
            if settings:
                self._apply(conn, settings)
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside a transaction: committed when the block ends normally, rolled
        back when it raises."""
        with self.connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Turn connection-level failures raised in the block into ``BackendUnavailable``."""
        try:
            yield
        except psycopg.OperationalError as failure:
            raise BackendUnavailable(BACKEND, self._reason(failure)) from None

    def ping(self) -> None:
        with self.connection() as conn:
            conn.execute("SELECT 1").fetchone()

    def refresh(self) -> None:
        """Replace every idle connection, e.g. after the ``vector`` extension was created, so
        the new ones register its types."""
        self._pool.drain()

    def close(self) -> None:
        self._pool.close()

    def _apply(self, conn: Connection, settings: Mapping[str, str]) -> None:
        with self._sessions_lock:
            applied = self._sessions.setdefault(conn, {})
        # The connection is this thread's until it goes back to the pool: no lock needed.
        missing = {key: value for key, value in settings.items() if applied.get(key) != value}
        if not missing:
            return
        calls = ", ".join("set_config(%s, %s, false)" for _ in missing)
        conn.execute(f"SELECT {calls}", [item for pair in missing.items() for item in pair])
        applied.update(missing)

    def _reason(self, failure: Exception) -> str:
        reason = " ".join(str(failure).split()) or type(failure).__name__
        for secret in self._secrets:
            reason = reason.replace(secret, "***")
        return reason


def _configure(conn: Connection) -> None:
    """Register pgvector's types on a new connection. Before the first migration the extension
    may not exist yet: then the connection goes without (``PostgresPool.refresh`` after it)."""
    info = TypeInfo.fetch(conn, "vector")
    if info is not None:
        register_vector(conn)
