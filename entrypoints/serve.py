"""``seedcore serve``: the HTTP API and the control loops in one process."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from signal import SIGINT, SIGTERM

import structlog
import uvicorn
from prometheus_client import CollectorRegistry

from application.services import Services
from entrypoints.worker import Worker, default_owner

__all__ = ["serve"]


class _Server(uvicorn.Server):
    """uvicorn re-raises a caught SIGTERM after its graceful shutdown, which turns a clean stop
    into exit status -15; a stop we asked for is a success, so the signal is not re-raised."""

    def capture_signals(self) -> AbstractContextManager[None]:  # type: ignore[override]
        return _no_reraise(self)


@contextmanager
def _no_reraise(server: uvicorn.Server) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, server.handle_exit) for sig in (SIGINT, SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

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
    server = _Server(uvicorn.Config(create_app(services, readiness, registry=registry),
                                    host=host, port=port, log_level="warning", access_log=False))
    try:
        server.run()
    finally:
        if worker is not None and thread is not None:
            worker.stop()
            thread.join(timeout=10.0)
