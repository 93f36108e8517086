"""Flashbulb incidents in SQLite: append-only rows with the JSON snapshot."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from adapters.sqlite.database import SqliteDatabase
from application.errors import Conflict
from domain.incident import Incident, IncidentStats

__all__ = ["SqliteIncidentStore"]

DAY_S = 86_400.0
_COLUMNS = "incident_id, ts, salience, agent_id, organ_id, task, error, snapshot"


def _row(row: tuple[Any, ...]) -> Incident:
    iid, ts, sal, agent, organ, task, error, snapshot = row
    return Incident(str(iid), float(ts), float(sal), str(agent), str(organ),
                    json.loads(str(task)), json.loads(str(error)), json.loads(str(snapshot)))


class SqliteIncidentStore:
    """Implements :class:`application.ports.incident_store.IncidentStore`; one INSERT per
    incident inside a transaction, so a failed append leaves nothing behind."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def append(self, incident: Incident) -> None:
        values = (incident.incident_id, incident.ts, incident.salience, incident.agent_id,
                  incident.organ_id, json.dumps(dict(incident.task)),
                  json.dumps(dict(incident.error)), json.dumps(dict(incident.snapshot)))
        try:
            with self._db.transaction() as conn:
                conn.execute(f"INSERT INTO incidents ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             values)
        except sqlite3.IntegrityError:
            raise Conflict(f"incident {incident.incident_id!r} already exists") from None

    def get(self, incident_id: str) -> Incident | None:
        with self._db.reading() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM incidents WHERE incident_id = ?",
                               (incident_id,)).fetchone()
        return None if row is None else _row(row)

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
        sql = (f"SELECT {_COLUMNS} FROM incidents WHERE ts >= ? AND ts <= ? AND salience >= ?")
        params: list[object] = [start, end, min_salience]
        if after is not None:
            sql += " AND (ts > ? OR (ts = ? AND incident_id > ?))"
            params += [after[0], after[0], after[1]]
        sql += " ORDER BY ts, incident_id LIMIT ?"
        params.append(limit)
        with self._db.reading() as conn:
            return [_row(r) for r in conn.execute(sql, params).fetchall()]

    def stats(self, now: float) -> IncidentStats:
        with self._db.reading() as conn:
            count, mean = conn.execute(
                "SELECT COUNT(*), COALESCE(AVG(salience), 0) FROM incidents").fetchone()
            recent = conn.execute("SELECT COUNT(*) FROM incidents WHERE ts >= ? AND ts <= ?",
                                  (now - DAY_S, now)).fetchone()[0]
        return IncidentStats(int(count), int(recent), float(mean))

    def ping(self) -> None:
        self._db.ping()
