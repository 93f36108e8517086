"""Automated responses to alerts: each firing alert runs the response its ``response`` label
names, once per alert occurrence, and every decision is audited."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from application.errors import InvalidInput
from application.ports.clock import Clock

__all__ = ["AlertEvent", "AlertResponder", "AuditEntry", "Response"]

Response = Callable[["AlertEvent"], Mapping[str, Any]]
_MAX_AUDIT = 1000
_MAX_SEEN = 10_000


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One alert of an Alertmanager webhook payload."""

    name: str
    status: str
    labels: Mapping[str, str]
    starts_at: str
    fingerprint: str = ""
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def occurrence(self) -> str:
        """Identifies one firing of one alert: a redelivery has the same occurrence."""
        identity = self.fingerprint or ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return f"{identity}@{self.starts_at}"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    ts: float
    alert: str
    occurrence: str
    status: str
    response: str
    action: str  # ran, duplicate, resolved, unknown_response, failed
    details: Mapping[str, Any] = field(default_factory=dict)


class AlertResponder:
    """Runs registered responses; thread-safe; redeliveries are recognised and not re-run."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._responses: dict[str, Response] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._audit: deque[AuditEntry] = deque(maxlen=_MAX_AUDIT)
        self._lock = threading.Lock()

    def register(self, name: str, response: Response) -> None:
        if not name:
            raise ValueError("a response needs a name")
        self._responses[name] = response

    @property
    def responses(self) -> list[str]:
        return sorted(self._responses)

    def handle(self, events: Sequence[AlertEvent]) -> list[AuditEntry]:
        """Decide and run, alert by alert; returns the audit entries this call added."""
        return [self._handle_one(event) for event in events]

    def _handle_one(self, event: AlertEvent) -> AuditEntry:
        if event.status not in ("firing", "resolved"):
            raise InvalidInput(f"alert status must be firing or resolved, got {event.status!r}")
        name = event.labels.get("response", "none")
        with self._lock:
            if event.status == "resolved":
                return self._record(event, name, "resolved")
            if event.occurrence in self._seen:
                return self._record(event, name, "duplicate")
            response = self._responses.get(name)
            if response is None:
                return self._record(event, name, "unknown_response" if name != "none" else "none")
            self._seen[event.occurrence] = None
            while len(self._seen) > _MAX_SEEN:
                self._seen.popitem(last=False)
        # The response runs outside the lock: it may take a while (role evolution, say).
        try:
            details = dict(response(event))
        except Exception as failure:  # audited, and the alert may be redelivered to retry
            with self._lock:
                self._seen.pop(event.occurrence, None)
                return self._record(event, name, "failed", {"error": str(failure)})
        with self._lock:
            return self._record(event, name, "ran", details)

    def _record(self, event: AlertEvent, response: str, action: str,
                details: Mapping[str, Any] | None = None) -> AuditEntry:
        entry = AuditEntry(self._clock.now(), event.name, event.occurrence, event.status,
                           response, action, dict(details or {}))
        self._audit.append(entry)
        return entry

    def audit(self) -> list[AuditEntry]:
        with self._lock:
            return list(self._audit)
