"""Faults of the real Redis and MySQL servers, as the adapters must live through them.

The outage tests stop a real service with ``scripts/services.sh stop`` and always start it
again (in ``finally``): every call must raise ``BackendUnavailable`` promptly, nothing partial
may be written, and the same adapter objects must work again once the server is back, with
no failed first call on connections that died in their pool. The other tests need no
outage: a listener that never answers (a hung server), a closed port, a wrong password.

This directory has no ``__init__.py`` on purpose: ``tests/backends.py`` is a module, and a
package of the same name would hide it from every other test. Without the package, ``tests``
is not importable when this file runs alone, so the URLs come from the ``SEEDCORE_*``
variables or else from ``scripts/services.sh env``, the source of ``tests/backends.py``'s
defaults too.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pymysql
import pytest

from adapters.mysql.incident_store import MySqlIncidentStore, parse_mysql_url
from adapters.redis.client import RedisClient
from adapters.redis.consolidation_queue import RedisConsolidationQueue
from adapters.redis.lock import RedisLeaseLock
from adapters.redis.outcome_store import RedisOutcomeStore
from adapters.redis.working_memory import RedisWorkingMemory
from application.errors import BackendUnavailable
from application.ports.consolidation_queue import PendingItem
from domain.incident import Incident

pytestmark = pytest.mark.backends

REPO = Path(__file__).resolve().parents[2]
SERVICES = REPO / "scripts" / "services.sh"
#: How long a call may take to report an unreachable backend.
PROMPTLY_S = 3.0
NOW = 1_700_000_000.0
PASSWORD = "s3cret-Pa55word"


@functools.cache
def _service_env() -> dict[str, str]:
    done = subprocess.run(
        [str(SERVICES), "env"], cwd=REPO, capture_output=True, text=True, timeout=30, check=True
    )
    pairs = (line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    return {name: value for name, value in pairs}


def backend_url(name: str) -> str:
    """The URL the tests use for one backend (``SEEDCORE_REDIS_URL``, ``SEEDCORE_MYSQL_URL``)."""
    return os.environ.get(name) or _service_env()[name]


def _services(*args: str) -> None:
    done = subprocess.run(
        [str(SERVICES), *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"services.sh {' '.join(args)} failed:\n{done.stderr}"


@contextmanager
def stopped(service: str) -> Iterator[None]:
    """The real service is down for the block, and up again after it, whatever happens."""
    _services("stop", service)
    try:
        yield
    finally:
        _services("start", service)


def _fails_promptly(call: Callable[[], Any], backend: str) -> BackendUnavailable:
    began = time.monotonic()
    with pytest.raises(BackendUnavailable) as failure:
        call()
    elapsed = time.monotonic() - began
    assert elapsed < PROMPTLY_S, f"took {elapsed:.2f} s to report the outage"
    assert failure.value.backend == backend
    return failure.value


def _concurrently(call: Callable[[], Any], threads: int = 4) -> None:
    """Run ``call`` in several threads at once, so the pool holds several connections."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            for _ in range(20):
                call()
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []


@contextmanager
def black_hole() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- Redis ---------------------------------------------------------------------------------


@pytest.fixture
def redis_client() -> Iterator[tuple[RedisClient, str]]:
    client = RedisClient(backend_url("SEEDCORE_REDIS_URL"))
    prefix = f"sctest-{uuid.uuid4().hex[:16]}"
    try:
        yield client, prefix
    finally:
        with suppress(Exception):
            found = list(client.redis.scan_iter(match=f"{prefix}:*", count=1000))
            for start in range(0, len(found), 1000):
                client.redis.unlink(*found[start : start + 1000])
        client.close()


def test_redis_adapters_fail_fast_while_redis_is_down_and_recover(
    redis_client: tuple[RedisClient, str],
) -> None:
    client, prefix = redis_client
    memory = RedisWorkingMemory(client, item_cap=100, miss_window_s=60.0, prefix=prefix)
    queue = RedisConsolidationQueue(client, prefix=prefix)
    lock = RedisLeaseLock(client, prefix=prefix)
    outcomes = RedisOutcomeStore(client, prefix=prefix)
    pending = PendingItem("item-1", "content", "consolidated", 0.5, NOW)
    memory.set("global", "k", b"v", 60.0)
    _concurrently(lambda: memory.get("global", "k"))  # several pooled connections

    with stopped("redis"):
        calls: list[Callable[[], Any]] = [
            memory.ping,
            lambda: memory.get("global", "k", renew_for=60.0),
            lambda: memory.set("global", "during", b"v", 60.0),
            lambda: memory.contains_many("global", ["k"]),
            lambda: memory.stats("global"),
            lambda: memory.record_item_miss("fact"),
            lambda: memory.delete_namespace("organ:a"),
            lambda: queue.enqueue(pending, 0.5),
            lambda: queue.peek(10),
            lambda: lock.acquire("loop", "worker-a", 5.0),
            lambda: outcomes.claim("idem", "task-a"),
        ]
        for call in calls:
            _fails_promptly(call, "redis")

    # The same objects work again, from the first call and on every pooled connection.
    memory.set("global", "after", b"w", 60.0)
    _concurrently(lambda: memory.get("global", "after"))
    assert memory.get("global", "after") == b"w"
    # Nothing of the failed calls was written or counted. (The test server keeps no data
    # across a restart; one that persists would still hold "k" and its 80 hits.)
    survived = memory.contains_many("global", ["k"])[0]
    assert memory.contains_many("global", ["during", "after"]) == [False, True]
    stats = memory.stats("global")
    expected = (2, 161, 0) if survived else (1, 81, 0)
    assert (stats.items, stats.hits, stats.misses) == expected
    assert memory.item_misses(["fact"]) == {"fact": 0}
    assert queue.size() == 0
    assert lock.acquire("loop", "worker-b", 5.0) is True
    assert outcomes.claim("idem", "task-b") is None


def test_a_hung_redis_times_out_within_the_socket_timeout() -> None:
    with black_hole() as port:
        client = RedisClient(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
        memory = RedisWorkingMemory(client)
        try:
            failure = _fails_promptly(lambda: memory.get("global", "k"), "redis")
        finally:
            client.close()
    assert PASSWORD not in str(failure)


def test_a_refused_redis_connection_names_no_password() -> None:
    client = RedisClient(f"redis://user:{PASSWORD}@127.0.0.1:{_closed_port()}/0")
    try:
        failure = _fails_promptly(client.ping, "redis")
    finally:
        client.close()
    assert PASSWORD not in str(failure)
    assert PASSWORD not in failure.reason


# -- MySQL ---------------------------------------------------------------------------------


def _server(url: str) -> pymysql.connections.Connection[Any]:
    params = parse_mysql_url(url)
    del params["database"]
    return pymysql.connect(**params, connect_timeout=2, read_timeout=10, autocommit=True)


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A database of its own, dropped after the test (the server is up again by then)."""
    base = backend_url("SEEDCORE_MYSQL_URL")
    name = f"seedcore_ft_{uuid.uuid4().hex[:12]}"
    conn = _server(base)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        conn.close()
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        conn = _server(base)
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()


def incident(incident_id: str, ts: float = NOW, salience: float = 0.9) -> Incident:
    return Incident(
        incident_id=incident_id,
        ts=ts,
        salience=salience,
        agent_id="agent-1",
        organ_id="organ-1",
        task={"task_id": f"task-{incident_id}", "risk": 0.9},
        error={"type": "Timeout", "code": "E_TIMEOUT"},
        snapshot={"h": [0.1, 0.2], "energy": {"window_joules": 0.5}},
    )


def test_the_incident_store_fails_fast_while_mysql_is_down_and_keeps_nothing_partial(
    mysql_url: str,
) -> None:
    store = MySqlIncidentStore(mysql_url)
    try:
        store.append(incident("before"))
        _concurrently(lambda: store.get("before"))  # several pooled connections
        count_before = store.stats(NOW).count

        with stopped("mysql"):
            calls: list[Callable[[], Any]] = [
                store.ping,
                lambda: store.append(incident("during")),
                lambda: store.get("before"),
                lambda: store.query(0.0, 2 * NOW, 0.0, 10),
                lambda: store.stats(NOW),
            ]
            for call in calls:
                _fails_promptly(call, "incident_store")

        # The same store works again from the first call, on every pooled connection.
        store.append(incident("after", ts=NOW + 1))
        _concurrently(lambda: store.get("after"))
        assert store.get("during") is None
        assert store.stats(NOW + 1).count == count_before + 1
        assert [i.incident_id for i in store.query(0.0, 2 * NOW, 0.0, 10)] == ["before", "after"]
    finally:
        store.close()


def test_a_hung_mysql_times_out_within_the_connect_timeout() -> None:
    with black_hole() as port:
        store = MySqlIncidentStore(f"mysql://seedcore:{PASSWORD}@127.0.0.1:{port}/seedcore")
        failure = _fails_promptly(lambda: store.append(incident("x")), "incident_store")
    assert PASSWORD not in str(failure)


def test_a_wrong_password_is_unavailable_and_never_echoed(mysql_url: str) -> None:
    params = parse_mysql_url(mysql_url)
    url = f"mysql://{params['user']}:{PASSWORD}@{params['host']}:{params['port']}/seedcore"
    store = MySqlIncidentStore(url)
    failure = _fails_promptly(store.ping, "incident_store")
    assert "Access denied" in failure.reason
    assert PASSWORD not in str(failure)


def test_sql_metacharacters_in_ids_and_cursors_are_data(mysql_url: str) -> None:
    store = MySqlIncidentStore(mysql_url)
    try:
        hostile = "x' OR '1'='1"
        store.append(incident(hostile))
        store.append(incident("y", ts=NOW + 1))
        assert store.get(hostile) is not None
        assert store.get("' OR 1=1 -- ") is None
        page = store.query(0.0, 2 * NOW, 0.0, 10, after=(NOW, "x' OR '1'='1' -- "))
        assert [i.incident_id for i in page] == ["y"]
        with pytest.raises(ValueError, match="NaN"):
            store.query(float("nan"), NOW, 0.0, 10)
        assert store.stats(NOW + 1).count == 2
    finally:
        store.close()
