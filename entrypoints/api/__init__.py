"""The HTTP API: a Litestar app over the application services, versioned under ``/api/v1``.

Handlers are thin (parse, call one service, convert) and synchronous: the services block, so
Litestar runs them in its thread pool. Errors leave as RFC 9457 problem details
(:mod:`entrypoints.api.problems`); lists are cursor-paginated (:mod:`entrypoints.api.pagination`).
The OpenAPI schema is served at ``/schema/openapi.json``.
"""

from __future__ import annotations

from importlib import metadata

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from prometheus_client import REGISTRY, CollectorRegistry

from application.ports.ledger_store import LedgerStore
from application.services import Services
from entrypoints.api.agents import AgentController
from entrypoints.api.alerts import AlertController
from entrypoints.api.context import ApiContext, Readiness
from entrypoints.api.energy import EnergyController
from entrypoints.api.health import default_readiness, health_handlers
from entrypoints.api.holons import HolonController
from entrypoints.api.incidents import IncidentController
from entrypoints.api.memory import MemoryController
from entrypoints.api.metrics import metrics_handlers
from entrypoints.api.openapi import tidy
from entrypoints.api.organs import OrganController
from entrypoints.api.problems import exception_handlers
from entrypoints.api.runtime import RuntimeController
from entrypoints.api.tasks import TaskController

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def _version() -> str:
    try:
        return metadata.version("seedcore")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def create_app(
    services: Services,
    readiness: Readiness | None = None,
    *,
    ledger: LedgerStore | None = None,
    registry: CollectorRegistry | None = None,
    debug: bool = False,
) -> Litestar:
    """The API over ``services``.

    ``readiness`` reports each backend's status (default: ping every backend the services
    reach); ``ledger`` lets that default ping the energy ledger store itself (without it, a
    ledger read stands in); ``registry`` is the Prometheus registry ``/metrics`` exposes
    (default: the global one).
    """
    ready = readiness if readiness is not None else default_readiness(services, ledger)
    context = ApiContext(ready, registry if registry is not None else REGISTRY)

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            OrganController,
            RuntimeController,
            AgentController,
            TaskController,
            EnergyController,
            MemoryController,
            HolonController,
            IncidentController,
            AlertController,
        ],
    )
    app = Litestar(
        route_handlers=[
            api, *health_handlers(["", API_PREFIX]), *metrics_handlers(["", API_PREFIX]),
        ],
        dependencies={
            "services": Provide(lambda: services, use_cache=True, sync_to_thread=False),
            "context": Provide(lambda: context, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=exception_handlers(),
        openapi_config=OpenAPIConfig(
            title="SeedCore",
            version=_version(),
            description="Populations of cooperating agents with a multi-tier memory and an "
            "energy model. Errors are RFC 9457 problem details; lists are cursor-paginated.",
            path="/schema",
        ),
        debug=debug,
    )
    tidy(app)
    return app

