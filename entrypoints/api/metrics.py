"""``/metrics``: the Prometheus text exposition format (0.0.4), at the root and under
``/api/v1``."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from prometheus_client import generate_latest

from entrypoints.api.context import ContextDep

__all__ = ["CONTENT_TYPE", "metrics_handlers"]

CONTENT_TYPE = "text/plain; version=0.0.4"  # Litestar appends "; charset=utf-8"


def metrics(context: ContextDep) -> Response[bytes]:
    return Response(generate_latest(context.registry), media_type=CONTENT_TYPE)


def metrics_handlers(paths: Sequence[str]) -> list[HTTPRouteHandler]:
    """``metrics`` under each path prefix (one handler object per path)."""
    return [
        get(f"{prefix}/metrics", sync_to_thread=True, tags=["metrics"],
            summary="Metrics in the Prometheus text format", media_type=CONTENT_TYPE)(metrics)
        for prefix in paths
    ]
