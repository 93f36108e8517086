"""Flashbulb incidents: recording high-salience failures and querying them."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from application.errors import BackendUnavailable, InvalidInput, NotFound
from application.ports.clock import Clock
from application.ports.incident_store import IncidentStore
from application.ports.metrics import Metrics
from domain.agent import Heartbeat
from domain.config import SalienceConfig
from domain.incident import Incident, IncidentStats
from domain.task import Task, TaskError

__all__ = ["IncidentPage", "IncidentRecord", "IncidentService", "task_snapshot"]

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """Whether an incident was logged; the id when it was, the reason when it was not."""

    logged: bool
    incident_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentPage:
    items: list[Incident]
    next_cursor: tuple[float, str] | None


def task_snapshot(task: Task) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "task_type": task.task_type,
        "payload": dict(task.payload),
        "required_facts": list(task.required_facts),
        "risk": task.risk,
        "severity": task.severity,
        "priority": task.priority,
        "organ_hint": task.organ_hint,
        "team_size": task.team_size,
        "description": task.description,
    }


class IncidentService:
    def __init__(
        self, store: IncidentStore, clock: Clock, metrics: Metrics, config: SalienceConfig
    ) -> None:
        self._store = store
        self._clock = clock
        self._metrics = metrics
        self.config = config

    def record_failure(
        self, heartbeat: Heartbeat, task: Task, error: TaskError | None, salience: float
    ) -> IncidentRecord:
        """Write one incident with the heartbeat taken before the failure was applied.
        With the store down the task still returns: logged False with the reason."""
        incident = Incident(
            incident_id=str(uuid.uuid4()),
            ts=self._clock.now(),
            salience=salience,
            agent_id=heartbeat.state.agent_id,
            organ_id=heartbeat.state.organ_id,
            task=task_snapshot(task),
            error={} if error is None else {
                "type": error.type, "reason": error.message, "code": error.code
            },
            snapshot=heartbeat.to_snapshot(),
        )
        try:
            self._store.append(incident)
        except BackendUnavailable as down:
            return IncidentRecord(False, reason=f"incident store unavailable: {down.reason}")
        self._metrics.incident(salience)
        return IncidentRecord(True, incident_id=incident.incident_id)

    def create(
        self,
        agent_id: str,
        organ_id: str,
        salience: float,
        task: Mapping[str, Any],
        error: Mapping[str, Any],
        snapshot: Mapping[str, Any],
    ) -> Incident:
        """An incident reported from outside (e.g. by an operator or another service)."""
        if not (math.isfinite(salience) and 0.0 <= salience <= 1.0):
            raise InvalidInput(f"salience must be within [0, 1], got {salience!r}")
        incident = Incident(
            incident_id=str(uuid.uuid4()),
            ts=self._clock.now(),
            salience=salience,
            agent_id=agent_id,
            organ_id=organ_id,
            task=dict(task),
            error=dict(error),
            snapshot=dict(snapshot),
        )
        self._store.append(incident)
        self._metrics.incident(salience)
        return incident

    def get(self, incident_id: str) -> Incident:
        incident = self._store.get(incident_id)
        if incident is None:
            raise NotFound("incident", incident_id)
        return incident

    def query(
        self,
        start: float | None = None,
        end: float | None = None,
        min_salience: float | None = None,
        limit: int = 50,
        after: tuple[float, str] | None = None,
    ) -> IncidentPage:
        """By time range (default: everything up to now) and minimum salience (default 0.7)."""
        floor = self.config.threshold if min_salience is None else min_salience
        if not (math.isfinite(floor) and 0.0 <= floor <= 1.0):
            raise InvalidInput("min_salience must be within [0, 1]")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be within [1, {MAX_PAGE}]")
        lo = 0.0 if start is None else start
        hi = max(lo, self._clock.now() + 1.0) if end is None else end
        if hi < lo:
            raise InvalidInput("end must not be before start")
        items = self._store.query(lo, hi, floor, limit + 1, after)
        next_cursor = None
        if len(items) > limit:
            items = items[:limit]
            last = items[-1]
            next_cursor = (last.ts, last.incident_id)
        return IncidentPage(items, next_cursor)

    def stats(self) -> IncidentStats:
        return self._store.stats(self._clock.now())

    def ping(self) -> None:
        """Return when the incident store answers; raise ``BackendUnavailable`` otherwise."""
        self._store.ping()

    def count(self) -> int:
        return self._store.stats(self._clock.now()).count
