"""``seedcore bench api``: task submissions from concurrent clients on loopback.

Starts ``seedcore serve`` (embedded profile, a temporary data directory) in a child process
unless ``--url`` names a running deployment, creates an organ of agents, then keeps
``clients`` HTTP/1.1 keep-alive connections busy submitting ``general`` tasks for ``duration``
seconds after a warm-up. The client is a minimal asyncio one so that the load generator costs
as little CPU as possible on the same machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlsplit

import numpy as np

__all__ = ["ApiBenchResult", "run"]

GOAL_TASKS_PER_S = 1000.0
GOAL_P95_MS = 20.0


@dataclass(frozen=True, slots=True)
class ApiBenchResult:
    clients: int
    seconds: float
    completed: int
    failed: int
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(url: str, method: str, body: object | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read() or b"null")


def _wait_ready(base: str, proc: subprocess.Popen[bytes] | None, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        try:
            _request(f"{base}/healthz", "GET")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{base} did not become healthy within {timeout_s:.0f} s")


async def _client(host: str, port: int, body: bytes, stop_at: float, measure_from: float,
                  latencies: list[float], failures: list[int], interval: float | None,
                  offset: float) -> None:
    """One keep-alive connection. Closed loop (the next request when the answer is in), or,
    with ``interval``, paced: requests are due every ``interval`` seconds and latency counts
    from when a request was due, so a slow answer is not hidden by a late send."""
    reader, writer = await asyncio.open_connection(host, port)
    head = (f"POST /api/v1/tasks HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    due = time.perf_counter() + offset
    try:
        while True:
            if interval is not None:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                started = due
                due += interval
            else:
                started = time.perf_counter()
            if started >= stop_at:
                return
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            finished = time.perf_counter()
            if started < measure_from:
                continue
            if status_line.split(b" ")[1:2] == [b"201"]:
                latencies.append(finished - started)
            else:
                failures.append(1)
    finally:
        writer.close()


async def _drive(base: str, clients: int, warmup_s: float, duration_s: float,
                 organ_id: str, rate: float | None) -> tuple[list[float], int, float]:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    body = json.dumps({"type": "general", "organ_hint": organ_id}).encode()
    latencies: list[float] = []
    failures: list[int] = []
    now = time.perf_counter()
    measure_from, stop_at = now + warmup_s, now + warmup_s + duration_s
    interval = None if rate is None else clients / rate
    await asyncio.gather(*(
        _client(host, port, body, stop_at, measure_from, latencies, failures, interval,
                0.0 if interval is None else interval * k / clients)
        for k in range(clients)
    ))
    return latencies, len(failures), duration_s


def run(clients: int = 32, duration_s: float = 10.0, warmup_s: float = 2.0, agents: int = 64,
        url: str | None = None, rate: float | None = None, runtime: str = "ray",
        out: TextIO = sys.stdout) -> ApiBenchResult:
    """Closed loop by default (throughput is the maximum the server sustains); with ``rate``,
    the clients together offer that many tasks per second and latency is measured at it. The
    local server runs its agents on ``runtime`` (``ray``, its default, or ``inprocess``)."""
    proc = None
    tmp = None
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="seedcore-bench-")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "SEEDCORE_DATA_DIR": tmp.name, "SEEDCORE_PORT": str(port),
               "SEEDCORE_LOG_LEVEL": "warning", "SEEDCORE_RUNTIME": runtime}
        proc = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(url, proc)
        organ_id = f"bench-{int(time.time())}"
        _request(f"{url}/api/v1/organs", "POST", {"organ_id": organ_id, "organ_type": "utility"})
        _request(f"{url}/api/v1/agents", "POST",
                 {"agents": [{"organ_id": organ_id, "capacity": 64} for _ in range(agents)]})
        latencies, failed, seconds = asyncio.run(
            _drive(url, clients, warmup_s, duration_s, organ_id, rate))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        if tmp is not None:
            tmp.cleanup()
    ms = np.array(latencies) * 1000.0 if latencies else np.zeros(1)
    result = ApiBenchResult(
        clients=clients, seconds=seconds, completed=len(latencies), failed=failed,
        throughput=len(latencies) / seconds,
        p50_ms=float(np.percentile(ms, 50)), p95_ms=float(np.percentile(ms, 95)),
        p99_ms=float(np.percentile(ms, 99)),
    )
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}", file=out)
    where = f"a local `seedcore serve`, {runtime} runtime" if proc is not None else "--url"
    print(f"target: {url} ({where}; POST /api/v1/tasks, type general, {agents} agents)",
          file=out)
    mode = "closed loop" if rate is None else f"paced at {rate:,.0f} tasks/s offered"
    print(f"clients: {clients} ({mode}), measured: {seconds:.1f} s after {warmup_s:.1f} s "
          "warm-up", file=out)
    print(f"completed: {result.completed}, failed: {result.failed}", file=out)
    print(f"throughput: {result.throughput:,.0f} tasks/s "
          f"(goal >= {GOAL_TASKS_PER_S:,.0f}: "
          f"{'PASS' if result.throughput >= GOAL_TASKS_PER_S else 'MISS'})", file=out)
    print(f"latency ms: p50 {result.p50_ms:.2f}  p95 {result.p95_ms:.2f}  p99 {result.p99_ms:.2f}"
          f"  (goal p95 < {GOAL_P95_MS:.0f}: {'PASS' if result.p95_ms < GOAL_P95_MS else 'MISS'})",
          file=out)
    return result
