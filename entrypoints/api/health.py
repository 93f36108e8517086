"""Liveness (``/healthz``) and readiness (``/readyz``), at the root and under ``/api/v1``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from msgspec import Struct

from application.errors import BackendUnavailable
from application.ports.ledger_store import LedgerStore
from application.services import Services
from domain.ledger import Scope
from entrypoints.api.context import ContextDep, Readiness

__all__ = ["default_readiness", "health_handlers"]

OK = "ok"


class Liveness(Struct):
    status: str


class ReadinessOut(Struct):
    """``ok`` when every backend is; each backend's own status otherwise."""

    status: str
    backends: dict[str, str]


def _check(probe: Callable[[], object]) -> str:
    try:
        probe()
    except BackendUnavailable as down:
        return f"unavailable: {down.reason}"
    except Exception as exc:  # a probe must answer, whatever the backend does
        return f"error: {type(exc).__name__}"
    return OK


def default_readiness(services: Services, ledger: LedgerStore | None) -> Readiness:
    """Ping every backend the services reach. The incident store, the consolidation queue and
    (without ``ledger``) the energy ledger have no ping on their services' surface: a cheap
    read stands in for it."""
    memory = services.memory
    probes: dict[str, Callable[[], object]] = {
        "working_memory": memory.working.ping,
        "holon_store": memory.holons.ping,
        "graph": memory.graph.ping,
        "incident_store": services.incidents.ping,
        "consolidation_queue": memory.queue.size,
        "ledger": (ledger.ping if ledger is not None
                   else lambda: services.energy.balance(Scope.CLUSTER, "cluster")),
        "runtime": services.tier0.hosts,  # every host of the agents answers
    }

    def readiness() -> dict[str, str]:
        return {name: _check(probe) for name, probe in probes.items()}

    return readiness


async def healthz() -> Liveness:
    """Liveness: no backend is asked, and no worker thread is needed to answer."""
    return Liveness(OK)


def readyz(context: ContextDep) -> Response[ReadinessOut]:
    backends = context.readiness()
    ready = all(status == OK for status in backends.values())
    return Response(ReadinessOut(OK if ready else "unavailable", backends),
                    status_code=200 if ready else 503)


def health_handlers(paths: Sequence[str]) -> list[HTTPRouteHandler]:
    """``healthz`` and ``readyz`` under each path prefix (one handler per path: Litestar
    wraps a sync handler once per handler object)."""
    handlers: list[HTTPRouteHandler] = []
    for prefix in paths:
        handlers.append(get(f"{prefix}/healthz", tags=["health"],
                            summary="Liveness: the process answers")(healthz))
        handlers.append(get(
            f"{prefix}/readyz",
            sync_to_thread=True,
            tags=["health"],
            summary="Readiness: 200 when every backend is ok, 503 otherwise",
            responses={
                503: ResponseSpec(ReadinessOut, description="At least one backend is not ok.",
                                  generate_examples=False),
            },
        )(readyz))
    return handlers
