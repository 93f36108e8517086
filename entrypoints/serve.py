"""``seedcore serve``: the HTTP API and the control loops in one process."""

from __future__ import annotations

import threading

import structlog
import uvicorn
from prometheus_client import CollectorRegistry

from application.services import Services
from entrypoints.worker import Worker, default_owner

__all__ = ["serve"]

log = structlog.get_logger("seedcore.serve")


def serve(services: Services, host: str, port: int, registry: CollectorRegistry,
          with_loops: bool = True) -> None:
    """Serve until interrupted; uvicorn handles SIGTERM/SIGINT, then the loops stop."""
    from entrypoints.api import create_app
    from entrypoints.api.health import default_readiness
    from entrypoints.observability import register_collectors

    readiness = default_readiness(services, None)
    register_collectors(registry, services, readiness)

    worker = Worker(services, services.lock, default_owner()) if with_loops else None
    thread = None
    if worker is not None:
        thread = threading.Thread(target=worker.run, name="seedcore-loops", daemon=True)
        thread.start()
    url = f"http://{host}:{port}"
    log.info("serving", url=url, docs=f"{url}/schema", try_it=f"seedcore scenario 1 --url {url}")
    print(f"SeedCore is up at {url}  (API under {url}/api/v1, OpenAPI at {url}/schema)")
    print(f"Try: .venv/bin/seedcore scenario 1 --url {url}", flush=True)
    try:
        uvicorn.run(create_app(services, readiness, registry=registry), host=host, port=port,
                    log_level="warning", access_log=False)
    finally:
        if worker is not None and thread is not None:
            worker.stop()
            thread.join(timeout=10.0)
