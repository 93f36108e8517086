"""In-memory flashbulb incident store (Mfb): append-only, ordered by (ts, incident id)."""

from __future__ import annotations

import bisect
import copy
import threading
from operator import itemgetter

from application.errors import BackendUnavailable, Conflict
from domain.incident import Incident, IncidentStats

__all__ = ["DAY_S", "InMemoryIncidentStore"]

DAY_S = 86_400.0
_TS = itemgetter(0)


class InMemoryIncidentStore:
    """Implements :class:`application.ports.incident_store.IncidentStore`.

    Incidents are deep-copied in and out, so nobody can edit a stored one through a
    reference: append-only means append-only. ``stats`` counts ``now − 24 h ≤ ts ≤ now`` as
    the last 24 h. Set ``down`` to make every call raise
    ``BackendUnavailable("incident_store", ...)``. Thread-safe.
    """

    def __init__(self) -> None:
        self.down = False
        self._lock = threading.Lock()
        self._by_id: dict[str, Incident] = {}
        self._order: list[tuple[float, str]] = []
        self._salience_sum = 0.0

    def append(self, incident: Incident) -> None:
        stored = copy.deepcopy(incident)
        with self._lock:
            self._check_up()
            if stored.incident_id in self._by_id:
                raise Conflict(f"incident {stored.incident_id!r} already exists")
            self._by_id[stored.incident_id] = stored
            bisect.insort(self._order, (stored.ts, stored.incident_id))
            self._salience_sum += stored.salience

    def get(self, incident_id: str) -> Incident | None:
        with self._lock:
            self._check_up()
            incident = self._by_id.get(incident_id)
        return None if incident is None else copy.deepcopy(incident)

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
        with self._lock:
            self._check_up()
            index = bisect.bisect_left(self._order, start, key=_TS)
            if after is not None:
                # Strictly past the cursor pair, and never before ``start``.
                index = max(index, bisect.bisect_right(self._order, after))
            found: list[Incident] = []
            while index < len(self._order) and len(found) < limit:
                ts, incident_id = self._order[index]
                if ts > end:
                    break
                incident = self._by_id[incident_id]
                if incident.salience >= min_salience:
                    found.append(incident)
                index += 1
        return copy.deepcopy(found)

    def stats(self, now: float) -> IncidentStats:
        with self._lock:
            self._check_up()
            count = len(self._order)
            recent = bisect.bisect_right(self._order, now, key=_TS) - bisect.bisect_left(
                self._order, now - DAY_S, key=_TS
            )
            mean = self._salience_sum / count if count else 0.0
            return IncidentStats(count=count, last_24h=max(0, recent), mean_salience=mean)

    def ping(self) -> None:
        with self._lock:
            self._check_up()

    def _check_up(self) -> None:
        if self.down:
            raise BackendUnavailable("incident_store", "the in-memory backend is switched down")
