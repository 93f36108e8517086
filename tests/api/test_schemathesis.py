"""Property-based tests from the app's own OpenAPI schema (schemathesis 4).

Every operation gets generated requests, valid and invalid, on a fixed budget; every response
must be a documented status (never a 5xx) with the documented content type and body schema.
The app is seeded with an organ, agents and a holon so that tasks and lookups can succeed.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from prometheus_client import CollectorRegistry
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.memory.clock import FakeClock
from adapters.memory.operations import ScriptedOperations
from application.tier0 import AgentSpec
from entrypoints.api import create_app
from entrypoints.bootstrap import build_services, in_memory_adapters
from tests.api.conftest import api_config

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def seeded_app() -> Litestar:
    clock = FakeClock()
    config = api_config()
    operations = ScriptedOperations({"ok": lambda operation, timeout: {"status": 200}})
    adapters = in_memory_adapters(clock=clock, config=config, operations=operations)
    services = build_services(adapters, config)
    services.tier0.create_organ("seed", "utility")
    services.tier0.create_agents([AgentSpec("seed", f"seed-{k}", 1024) for k in range(4)])
    memory = services.memory
    memory.remember([memory.make_holon("The sky is blue.", "fact")])
    return create_app(services, ledger=adapters.ledger, registry=CollectorRegistry())


schema = schemathesis.openapi.from_asgi("/schema/openapi.json", seeded_app())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(checks=CHECKS)
