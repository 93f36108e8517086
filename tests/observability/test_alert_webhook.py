"""The Alertmanager webhook runs the registered response exactly once per alert occurrence."""

from __future__ import annotations

from litestar.testing import TestClient

from adapters.memory.clock import FakeClock
from application.tier0 import AgentSpec
from domain.config import DomainConfig
from entrypoints.api import create_app
from entrypoints.bootstrap import build_services, in_memory_adapters

PAYLOAD = {
    "version": "4",
    "status": "firing",
    "receiver": "seedcore",
    "groupKey": "{}:{alertname=\"SeedCoreHardBudgetCrossed\"}",
    "alerts": [{
        "status": "firing",
        "labels": {"alertname": "SeedCoreHardBudgetCrossed", "severity": "warning",
                   "response": "tighten_budget", "scope": "organ"},
        "annotations": {"summary": "a hard budget was crossed"},
        "startsAt": "2026-11-24T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": "a1b2c3d4e5f60718",
    }],
}


def test_a_sample_payload_runs_its_response_once_even_when_delivered_twice() -> None:
    clock = FakeClock()
    services = build_services(in_memory_adapters(clock=clock), DomainConfig())
    services.tier0.create_organ("ops", "utility")
    services.tier0.create_agents([AgentSpec("ops", "a1")])
    services.budgets.set_budget("organ", "ops", 100.0)
    with TestClient(create_app(services)) as client:
        first = client.post("/api/v1/alerts", json=PAYLOAD)
        second = client.post("/api/v1/alerts", json=PAYLOAD)
        audit = client.get("/api/v1/alerts/audit").json()["items"]
    assert first.status_code == 200 and second.status_code == 200
    assert [e["action"] for e in first.json()["items"]] == ["ran"]
    assert [e["action"] for e in second.json()["items"]] == ["duplicate"]
    # Tightened once by 20 %, not twice.
    assert services.budgets.budgets()[("organ", "ops")] == 80.0
    assert [(e["alert"], e["action"]) for e in audit] == [
        ("SeedCoreHardBudgetCrossed", "ran"), ("SeedCoreHardBudgetCrossed", "duplicate")]


def test_resolved_and_unknown_responses_are_audited_without_running_anything() -> None:
    services = build_services(in_memory_adapters(clock=FakeClock()), DomainConfig())
    services.budgets.set_budget("organ", "ops", 100.0)
    resolved = {**PAYLOAD, "alerts": [{**PAYLOAD["alerts"][0], "status": "resolved"}]}
    unknown = {**PAYLOAD, "alerts": [{**PAYLOAD["alerts"][0], "fingerprint": "ffff",
                                      "labels": {"alertname": "X", "response": "reboot"}}]}
    with TestClient(create_app(services)) as client:
        assert client.post("/api/v1/alerts", json=resolved).json()["items"][0]["action"] \
            == "resolved"
        assert client.post("/api/v1/alerts", json=unknown).json()["items"][0]["action"] \
            == "unknown_response"
        bad = client.post("/api/v1/alerts", json={"alerts": [{"status": "pending",
                                                               "labels": {}}]})
    assert bad.status_code in (400, 422)
    assert services.budgets.budgets()[("organ", "ops")] == 100.0


def test_role_evolution_response_runs_the_slow_loop_now() -> None:
    clock = FakeClock()
    services = build_services(in_memory_adapters(clock=clock), DomainConfig())
    services.tier0.create_organ("ops", "utility")
    services.tier0.create_agents([AgentSpec("ops", "a1")])
    payload = {**PAYLOAD, "alerts": [{**PAYLOAD["alerts"][0], "fingerprint": "e1",
                                      "labels": {"alertname": "SeedCoreEnergyRising",
                                                 "response": "run_role_evolution"}}]}
    with TestClient(create_app(services)) as client:
        entry = client.post("/api/v1/alerts", json=payload).json()["items"][0]
    assert entry["action"] == "ran" and entry["details"]["agents"] == 0
    assert services.energy.transactions(limit=10)[-1][1].cause == "role_evolution"
