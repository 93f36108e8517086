"""Failures of organ actors: a kill in the middle of a load, checkpoints, timeouts, and many
clients of one namespace.

The actors run a real executor of their own (built in the actor from a picklable factory)
whose probe handler reports each start and end, with the actor's pid, to a recorder in the
test process through the bridge: so the test knows which jobs were running on the actor it
killed, and how many times each task ran.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest
import ray

from adapters.ray.checkpoints import (
    ActorCheckpointStore,
    CheckpointStore,
    RedisCheckpointStore,
    SqliteCheckpointStore,
)
from adapters.ray.runtime import RayRuntime
from application.errors import BackendUnavailable, Conflict, NotFound, TaskInterrupted
from application.execution import Execution, Job, TaskExecutor
from application.handlers import HandlerContext, HandlerResult
from application.ports.agent_runtime import HostStatus
from domain.agent import AgentState, new_agent
from domain.config import DomainConfig
from domain.task import Task
from tests.backends import backend_url
from tests.ray.bridge import Bridge, Remote
from tests.ray.conftest import unique_namespace

pytestmark = pytest.mark.ray

DIM = 32
CONFIG = DomainConfig()


@dataclass
class Recorder:
    """In the test process: every start and end of a probe job, with the actor's pid."""

    starts: list[tuple[str, int]] = field(default_factory=list)
    ends: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, task_id: str, pid: int) -> None:
        with self.lock:
            self.starts.append((task_id, pid))

    def end(self, task_id: str, pid: int) -> None:
        with self.lock:
            self.ends.append((task_id, pid))


@dataclass(frozen=True)
class RecordingProbe:
    recorder: Remote
    pause_s: float

    def validate(self, task: Task) -> None:
        return None

    def handle(self, context: HandlerContext) -> HandlerResult:
        self.recorder.start(context.task.task_id, os.getpid())
        time.sleep(self.pause_s)
        self.recorder.end(context.task.task_id, os.getpid())
        return HandlerResult(success=True, quality=0.8)


@dataclass(frozen=True)
class RecordingExecutor:
    """An organ actor's executor factory: the built-in handlers plus ``probe``."""

    recorder: Remote
    pause_s: float = 0.01

    def __call__(self) -> TaskExecutor:
        from entrypoints.bootstrap import build_services, in_memory_adapters

        adapters = in_memory_adapters(dim=DIM)
        services = build_services(adapters)
        services.organism.handlers.register("probe", RecordingProbe(self.recorder, self.pause_s))
        return TaskExecutor(services.organism.handlers, services.memory, adapters.operations,
                            adapters.embedder, adapters.clock, services.config)


def agent(agent_id: str, organ_id: str = "organ") -> AgentState:
    return new_agent(agent_id, organ_id, "cognitive", DIM, time.time(), CONFIG.learning)


def probe_job(agent_id: str, keyed: bool) -> Job:
    task_id = f"t-{uuid.uuid4().hex[:10]}"
    task = Task(task_id=task_id, task_type="probe",
                idempotency_key=f"k-{task_id}" if keyed else None)
    return Job(task, (agent_id,), ("organ",), np.ones(DIM) / np.sqrt(DIM))


@pytest.fixture
def recorder(bridge: Bridge) -> tuple[Recorder, Remote]:
    local = Recorder()
    return local, bridge.expose(local)


def make_runtime(
    recorder: Remote, store: CheckpointStore, pause_s: float = 0.01, **options: object
) -> RayRuntime:
    return RayRuntime(
        RecordingExecutor(recorder, pause_s),
        CONFIG,
        namespace=unique_namespace("recovery"),
        checkpoint_store=store,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def runtime(
    recorder: tuple[Recorder, Remote], checkpoints: ActorCheckpointStore
) -> Iterator[RayRuntime]:
    built = make_runtime(recorder[1], checkpoints, pause_s=0.03, agents_per_actor=4,
                         checkpoint_every_tasks=20, checkpoint_every_s=0.2)
    try:
        yield built
    finally:
        built.close()


def test_a_kill_under_load_loses_no_task_and_state_comes_back_from_its_checkpoint(
    runtime: RayRuntime, recorder: tuple[Recorder, Remote], checkpoints: ActorCheckpointStore
) -> None:
    log = recorder[0]
    ids = [f"a{k}" for k in range(8)]
    runtime.add_agents([agent(a) for a in ids])  # two actors of four agents
    victim_name = runtime.actor_of("a0")
    victim_ids = {a for a in ids if runtime.actor_of(a) == victim_name}
    assert len(victim_ids) == 4
    (victim_before,) = [s for s in runtime.hosts() if s.name.endswith(victim_name)]

    stop = threading.Event()
    submitted: dict[str, Job] = {}
    outcomes: dict[str, object] = {}
    lock = threading.Lock()

    def submit(k: int) -> None:
        agent_id = ids[k % len(ids)]
        while not stop.is_set():
            job = probe_job(agent_id, keyed=k % 2 == 0)  # half the submitters use keys
            with lock:
                submitted[job.task.task_id] = job
            try:
                outcome: object = runtime.execute(agent_id, job)
            except Exception as failure:  # every failure is an outcome to check
                outcome = failure
            with lock:
                outcomes[job.task.task_id] = outcome

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)

    def victim_busy() -> bool:  # a job is inside its handler on the victim right now
        with log.lock:
            return bool({s for s in log.starts if s[1] == victim_before.pid} - set(log.ends))

    _wait_until(victim_busy)
    killed_at_checkpoint = {s.agent_id: s.tasks_processed
                            for s in checkpoints.load(f"{runtime.namespace}/{victim_name}")}
    ray.kill(runtime.actor_handle(victim_name), no_restart=False)
    time.sleep(2.0)  # the actor restarts (about a second) and the load goes on
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    # Every submitted task has exactly one outcome: an execution or a retriable error.
    assert set(outcomes) == set(submitted)
    failures = {t: o for t, o in outcomes.items() if not isinstance(o, Execution)}
    for task_id, failure in failures.items():
        assert isinstance(failure, TaskInterrupted), (task_id, failure)
        assert failure.task_id == task_id and failure.backend == "runtime"
        assert submitted[task_id].task.idempotency_key is None  # keyed tasks were retried
        assert submitted[task_id].team[0] in victim_ids

    # The jobs running on the killed process: keyed ones ran again and succeeded.
    runs = Counter(task_id for task_id, _ in log.starts)
    ended = set(log.ends)
    cut = {task_id for task_id, pid in log.starts
           if pid == victim_before.pid and (task_id, pid) not in ended}
    assert cut, "the kill should have caught jobs in flight"
    for task_id in cut:
        if submitted[task_id].task.idempotency_key is not None:
            assert runs[task_id] == 2
            assert isinstance(outcomes[task_id], Execution)
        else:
            assert runs[task_id] == 1
            assert task_id in failures
    assert all(n <= 2 for n in runs.values())
    # The other actor never noticed.
    assert not [t for t in failures if submitted[t].team[0] not in victim_ids]

    # The restarted actor came back with its agents, from the checkpoint and on from there.
    victim_after = ray.get(runtime.actor_handle(victim_name).status.remote())
    assert victim_after.pid != victim_before.pid
    assert victim_after.restored == 4
    assert killed_at_checkpoint and sum(killed_at_checkpoint.values()) > 0
    for agent_id, checkpointed in killed_at_checkpoint.items():
        state = runtime.agent(agent_id)
        assert state.tasks_processed >= checkpointed
        assert state.load == 0


def test_an_idle_kill_restores_exactly_the_checkpoint(
    runtime: RayRuntime, checkpoints: ActorCheckpointStore
) -> None:
    runtime.add_agents([agent("a"), agent("b")])
    for _ in range(3):
        runtime.execute("a", probe_job("a", keyed=False))
    runtime.record_salient_event("b")
    assert runtime.checkpoint() == 2
    name = runtime.actor_of("a")
    restarted = _kill_and_wait(runtime, name)
    assert restarted.restored == 2
    a = runtime.agent("a")
    assert (a.tasks_processed, a.tasks_succeeded, a.load) == (3, 3, 0)
    assert runtime.agent("b").salient_events_logged == 1


def test_a_job_on_a_dead_actor_without_key_fails_retriably_and_with_key_is_retried(
    runtime: RayRuntime, recorder: tuple[Recorder, Remote]
) -> None:
    runtime.add_agents([agent("a")])
    unkeyed = _killed_while_running(runtime, recorder[0], probe_job("a", keyed=False))
    assert isinstance(unkeyed, TaskInterrupted) and unkeyed.retry_after_s == 1
    keyed = _killed_while_running(runtime, recorder[0], probe_job("a", keyed=True))
    assert isinstance(keyed, Execution) and keyed.success


def _killed_while_running(runtime: RayRuntime, log: Recorder, job: Job) -> object:
    """What ``execute`` gives when the agent's actor is killed while the job runs. (The
    actor is up first: a job that waited for one restart and is caught by a second crash
    may be retried on the dying process, and then fails retriably.)"""
    runtime.agent("a")
    results: list[object] = []

    def run() -> None:
        try:
            results.append(runtime.execute("a", job))
        except Exception as failure:
            results.append(failure)

    thread = threading.Thread(target=run)
    thread.start()
    _wait_until(lambda: any(t == job.task.task_id for t, _ in log.starts))
    ray.kill(runtime.actor_handle(runtime.actor_of("a")), no_restart=False)
    thread.join(timeout=60)
    (result,) = results
    return result


def test_a_call_past_its_timeout_is_backend_unavailable(
    recorder: tuple[Recorder, Remote], checkpoints: ActorCheckpointStore
) -> None:
    runtime = make_runtime(recorder[1], checkpoints, pause_s=1.0, call_timeout_s=0.2)
    try:
        runtime.add_agents([agent("a")])
        with pytest.raises(BackendUnavailable, match="no answer"):
            runtime.execute("a", probe_job("a", keyed=False))
    finally:
        runtime.close()


def test_many_clients_of_one_namespace_share_actors_created_once(
    recorder: tuple[Recorder, Remote], checkpoints: ActorCheckpointStore
) -> None:
    namespace = unique_namespace("clients")
    clients = [
        RayRuntime(RecordingExecutor(recorder[1]), CONFIG, namespace=namespace,
                   agents_per_actor=3, checkpoint_store=checkpoints)
        for _ in range(4)
    ]
    errors: list[BaseException] = []

    def add(k: int) -> None:
        try:
            clients[k].add_agents([agent(f"c{k}-{n}") for n in range(2)])
        except BaseException as failure:
            errors.append(failure)

    threads = [threading.Thread(target=add, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        # 8 agents of one organ at 3 per actor: exactly three actors, filled in order.
        assert clients[0].actor_names() == ["organ:organ:0", "organ:organ:1", "organ:organ:2"]
        per_actor = Counter(s.agents for s in clients[1].hosts())
        assert per_actor == Counter({3: 2, 2: 1})
        # Every client reaches every agent, whoever added it.
        for k, client in enumerate(clients):
            other = f"c{(k + 1) % 4}-0"
            assert client.execute(other, probe_job(other, keyed=False)).success
        with pytest.raises(Conflict):
            clients[3].add_agents([agent("c0-0", "elsewhere")])
        # One client removes an agent: another, with it cached, gets NotFound.
        assert clients[2].agent("c0-1").agent_id == "c0-1"
        clients[0].remove_agent("c0-1")
        with pytest.raises(NotFound):
            clients[2].agent("c0-1")
    finally:
        clients[0].close()
    # Nothing is left behind, not even the actor started for the refused add.
    assert not [e for e in ray.util.list_named_actors(all_namespaces=True)
                if e["namespace"] == namespace]


def test_a_restarted_directory_asks_the_organ_actors_where_agents_are(
    runtime: RayRuntime, recorder: tuple[Recorder, Remote], checkpoints: ActorCheckpointStore
) -> None:
    runtime.add_agents([agent(f"a{k}") for k in range(5)])  # 4 + 1 at 4 per actor
    ray.kill(ray.get_actor("directory", namespace=runtime.namespace), no_restart=False)
    fresh = RayRuntime(RecordingExecutor(recorder[1]), CONFIG, namespace=runtime.namespace,
                       agents_per_actor=4, checkpoint_store=checkpoints)
    assert fresh.agent("a4").agent_id == "a4"  # located through the rebuilt directory
    with pytest.raises(Conflict):
        fresh.add_agents([agent("a0")])
    fresh.add_agents([agent("a5")])  # the second shard still has room
    assert fresh.actor_of("a5") == fresh.actor_of("a4") == "organ:organ:1"


@pytest.mark.backends
def test_redis_checkpoints_round_trip_and_restore_an_actor(
    recorder: tuple[Recorder, Remote],
) -> None:
    store = RedisCheckpointStore(backend_url("SEEDCORE_REDIS_URL"),
                                 prefix=f"test-{uuid.uuid4().hex[:8]}")
    _checkpoint_store_contract(store)

    _restore_an_actor_from(store, recorder[1])


def _restore_an_actor_from(store: RedisCheckpointStore | SqliteCheckpointStore,
                           recorder: Remote) -> None:
    runtime = make_runtime(recorder, store)
    try:
        runtime.add_agents([agent("a")])
        runtime.execute("a", probe_job("a", keyed=False))
        runtime.checkpoint()
        assert _kill_and_wait(runtime, runtime.actor_of("a")).restored == 1
        assert runtime.agent("a").tasks_processed == 1
    finally:
        runtime.close()
        store.close()


def test_the_actor_checkpoint_store_keeps_states_by_actor_and_agent(
    checkpoints: ActorCheckpointStore,
) -> None:
    _checkpoint_store_contract(checkpoints, prefix=f"{uuid.uuid4().hex[:8]}/")


def test_sqlite_checkpoints_round_trip_and_restore_an_actor(
    recorder: tuple[Recorder, Remote], tmp_path: Path
) -> None:
    store = SqliteCheckpointStore(tmp_path / "embedded" / "checkpoints.db")
    _checkpoint_store_contract(store)

    _restore_an_actor_from(store, recorder[1])


@ray.remote(num_cpus=0)
def _checkpoints_elsewhere(
    store: CheckpointStore, actor_name: str, states: list[AgentState], removed: list[str]
) -> tuple[int, list[tuple[str, int]]]:
    """In a Ray worker: what the store holds for the actor, then saves the given changes."""
    held = [(s.agent_id, s.tasks_processed) for s in store.load(actor_name)]
    store.save(actor_name, states, removed)
    return os.getpid(), held


def test_sqlite_checkpoints_are_shared_by_processes(ray_session: None, tmp_path: Path) -> None:
    store = SqliteCheckpointStore(tmp_path / "checkpoints.db")
    try:
        store.save("organ:x", [agent("p"), replace(agent("q"), tasks_processed=2)])
        pid, held = ray.get(_checkpoints_elsewhere.remote(
            store, "organ:x", [replace(agent("p"), tasks_processed=7)], ["q"]
        ), timeout=60)
        assert pid != os.getpid()
        assert held == [("p", 0), ("q", 2)]
        assert [(s.agent_id, s.tasks_processed) for s in store.load("organ:x")] == [("p", 7)]
    finally:
        store.close()


def test_sqlite_checkpoint_failures_are_backend_unavailable(tmp_path: Path) -> None:
    unreachable = SqliteCheckpointStore(tmp_path)  # a directory cannot be opened as a database
    with pytest.raises(BackendUnavailable) as refused:
        unreachable.load("organ:x")
    assert refused.value.backend == "checkpoints"

    path = tmp_path / "checkpoints.db"
    store = SqliteCheckpointStore(path)
    try:
        store.save("organ:x", [agent("p")])
        with sqlite3.connect(path) as conn:  # a state saved under another agent's id
            conn.execute("UPDATE agent_checkpoints SET state = ? WHERE agent_id = 'p'",
                         (pickle.dumps(agent("q")),))
        with pytest.raises(BackendUnavailable, match="corrupt"):
            store.load("organ:x")
        store.delete("organ:x")
        assert store.load("organ:x") == []
    finally:
        store.close()


def _checkpoint_store_contract(store: CheckpointStore, prefix: str = "") -> None:
    x, y = f"{prefix}x", f"{prefix}y"
    assert store.load(x) == []
    store.save(x, [agent("q"), agent("p")])
    store.save(y, [agent("p")])
    assert [s.agent_id for s in store.load(x)] == ["p", "q"]
    changed = replace(agent("q"), tasks_processed=5)
    store.save(x, [changed, agent("r")], removed=["p"])  # upsert q and r, forget p
    assert [(s.agent_id, s.tasks_processed) for s in store.load(x)] == [("q", 5), ("r", 0)]
    assert [s.agent_id for s in store.load(y)] == ["p"]  # another actor's, untouched
    store.delete(x)
    assert store.load(x) == []
    store.delete(y)


def _kill_and_wait(runtime: RayRuntime, name: str, timeout_s: float = 30.0) -> HostStatus:
    """Kill the actor (Ray restarts it) and wait until a new process answers for it."""
    handle = runtime.actor_handle(name)
    before = ray.get(handle.status.remote())
    ray.kill(handle, no_restart=False)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            status: HostStatus = ray.get(handle.status.remote(), timeout=timeout_s)
        except ray.exceptions.RayActorError:  # dying or restarting
            status = before
        if status.pid != before.pid:
            return status
        time.sleep(0.05)
    raise AssertionError(f"{name} did not restart within {timeout_s:g} s")


def _wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("condition not met in time")

