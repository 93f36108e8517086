"""``seedcore bench memory``: the Mlt vector store on PostgreSQL + pgvector, measured.

In a schema of its own (dropped at the end), the benchmark

* bulk-loads ``n`` holons with :meth:`PostgresHolonStore.bulk_load` into the empty table (binary
  ``COPY``, then the HNSW index built once, then ``ANALYZE``), timed as a whole;
* adds 10 % more through the same call into the now non-empty table (staging table and
  ``INSERT ... ON CONFLICT``, the index maintained row by row), timed;
* answers ``queries`` searches for the top 10 by cosine similarity, after 20 warm-up searches,
  each timed around the ``search`` call (pool checkout, the transaction, decoding included),
  and compares each answer with the exact top 10 computed with numpy from the same float32
  vectors: recall@10 is the mean fraction of the 10 answers at least as similar as the exact
  10th (ties count, as in ann-benchmarks); strict recall@10 is the fraction of the exact top 10
  found, ties broken by position;
* does the same with a ``kind`` filter, then a ``meta`` filter, each keeping 10 % of the holons
  (the exact answer is then the top 10 among those).

Data, stated plainly because HNSW recall depends on it far more than on the code:

* ``topics`` (the default): synthetic texts embedded by the project's own ``HashingEmbedder``;
  each text has 6 words of one of 500 topics (40 words each) and 3 words drawn from a Zipf law
  over a 20,000-word vocabulary, so neighbours share words the way related memories do.
* ``gaussian``: isotropic random unit vectors, the worst case: in 384 dimensions every point is
  almost equally far from every other, nearest neighbours barely stand out, and no graph index
  finds them well (recall@10 is about 0.1 at ``ef_search`` 100).

Bias: one client, one process, the server on the same machine (no network), a server other
processes may be using, wall-clock times, inputs built in memory before timing.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal, TextIO

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import sql

from adapters.embedder import HashingEmbedder
from adapters.postgres.holon_store import DEFAULT_EF_SEARCH, PostgresHolonStore
from adapters.postgres.migrations import HNSW_EF_CONSTRUCTION, HNSW_M, migrate
from adapters.postgres.pool import PostgresPool
from domain.holon import Holon, content_hash
from entrypoints.settings import Settings

__all__ = ["GOALS", "TIE_EPSILON", "WARMUP", "K", "make_vectors", "run"]

K = 10
WARMUP = 20
KINDS = 10
#: Goals of the design card: recall@10 of the HNSW search against exact search, and the 95th
#: percentile of one search's latency in milliseconds.
GOALS = {"recall_at_10": 0.95, "p95_ms": 10.0}
#: Recall counts a result whose similarity equals the exact 10th one's within this (float32
#: rounding), as ann-benchmarks does with its distance epsilon; ``strict_recall_at_10`` does not.
TIE_EPSILON = 1e-6
TOPICS = 500
TOPIC_WORDS = 40
VOCABULARY = 20_000

Data = Literal["topics", "gaussian"]
FloatArray = npt.NDArray[np.float64]


def run(
    n: int = 100_000,
    dim: int = 384,
    queries: int = 200,
    dsn: str | None = None,
    out: TextIO = sys.stdout,
    *,
    data: Data = "topics",
    seed: int = 0,
    ef_search: int = DEFAULT_EF_SEARCH,
) -> dict[str, Any]:
    """Measure, print the machine, the settings and the figures with the goals, and return
    the figures. ``dsn`` defaults to ``SEEDCORE_POSTGRES_DSN`` (through the settings)."""
    if n < K or queries < 1:
        raise ValueError(f"n must be at least {K} and queries at least 1")
    dsn = dsn if dsn is not None else Settings.from_env().postgres_dsn
    rng = np.random.default_rng(seed)
    vectors = make_vectors(n + n // 10, dim, data, rng)
    probes = make_vectors(queries + WARMUP, dim, data, rng)
    holons = [
        Holon(str(uuid.UUID(int=i + 1)), f"kind{i % KINDS}", f"holon {i}", vectors[i],
              {"shard": f"s{i // KINDS % KINDS}"}, content_hash(f"holon {i}"), 0.0, 0.0)
        for i in range(len(vectors))
    ]
    schema = f"bench_mlt_{uuid.uuid4().hex[:12]}"
    pool = PostgresPool(dsn, schema=schema, timeout=30.0, name=schema)
    try:
        migrate(pool, dim)
        store = PostgresHolonStore(pool, dim, ef_search=ef_search)
        print(_machine(pool), file=out)
        print(
            f"data {data}, {n:,} holons of {dim} dimensions, {queries} queries after {WARMUP}"
            f" warm-up, k={K}; HNSW m={HNSW_M} ef_construction={HNSW_EF_CONSTRUCTION}"
            f" ef_search={ef_search}; seed {seed}",
            file=out,
        )
        result: dict[str, Any] = {
            "n": n, "dim": dim, "queries": queries, "data": data, "m": HNSW_M,
            "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": ef_search,
        }
        elapsed = _timed(lambda: store.bulk_load(holons[:n]))
        result["bulk_load_s"] = elapsed
        result["bulk_load_per_s"] = n / elapsed
        print(f"bulk load into the empty table (COPY + HNSW build + ANALYZE): {elapsed:.1f} s,"
              f" {n / elapsed:,.0f} holons/s", file=out)
        extra = holons[n:]
        elapsed = _timed(lambda: store.bulk_load(extra))
        result["incremental_load_per_s"] = len(extra) / elapsed
        print(f"bulk load of {len(extra):,} more (staging + upsert, index kept): {elapsed:.1f} s,"
              f" {len(extra) / elapsed:,.0f} holons/s", file=out)

        matrix = _unit32(vectors)
        rows = np.arange(len(vectors))
        filters: list[tuple[str, str, dict[str, Any], npt.NDArray[np.bool_]]] = [
            ("unfiltered", "", {}, np.ones(len(vectors), dtype=bool)),
            ("kind filter (10 %)", "kind_", {"kind": "kind0"}, rows % KINDS == 0),
            ("meta filter (10 %)", "meta_", {"meta": {"shard": "s0"}}, rows // KINDS % KINDS == 0),
        ]
        for label, key, arguments, mask in filters:
            figures = _searches(store, probes, matrix, mask, arguments)
            result.update({f"{key}{name}": value for name, value in figures.items()})
            print(_line(label, figures), file=out)
        result["goals"] = {
            "recall_at_10": result["recall_at_10"] >= GOALS["recall_at_10"],
            "p95_ms": result["p95_ms"] < GOALS["p95_ms"],
        }
        verdicts = ", ".join(
            f"{name} {'>=' if name.startswith('recall') else '<'} {GOALS[name]:g}:"
            f" {'PASS' if ok else 'MISS'}"
            for name, ok in result["goals"].items()
        )
        print(f"goals (unfiltered): {verdicts}", file=out)
        return result
    finally:
        pool.close()
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
        except psycopg.OperationalError:
            print(f"could not drop schema {schema}: drop it by hand", file=out)


def make_vectors(count: int, dim: int, data: Data, rng: np.random.Generator) -> FloatArray:
    """``count`` unit vectors of the chosen kind (see the module docstring)."""
    if data == "gaussian":
        raw = rng.standard_normal((count, dim))
        unit: FloatArray = raw / np.linalg.norm(raw, axis=1, keepdims=True)
        return unit
    if data != "topics":
        raise ValueError(f"data must be topics or gaussian, not {data!r}")
    # The vocabulary and topics come from a generator of their own, so the stored holons and
    # the queries (drawn later from ``rng``) share them.
    words_rng = np.random.default_rng(12345)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocabulary = [
        "".join(words_rng.choice(letters, size=int(words_rng.integers(3, 10))))
        for _ in range(VOCABULARY)
    ]
    topics = words_rng.choice(VOCABULARY, size=(TOPICS, TOPIC_WORDS))
    zipf = 1.0 / np.arange(1, VOCABULARY + 1)
    zipf /= zipf.sum()
    chosen_topics = rng.integers(0, TOPICS, count)
    topical = rng.integers(0, TOPIC_WORDS, (count, 6))
    common = rng.choice(VOCABULARY, size=(count, 3), p=zipf)
    texts = [
        " ".join(vocabulary[w] for w in [*topics[t, topical[i]], *common[i]])
        for i, t in enumerate(chosen_topics)
    ]
    return HashingEmbedder(dim).embed_many(texts)


def _searches(
    store: PostgresHolonStore,
    probes: FloatArray,
    matrix: npt.NDArray[np.float32],
    mask: npt.NDArray[np.bool_],
    arguments: dict[str, Any],
) -> dict[str, float]:
    candidates = np.flatnonzero(mask)
    latencies: list[float] = []
    recalls: list[float] = []
    strict: list[float] = []
    for index, probe in enumerate(probes):
        start = time.perf_counter()
        found = store.search(probe, K, **arguments)
        elapsed = time.perf_counter() - start
        if index < WARMUP:
            continue
        scores = matrix[candidates] @ probe.astype(np.float32)
        order = np.argsort(-scores, kind="stable")
        exact = set(candidates[order[:K]].tolist())
        kth = float(scores[order[min(K, len(order)) - 1]])
        got = {uuid.UUID(s.holon.uuid).int - 1 for s in found}
        latencies.append(elapsed * 1e3)
        strict.append(len(got & exact) / K)
        # A result as similar as the exact 10th (within float32 rounding) is a right answer.
        by_row = dict(zip(candidates.tolist(), scores.tolist(), strict=True))
        recalls.append(sum(by_row[g] >= kth - TIE_EPSILON for g in got) / K)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    return {"recall_at_10": float(np.mean(recalls)), "strict_recall_at_10": float(np.mean(strict)),
            "p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99)}


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _unit32(vectors: FloatArray) -> npt.NDArray[np.float32]:
    """The vectors as pgvector stores them (float32), normalised as cosine distance does."""
    stored = vectors.astype(np.float32)
    norms = np.linalg.norm(stored, axis=1, keepdims=True)
    unit: npt.NDArray[np.float32] = np.divide(stored, norms, out=np.zeros_like(stored),
                                              where=norms > 0)
    return unit


def _line(label: str, figures: dict[str, float]) -> str:
    return (
        f"search top {K}, {label:<20} recall@10 {figures['recall_at_10']:.3f}"
        f" (strict {figures['strict_recall_at_10']:.3f})"
        f"   p50 {figures['p50_ms']:6.2f} ms   p95 {figures['p95_ms']:6.2f} ms"
        f"   p99 {figures['p99_ms']:6.2f} ms"
    )


def _machine(pool: PostgresPool) -> str:
    with pool.connection() as conn:
        server = conn.execute("SHOW server_version").fetchone()
        vector = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).fetchone()
    return (
        f"machine: {platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs;"
        f" Python {platform.python_version()}; PostgreSQL {server[0] if server else '?'},"
        f" pgvector {vector[0] if vector else '?'}, psycopg {psycopg.__version__}"
    )


if __name__ == "__main__":
    run()
