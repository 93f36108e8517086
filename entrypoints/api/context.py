"""What handlers receive besides the services: the backends the services do not expose."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from litestar.di import NamedDependency
from prometheus_client import CollectorRegistry

from application.services import Services

__all__ = ["ApiContext", "ContextDep", "Readiness", "ServicesDep"]

#: Each backend's status: ``ok``, or why it is not.
Readiness = Callable[[], dict[str, str]]


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The readiness check and the Prometheus registry."""

    readiness: Readiness
    registry: CollectorRegistry


#: What a handler declares to receive the services and the context.
ServicesDep = NamedDependency[Services]
ContextDep = NamedDependency[ApiContext]
