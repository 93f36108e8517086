"""Incident store port (Mfb): append-only flashbulb incidents."""

from __future__ import annotations

from typing import Protocol

from domain.incident import Incident, IncidentStats

__all__ = ["IncidentStore"]


class IncidentStore(Protocol):
    """Raises ``BackendUnavailable`` when the backend cannot be reached; a failed append
    leaves no partial row."""

    def append(self, incident: Incident) -> None:
        """Store one incident; a second append with the same id raises ``Conflict``."""
        ...

    def get(self, incident_id: str) -> Incident | None:
        ...

    def query(
        self,
        start: float,
        end: float,
        min_salience: float,
        limit: int,
        after: tuple[float, str] | None = None,
    ) -> list[Incident]:
        """Incidents with ``start <= ts <= end`` and ``salience >= min_salience``, ordered by
        (ts, incident_id); ``after`` continues past that (ts, id) pair (a cursor)."""
        ...

    def stats(self, now: float) -> IncidentStats:
        """Count, count with ts in the last 24 h before ``now``, mean salience."""
        ...

    def ping(self) -> None:
        ...
