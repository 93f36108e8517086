"""The OpenAPI document the app serves: exact, and errors declared as problem+json."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.api.conftest import API, PROBLEM_JSON

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def document(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items()
            for method, op in item.items() if method in METHODS]


def test_title_and_version(document: dict[str, Any]) -> None:
    assert document["info"]["title"] == "SeedCore"
    assert document["info"]["version"]


def test_every_resource_operation_declares_its_problems(document: dict[str, Any]) -> None:
    ops = operations(document)
    assert len(ops) >= 30
    for path, method, op in ops:
        responses = op["responses"]
        errors = {code: r for code, r in responses.items() if int(code) >= 400}
        if path.startswith(API) and not path.endswith(("healthz", "readyz", "metrics")):
            assert errors, f"{method.upper()} {path} declares no error"
        for code, response in errors.items():
            if path.endswith("readyz"):
                continue
            assert list(response["content"]) == [PROBLEM_JSON], (path, method, code)


def test_resources_are_all_there(document: dict[str, Any]) -> None:
    declared = {(method.upper(), path) for path, method, _ in operations(document)}
    expected = {
        ("POST", f"{API}/organs"), ("GET", f"{API}/organs"), ("GET", f"{API}/organs/{{organ_id}}"),
        ("POST", f"{API}/agents"), ("GET", f"{API}/agents"), ("GET", f"{API}/agents/{{agent_id}}"),
        ("GET", f"{API}/agents/{{agent_id}}/heartbeat"), ("DELETE", f"{API}/agents/{{agent_id}}"),
        ("POST", f"{API}/tasks"), ("GET", f"{API}/tasks/{{task_id}}"),
        ("GET", f"{API}/energy"), ("GET", f"{API}/energy/attribution"),
        ("GET", f"{API}/energy/ledger"), ("GET", f"{API}/energy/budgets"),
        ("PUT", f"{API}/energy/budgets/{{scope_type}}/{{scope_id}}"),
        ("DELETE", f"{API}/energy/budgets/{{scope_type}}/{{scope_id}}"),
        ("PUT", f"{API}/memory/{{namespace}}/{{key}}"),
        ("GET", f"{API}/memory/{{namespace}}/{{key}}"),
        ("DELETE", f"{API}/memory/{{namespace}}/{{key}}"), ("GET", f"{API}/memory/stats"),
        ("GET", f"{API}/memory/misses"),
        ("POST", f"{API}/holons"), ("GET", f"{API}/holons/{{holon_id}}"),
        ("POST", f"{API}/holons/search"), ("POST", f"{API}/holons/relations"),
        ("GET", f"{API}/holons/{{holon_id}}/neighbours"), ("DELETE", f"{API}/holons/{{holon_id}}"),
        ("POST", f"{API}/incidents"), ("GET", f"{API}/incidents"),
        ("GET", f"{API}/incidents/{{incident_id}}"), ("GET", f"{API}/incidents/stats"),
        ("POST", f"{API}/alerts"), ("GET", f"{API}/alerts/audit"),
        ("GET", f"{API}/runtime/hosts"),
        ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
        ("GET", f"{API}/healthz"), ("GET", f"{API}/readyz"), ("GET", f"{API}/metrics"),
    }
    assert declared == expected


def test_request_bodies_are_closed(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("OrganIn", "AgentBatchIn", "AgentSpecIn", "TaskIn", "ItemIn", "HolonIn",
                 "EdgeIn", "SearchIn", "RelationIn", "IncidentIn", "BudgetIn"):
        assert schemas[name]["additionalProperties"] is False, name


def test_constraints_are_stated(document: dict[str, Any]) -> None:
    task = document["components"]["schemas"]["TaskIn"]["properties"]
    assert (task["risk"]["minimum"], task["risk"]["maximum"]) == (0.0, 1.0)
    number = next(s for s in task["complexity"]["oneOf"] if s["type"] == "number")
    assert (number["minimum"], number["maximum"]) == (0.0, 1.0)
    assert task["team_size"]["maximum"] == 16
    edge = document["components"]["schemas"]["EdgeIn"]["properties"]
    assert edge["rel"]["pattern"] == "^[A-Z][A-Z0-9_]{0,63}$" and "from" in edge


def test_parameters_are_never_null(document: dict[str, Any]) -> None:
    for path, method, op in operations(document):
        for parameter in op.get("parameters", []):
            schema = parameter["schema"]
            assert "oneOf" not in schema, (method, path, parameter["name"])
            assert "null" not in schema.get("type", []), (method, path, parameter["name"])


def test_task_failures_are_documented(document: dict[str, Any]) -> None:
    submit = document["paths"][f"{API}/tasks"]["post"]
    assert "still a completed task" in submit["description"]
    assert set(submit["responses"]) >= {"200", "201", "400", "404", "409", "422", "503"}
    names = {p["name"] for p in submit["parameters"]}
    assert "Idempotency-Key" in names
