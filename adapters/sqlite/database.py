"""One SQLite database file shared by the embedded adapters, with idempotent migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from application.errors import BackendUnavailable

__all__ = ["SqliteDatabase"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS holons (
    uuid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    embedding BLOB NOT NULL,
    meta TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    size_bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS holons_kind ON holons(kind);
CREATE TABLE IF NOT EXISTS graph_nodes (uuid TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS graph_edges (
    src TEXT NOT NULL REFERENCES graph_nodes(uuid),
    rel TEXT NOT NULL,
    dst TEXT NOT NULL REFERENCES graph_nodes(uuid),
    PRIMARY KEY (src, rel, dst)
);
CREATE INDEX IF NOT EXISTS graph_edges_dst ON graph_edges(dst);
CREATE TABLE IF NOT EXISTS incidents (
    incident_id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    salience REAL NOT NULL CHECK (salience >= 0 AND salience <= 1),
    agent_id TEXT NOT NULL,
    organ_id TEXT NOT NULL,
    task TEXT NOT NULL,
    error TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_ts ON incidents(ts, incident_id);
CREATE INDEX IF NOT EXISTS incidents_salience ON incidents(salience);
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tx_id TEXT NOT NULL UNIQUE,
    ts REAL NOT NULL,
    scope TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    cause TEXT NOT NULL,
    total_before REAL NOT NULL,
    total_after REAL NOT NULL,
    terms_after TEXT NOT NULL,
    joules REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_scope ON ledger(scope, scope_id, seq);
CREATE TABLE IF NOT EXISTS ledger_balances (
    scope TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    total REAL NOT NULL,
    joules REAL NOT NULL,
    transactions INTEGER NOT NULL,
    PRIMARY KEY (scope, scope_id)
);
"""


class SqliteDatabase:
    """A single connection guarded by a lock: SQLite serialises writers anyway, and one
    connection keeps every adapter's view consistent. WAL lets readers of other processes in."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements inside commit together or not at all."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise BackendUnavailable("sqlite", str(exc)) from exc
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def ping(self) -> None:
        try:
            with self.reading() as conn:
                conn.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise BackendUnavailable("sqlite", str(exc)) from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()
