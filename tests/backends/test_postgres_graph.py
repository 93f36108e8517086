"""What the contract suites cannot show on PostgreSQL + pgvector and the Bolt graph server.

The search plan uses the HNSW index once the table is large enough; bulk loads through binary
``COPY``; filtered searches still find matches the HNSW walk misses; concurrent ledger appends
keep an unbroken chain; and each store raises ``BackendUnavailable`` promptly while its server
is stopped and works again once it is back. The fault tests stop and restart the shared
services with ``scripts/services.sh`` (other processes using them notice) and always restart
them in ``finally``.

Like its neighbours, this file imports nothing from ``tests`` (the directory has no
``__init__.py``, so that it does not hide ``tests/backends.py``, and ``tests`` is not importable
when the file runs alone): URLs come from the ``SEEDCORE_*`` variables, else from
``scripts/services.sh env``.
"""

from __future__ import annotations

import functools
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import numpy as np
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from adapters.neo4j.driver import make_driver
from adapters.neo4j.holon_graph import Neo4jHolonGraph
from adapters.postgres.holon_store import PostgresHolonStore
from adapters.postgres.ledger_store import PostgresLedgerStore
from adapters.postgres.migrations import HNSW_INDEX, migrate
from adapters.postgres.pool import PostgresPool
from application.errors import BackendUnavailable
from domain.holon import Edge, Holon, content_hash
from domain.ledger import LedgerError, Scope, next_transaction, replay

pytestmark = pytest.mark.backends

REPO = Path(__file__).resolve().parents[2]
SERVICES = REPO / "scripts" / "services.sh"
#: A call to a stopped server must fail within this many seconds (pool timeout 2 s).
PROMPT_S = 5.0
#: A restarted server must be usable through the same adapter within this many seconds.
RECOVERY_S = 30.0
T = TypeVar("T")


@functools.cache
def _service_env() -> dict[str, str]:
    done = subprocess.run([str(SERVICES), "env"], cwd=REPO, capture_output=True, text=True,
                          timeout=30, check=True)
    pairs = (line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    return {name: value for name, value in pairs}


def backend_url(name: str) -> str:
    return os.environ.get(name) or _service_env()[name]


def _holons(count: int, dim: int, rng: np.random.Generator, kind: str = "fact") -> list[Holon]:
    vectors = rng.standard_normal((count, dim))
    return [
        Holon(str(uuid.uuid4()), kind, f"holon {i}", vectors[i], {"team": ("red", "blue")[i % 2]},
              content_hash(f"holon {i}"), 1_700_000_000.0, 1_700_000_000.0)
        for i in range(count)
    ]


def _schema_pool(
    dsn: str, dim: int, settings: dict[str, str] | None = None
) -> tuple[PostgresPool, Callable[[], None]]:
    schema = f"backends_{uuid.uuid4().hex[:16]}"
    pool = PostgresPool(dsn, schema=schema, settings=settings, name=schema)

    def drop() -> None:
        pool.close()
        with psycopg.connect(backend_url("SEEDCORE_POSTGRES_DSN"), autocommit=True,
                             connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    try:
        migrate(pool, dim)
    except BaseException:
        drop()
        raise
    return pool, drop


@pytest.fixture
def pool64() -> Iterator[PostgresPool]:
    """A pool pinned to a fresh schema whose holons have 64 dimensions."""
    pool, drop = _schema_pool(backend_url("SEEDCORE_POSTGRES_DSN"), 64)
    try:
        yield pool
    finally:
        drop()


# -- the HNSW index and bulk loads --------------------------------------------------------


def test_the_search_plan_uses_the_hnsw_index(pool64: PostgresPool) -> None:
    store = PostgresHolonStore(pool64, 64)
    rng = np.random.default_rng(1)
    holons = _holons(10_000, 64, rng, kind="fact")
    holons += _holons(10_000, 64, rng, kind="note")
    store.bulk_load(holons)
    query = rng.standard_normal(64)
    unfiltered = store.explain_search(query, 10)
    assert f"Index Scan using {HNSW_INDEX}" in unfiltered, unfiltered
    assert "Seq Scan" not in unfiltered
    half = store.explain_search(query, 10, kind="fact")  # half the table: walk the index
    assert f"Index Scan using {HNSW_INDEX}" in half, half
    found = store.search(query, 10, kind="fact")
    assert len(found) == 10
    assert all(s.holon.kind == "fact" for s in found)
    assert [s.similarity for s in found] == sorted((s.similarity for s in found), reverse=True)


def test_bulk_load_copies_every_row_then_upserts(pool64: PostgresPool) -> None:
    store = PostgresHolonStore(pool64, 64)
    rng = np.random.default_rng(2)
    holons = _holons(5_000, 64, rng)
    assert store.bulk_load(holons) == 5_000
    assert store.count() == 5_000
    assert store.bytes_used() == sum(h.size_bytes for h in holons)
    sample = holons[1234]
    back = store.get(sample.uuid)
    assert back is not None
    assert (back.content, back.kind, dict(back.meta)) == (sample.content, "fact", sample.meta)
    np.testing.assert_allclose(back.embedding, sample.embedding, rtol=1e-6, atol=1e-6)
    (best,) = store.search(sample.embedding, 1)
    assert best.holon.uuid == sample.uuid

    # Into a non-empty table: 100 replaced, 100 new, a uuid repeated keeps its last holon.
    replaced = [Holon(h.uuid, "note", "replaced", h.embedding, {}) for h in holons[:100]]
    fresh = _holons(100, 64, rng)
    repeated = Holon(fresh[0].uuid, "note", "the last one", fresh[0].embedding, {})
    assert store.bulk_load([*replaced, *fresh, repeated]) == 200
    assert store.count() == 5_100
    first = store.get(holons[0].uuid)
    assert first is not None
    assert (first.content, first.kind) == ("replaced", "note")
    last = store.get(fresh[0].uuid)
    assert last is not None
    assert last.content == "the last one"


def test_a_bulk_load_with_a_wrong_dimension_writes_nothing(pool64: PostgresPool) -> None:
    store = PostgresHolonStore(pool64, 64)
    rng = np.random.default_rng(3)
    wrong = Holon(str(uuid.uuid4()), "fact", "wrong", np.ones(65), {})
    with pytest.raises(ValueError, match="dimension"):
        store.bulk_load([*_holons(10, 64, rng), wrong])
    assert store.count() == 0


def test_filtered_search_finds_rare_matches_the_index_walk_does_not_reach() -> None:
    """Three 'green' holons pointing away from the query among 3,000 close to it. The pool's
    settings force the HNSW path and stop its walk after 200 tuples, so the walk finds none of
    them: the exact fallback must still return all three, in order."""
    pool, drop = _schema_pool(
        backend_url("SEEDCORE_POSTGRES_DSN"),
        64,
        settings={"enable_seqscan": "off", "hnsw.max_scan_tuples": "200"},
    )
    try:
        store = PostgresHolonStore(pool, 64)
        rng = np.random.default_rng(4)
        query = np.zeros(64)
        query[0] = 1.0
        near = [
            Holon(h.uuid, "fact", f"near {i}", h.embedding * 0.05 + query, {"team": "red"})
            for i, h in enumerate(_holons(3_000, 64, rng))
        ]
        rare = []
        for i in range(3):
            vector = -query.copy()
            vector[1 + i] = 0.5 * (i + 1)  # cosines -0.89, -0.71, -0.55: no ties
            rare.append(Holon(str(uuid.uuid4()), "fact", f"rare {i}", vector, {"team": "green"}))
        store.bulk_load([*near, *rare])
        assert f"Index Scan using {HNSW_INDEX}" in store.explain_search(
            query, 5, meta={"team": "green"}
        )
        found = store.search(query, 5, meta={"team": "green"})
        assert [s.holon.content for s in found] == ["rare 2", "rare 1", "rare 0"]
        assert [s.similarity for s in found] == pytest.approx(
            [-1 / np.sqrt(1 + 0.25 * n * n) for n in (3, 2, 1)], abs=1e-5
        )
    finally:
        drop()


# -- the ledger under concurrent appends --------------------------------------------------


def test_concurrent_appends_keep_one_unbroken_chain(pool64: PostgresPool) -> None:
    store = PostgresLedgerStore(pool64)
    refused = 0
    lock = threading.Lock()

    def writer(name: str) -> None:
        nonlocal refused
        written = 0
        while written < 20:
            balance = store.balance(Scope.CLUSTER, "cluster")
            total = (balance.total if balance is not None else 0.0) - 0.25
            tx = next_transaction(balance, f"{name}-{written}", 1.0, Scope.CLUSTER, "cluster",
                                  "test", total, {"total": total}, 0.5)
            try:
                store.append([tx])
            except LedgerError:  # another writer moved the balance in between: read again
                with lock:
                    refused += 1
                continue
            written += 1

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    entries = store.transactions(1_000)
    assert [seq for seq, _ in entries] == list(range(1, 81))  # no gaps: refusals write nothing
    balance = store.balance(Scope.CLUSTER, "cluster")
    assert balance is not None
    assert balance.transactions == 80
    assert balance.total == pytest.approx(-20.0)
    assert replay(tx for _, tx in entries)[(Scope.CLUSTER, "cluster")] == balance


# -- faults: a stopped server ---------------------------------------------------------------


def _services(action: str, name: str) -> None:
    subprocess.run([str(SERVICES), action, name], cwd=REPO, check=True, capture_output=True,
                   timeout=180)


def _managed(name: str) -> bool:
    """Whether ``scripts/services.sh`` runs this service here (else a fault test skips)."""
    if not SERVICES.exists():
        return False
    status = subprocess.run([str(SERVICES), "status"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    return any(line.split()[:1] == [name] and line.split()[-1] == "up"
               for line in status.stdout.splitlines() if line.strip())


def _unavailable_promptly(call: Callable[[], object], backend: str) -> BackendUnavailable:
    start = time.monotonic()
    with pytest.raises(BackendUnavailable) as failure:
        call()
    assert time.monotonic() - start < PROMPT_S
    assert failure.value.backend == backend
    return failure.value


def _eventually(call: Callable[[], T]) -> T:
    deadline = time.monotonic() + RECOVERY_S
    while True:
        try:
            return call()
        except BackendUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_postgres_stopped_then_started() -> None:
    if not _managed("postgres"):
        pytest.skip("postgres is not run by scripts/services.sh here")
    # Trust authentication ignores the password; it is there to prove no error shows it.
    dsn = make_conninfo(backend_url("SEEDCORE_POSTGRES_DSN"), password="not-a-real-s3cret")
    pool, drop = _schema_pool(dsn, 8)
    holons = PostgresHolonStore(pool, 8)
    ledger = PostgresLedgerStore(pool)
    stored = _holons(1, 8, np.random.default_rng(5))[0]
    try:
        holons.upsert([stored])
        _services("stop", "postgres")
        try:
            for call in [holons.ping, holons.count, lambda: holons.get(stored.uuid),
                         lambda: holons.search(stored.embedding, 3), ledger.ping,
                         lambda: ledger.balance(Scope.CLUSTER, "cluster")]:
                failure = _unavailable_promptly(call, "postgres")
                assert "not-a-real-s3cret" not in str(failure)
        finally:
            _services("start", "postgres")
        assert _eventually(holons.count) == 1
        back = holons.get(stored.uuid)
        assert back is not None
        assert back.content == stored.content
        assert ledger.transactions(10) == []
    finally:
        drop()


def test_graph_stopped_then_started() -> None:
    if not _managed("graph"):
        pytest.skip("the graph server is not run by scripts/services.sh here")
    url = backend_url("SEEDCORE_NEO4J_URL")
    parts = urlsplit(url)
    driver = make_driver(f"{parts.scheme}://{parts.hostname}:{parts.port}",
                         parts.username or "", parts.password or "")
    dialect = "falkordb" if backend_url("SEEDCORE_NEO4J_DIALECT") == "falkordb" else "neo4j"
    graph = Neo4jHolonGraph(driver, dialect, label=f"HolonF{uuid.uuid4().hex[:16]}")
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        graph.ensure_schema()
        graph.relate([Edge(a, "KNOWS", b)])
        _services("stop", "graph")
        try:
            for call in [graph.ping, lambda: graph.merge_nodes([a]), lambda: graph.has_node(a),
                         lambda: graph.neighbours(a), graph.counts,
                         lambda: graph.relate([Edge(a, "KNOWS", b)])]:
                _unavailable_promptly(call, "graph")
        finally:
            _services("start", "graph")
        _eventually(graph.ping)
        # FalkorDB here keeps nothing across a restart; Neo4j would still have the edge.
        graph.ensure_schema()
        graph.relate([Edge(a, "KNOWS", b)])
        assert graph.counts() == (2, 1)
        assert [n.uuid for n in graph.neighbours(a)] == [b]
    finally:
        try:
            with driver.session() as session:
                session.run(f"MATCH (h:{graph.label}) DETACH DELETE h").consume()
                if dialect == "neo4j":
                    session.run(f"DROP CONSTRAINT {graph.label.lower()}_uuid IF EXISTS").consume()
                else:
                    indexes = session.run("CALL db.indexes() YIELD label RETURN label").value()
                    if graph.label in indexes:
                        session.run(f"DROP INDEX FOR (h:{graph.label}) ON (h.uuid)").consume()
        finally:
            driver.close()
