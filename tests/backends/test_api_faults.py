"""Faults on the full profile, through the HTTP API: real services are stopped and restarted.

With Redis down, fact reads fall through to Mlt and are counted as degraded while the API stays
up; with the incident store down, a critical failure still returns (incident_logged false) and
nothing partial is written; with Mlt down, requests that need it get a 503 problem; with the
graph down, a holon write is rolled back without an orphan row. ``/readyz`` names the backend
that is down every time.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from application.services import Services
from entrypoints.api import create_app
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings

pytestmark = pytest.mark.backends

REPO = Path(__file__).resolve().parents[2]
SERVICES = REPO / "scripts" / "services.sh"
API = "/api/v1"
URL_VARIABLES = ("SEEDCORE_REDIS_URL", "SEEDCORE_POSTGRES_DSN", "SEEDCORE_NEO4J_URL",
                 "SEEDCORE_NEO4J_DIALECT", "SEEDCORE_MYSQL_URL")


def _backend_env() -> dict[str, str]:
    """The services' URLs: the caller's variables, else what scripts/services.sh reports."""
    if all(os.environ.get(v) for v in URL_VARIABLES):
        return {v: os.environ[v] for v in URL_VARIABLES}
    printed = subprocess.run([str(SERVICES), "env"], capture_output=True, text=True,
                             check=True).stdout
    env = {}
    for line in printed.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    return env


def _service(action: str, name: str) -> None:
    subprocess.run([str(SERVICES), action, name], check=True, capture_output=True,
                   timeout=120, cwd=REPO)


class _Down:
    """Stop one service for the block; always start it again."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        _service("stop", self.name)

    def __exit__(self, *_: object) -> None:
        _service("start", self.name)


@pytest.fixture(scope="module")
def services() -> Services:
    env = {**_backend_env(), "SEEDCORE_PROFILE": "full", "SEEDCORE_MW_TTL_S": "600",
           "SEEDCORE_RUNTIME": "inprocess"}  # the backends are under test, not the runtime
    return bootstrap(Settings.from_env(env))


@pytest.fixture(scope="module")
def client(services: Services) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(services)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def agents(client: TestClient) -> dict[str, str]:  # type: ignore[type-arg]
    tag = uuid.uuid4().hex[:8]
    organ = f"faults-{tag}"
    assert client.post(f"{API}/organs", json={"organ_id": organ,
                                              "organ_type": "cognitive"}).status_code == 201
    agent = f"faulty-{tag}"
    assert client.post(f"{API}/agents", json={"agents": [
        {"organ_id": organ, "agent_id": agent}]}).status_code == 201
    return {"organ": organ, "agent": agent}


def _fact(client: TestClient) -> str:  # type: ignore[type-arg]
    response = client.post(f"{API}/holons", json={
        "content": f"fault test fact {uuid.uuid4()}", "kind": "fact"})
    assert response.status_code == 201, response.text
    return str(response.json()["uuid"])


def _readiness(client: TestClient) -> tuple[int, dict[str, str]]:  # type: ignore[type-arg]
    response = client.get("/readyz")
    return response.status_code, response.json()["backends"]


def test_redis_down_reads_fall_through_to_mlt_and_count_as_degraded(
    client: TestClient, services: Services, agents: dict[str, str]  # type: ignore[type-arg]
) -> None:
    fact = _fact(client)
    degraded = services.memory.degraded_reads
    with _Down("redis"):
        status, backends = _readiness(client)
        assert status == 503 and backends["working_memory"] != "ok"
        assert backends["holon_store"] == "ok"
        response = client.post(f"{API}/tasks", json={
            "type": "knowledge", "required_facts": [fact], "agent_hint": agents["agent"]})
        assert response.status_code == 201, response.text
        assert response.json()["success"] is True
        assert services.memory.degraded_reads == degraded + 1
        assert client.get("/healthz").status_code == 200
    assert _readiness(client)[0] == 200


def test_incident_store_down_the_task_returns_and_nothing_partial_is_written(
    client: TestClient, agents: dict[str, str]  # type: ignore[type-arg]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    body = {"type": "high_stakes", "risk": 0.9, "agent_hint": agents["agent"],
            "payload": {"operation": {"kind": "http", "method": "POST",
                                      "url": f"http://127.0.0.1:{closed}/"}}}
    before = client.get(f"{API}/incidents/stats").json()["count"]
    with _Down("mysql"):
        status, backends = _readiness(client)
        assert status == 503 and backends["incident_store"] != "ok"
        response = client.post(f"{API}/tasks", json=body)
        assert response.status_code == 201, response.text
        outcome = response.json()
        assert outcome["success"] is False and outcome["incident_logged"] is False
        assert "unavailable" in outcome["incident_reason"]
        stats = client.get(f"{API}/incidents/stats")
        assert stats.status_code == 503
        assert stats.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"{API}/incidents/stats").json()["count"] == before


def test_mlt_down_requests_that_need_it_get_503(
    client: TestClient, agents: dict[str, str]  # type: ignore[type-arg]
) -> None:
    fact = _fact(client)
    client.delete(f"{API}/memory/organ:{agents['organ']}/{fact}")
    with _Down("postgres"):
        status, backends = _readiness(client)
        assert status == 503 and backends["holon_store"] != "ok"
        response = client.post(f"{API}/tasks", json={
            "type": "knowledge", "required_facts": [fact], "agent_hint": agents["agent"]})
        assert response.status_code == 503
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert problem["status"] == 503 and problem["backend"]
        assert client.get(f"{API}/holons/{fact}").status_code == 503
    assert client.get(f"{API}/holons/{fact}").status_code == 200


def test_graph_down_a_holon_write_leaves_no_orphan_row(
    client: TestClient, agents: dict[str, str]  # type: ignore[type-arg]
) -> None:
    anchor = _fact(client)
    holon = str(uuid.uuid4())
    with _Down("graph"):
        status, backends = _readiness(client)
        assert status == 503 and backends["graph"] != "ok"
        response = client.post(f"{API}/holons", json={
            "uuid": holon, "content": "never half-written", "kind": "fact",
            "edges": [{"rel": "RELATES_TO", "to": anchor}]})
        assert response.status_code == 503, response.text
    assert client.get(f"{API}/holons/{holon}").status_code == 404
    assert _readiness(client)[0] == 200
