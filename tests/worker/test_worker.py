"""The worker: loops on schedule (fake clock), singleton leases, and a clean SIGTERM stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from adapters.memory.clock import FakeClock
from adapters.memory.lock import InMemoryLeaseLock
from application.tier0 import HeartbeatReport
from domain.config import DomainConfig
from entrypoints.bootstrap import build_services, in_memory_adapters
from entrypoints.worker import Worker
from tests.ports import free_port


def make_worker(clock: FakeClock, lock: InMemoryLeaseLock, owner: str) -> Worker:
    adapters = in_memory_adapters(clock=clock)
    services = build_services(adapters, DomainConfig())

    def fake_sleep(seconds: float) -> bool:
        clock.advance(seconds)
        return False

    return Worker(services, lock, owner, sleep=fake_sleep)


def test_each_loop_runs_on_its_schedule() -> None:
    clock = FakeClock()
    worker = make_worker(clock, InMemoryLeaseLock(clock), "w1")
    runs: Counter[str] = Counter()
    start = clock.now()
    while clock.now() - start < 60.0:
        for run in worker.run_once():
            assert run.ok, run.error
            runs[run.loop] += 1
        clock.advance(0.5)
    # 60 s at periods of 10, 5, 20, 2 and 5 s, each also running at t = 0.
    assert runs == Counter(heartbeats=6, energy_snapshot=12, role_evolution=3,
                           consolidation=30, hot_miss_promotion=12)


def test_a_second_worker_does_not_run_a_singleton_loop_the_first_holds() -> None:
    clock = FakeClock()
    lock = InMemoryLeaseLock(clock)
    first, second = make_worker(clock, lock, "w1"), make_worker(clock, lock, "w2")
    first_runs = {r.loop: r for r in first.run_once()}
    second_runs = {r.loop: r for r in second.run_once()}
    assert not first_runs["consolidation"].skipped
    assert second_runs["consolidation"].skipped
    assert not second_runs["heartbeats"].skipped  # every worker refreshes its own view
    # Once the first releases its leases (a clean stop), the second takes over.
    first.scheduler.release_all()
    clock.advance(2.0)
    assert not {r.loop: r for r in second.run_once()}["consolidation"].skipped


def test_sigterm_stops_the_worker_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "SEEDCORE_DATA_DIR": str(tmp_path), "SEEDCORE_LOG_FORMAT": "json",
           "SEEDCORE_METRICS_PORT": str(free_port())}
    proc = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "worker"],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:  # ends when the worker exits
            lines.append(line)
            if '"loop_run"' in line:
                break
        assert any('"loop_run"' in line for line in lines), "".join(lines)
        proc.send_signal(signal.SIGTERM)
        # The stream is read while waiting: a worker blocked on a full stderr pipe never exits.
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 0, rest[-4000:]
        assert '"worker_stopped"' in rest and '"ray_left"' in rest, rest[-4000:]
    finally:
        proc.kill()



def test_a_stop_waits_for_the_running_loop_then_gives_up_after_the_grace_period() -> None:
    """A loop stuck in a backend call must not keep the process from stopping."""
    services = build_services(in_memory_adapters(), DomainConfig())
    entered, release = threading.Event(), threading.Event()

    def stuck_collection() -> HeartbeatReport:
        entered.set()
        release.wait(timeout=30)
        return HeartbeatReport(0, 0, 0, 0)

    services.tier0.collect_heartbeats = stuck_collection  # type: ignore[method-assign]
    worker = Worker(services, services.lock, "w-stuck")
    def stop_once_stuck() -> None:
        entered.wait(10)
        worker.stop()

    threading.Thread(target=stop_once_stuck).start()
    started = time.monotonic()
    assert worker.run_in_background(grace_s=0.5) is False
    assert time.monotonic() - started < 10

    release.set()  # the same, with a loop that finishes: a clean stop
    worker = Worker(services, services.lock, "w-ok")
    threading.Timer(0.3, worker.stop).start()
    assert worker.run_in_background(grace_s=30) is True
