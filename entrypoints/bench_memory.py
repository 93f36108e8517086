"""``seedcore bench memory``: the memory tiers on the real backends.

Prints: working-memory get/put p50 and p99 through the Redis adapter and through raw redis-py
on the same server (and their ratio); the Mlt figures of ``entrypoints.bench_mlt`` (bulk load,
recall@10 against exact search, search latency); the incident insert rate on MySQL; and the
working-memory hit rate of a Zipf (s = 1.1) knowledge workload over 10,000 facts after warm-up,
through the real read path. Every key, table and database it writes is its own and is removed.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

__all__ = ["run"]

GOAL_OVERHEAD = 1.3
GOAL_HIT_RATE = 0.90


def _percentiles(samples: list[float]) -> tuple[float, float]:
    us = np.array(samples) * 1e6
    return float(np.percentile(us, 50)), float(np.percentile(us, 99))


def _time_each(op: Callable[[int], object], n: int) -> list[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        op(i)
        samples.append(time.perf_counter() - started)
    return samples


def working_memory(redis_url: str, ops: int, out: TextIO) -> dict[str, float]:
    from adapters.redis.client import RedisClient
    from adapters.redis.working_memory import RedisWorkingMemory

    prefix = f"bench{uuid.uuid4().hex[:8]}"
    client = RedisClient(redis_url)
    adapter = RedisWorkingMemory(client, item_cap=ops * 2, prefix=prefix)
    raw = client.redis
    value = b"x" * 100
    namespace = "organ:bench"
    figures: dict[str, float] = {}
    try:
        for _ in range(2):  # warm both paths (scripts loaded, connections open)
            _time_each(lambda i: adapter.set(namespace, f"k{i}", value, 600.0), 200)
            _time_each(lambda i: raw.set(f"{prefix}:raw:k{i}", value, px=600_000), 200)
        rows = [
            ("put", lambda i: adapter.set(namespace, f"k{i}", value, 600.0),
             lambda i: raw.set(f"{prefix}:raw:k{i}", value, px=600_000)),
            ("get+renew", lambda i: adapter.get(namespace, f"k{i}", renew_for=600.0),
             lambda i: raw.getex(f"{prefix}:raw:k{i}", px=600_000)),
        ]
        print("working memory (Redis), microseconds, 100-byte values:", file=out)
        for name, through_adapter, through_raw in rows:
            adapter_p = _percentiles(_time_each(through_adapter, ops))
            raw_p = _percentiles(_time_each(through_raw, ops))
            ratio = adapter_p[0] / raw_p[0]
            figures[f"{name}_adapter_p50_us"], figures[f"{name}_adapter_p99_us"] = adapter_p
            figures[f"{name}_raw_p50_us"], figures[f"{name}_raw_p99_us"] = raw_p
            figures[f"{name}_overhead"] = ratio
            print(f"  {name:10s} adapter p50 {adapter_p[0]:7.1f} p99 {adapter_p[1]:7.1f} | "
                  f"raw p50 {raw_p[0]:7.1f} p99 {raw_p[1]:7.1f} | overhead {ratio:.2f}x "
                  f"(goal <= {GOAL_OVERHEAD}x: {'PASS' if ratio <= GOAL_OVERHEAD else 'MISS'})",
                  file=out)
    finally:
        adapter.delete_namespace(namespace)
        for key in raw.scan_iter(match=f"{prefix}:*", count=1000):
            raw.delete(key)
    return figures


def incidents(mysql_url: str, count: int, out: TextIO) -> dict[str, float]:
    from adapters.mysql.incident_store import MySqlIncidentStore
    from domain.incident import Incident

    store = MySqlIncidentStore(mysql_url)
    snapshot = {"agent_id": "bench", "h": [0.01] * 384, "capability": 0.5}
    started = time.perf_counter()
    for k in range(count):
        store.append(Incident(str(uuid.uuid4()), time.time(), 0.9, "bench", "bench",
                              {"task_id": f"t{k}"}, {"code": "E_BENCH"}, snapshot))
    seconds = time.perf_counter() - started
    rate = count / seconds
    print(f"incidents (MySQL): {count} inserts with a 384-float snapshot, one transaction "
          f"each: {rate:,.0f} inserts/s", file=out)
    return {"incident_inserts_per_s": rate}


def zipf_hit_rate(redis_url: str, facts: int, lookups: int, seed: int,
                  out: TextIO) -> dict[str, float]:
    """Knowledge tasks through the organism and the real read path, with Redis as Mw; a lookup
    is a hit when no Mlt read was needed."""
    from adapters.memory.clock import FakeClock
    from adapters.redis.client import RedisClient
    from adapters.redis.working_memory import RedisWorkingMemory
    from application.tier0 import AgentSpec
    from domain.task import Task
    from entrypoints.bootstrap import build_services, in_memory_adapters

    adapters = in_memory_adapters(clock=FakeClock())
    prefix = f"zipf{uuid.uuid4().hex[:8]}"
    adapters.working = RedisWorkingMemory(RedisClient(redis_url), item_cap=facts, prefix=prefix)
    services = build_services(adapters)
    memory = services.memory
    holons = [memory.make_holon(f"fact {k} of the Zipf workload", "fact") for k in range(facts)]
    for start in range(0, facts, 1000):
        memory.remember(holons[start:start + 1000])
    services.tier0.create_organ("zipf", "cognitive")
    services.tier0.create_agents([AgentSpec("zipf", f"z{k}", capacity=64) for k in range(8)])
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, facts + 1)
    weights = ranks ** -1.1
    draws = rng.choice(facts, size=2 * lookups, p=weights / weights.sum())

    def run_phase(ids: np.ndarray[Any, Any]) -> tuple[int, int]:
        served = 0
        for k, index in enumerate(ids):
            outcome = services.organism.submit(Task(
                f"zipf-{seed}-{k}-{uuid.uuid4().hex[:6]}", "knowledge",
                required_facts=(holons[int(index)].uuid,)))
            served += int(outcome.memory_events.get("mlt_read", 0) == 0)
        return served, len(ids)

    run_phase(draws[:lookups])  # warm-up
    served, total = run_phase(draws[lookups:])
    rate = served / total
    print(f"Mw hit rate, Zipf s=1.1 over {facts:,} facts, {lookups:,} lookups after "
          f"{lookups:,} of warm-up (Redis Mw): "
          f"{rate:.1%} (goal > {GOAL_HIT_RATE:.0%}: {'PASS' if rate > GOAL_HIT_RATE else 'MISS'})",
          file=out)
    adapters.working.delete_namespace("organ:zipf")
    adapters.working.delete_namespace("global")
    return {"zipf_hit_rate": rate}


def run(ops: int = 10_000, holons: int = 100_000, queries: int = 200, incident_count: int = 2_000,
        zipf_facts: int = 10_000, zipf_lookups: int = 20_000, seed: int = 0,
        out: TextIO = sys.stdout) -> dict[str, float]:
    """Every figure, against the backends the ``SEEDCORE_*`` settings name."""
    from entrypoints import bench_mlt
    from entrypoints.settings import Settings

    settings = Settings.from_env()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}", file=out)
    figures = working_memory(settings.redis_url, ops, out)
    figures.update(bench_mlt.run(n=holons, dim=settings.embedding_dim, queries=queries,
                                 dsn=settings.postgres_dsn, out=out))
    figures.update(incidents(settings.mysql_url, incident_count, out))
    figures.update(zipf_hit_rate(settings.redis_url, zipf_facts, zipf_lookups, seed, out))
    return figures
