"""Submitting tasks over HTTP: outcomes, failures, idempotency and input errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from adapters.memory.operations import ScriptedOperations
from application.errors import OperationFailed, TaskInterrupted
from application.execution import Execution, Job
from tests.api.conftest import API, Api, assert_problem, start_api


@pytest.fixture
def ops() -> ScriptedOperations:
    def refuse(operation: Mapping[str, Any], timeout_s: float) -> Mapping[str, Any]:
        raise OperationFailed("ConnectionRefused", "POST http://x:1/: refused", "E_CONN_REFUSED")

    return ScriptedOperations({"ok": lambda op, t: {"status": 200}, "refuse": refuse})


@pytest.fixture
def ready(ops: ScriptedOperations) -> Iterator[Api]:
    """One organ with two agents."""
    for api in start_api(operations=ops):
        api.organ("o1")
        api.agents("o1", "a1", "a2")
        yield api


def test_submit_returns_the_outcome(ready: Api) -> None:
    response = ready.client.post(f"{API}/tasks", json={"type": "general", "agent_hint": "a1"})
    assert response.status_code == 201
    outcome = response.json()
    assert response.headers["location"] == f"{API}/tasks/{outcome['task_id']}"
    assert "idempotent-replayed" not in response.headers
    uuid.UUID(outcome["task_id"])  # the server assigned a uuid
    assert outcome["success"] is True and outcome["agent_id"] == "a1"
    assert outcome["organ_id"] == "o1" and outcome["team"] == ["a1"]
    assert outcome["error"] is None and outcome["incident_logged"] is False
    assert ready.client.get(f"{API}/tasks/{outcome['task_id']}").json() == outcome
    assert_problem(ready.client.get(f"{API}/tasks/nope"), 404, "not_found")


def test_a_failed_task_is_still_a_completed_task(ready: Api) -> None:
    body = {"type": "high_stakes", "agent_hint": "a1", "risk": 0.9,
            "payload": {"operation": {"name": "refuse"}}}
    outcome = ready.task(body, status=201)
    assert outcome["success"] is False and outcome["quality"] == 0.0
    assert outcome["error"] == {"type": "ConnectionRefused",
                                "message": "POST http://x:1/: refused", "code": "E_CONN_REFUSED"}
    assert outcome["salience"] == pytest.approx(0.9)
    assert outcome["incident_logged"] is True
    incident = ready.client.get(f"{API}/incidents/{outcome['incident_id']}")
    assert incident.status_code == 200


def test_client_task_id_and_team(ready: Api) -> None:
    outcome = ready.task({"type": "analysis", "task_id": "job-1", "team_size": 2})
    assert outcome["task_id"] == "job-1" and sorted(outcome["team"]) == ["a1", "a2"]
    # the same task id again, without an idempotency key, is a conflict
    assert_problem(ready.client.post(f"{API}/tasks", json={"type": "general", "task_id": "job-1"}),
                   409)


def test_idempotency_key_runs_the_task_once(ready: Api) -> None:
    body = {"type": "general", "agent_hint": "a1"}
    key = {"Idempotency-Key": "order-42:v1"}
    first = ready.client.post(f"{API}/tasks", json=body, headers=key)
    assert first.status_code == 201
    processed = ready.client.get(f"{API}/agents/a1").json()["tasks_processed"]
    second = ready.client.post(f"{API}/tasks", json=body, headers=key)
    assert second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert ready.client.get(f"{API}/agents/a1").json()["tasks_processed"] == processed == 1
    # the same key with the client's own task id replays too
    third = ready.client.post(f"{API}/tasks", json={**body, "task_id": first.json()["task_id"]},
                              headers=key)
    assert third.status_code == 200 and third.json() == first.json()
    # another key runs again
    other = ready.client.post(f"{API}/tasks", json=body, headers={"Idempotency-Key": "other"})
    assert other.status_code == 201
    assert ready.client.get(f"{API}/agents/a1").json()["tasks_processed"] == 2


def test_idempotency_key_with_a_client_task_id(ready: Api) -> None:
    body = {"type": "general", "agent_hint": "a1", "task_id": "t-1"}
    key = {"Idempotency-Key": "k-1"}
    first = ready.client.post(f"{API}/tasks", json=body, headers=key)
    second = ready.client.post(f"{API}/tasks", json=body, headers=key)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert ready.client.get(f"{API}/agents/a1").json()["tasks_processed"] == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 129, "semi;colon"])
def test_malformed_idempotency_keys(ready: Api, key: str) -> None:
    response = ready.client.post(f"{API}/tasks", json={"type": "general"},
                                 headers={"Idempotency-Key": key})
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"type": "general", "risk": 1.5}, 422),
        ({"type": "general", "severity": -0.1}, 422),
        ({"type": "general", "team_size": 17}, 422),
        ({"type": "general", "size": "huge"}, 422),
        ({"type": "general", "agent_hint": "a1", "team_size": 2}, 422),  # Task's own rule
        ({"type": "knowledge"}, 422),  # the handler needs a required fact
        ({"type": "high_stakes", "payload": {}}, 422),
        ({"type": "high_stakes", "agent_hint": "a1",
          "payload": {"operation": {"name": "unknown"}}}, 422),
        ({"type": "general", "risk": "high"}, 400),
        ({"type": "general", "required_facts": ["not-a-uuid"]}, 400),
        ({"type": "general", "surprise": 1}, 400),
        ({"kind": "general"}, 400),
        ({"type": "general", "agent_hint": "ghost"}, 404),
        ({"type": "general", "organ_hint": "ghost"}, 404),
        ({"type": "general", "team_size": 3}, 409),  # two agents only
    ],
)
def test_task_errors(ready: Api, body: dict[str, Any], status: int) -> None:
    assert_problem(ready.client.post(f"{API}/tasks", json=body), status)


def test_malformed_json_is_a_400(ready: Api) -> None:
    response = ready.client.post(f"{API}/tasks", content=b'{"type": ',
                                 headers={"content-type": "application/json"})
    body = assert_problem(response, 400, "malformed_request")
    assert body["errors"] == []


def test_no_eligible_agent_is_a_409(api: Api) -> None:
    api.organ("empty")
    body = assert_problem(api.client.post(f"{API}/tasks", json={"type": "general"}), 409,
                          "no_eligible_agent")
    assert "agent" in body["detail"]


def test_a_task_whose_host_died_is_a_retriable_503_and_may_be_submitted_again(
    ready: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = ready.services.runtime
    real_execute = runtime.execute

    def host_died(agent_id: str, job: Job) -> Execution:
        raise TaskInterrupted("runtime", job.task.task_id, "organ actor 'organ:o1:0' failed")

    monkeypatch.setattr(runtime, "execute", host_died)
    body = {"task_id": str(uuid.uuid4()), "type": "general", "agent_hint": "a1"}
    headers = {"Idempotency-Key": "retry-me-1"}
    response = ready.client.post(f"{API}/tasks", json=body, headers=headers)
    problem = assert_problem(response, 503, "task_interrupted")
    assert problem["backend"] == "runtime" and body["task_id"] in problem["detail"]
    assert response.headers["retry-after"] == "1"
    assert_problem(ready.client.get(f"{API}/tasks/{body['task_id']}"), 404, "not_found")

    # Nothing was recorded: the same task, with the same key, runs when submitted again.
    monkeypatch.setattr(runtime, "execute", real_execute)
    again = ready.client.post(f"{API}/tasks", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["task_id"] == body["task_id"] and again.json()["success"] is True
