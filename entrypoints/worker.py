"""The worker: runs the control loops on their schedules until asked to stop.

A stop request (SIGTERM, SIGINT, or :meth:`Worker.stop`) lets the loop run in progress finish;
singleton leases are released on the way out so another worker can take over at once.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType

import structlog

from application.loops import LoopRun, LoopScheduler
from application.ports.lock import LeaseLock
from application.services import Services, control_loops

__all__ = ["Worker", "default_owner"]

log = structlog.get_logger("seedcore.worker")
_MAX_SLEEP_S = 1.0


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(
        self,
        services: Services,
        lock: LeaseLock,
        owner: str,
        sleep: Callable[[float], bool] | None = None,
    ) -> None:
        self._stop = threading.Event()
        self._signal: str | None = None
        self.scheduler = LoopScheduler(
            control_loops(services), services.clock, lock, services.metrics, owner
        )
        # ``sleep`` returns True when woken by a stop request; tests pass their own.
        self._sleep = sleep or self._stop.wait

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            # Only set the flag: logging here could wait forever on the logger's lock if the
            # signal lands while the main thread holds it mid-write.
            self._signal = signal.Signals(signum).name
            self.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run_once(self) -> list[LoopRun]:
        runs = self.scheduler.run_due()
        for run in runs:
            _log_run(run)
        return runs

    def run_in_background(self, grace_s: float = 30.0) -> bool:
        """Run the loops on a thread of their own until a stop is requested (a signal handled
        by this, the main, thread), then give the loop in progress ``grace_s`` to finish.
        Returns False when it did not: a call stuck in a backend must not keep the process
        from stopping (the loops' thread is a daemon and ends with it)."""
        thread = threading.Thread(target=self.run, name="seedcore-loops", daemon=True)
        thread.start()
        while thread.is_alive() and not self._stop.is_set():
            thread.join(timeout=0.2)  # wakes for signal handlers too
        thread.join(timeout=grace_s)
        if thread.is_alive():
            log.warning("worker_stop_timeout", grace_s=grace_s,
                        reason="a loop run did not finish in time")
            return False
        return True

    def run(self) -> None:
        log.info("worker_started", owner=self.scheduler.owner,
                 loops=[loop.name for loop in self.scheduler.loops])
        try:
            while not self._stop.is_set():
                self.run_once()
                wait = min(_MAX_SLEEP_S, self.scheduler.seconds_until_due())
                if wait > 0 and self._sleep(wait):
                    break
        finally:
            if self._signal is not None:
                log.info("worker_stopping", signal=self._signal)
            self.scheduler.release_all()
            log.info("worker_stopped", owner=self.scheduler.owner)


def _log_run(run: LoopRun) -> None:
    fields = {"loop": run.loop, "duration_ms": round(run.duration_ms, 3), **run.details}
    if run.skipped:
        log.debug("loop_skipped", **fields)
    elif run.ok:
        log.info("loop_run", **fields)
    else:
        log.warning("loop_failed", error=run.error, **fields)
