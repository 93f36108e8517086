"""Scenario 2: a critical failure becomes a flashbulb incident."""

from __future__ import annotations

import uuid

import pytest

from application.errors import InvalidInput
from application.tier0 import AgentSpec
from domain.task import Task
from tests.scenarios.world import World

AGENT = "Agent-Critical-Ops"


def launch(url: str, risk: float | None = None) -> Task:
    extra = {} if risk is None else {"risk": risk}
    return Task(
        str(uuid.uuid4()),
        "high_stakes",
        payload={"operation": {"kind": "http", "method": "POST", "url": url},
                 "timeout_s": 1.0},
        agent_hint=AGENT,
        **extra,
    )


def test_scenario_2(world: World, refused_url: str) -> None:
    services = world.services
    tier0, organism, incidents = services.tier0, services.organism, services.incidents
    tier0.create_organ("ops", "actuator")
    tier0.create_agents([AgentSpec("ops", AGENT)])
    h_before = tier0.agent(AGENT).h.copy()
    logged_before = tier0.heartbeat(AGENT).state.salient_events_logged

    # 1. A real failing operation (connection refused) at risk 0.9.
    n0 = incidents.count()
    outcome = organism.submit(launch(refused_url, risk=0.9))
    assert not outcome.success
    assert outcome.salience == pytest.approx(0.9, abs=1e-9)
    assert outcome.incident_logged and outcome.incident_id is not None
    assert outcome.error is not None and outcome.error.code == "E_CONN_REFUSED"

    # 2. Mfb holds it with the full state taken before the failure.
    assert incidents.count() == n0 + 1
    incident = incidents.get(outcome.incident_id)
    assert abs(incident.salience - 0.9) <= 1e-9
    assert abs(incident.ts - world.clock.now()) < 60
    assert incident.snapshot["agent_id"] == AGENT
    assert incident.snapshot["h"] == pytest.approx(list(h_before))
    assert incident.snapshot["tasks_processed"] == 0  # state before the failure was applied
    assert incident.task["task_id"] == outcome.task_id
    assert incident.error["code"] == "E_CONN_REFUSED" and incident.error["reason"]

    # 3. Queries find it.
    assert incidents.get(incident.incident_id).incident_id == incident.incident_id
    assert incident.incident_id in {i.incident_id for i in incidents.query(min_salience=0.9).items}
    now = world.clock.now()
    around = incidents.query(start=now - 60, end=now + 60).items
    assert incident.incident_id in {i.incident_id for i in around}
    assert incidents.stats().count == n0 + 1

    # 4. Boundaries of the inclusive 0.7 threshold.
    for risk, expected in ((0.69, 0), (0.7, 1), (None, 0)):
        count = incidents.count()
        result = organism.submit(launch(refused_url, risk))
        assert not result.success
        assert result.incident_logged is bool(expected)
        assert incidents.count() == count + expected

    # 5. The heartbeat counts the salient events (step 1 and the 0.7 run).
    assert tier0.heartbeat(AGENT).state.salient_events_logged == logged_before + 2

    # 6. With the store down the task still returns, and nothing partial appears later.
    count = incidents.count()
    with world.incident_outage():
        result = organism.submit(launch(refused_url, risk=0.9))
    assert not result.success and not result.incident_logged
    assert result.incident_reason and "unavailable" in result.incident_reason
    assert incidents.count() == count
    with pytest.raises(ValueError, match="risk"):
        launch(refused_url, risk=1.5)
    with pytest.raises(InvalidInput):
        incidents.create(AGENT, "ops", 1.5, {}, {}, {})
