"""``/alerts``: Alertmanager's webhook, running the automated response each alert names, and
the audit of every decision."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import JSONBody
from msgspec import Meta, Struct, field

from application.alerts import AlertEvent, AuditEntry
from application.errors import BackendUnavailable
from entrypoints.api.context import ServicesDep
from entrypoints.api.problems import problem_responses

__all__ = ["AlertController"]

Text = Annotated[str, Meta(max_length=4096)]


class AlertIn(Struct):
    """One alert of the payload; unknown fields (Alertmanager adds some) are ignored."""

    status: Annotated[str, Meta(pattern="^(firing|resolved)$")]
    labels: dict[Text, Text]
    annotations: dict[Text, Text] = field(default_factory=dict)
    startsAt: Text = ""  # noqa: N815 - Alertmanager's field name
    fingerprint: Text = ""


class AlertmanagerPayload(Struct):
    """Alertmanager's webhook body (version 4)."""

    alerts: Annotated[list[AlertIn], Meta(max_length=1000)]
    version: Text = "4"
    status: Text = ""
    receiver: Text = ""


class AuditOut(Struct):
    ts: float
    alert: str
    occurrence: str
    status: str
    response: str
    action: str
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        return cls(entry.ts, entry.alert, entry.occurrence, entry.status, entry.response,
                   entry.action, dict(entry.details))


class AuditPage(Struct):
    items: list[AuditOut]


class AlertController(Controller):
    path = "/alerts"
    tags = ("alerts",)

    @post(
        "/",
        sync_to_thread=True,
        status_code=200,
        summary="Alertmanager webhook: run each firing alert's response once",
        description="Each firing alert runs the response its `response` label names "
        "(`run_role_evolution`, `tighten_budget`, `restart_stale_actor`); a redelivery of the "
        "same occurrence (fingerprint and start time) is recorded as `duplicate` and not run "
        "again. Returns the audit entries of this delivery.",
        responses=problem_responses(400, 422, 503),
    )
    def receive(self, services: ServicesDep, data: JSONBody[AlertmanagerPayload]) -> AuditPage:
        responder = services.alerts
        if responder is None:
            raise BackendUnavailable("alerts", "no alert responder is configured")
        events = [
            AlertEvent(
                name=alert.labels.get("alertname", ""),
                status=alert.status,
                labels=alert.labels,
                starts_at=alert.startsAt,
                fingerprint=alert.fingerprint,
                annotations=alert.annotations,
            )
            for alert in data.alerts
        ]
        return AuditPage([AuditOut.of(entry) for entry in responder.handle(events)])

    @get("/audit", sync_to_thread=True, summary="Every alert decision, oldest first",
         responses=problem_responses(503))
    def audit(self, services: ServicesDep) -> AuditPage:
        responder = services.alerts
        entries = [] if responder is None else responder.audit()
        return AuditPage([AuditOut.of(entry) for entry in entries])
