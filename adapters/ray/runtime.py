"""The agent runtime on Ray: agents hosted by organ actors, many agents per actor.

Placement. Each organ gets actors named ``organ:<organ id>:<shard>`` in one Ray namespace,
each hosting up to ``agents_per_actor`` agents (shard 0 first, a new shard when all are full).
A *directory* actor (``directory`` in the namespace) decides placements one batch at a time,
so ids are unique across every client of the namespace and two clients placing at once never
overfill a shard; each client caches where the agents it used live. Every named actor is
created with ``get_if_exists=True``: when many clients start together, Ray creates it exactly
once and hands the others a handle to it.

Calls. The handler runs in the organ actor (see :mod:`adapters.ray.organ_actor`). A job goes
at once when its actor has no batch of jobs on the way, else it leaves with the jobs that
queued meanwhile in the next batch (one Ray call for all): under load this is what keeps the
cost per task low; jobs of a batch run at once in the actor, and a slow one is fetched apart
(so it delays its batch by ``batch_linger_s`` at most). ``heartbeats`` is one round trip per
actor, all in flight at once. Errors come back typed: the application's errors as themselves,
a handler's exception as itself, and Ray's (an actor that died, a timeout) as
``BackendUnavailable("runtime", ...)``.

Recovery. Organ actors restart on failure (``max_restarts=-1``) and reload their agents from
the checkpoint store. A job in flight on an actor that dies has an unknown outcome: it ends
with ``TaskInterrupted`` (a retriable ``BackendUnavailable``), except that a job whose task
carries an idempotency key (which makes re-running it safe) is run once more, on the restarted
actor, by the runtime itself. A job is never dropped without an answer: every ``execute``
returns an execution or raises.
"""

from __future__ import annotations

import contextlib
import logging
import math
import pickle
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.clock import SystemClock
from adapters.ray.checkpoints import ActorCheckpointStore, CheckpointStore
from adapters.ray.organ_actor import BatchReply, RemoteFailure, RemoteOrganActor
from application.errors import (
    BackendUnavailable,
    Conflict,
    InvalidInput,
    NotFound,
    TaskInterrupted,
)
from application.execution import Execution, Job, TaskExecutor
from application.ports.agent_runtime import HostStatus
from application.ports.clock import Clock
from domain.agent import AgentState, Heartbeat, Lesson
from domain.config import DomainConfig
from domain.roles import RoleProbabilities

try:
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError, RayError, RayTaskError
except ImportError as missing:  # pragma: no cover - ray is a dependency of the package
    raise ImportError(
        "adapters.ray needs Ray: install it with `pip install 'ray>=2.40'`"
    ) from missing

__all__ = ["RayRuntime", "actor_name"]

log = logging.getLogger(__name__)

BACKEND = "runtime"
DIRECTORY = "directory"
ORGAN_PREFIX = "organ:"
_SIMPLEX_TOLERANCE = 1e-9
#: How long a restarted actor must keep answering before a job is sent to it again (see
#: ``RayRuntime._wait_alive``).
_SETTLE_S = 0.25
_SETTLE_OLD_S = 1.5
#: Placement answers the directory keeps, for clients that repeat a call.
_SERVED = 1000


def actor_name(organ_id: str, shard: int) -> str:
    """The name of an organ's ``shard``-th actor."""
    return f"{ORGAN_PREFIX}{organ_id}:{shard}"


class _Directory:
    """Which actor hosts which agent, for every client of one namespace. Serial (one call at
    a time), so placements are atomic. After a restart it asks the organ actors again."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace
        self._where: dict[str, str] = {}
        self._sizes: dict[str, list[int]] = {}  # organ -> agents hosted per shard
        self._served: dict[str, dict[str, str] | RemoteFailure] = {}  # by request, oldest first
        for name, ids in self._survey().items():
            organ, shard = _parse(name)
            shards = self._sizes.setdefault(organ, [])
            shards.extend([0] * (shard + 1 - len(shards)))
            shards[shard] = len(ids)
            self._where.update(dict.fromkeys(ids, name))

    def place(
        self, batch: Sequence[tuple[str, str]], per_actor: int, request: str
    ) -> dict[str, str] | RemoteFailure:
        """Reserve a place for every ``(agent id, organ id)``, all or none. A ``request``
        already served gets the same answer (a client repeats a call it got no answer to)."""
        if request in self._served:
            return self._served[request]
        placed = self._place(batch, per_actor)
        self._served[request] = placed
        if len(self._served) > _SERVED:
            del self._served[next(iter(self._served))]
        return placed

    def _place(
        self, batch: Sequence[tuple[str, str]], per_actor: int
    ) -> dict[str, str] | RemoteFailure:
        given = Counter(agent_id for agent_id, _ in batch)
        taken = sorted(i for i, n in given.items() if n > 1 or i in self._where)
        if taken:
            return RemoteFailure.of(
                Conflict(f"agents already hosted or given twice: {', '.join(taken)}")
            )
        placed: dict[str, str] = {}
        for agent_id, organ_id in batch:
            shards = self._sizes.setdefault(organ_id, [])
            shard = next((k for k, n in enumerate(shards) if n < per_actor), len(shards))
            if shard == len(shards):
                shards.append(0)
            shards[shard] += 1
            placed[agent_id] = actor_name(organ_id, shard)
        self._where.update(placed)
        return placed

    def release(self, agent_ids: Sequence[str]) -> None:
        for agent_id in agent_ids:
            name = self._where.pop(agent_id, None)
            if name is not None:
                organ, shard = _parse(name)
                self._sizes[organ][shard] -= 1

    def locate(self, agent_ids: Sequence[str]) -> dict[str, str]:
        return {a: self._where[a] for a in agent_ids if a in self._where}

    def actors(self) -> list[str]:
        return sorted(
            actor_name(organ, shard)
            for organ, shards in self._sizes.items()
            for shard in range(len(shards))
        )

    def _survey(self) -> dict[str, list[str]]:
        """The agents of every organ actor already in the namespace (empty when new)."""
        names = [
            entry["name"]
            for entry in ray.util.list_named_actors(all_namespaces=True)
            if entry["namespace"] == self._namespace and entry["name"].startswith(ORGAN_PREFIX)
        ]
        handles = [ray.get_actor(name, namespace=self._namespace) for name in names]
        ids: list[list[str]] = ray.get(
            [handle.agent_ids.remote() for handle in handles], timeout=60
        )
        return dict(zip(names, ids, strict=True))


# Ray's stubs type actor handles loosely; the handles here are used as ``Any``.
_RemoteDirectory: Any = ray.remote(num_cpus=0)(_Directory)


def _parse(name: str) -> tuple[str, int]:
    organ, _, shard = name[len(ORGAN_PREFIX):].rpartition(":")
    return organ, int(shard)


class _ActorFailed(Exception):
    """An actor died or was unreachable during a call: the call's outcome is unknown."""

    def __init__(self, name: str, cause: RayError) -> None:
        super().__init__(f"actor {name!r} failed: {type(cause).__name__}")
        self.name = name
        self.cause = cause


@dataclass(eq=False)
class _Pending:
    """One ``execute`` waiting for its answer. Its thread sleeps on ``wake`` until the answer
    is there or it is handed a duty (sending a batch, or fetching one's reply)."""

    agent_id: str
    job: Job
    wake: threading.Event = field(default_factory=threading.Event)
    duty: Callable[[], None] | None = None
    answered: bool = False
    answer: Any = None  # Execution | RemoteFailure | BaseException


class _Batcher:
    """Coalesces the jobs sent to one actor: while ``max_in_flight`` batches are on their way,
    new jobs queue and leave together in the next batch, one Ray call for all of them. When
    the actor is not busy a job leaves at once, alone. No thread of its own: the submitting
    threads send the batches and fetch the replies, each one only while its own job waits."""

    def __init__(self, runtime: RayRuntime, name: str, max_in_flight: int) -> None:
        self._runtime = runtime
        self._name = name
        self._max_in_flight = max_in_flight
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._in_flight = 0

    def run(self, agent_id: str, job: Job) -> Any:
        """The job's answer: an execution, a ``RemoteFailure`` or an exception (not raised)."""
        me = _Pending(agent_id, job)
        with self._lock:
            self._queue.append(me)
            batch = self._take()
        if batch:
            self._send(batch)
        while True:
            me.wake.wait()
            with self._lock:
                duty, me.duty = me.duty, None
                if me.answered:
                    return me.answer
                me.wake.clear()
            if duty is not None:
                duty()

    def _take(self) -> list[_Pending]:
        """Under the lock: the queued jobs, if another batch may leave now."""
        if not self._queue or self._in_flight >= self._max_in_flight:
            return []
        self._in_flight += 1
        batch, self._queue = self._queue, []
        return batch

    def _send(self, batch: list[_Pending]) -> None:
        try:
            handle = self._runtime._handle(self._name, create=True)
            jobs = pickle.dumps([(p.agent_id, p.job) for p in batch],
                                protocol=pickle.HIGHEST_PROTOCOL)
            ref = handle.execute_batch.remote(jobs, self._runtime.batch_linger_s)
        except Exception as failure:  # e.g. the actor cannot be created: every job learns it
            self._answer_all(batch, failure)
            self._finished_batch()
            return
        self._hand(batch[0], lambda: self._fetch(batch, ref))

    def _fetch(self, batch: list[_Pending], ref: Any) -> None:
        try:
            blob = self._runtime._get(ref, self._name, self._runtime.call_timeout_s)
            reply: BatchReply = pickle.loads(blob)  # from our organ actor only
        except Exception as failure:
            self._answer_all(batch, failure)
        else:
            for k, answer in reply.done.items():
                self._answer(batch[k], answer)
            if reply.ticket is not None:
                left = {k: p for k, p in enumerate(batch) if k not in reply.done}
                self._collect(left, reply.ticket)
        finally:
            self._finished_batch()

    def _collect(self, left: dict[int, _Pending], ticket: int) -> None:
        """Fetch the jobs a batch left running (by their index in the batch)."""
        try:
            ref = self._runtime._handle(self._name).collect.remote(ticket)
        except Exception as failure:
            self._answer_all(list(left.values()), failure)
            return

        def fetch() -> None:
            try:
                answers = self._runtime._get(ref, self._name, self._runtime.call_timeout_s)
            except Exception as failure:
                self._answer_all(list(left.values()), failure)
                return
            for k, pending in left.items():
                self._answer(pending, answers.get(k) or BackendUnavailable(
                    BACKEND, f"{self._name!r} lost track of a job; its outcome is unknown"))

        self._hand(next(iter(left.values())), fetch)

    def _finished_batch(self) -> None:
        with self._lock:
            self._in_flight -= 1
            batch = self._take()
        if batch:
            self._send(batch)

    def _hand(self, pending: _Pending, duty: Callable[[], None]) -> None:
        with self._lock:
            pending.duty = duty
            pending.wake.set()

    def _answer(self, pending: _Pending, answer: Any) -> None:
        with self._lock:
            pending.answer = answer
            pending.answered = True
            pending.wake.set()

    def _answer_all(self, batch: Sequence[_Pending], failure: BaseException) -> None:
        for pending in batch:
            self._answer(pending, failure)


class RayRuntime:
    """Implements :class:`application.ports.agent_runtime.AgentRuntime` with organ actors.

    Needs a connected Ray (``ray.init``, done by the composition root). ``executor_factory``
    (picklable, no argument) builds each actor's :class:`TaskExecutor` in the actor;
    ``clock_factory`` its clock (the system clock by default). ``detached`` actors outlive this
    process (for a cluster that several processes share); otherwise they end with it.
    ``checkpoint_store`` defaults to an :class:`ActorCheckpointStore` in the namespace.
    ``on_execution`` sees every execution that came back from an actor, in this process (the
    composition root counts the actors' memory reads with it).
    :meth:`close` removes every actor of the namespace and their checkpoints.
    """

    def __init__(
        self,
        executor_factory: Callable[[], TaskExecutor],
        config: DomainConfig,
        namespace: str = "seedcore",
        agents_per_actor: int = 1000,
        detached: bool = False,
        checkpoint_store: CheckpointStore | None = None,
        checkpoint_every_tasks: int = 1000,
        checkpoint_every_s: float = 5.0,
        *,
        clock_factory: Callable[[], Clock] = SystemClock,
        max_concurrency: int = 64,
        max_batches_in_flight: int = 1,
        batch_linger_s: float = 0.02,
        call_timeout_s: float = 120.0,
        control_timeout_s: float = 30.0,
        on_execution: Callable[[Execution], None] | None = None,
    ) -> None:
        if agents_per_actor < 1:
            raise ValueError("agents_per_actor must be at least 1")
        if not ray.is_initialized():
            raise BackendUnavailable(BACKEND, "Ray is not connected: call ray.init() first")
        self.namespace = namespace
        self.agents_per_actor = agents_per_actor
        self._own_store = checkpoint_store is None
        self._store: CheckpointStore = checkpoint_store or ActorCheckpointStore(namespace)
        self._actor_args = (
            executor_factory, config, self._store, checkpoint_every_tasks, checkpoint_every_s,
            clock_factory, max_concurrency,
        )
        self._options: dict[str, Any] = {
            "namespace": namespace,
            "get_if_exists": True,
            "lifetime": "detached" if detached else None,
            "max_restarts": -1,
            "max_task_retries": 0,
        }
        # Ray threads: the pool's jobs run on threads of their own; these serve the calls
        # (batches, collects of slow jobs, control calls).
        self._max_concurrency = max_concurrency + 16
        self._max_batches_in_flight = max_batches_in_flight
        self.batch_linger_s = batch_linger_s
        self.call_timeout_s = call_timeout_s
        self._control_timeout_s = control_timeout_s
        self._on_execution = on_execution
        self._lock = threading.Lock()
        self._handles: dict[str, Any] = {}
        self._batchers: dict[str, _Batcher] = {}
        self._where: dict[str, str] = {}
        self._directory: Any = self._start_directory()

    # -- the port ------------------------------------------------------------------------

    def add_agents(self, agents: Sequence[AgentState]) -> dict[str, str]:
        if not agents:
            return {}
        # Shard 0 of each organ is where the directory places first: start those actors now,
        # while it decides (if shard 0 exists this only fetches its handle).
        for organ_id in {a.organ_id for a in agents}:
            self._handle(actor_name(organ_id, 0), create=True)
        placed = self._directory_call(
            "place", [(a.agent_id, a.organ_id) for a in agents], self.agents_per_actor,
            uuid.uuid4().hex,
        )
        groups: dict[str, list[AgentState]] = defaultdict(list)
        for agent in agents:
            groups[placed[agent.agent_id]].append(agent)
        refs = {name: self._handle(name, create=True).add_agents.remote(group)
                for name, group in groups.items()}
        failures: list[BaseException] = []
        added: list[str] = []
        for name, ref in refs.items():
            try:
                self._control(ref, name)
                added.append(name)
            except Exception as failure:  # all are undone below, first raised
                failures.append(failure)
        if failures:
            for name in added:
                for agent in groups[name]:
                    self._quietly(self._handle(name).remove_agent.remote(agent.agent_id))
            with contextlib.suppress(BackendUnavailable):
                self._directory_call("release", list(placed))
            raise self._port_error(failures[0], "adding agents")
        with self._lock:
            self._where.update(placed)
        return {agent_id: self._key(name) for agent_id, name in placed.items()}

    def remove_agent(self, agent_id: str) -> AgentState:
        state: AgentState = self._call(agent_id, "remove_agent")
        with self._lock:
            self._where.pop(agent_id, None)
        try:
            self._directory_call("release", [agent_id])
        except BackendUnavailable:
            # Removed all the same; until the directory is back the id cannot be added again.
            log.warning("the directory did not hear that %s was removed", agent_id)
        return state

    def agent(self, agent_id: str) -> AgentState:
        state: AgentState = self._call(agent_id, "agent", retry_unavailable=True)
        return state

    def heartbeats(self) -> list[Heartbeat]:
        """One heartbeat per agent, sorted by id, in one round trip per actor. An actor that
        stays unreachable through one retry (e.g. restarting) is left out, so its agents'
        heartbeats go stale rather than hiding every other agent's."""
        names: list[str] = self._directory_call("actors")
        beats: list[Heartbeat] = []
        pending = names
        for attempt in range(2):
            refs = [self._handle(name, create=True).heartbeats.remote() for name in pending]
            failed: list[str] = []
            for name, ref in zip(pending, refs, strict=True):
                try:
                    beats.extend(self._control(ref, name))
                except BackendUnavailable:
                    failed.append(name)
            pending = failed
            if not pending:
                break
            if attempt == 0:
                time.sleep(0.5)
        if pending:
            log.warning("no heartbeat from organ actors %s", ", ".join(pending))
        return sorted(beats, key=lambda beat: beat.state.agent_id)

    def execute(self, agent_id: str, job: Job) -> Execution:
        """Run the job in the agent's actor (in a batch with the jobs sent to that actor
        meanwhile). If the actor dies, a job whose task has an idempotency key is run once
        more on the restarted actor; otherwise, or if that fails too, ``TaskInterrupted``
        says the outcome is unknown and the task may be submitted again."""
        retries = 1 if job.task.idempotency_key is not None else 0
        fresh = False
        while True:
            name = self._locate([agent_id], fresh=fresh)[agent_id]
            sent_at = time.time()
            answer = self._batcher(name).run(agent_id, job)
            if isinstance(answer, Execution):
                if self._on_execution is not None:
                    self._on_execution(answer)
                return answer
            if isinstance(answer, RemoteFailure):
                error = answer.rebuild()
                if isinstance(error, NotFound) and not fresh:
                    with self._lock:  # placed elsewhere by another client? ask the directory
                        self._where.pop(agent_id, None)
                    fresh = True
                    continue
                raise error
            if isinstance(answer, _ActorFailed):
                if retries > 0:
                    retries -= 1
                    log.warning("retrying task %s after %s", job.task.task_id, answer)
                    self._wait_alive(answer.name, sent_at)
                    continue
                raise TaskInterrupted(
                    BACKEND, job.task.task_id,
                    f"organ actor {answer.name!r} failed: {type(answer.cause).__name__}",
                ) from None
            raise answer

    def teach(self, agent_id: str, lesson: Lesson) -> AgentState:
        state: AgentState = self._call(agent_id, "teach", lesson)
        return state

    def set_roles(self, roles: Mapping[str, RoleProbabilities]) -> None:
        """All or none: vectors off the simplex and unknown ids are refused before any actor
        changes (an agent removed by another client meanwhile can still make it partial)."""
        for agent_id, probabilities in roles.items():
            _check_simplex(agent_id, probabilities)
        places = self._locate(list(roles))
        by_actor: dict[str, dict[str, RoleProbabilities]] = defaultdict(dict)
        for agent_id, probabilities in roles.items():
            by_actor[places[agent_id]][agent_id] = probabilities
        refs = [(name, self._handle(name).set_roles.remote(part))
                for name, part in by_actor.items()]
        for name, ref in refs:
            self._control(ref, name)

    def record_salient_event(self, agent_id: str) -> AgentState:
        state: AgentState = self._call(agent_id, "record_salient_event")
        return state

    # -- operations beyond the port ------------------------------------------------------

    def actor_names(self) -> list[str]:
        """Every organ actor of the namespace."""
        names: list[str] = self._directory_call("actors")
        return names

    def actor_of(self, agent_id: str) -> str:
        """The name of the actor hosting the agent."""
        return self._locate([agent_id])[agent_id]

    def actor_handle(self, name: str) -> Any:
        """The Ray handle of one organ actor (operations and tests: kill, inspect)."""
        return self._handle(name)

    def hosts(self) -> list[HostStatus]:
        """What every organ actor reports about itself (one round trip per actor, sorted by
        name)."""
        names = self.actor_names()
        refs = [self._handle(name, create=True).status.remote() for name in names]
        return [self._control(ref, name) for name, ref in zip(names, refs, strict=True)]

    def checkpoint(self) -> int:
        """Checkpoint every actor now; the number of agent states saved."""
        names = self.actor_names()
        refs = [self._handle(name, create=True).checkpoint.remote() for name in names]
        return sum(self._control(ref, name) for name, ref in zip(names, refs, strict=True))

    def close(self) -> None:
        """Remove every organ actor of the namespace, their checkpoints and the directory (for
        every client of the namespace). Ray itself stays connected."""
        try:
            names = set(self.actor_names())
        except BackendUnavailable:
            names = set()
        names.update(  # and any the directory does not list (e.g. started for a refused add)
            entry["name"]
            for entry in ray.util.list_named_actors(all_namespaces=True)
            if entry["namespace"] == self.namespace and entry["name"].startswith(ORGAN_PREFIX)
        )
        for name in sorted(names):
            with contextlib.suppress(BackendUnavailable, ValueError):
                ray.kill(self._handle(name), no_restart=True)
            try:
                self._store.delete(self._key(name))
            except BackendUnavailable:
                log.warning("the checkpoint of %s could not be deleted", name, exc_info=True)
        ray.kill(self._directory, no_restart=True)
        with self._lock:
            self._handles.clear()
            self._where.clear()
            self._batchers.clear()
        if self._own_store and isinstance(self._store, ActorCheckpointStore):
            self._store.close()

    # -- plumbing ------------------------------------------------------------------------

    def _key(self, name: str) -> str:
        return f"{self.namespace}/{name}"

    def _handle(self, name: str, create: bool = False) -> Any:
        with self._lock:
            handle = self._handles.get(name)
        if handle is not None:
            return handle
        if create:
            handle = RemoteOrganActor.options(
                name=name, max_concurrency=self._max_concurrency, **self._options
            ).remote(self._key(name), *self._actor_args)
        else:
            try:
                handle = ray.get_actor(name, namespace=self.namespace)
            except ValueError:
                raise BackendUnavailable(BACKEND, f"organ actor {name!r} is gone") from None
        with self._lock:
            return self._handles.setdefault(name, handle)

    def _batcher(self, name: str) -> _Batcher:
        with self._lock:
            batcher = self._batchers.get(name)
            if batcher is None:
                batcher = _Batcher(self, name, self._max_batches_in_flight)
                self._batchers[name] = batcher
            return batcher

    def _locate(self, agent_ids: Sequence[str], fresh: bool = False) -> dict[str, str]:
        """The actor of every agent; ``NotFound`` for the first unknown one."""
        with self._lock:
            known = {} if fresh else {a: self._where[a] for a in agent_ids if a in self._where}
        missing = [a for a in agent_ids if a not in known]
        if missing:
            found: dict[str, str] = self._directory_call("locate", missing)
            with self._lock:
                self._where.update(found)
            known.update(found)
            for agent_id in missing:
                if agent_id not in found:
                    raise NotFound("agent", agent_id)
        return known

    def _call(
        self, agent_id: str, method: str, *args: object, retry_unavailable: bool = False
    ) -> Any:
        """One call on the agent's actor. A ``NotFound`` from a cached placement is checked
        against the directory once (another client may have removed the agent and added it
        elsewhere). ``retry_unavailable``: call once more, after the actor is back, when it
        was unreachable (only for calls that change nothing)."""
        fresh = False
        unavailable_retries = 1 if retry_unavailable else 0
        while True:
            name = self._locate([agent_id], fresh=fresh)[agent_id]
            sent_at = time.time()
            ref = getattr(self._handle(name, create=True), method).remote(agent_id, *args)
            try:
                return self._get(ref, name, self._control_timeout_s)
            except NotFound:
                if fresh:
                    raise
                with self._lock:
                    self._where.pop(agent_id, None)
                fresh = True
            except _ActorFailed as failed:
                if unavailable_retries > 0:
                    unavailable_retries -= 1
                    self._wait_alive(name, sent_at)
                    continue
                raise self._port_error(failed, method) from None

    def _control(self, ref: Any, name: str) -> Any:
        try:
            return self._get(ref, name, self._control_timeout_s)
        except _ActorFailed as failed:
            raise self._port_error(failed, "call") from None

    def _get(self, ref: Any, name: str, timeout_s: float) -> Any:
        try:
            value = ray.get(ref, timeout=timeout_s)
        except GetTimeoutError:
            raise BackendUnavailable(
                BACKEND, f"no answer from {name!r} within {timeout_s:g} s; outcome unknown"
            ) from None
        except RayActorError as died:
            raise _ActorFailed(name, died) from None
        except RayTaskError as failed:  # not expected: actor methods answer failures
            raise BackendUnavailable(BACKEND, f"{name!r}: {failed.cause!r}") from None
        except RayError as failed:
            raise BackendUnavailable(BACKEND, f"{name!r}: {type(failed).__name__}") from None
        if isinstance(value, RemoteFailure):
            raise value.rebuild()
        return value

    def _wait_alive(self, name: str, since: float, timeout_s: float = 30.0) -> None:
        """Until the actor has answered from one process for a while, or the time is up.

        A killed process can still answer for a moment after its callers were told it
        failed, so one answer proves nothing; a process that keeps answering is not dying.
        One started after ``since`` (wall-clock time, taken before the failed call was sent)
        cannot be the one that failed the call, unless the call waited for a restart, so
        ``_SETTLE_S`` of answers will do; any other must answer for ``_SETTLE_OLD_S``. An
        actor gone for good (its name is free: killed for good, or its constructor failed)
        is created anew, restoring its agents from their checkpoint. Handles are never
        dropped otherwise: when the last handle of a non-detached actor goes, the actor
        ends."""
        deadline = time.monotonic() + timeout_s
        seen: tuple[tuple[int, float], float] | None = None  # (pid, started at), first seen
        while time.monotonic() < deadline:
            try:
                status = ray.get(self._handle(name).status.remote(), timeout=timeout_s)
            except (RayError, BackendUnavailable):
                seen = None
                if not self._exists(name):
                    with self._lock:
                        self._handles.pop(name, None)
                    self._handle(name, create=True)
            else:
                process = (status.pid, status.started_at)
                now = time.monotonic()
                if seen is None or seen[0] != process:
                    seen = (process, now)
                settle = _SETTLE_S if status.started_at > since else _SETTLE_OLD_S
                if now - seen[1] >= settle:
                    return
            time.sleep(0.05)

    def _directory_call(self, method: str, *args: object) -> Any:
        """A call on the directory, repeated while it restarts, and after starting it again if
        it is gone for good (e.g. its rebuild failed). It rebuilds itself from the organ
        actors, and every call is safe to repeat: a placement made by a directory that died
        before answering died with it, and one that did answer is answered again."""
        deadline = time.monotonic() + self._control_timeout_s
        while True:
            try:
                return self._get(getattr(self._directory, method).remote(*args), DIRECTORY,
                                 self._control_timeout_s)
            except _ActorFailed as failed:
                if time.monotonic() > deadline:
                    raise self._port_error(failed, method) from None
                if not self._exists(DIRECTORY):
                    self._directory = self._start_directory()
                time.sleep(0.1)

    def _start_directory(self) -> Any:
        return _RemoteDirectory.options(
            name=DIRECTORY, max_concurrency=1, **self._options
        ).remote(self.namespace)

    def _exists(self, name: str) -> bool:
        """Whether a named actor (alive or restarting) is in the namespace."""
        try:
            ray.get_actor(name, namespace=self.namespace)
        except ValueError:
            return False
        return True

    @staticmethod
    def _port_error(failure: BaseException, what: str) -> BaseException:
        if isinstance(failure, _ActorFailed):
            return BackendUnavailable(
                BACKEND, f"{failure} during {what}; the call is retriable"
            )
        return failure

    def _quietly(self, ref: Any) -> None:
        try:
            ray.get(ref, timeout=self._control_timeout_s)
        except RayError:
            log.warning("clean-up call failed", exc_info=True)


def _check_simplex(agent_id: str, p: RoleProbabilities) -> None:
    if (
        len(p) != 3
        or not all(math.isfinite(q) and q >= 0.0 for q in p)
        or abs(sum(p) - 1.0) > _SIMPLEX_TOLERANCE
    ):
        raise InvalidInput(
            f"roles of agent {agent_id!r} must be 3 non-negative values summing to 1"
        )
