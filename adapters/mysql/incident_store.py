"""Flashbulb incidents (Mfb) in MySQL or MariaDB, through PyMySQL and a small pool.

Schema (migration 1; ``schema_migrations`` records the versions applied)::

    incidents(
        incident_id  VARCHAR(36) utf8mb4_nopad_bin  PRIMARY KEY,
        ts_epoch     DOUBLE       the timestamp as given (seconds since the epoch, UTC)
        ts           DATETIME(6)  the same instant in UTC, for people and SQL tools
        salience     DOUBLE       CHECK (0 <= salience <= 1)
        agent_id, organ_id        VARCHAR(255)
        task, error, snapshot     JSON (LONGTEXT with a JSON_VALID check on MariaDB)
    ) InnoDB, utf8mb4; indexes (ts_epoch, incident_id) and (salience)

Choices the port forced:

* **Time is a DOUBLE.** ``DATETIME(6)`` keeps microseconds, so a float timestamp would not
  read back equal, and ``start <= ts <= end`` or the ``(ts, id)`` cursor would compare rounded
  values. ``ts_epoch`` is the exact double (MariaDB parses and prints doubles losslessly), and
  every range, order and cursor uses it; ``ts`` is derived, in UTC (the session time zone is
  ``+00:00`` as well, so ``NOW()`` and ``FROM_UNIXTIME`` agree with it).
* **Ids compare as code points, spaces included.** The port orders ties by ``incident_id``
  like Python does. The server's default collation is case-insensitive and pads with spaces
  (``'a' = 'A' = 'a '``), so the id column uses ``utf8mb4_nopad_bin``. It is a
  ``VARCHAR(36)`` (a UUID's length) rather than ``CHAR(36)``, because ``CHAR`` strips trailing
  spaces. A longer id is refused with ``ValueError`` before any I/O.
* **JSON must be JSON.** Payloads are written with ``json.dumps(allow_nan=False)``: a NaN or an
  infinity in the task, error or snapshot raises ``ValueError`` instead of storing text that
  the column's JSON_VALID check refuses. Doubles inside the JSON round-trip exactly (MariaDB
  keeps the text; MySQL 8's binary JSON also stores doubles).

Failures: a connection that cannot be opened or breaks mid-call raises
``BackendUnavailable("incident_store", ...)`` (the reason never contains the password). An
append is one ``INSERT`` between ``BEGIN`` and ``COMMIT``: if anything fails before the commit,
InnoDB rolls the row back, so no partial row can exist. The one ambiguous case is a connection
lost *during* ``COMMIT``: the row may then be stored although the caller got the error.

Durable settings for production, and why:

* ``innodb_flush_log_at_trx_commit = 1``: the redo log is written and fsynced at every commit,
  so an acknowledged incident survives a crash of the server or of the machine (0 or 2 may
  lose about a second of commits).
* ``sync_binlog = 1``: the binary log is fsynced at every commit too; replicas and
  point-in-time recovery then never miss a transaction the primary acknowledged.
* ``binlog_format = ROW``: replicas apply exactly the rows written, not re-executed
  statements, so ``UTC_TIMESTAMP(6)`` and the like cannot diverge on a replica.
* ``innodb_doublewrite = ON``: pages are written twice, so a torn page (power cut halfway
  through a 16 KiB page write) can be repaired on recovery instead of corrupting the table.

The connection pool opens at most ``pool_size`` connections, checks an idle one with a
``COM_PING`` before lending it (a server restart then costs no failed call), and drops any
connection whose call failed. Migrations run once per store, lazily on first use, under a
server-side ``GET_LOCK`` so that several processes starting together apply each one once.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

from application.errors import BackendUnavailable, Conflict
from domain.incident import Incident, IncidentStats

try:
    import pymysql
    import pymysql.cursors
except ImportError as missing:  # pragma: no cover - pymysql is a dependency of the package
    raise ImportError(
        "adapters.mysql needs PyMySQL: install it with `pip install 'pymysql>=1.1'`"
    ) from missing

__all__ = ["BACKEND", "DAY_S", "MIGRATIONS", "MySqlIncidentStore", "MySqlPool", "parse_mysql_url"]

#: The backend name carried by every ``BackendUnavailable`` of this module.
BACKEND = "incident_store"
DAY_S = 86_400.0
#: The longest incident id the schema holds (a UUID's 36 characters).
MAX_ID_LENGTH = 36
#: ±inf bounds of a query become these, which every finite timestamp satisfies.
_HUGE = 1.7976931348623157e308
_DUPLICATE_KEY = 1062
_NO_SUCH_TABLE = 1146

T = TypeVar("T")

_INCIDENTS_V1 = """
CREATE TABLE IF NOT EXISTS incidents (
    incident_id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    ts_epoch DOUBLE NOT NULL,
    ts DATETIME(6) NOT NULL,
    salience DOUBLE NOT NULL,
    agent_id VARCHAR(255) NOT NULL,
    organ_id VARCHAR(255) NOT NULL,
    task JSON NOT NULL,
    error JSON NOT NULL,
    snapshot JSON NOT NULL,
    PRIMARY KEY (incident_id),
    KEY incidents_time (ts_epoch, incident_id),
    KEY incidents_salience (salience),
    CONSTRAINT incidents_salience_unit CHECK (salience >= 0 AND salience <= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
"""

#: (version, name, statements), applied in order; each statement is idempotent on its own,
#: so a migration interrupted halfway is simply run again.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "incidents table", (_INCIDENTS_V1,)),
)

_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INT NOT NULL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    applied_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

_COLUMNS = "incident_id, ts_epoch, salience, agent_id, organ_id, task, error, snapshot"
_INSERT = (
    "INSERT INTO incidents (incident_id, ts_epoch, ts, salience, agent_id, organ_id, task, "
    "error, snapshot) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_STATS = (
    "SELECT (SELECT COUNT(*) FROM incidents), "
    "(SELECT COALESCE(AVG(salience), 0) FROM incidents), "
    "(SELECT COUNT(*) FROM incidents WHERE ts_epoch >= %s AND ts_epoch <= %s)"
)
_SESSION = (
    "SET time_zone = '+00:00', "
    "sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
)
#: Errors of a statement the server refused; the connection stays usable.
_REFUSED = (pymysql.err.IntegrityError, pymysql.err.DataError, pymysql.err.ProgrammingError)
#: Errors that mean "the server cannot be used now", as opposed to a refused statement.
_UNREACHABLE = (
    pymysql.err.OperationalError,
    pymysql.err.InterfaceError,
    pymysql.err.InternalError,
    OSError,
)


def parse_mysql_url(url: str) -> dict[str, Any]:
    """``mysql://user:password@host:port/database`` (or ``mysql+pymysql://``) as the keyword
    arguments of ``pymysql.connect``; user and password may be percent-encoded."""
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mysql+pymysql", "mariadb"):
        raise ValueError("a MySQL URL starts with mysql://")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise ValueError("a MySQL URL names one database: mysql://user:pass@host:port/database")
    try:
        port = parts.port or 3306
    except ValueError:
        raise ValueError("the port of the MySQL URL is not a number") from None
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": port,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": database,
    }


class MySqlPool:
    """At most ``size`` connections, lent one at a time. ``connect_kwargs`` are the arguments
    of every new ``pymysql.connect`` (changing them affects new connections only)."""

    def __init__(self, connect_kwargs: dict[str, Any], size: int, acquire_timeout: float) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self.connect_kwargs = connect_kwargs
        self._acquire_timeout = acquire_timeout
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._idle: list[pymysql.connections.Connection[Any]] = []

    @contextmanager
    def connection(self) -> Iterator[pymysql.connections.Connection[Any]]:
        """A live connection; it goes back to the pool only if the block raised nothing that
        could have left it broken. Raises the driver's errors for the caller to translate."""
        if not self._slots.acquire(timeout=self._acquire_timeout):
            raise TimeoutError(f"no free connection within {self._acquire_timeout:g} s")
        try:
            conn = self._checkout()
            try:
                yield conn
            except _REFUSED:
                # The server refused a statement; the connection itself is fine.
                self._checkin_after_rollback(conn)
                raise
            except BaseException:
                _close_quietly(conn)
                raise
            self._checkin(conn)
        finally:
            self._slots.release()

    def disconnect(self) -> None:
        """Close the idle connections; lent ones close when they come back broken."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)

    def _checkout(self) -> pymysql.connections.Connection[Any]:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return pymysql.connect(**self.connect_kwargs)
            try:
                conn.ping(reconnect=False)
            except (pymysql.err.Error, OSError):
                _close_quietly(conn)
                continue
            return conn

    def _checkin(self, conn: pymysql.connections.Connection[Any]) -> None:
        with self._lock:
            self._idle.append(conn)

    def _checkin_after_rollback(self, conn: pymysql.connections.Connection[Any]) -> None:
        try:
            conn.rollback()
        except (pymysql.err.Error, OSError):
            _close_quietly(conn)
            return
        self._checkin(conn)


def _close_quietly(conn: pymysql.connections.Connection[Any]) -> None:
    with suppress(pymysql.err.Error, OSError):
        conn.close()


class MySqlIncidentStore:
    """Implements :class:`application.ports.incident_store.IncidentStore` on MySQL/MariaDB.

    ``url`` names the database (``mysql://user:password@host:port/database``); the tables are
    created on first use. ``connect_timeout``/``read_timeout`` bound every connection attempt
    and every statement, ``pool_size`` the connections kept open. Thread-safe.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 4,
        connect_timeout: float = 2.0,
        read_timeout: float = 2.0,
        acquire_timeout: float = 2.0,
    ) -> None:
        params = parse_mysql_url(url)
        self._secrets = _secrets_of(params["password"])
        self._lock_name = f"seedcore.migrations.{params['database']}"[:64]
        self.pool = MySqlPool(
            {
                **params,
                "charset": "utf8mb4",
                "connect_timeout": connect_timeout,
                "read_timeout": read_timeout,
                "write_timeout": read_timeout,
                "autocommit": True,
                "init_command": _SESSION,
                "cursorclass": pymysql.cursors.Cursor,
            },
            size=pool_size,
            acquire_timeout=acquire_timeout,
        )
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    # -- the port ------------------------------------------------------------------------

    def append(self, incident: Incident) -> None:
        values = _row_values(incident)

        def insert(conn: pymysql.connections.Connection[Any]) -> None:
            conn.begin()
            with conn.cursor() as cur:
                cur.execute(_INSERT, values)
            conn.commit()

        try:
            self._run(insert)
        except pymysql.err.IntegrityError as refused:
            if refused.args and refused.args[0] == _DUPLICATE_KEY:
                raise Conflict(f"incident {incident.incident_id!r} already exists") from None
            raise ValueError(f"incident refused by the database: {refused.args}") from None
        except pymysql.err.DataError as refused:
            raise ValueError(f"incident refused by the database: {refused.args}") from None

    def get(self, incident_id: str) -> Incident | None:
        def select(conn: pymysql.connections.Connection[Any]) -> tuple[Any, ...] | None:
            with conn.cursor() as cur:
                cur.execute(f"SELECT {_COLUMNS} FROM incidents WHERE incident_id = %s",
                            (incident_id,))
                row: tuple[Any, ...] | None = cur.fetchone()
                return row

        row = self._run(select)
        return None if row is None else _incident(row)

    def query(
        self,
        start: float,
        end: float,
        min_salience: float,
        limit: int,
        after: tuple[float, str] | None = None,
    ) -> list[Incident]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        sql = (f"SELECT {_COLUMNS} FROM incidents "
               "WHERE ts_epoch >= %s AND ts_epoch <= %s AND salience >= %s")
        params: list[Any] = [_bound(start, "start"), _bound(end, "end"),
                             _bound(min_salience, "min_salience")]
        if after is not None:
            after_ts, after_id = after
            sql += " AND (ts_epoch > %s OR (ts_epoch = %s AND incident_id > %s))"
            params += [_bound(after_ts, "after"), _bound(after_ts, "after"), str(after_id)]
        sql += " ORDER BY ts_epoch, incident_id LIMIT %s"
        params.append(int(limit))

        def select(conn: pymysql.connections.Connection[Any]) -> list[tuple[Any, ...]]:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())

        return [_incident(row) for row in self._run(select)]

    def stats(self, now: float) -> IncidentStats:
        since, until = _bound(now - DAY_S, "now"), _bound(now, "now")

        def select(conn: pymysql.connections.Connection[Any]) -> tuple[Any, ...]:
            with conn.cursor() as cur:
                cur.execute(_STATS, (since, until))
                row: tuple[Any, ...] = cur.fetchone()
                return row

        count, mean, recent = self._run(select)
        return IncidentStats(int(count), int(recent), float(mean))

    def ping(self) -> None:
        try:
            with self.pool.connection() as conn:
                conn.ping(reconnect=False)
        except _UNREACHABLE as error:
            raise self._unavailable(error) from None

    def close(self) -> None:
        """Close the idle connections (a later call opens new ones)."""
        self.pool.disconnect()

    # -- internals -----------------------------------------------------------------------

    def _run(self, work: Callable[[pymysql.connections.Connection[Any]], T]) -> T:
        try:
            with self.pool.connection() as conn:
                if not self._schema_ready:
                    self._migrate(conn)
                return work(conn)
        except _UNREACHABLE as error:
            raise self._unavailable(error) from None

    def _migrate(self, conn: pymysql.connections.Connection[Any]) -> None:
        latest = MIGRATIONS[-1][0]
        with self._schema_lock:
            if self._schema_ready:
                return
            with conn.cursor() as cur:
                try:
                    cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                    if int(cur.fetchone()[0]) >= latest:
                        self._schema_ready = True
                        return
                except pymysql.err.ProgrammingError as missing:
                    if not missing.args or missing.args[0] != _NO_SUCH_TABLE:
                        raise
                cur.execute("SELECT GET_LOCK(%s, 10)", (self._lock_name,))
                if cur.fetchone()[0] != 1:
                    raise TimeoutError("another process holds the schema migration lock")
                try:
                    cur.execute(_SCHEMA_MIGRATIONS)
                    cur.execute("SELECT version FROM schema_migrations")
                    applied = {int(version) for (version,) in cur.fetchall()}
                    for version, name, statements in MIGRATIONS:
                        if version in applied:
                            continue
                        for statement in statements:
                            cur.execute(statement)
                        cur.execute(
                            "INSERT INTO schema_migrations (version, name, applied_at) "
                            "VALUES (%s, %s, UTC_TIMESTAMP(6))",
                            (version, name),
                        )
                finally:
                    cur.execute("SELECT RELEASE_LOCK(%s)", (self._lock_name,))
            self._schema_ready = True

    def _unavailable(self, error: BaseException) -> BackendUnavailable:
        reason = f"{type(error).__name__}: {error}"
        for secret in self._secrets:
            reason = reason.replace(secret, "***")
        return BackendUnavailable(BACKEND, reason)


def _secrets_of(password: str) -> list[str]:
    if not password:
        return []
    return sorted({password, quote(password, safe="")}, key=len, reverse=True)


def _bound(value: float, name: str) -> float:
    """A finite double for SQL: NaN is refused, ±inf becomes the largest double."""
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"{name} must be a number, got NaN")
    return max(-_HUGE, min(_HUGE, number))


def _json(value: Any, what: str) -> str:
    try:
        return json.dumps(dict(value), allow_nan=False, separators=(",", ":"))
    except ValueError:
        raise ValueError(f"the incident's {what} holds NaN or an infinity, which JSON cannot"
                         " store") from None


def _row_values(incident: Incident) -> tuple[Any, ...]:
    """Everything ``append`` sends, checked before any I/O."""
    iid = incident.incident_id
    if not isinstance(iid, str) or not 1 <= len(iid) <= MAX_ID_LENGTH:
        raise ValueError(f"incident ids have 1 to {MAX_ID_LENGTH} characters, got {iid!r}")
    if not math.isfinite(incident.ts):
        raise ValueError(f"incident ts must be finite, got {incident.ts!r}")
    try:
        moment = datetime.fromtimestamp(incident.ts, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"incident ts {incident.ts!r} is outside the datetime range") from None
    return (
        iid,
        float(incident.ts),
        moment,
        float(incident.salience),
        incident.agent_id,
        incident.organ_id,
        _json(incident.task, "task"),
        _json(incident.error, "error"),
        _json(incident.snapshot, "snapshot"),
    )


def _incident(row: tuple[Any, ...]) -> Incident:
    iid, ts, salience, agent, organ, task, error, snapshot = row
    return Incident(
        incident_id=str(iid),
        ts=float(ts),
        salience=float(salience),
        agent_id=str(agent),
        organ_id=str(organ),
        task=json.loads(task),
        error=json.loads(error),
        snapshot=json.loads(snapshot),
    )
