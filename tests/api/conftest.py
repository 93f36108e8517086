"""The API under test: the Litestar app over services on the in-memory adapters, a fake clock
and scripted operations (so no test reaches the network unless it asks to)."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client import CollectorRegistry

from adapters.memory.clock import FakeClock
from adapters.memory.operations import ScriptedOperations
from application.ports.operations import OperationExecutor
from application.services import Services
from domain.config import DomainConfig
from entrypoints.api import create_app
from entrypoints.bootstrap import Adapters, build_services, in_memory_adapters

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
#: The working-memory TTL of these tests: short, so expiry is one clock step away.
TTL_S = 5.0


def api_config() -> DomainConfig:
    base = DomainConfig()
    return replace(
        base,
        memory=replace(base.memory, mw_ttl_s=TTL_S),
        selection=replace(base.selection, epsilon=0.0),
    )


@dataclass
class Api:
    """A running app, its client, and what is behind it."""

    client: TestClient[Litestar]
    services: Services
    adapters: Adapters
    clock: FakeClock
    registry: CollectorRegistry

    def organ(self, organ_id: str, organ_type: str = "utility") -> dict[str, Any]:
        response = self.client.post(f"{API}/organs",
                                    json={"organ_id": organ_id, "organ_type": organ_type})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def agents(self, organ_id: str, *agent_ids: str, **spec: Any) -> list[dict[str, Any]]:
        body = {"agents": [{"organ_id": organ_id, "agent_id": a, **spec} for a in agent_ids]}
        response = self.client.post(f"{API}/agents", json=body)
        assert response.status_code == 201, response.text
        return list(response.json()["agents"])

    def task(self, body: Mapping[str, Any], headers: Mapping[str, str] | None = None,
             status: int = 201) -> dict[str, Any]:
        response = self.client.post(f"{API}/tasks", json=dict(body), headers=dict(headers or {}))
        assert response.status_code == status, response.text
        return dict(response.json())


def start_api(operations: OperationExecutor | None = None,
              config: DomainConfig | None = None) -> Iterator[Api]:
    clock = FakeClock()
    config = config or api_config()
    adapters = in_memory_adapters(clock=clock, config=config,
                                  operations=operations or ScriptedOperations())
    services = build_services(adapters, config)
    registry = CollectorRegistry()
    app = create_app(services, ledger=adapters.ledger, registry=registry)
    with TestClient(app=app) as client:
        yield Api(client, services, adapters, clock, registry)


@pytest.fixture
def api() -> Iterator[Api]:
    yield from start_api()


@pytest.fixture
def client(api: Api) -> TestClient[Litestar]:
    return api.client


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/x"


def assert_problem(response: Any, status: int, type_suffix: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with that status; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = dict(response.json())
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    assert unquote(body["instance"]) == response.request.url.path
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if type_suffix is not None:
        assert body["type"].endswith(type_suffix), body["type"]
    return body
