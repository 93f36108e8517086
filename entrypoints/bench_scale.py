"""``seedcore bench scale``: the Ray runtime with 10 to 10,000 agents.

For each population size, in a fresh Ray namespace with a fresh :class:`RayRuntime`:

* **start-up**: from building the runtime to every agent hosted (organ actors started and the
  agents added, in batches of 1,000 as the API allows);
* **memory**: the resident set (RSS) of the driver plus every Ray worker process (organ,
  directory and checkpoint actors, idle workers), and separately Ray's own daemons (GCS,
  raylet, ...). RSS counts pages shared between processes once per process, so the sum is an
  upper bound;
* **tasks**: ``submitters`` threads call ``runtime.execute`` back to back with ``general``
  tasks (the handler without external effects, so the figure is the runtime's own cost) on
  agents taken in turn; throughput, p50 and p95 of the call, and the CPU time of the driver and
  of every Ray process per task (flat from 100 to 10,000 agents is the goal);
* **recovery**: one organ actor is killed (Ray restarts it); the time until its first agent
  answers again, restored from its checkpoint.

It prints the machine first, then one line per size, then the goals with PASS or MISS. Bias,
stated plainly: the submitters are threads of one Python process (the GIL and Ray's client
are shared by all of them), everything runs on one machine whose cores the actors share with
the driver, and a busy machine (see the load average printed) moves every figure.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from application.execution import Job, TaskExecutor
from domain.agent import AgentState, new_agent
from domain.config import DomainConfig
from domain.task import Task

__all__ = ["GOALS", "BenchExecutor", "run"]

DIM = 384
BATCH = 1000
ORGAN_TYPES = ("cognitive", "actuator", "utility")
#: The goals the figures are checked against.
GOALS = {
    "startup_s_1000": 10.0,
    "memory_gb_1000": 2.0,
    "throughput_1000": 2000.0,
    "p95_ms_1000": 25.0,
    "cost_spread": 0.25,  # CPU per task from 100 to 10,000 agents stays within ±25 %
}


@dataclass(frozen=True, slots=True)
class BenchExecutor:
    """Picklable executor factory for the organ actors: the built-in handlers over in-actor
    memory (the ``general`` tasks of the benchmark read none)."""

    dim: int = DIM

    def __call__(self) -> TaskExecutor:
        from entrypoints.bootstrap import build_services, in_memory_adapters

        adapters = in_memory_adapters(dim=self.dim)
        services = build_services(adapters)
        return TaskExecutor(services.organism.handlers, services.memory, adapters.operations,
                            adapters.embedder, adapters.clock, services.config)


def run(
    sizes: Sequence[int] = (10, 100, 1000, 10000),
    submitters: int = 64,
    tasks: int = 6000,
    out: TextIO = sys.stdout,
    *,
    organs: int = 4,
    agents_per_actor: int = 2500,
    address: str = "",
) -> dict[str, Any]:
    """Run the benchmark for every size; print and return the figures (``"sizes"``: one dict
    per size; ``"goals"``: name -> (figure, goal, met)). The agents are spread over
    ``organs`` organs, so ``organs`` actors host them while an organ has at most
    ``agents_per_actor`` agents (10,000 agents: one actor per organ by default)."""
    from entrypoints.ray_runtime import connect

    started_ray = time.perf_counter()
    connect(address, namespace="seedcore-bench", num_cpus=os.cpu_count())
    ray_start_s = time.perf_counter() - started_ray
    _machine(out, ray_start_s)
    out.write(f"{'agents':>7} {'actors':>6} {'start s':>8} {'RSS MB':>8} {'Ray MB':>7} "
              f"{'tasks/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'CPU ms/task':>11} "
              f"{'recover s':>9}\n")
    results = []
    for size in sizes:
        figures = _one_size(size, submitters, tasks, organs, agents_per_actor)
        results.append(figures)
        out.write(
            f"{size:>7} {figures['actors']:>6} {figures['startup_s']:>8.2f} "
            f"{figures['rss_mb']:>8.0f} {figures['ray_daemons_mb']:>7.0f} "
            f"{figures['throughput']:>8.0f} {figures['p50_ms']:>7.1f} {figures['p95_ms']:>7.1f} "
            f"{figures['cpu_ms_per_task']:>11.3f} {figures['recovery_s']:>9.2f}\n"
        )
        out.flush()
    goals = _goals(results)
    for name, (figure, goal, met) in goals.items():
        out.write(f"{'PASS' if met else 'MISS'}  {name}: {figure:.3f} (goal {goal:g})\n")
    return {"ray_start_s": ray_start_s, "sizes": results, "goals": goals}


def _one_size(
    size: int, submitters: int, tasks: int, organs: int, agents_per_actor: int
) -> dict[str, Any]:
    import ray

    from adapters.ray.checkpoints import ActorCheckpointStore
    from adapters.ray.runtime import RayRuntime

    config = DomainConfig()
    namespace = f"seedcore-bench-{uuid.uuid4().hex[:8]}"
    store = ActorCheckpointStore(namespace)
    agents = _population(size, organs, config)
    began = time.perf_counter()
    runtime = RayRuntime(BenchExecutor(DIM), config, namespace=namespace,
                         agents_per_actor=agents_per_actor, checkpoint_store=store,
                         max_concurrency=max(8, submitters))
    try:
        for k in range(0, size, BATCH):
            runtime.add_agents(agents[k:k + BATCH])
        startup_s = time.perf_counter() - began
        actors = len(runtime.actor_names())
        rss_mb, daemons_mb = _memory_mb()
        _submit(runtime, agents, 2 * submitters, submitters)  # warm-up: connections, caches
        cpu_before = _cpu_seconds()
        latencies, wall_s = _submit(runtime, agents, tasks, submitters)
        cpu_s = _cpu_seconds() - cpu_before
        victim = agents[0].agent_id
        runtime.checkpoint()
        name = runtime.actor_of(victim)
        old_pid = next(s.pid for s in runtime.hosts() if s.name.endswith(f"/{name}"))
        killed = time.perf_counter()
        ray.kill(runtime.actor_handle(name), no_restart=False)
        recovery_s = _until_restarted(runtime, name, old_pid, victim) - killed
        return {
            "agents": size,
            "actors": actors,
            "startup_s": startup_s,
            "rss_mb": rss_mb,
            "ray_daemons_mb": daemons_mb,
            "tasks": len(latencies),
            "throughput": len(latencies) / wall_s,
            "p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "p95_ms": 1000 * float(np.percentile(latencies, 95)),
            "cpu_ms_per_task": 1000 * cpu_s / len(latencies),
            "recovery_s": recovery_s,
        }
    finally:
        runtime.close()
        store.close()


def _population(size: int, organs: int, config: DomainConfig) -> list[AgentState]:
    now = time.time()
    return [
        new_agent(f"agent-{k}", f"organ-{k % organs}", ORGAN_TYPES[k % organs % 3], DIM, now,
                  config.learning)
        for k in range(size)
    ]


def _submit(
    runtime: Any, agents: Sequence[AgentState], tasks: int, submitters: int
) -> tuple[list[float], float]:
    """``tasks`` executions from ``submitters`` threads; their latencies and the wall time."""
    rng = np.random.default_rng(0)
    embeddings = [v / np.linalg.norm(v) for v in rng.standard_normal((16, DIM))]
    latencies: list[list[float]] = [[] for _ in range(submitters)]
    errors: list[BaseException] = []
    counter = iter(range(tasks))
    lock = threading.Lock()

    def submit(me: int) -> None:
        own = latencies[me]
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            agent = agents[n % len(agents)]
            job = Job(Task(f"bench-{uuid.uuid4().hex}", "general"), (agent.agent_id,),
                      (agent.organ_id,), embeddings[n % len(embeddings)])
            began = time.perf_counter()
            try:
                runtime.execute(agent.agent_id, job)
            except Exception as failure:  # counted and reported below
                errors.append(failure)
                continue
            own.append(time.perf_counter() - began)

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(submitters)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall_s = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} tasks failed, e.g. {errors[0]!r}")
    return [x for own in latencies for x in own], wall_s


def _until_restarted(
    runtime: Any, name: str, old_pid: int, agent_id: str, timeout_s: float = 60.0
) -> float:
    """When the actor ``name`` answers from a new process with the agent restored."""
    import ray

    handle = runtime.actor_handle(name)
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        try:
            if ray.get(handle.status.remote(), timeout=timeout_s).pid != old_pid:
                runtime.agent(agent_id)
                return time.perf_counter()
        except Exception:  # dying or restarting: ask again
            pass
        time.sleep(0.01)
    raise RuntimeError(f"actor {name} did not come back within {timeout_s:g} s")


def _ray_processes() -> tuple[list[Any], list[Any]]:
    """This process's Ray workers and Ray's daemons (children of this driver when it started
    Ray itself)."""
    import psutil

    workers: list[Any] = []
    daemons: list[Any] = []
    for child in psutil.Process().children(recursive=True):
        try:
            name = " ".join(child.cmdline()[:1]) or child.name()
        except psutil.Error:
            continue
        (workers if name.startswith("ray::") or "default_worker.py" in name
         else daemons).append(child)
    return workers, daemons


def _memory_mb() -> tuple[float, float]:
    """RSS of the driver and the Ray workers, and of Ray's daemons, in MB."""
    import psutil

    workers, daemons = _ray_processes()

    def rss(processes: Sequence[Any]) -> float:
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue
        return total / 2**20

    return rss([psutil.Process(), *workers]), rss(daemons)


def _cpu_seconds() -> float:
    import psutil

    workers, daemons = _ray_processes()
    total = 0.0
    for process in (psutil.Process(), *workers, *daemons):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _goals(results: Sequence[dict[str, Any]]) -> dict[str, tuple[float, float, bool]]:
    by_size = {r["agents"]: r for r in results}
    goals: dict[str, tuple[float, float, bool]] = {}
    at_1000 = by_size.get(1000)
    if at_1000 is not None:
        goals["startup_s_1000"] = (at_1000["startup_s"], GOALS["startup_s_1000"],
                                   at_1000["startup_s"] < GOALS["startup_s_1000"])
        gb = at_1000["rss_mb"] / 1024
        goals["memory_gb_1000"] = (gb, GOALS["memory_gb_1000"], gb < GOALS["memory_gb_1000"])
        goals["throughput_1000"] = (at_1000["throughput"], GOALS["throughput_1000"],
                                    at_1000["throughput"] >= GOALS["throughput_1000"])
        goals["p95_ms_1000"] = (at_1000["p95_ms"], GOALS["p95_ms_1000"],
                                at_1000["p95_ms"] < GOALS["p95_ms_1000"])
    costs = [r["cpu_ms_per_task"] for r in results if 100 <= r["agents"] <= 10000]
    if len(costs) >= 2:
        middle = statistics.median(costs)
        spread = max(abs(c - middle) for c in costs) / middle
        goals["cost_spread"] = (spread, GOALS["cost_spread"], spread <= GOALS["cost_spread"])
    return goals


def _machine(out: TextIO, ray_start_s: float) -> None:
    import psutil
    import ray

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    out.write(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"Ray {ray.__version__}; load average {load}; Ray up in {ray_start_s:.1f} s\n"
    )
