"""The organ actor: one Ray actor process hosting many agents of one organ (or one shard).

Inside, an :class:`~adapters.memory.agent_runtime.InProcessRuntime` keeps the reference
semantics of the port (the load counts a job while it runs, the lesson is re-applied to the
agent's state as it is when the job ends, a job outliving its agent's removal writes nothing).
The actor is *threaded* (``max_concurrency`` > 1) and runs jobs on a pool of its own threads,
so jobs on different agents, or on the same one, run at once. Jobs come in batches
(:meth:`OrganActor.execute_batch`, one Ray call for many jobs); a batch is answered with the
jobs that ended within a short linger time, and the slow ones are fetched apart
(:meth:`OrganActor.collect`). The executor is built in the actor, once, from a picklable
zero-argument ``executor_factory`` given at creation (the composition root provides it).

Recovery: the agents' states are saved to a :class:`~adapters.ray.checkpoints.CheckpointStore`
every ``checkpoint_every_tasks`` state changes or ``checkpoint_every_s`` seconds (whichever
comes first, by a saver thread, never on a job's path; only the agents that changed), and at
once when agents are added or removed. ``__init__`` loads them back, so an actor that Ray
restarts after a crash comes back with its agents as of the last checkpoint, with no job
running (load 0).

Errors cross the process boundary as values: every method returns its result or a
:class:`RemoteFailure`, which the runtime turns back into the same exception type (application
errors keep their fields, e.g. ``NotFound.ident``). Ray's own exception path would lose them.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from adapters.clock import SystemClock
from adapters.memory.agent_runtime import InProcessRuntime
from adapters.ray.checkpoints import CheckpointStore
from application.errors import NotFound, SeedCoreError
from application.execution import Execution, Job, TaskExecutor
from application.ports.agent_runtime import HostStatus
from application.ports.clock import Clock
from domain.agent import AgentState, Heartbeat, Lesson
from domain.config import DomainConfig
from domain.roles import RoleProbabilities

try:
    import ray
except ImportError as missing:  # pragma: no cover - ray is a dependency of the package
    raise ImportError(
        "adapters.ray needs Ray: install it with `pip install 'ray>=2.40'`"
    ) from missing

__all__ = ["BatchReply", "OrganActor", "RemoteFailure", "RemoteOrganActor"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RemoteFailure:
    """An exception raised in the actor, in a form that survives pickling.

    ``SeedCoreError`` subclasses travel as their class and attributes (their constructors take
    other arguments than ``args``, so plain pickling would fail); any other exception travels
    as itself when it pickles, else as a ``RuntimeError`` naming it. ``remote_traceback`` is
    added to the rebuilt exception as a note.
    """

    error_type: type[BaseException]
    message: str
    fields: Mapping[str, Any] | None
    exception: BaseException | None
    remote_traceback: str

    @staticmethod
    def of(exc: BaseException) -> RemoteFailure:
        text = "".join(traceback.format_exception(exc))
        if isinstance(exc, SeedCoreError):
            return RemoteFailure(type(exc), exc.message, dict(vars(exc)), None, text)
        try:
            pickle.loads(pickle.dumps(exc))  # our own bytes, just made
            carried: BaseException | None = exc
        except Exception:  # any pickling problem means "send a stand-in"
            carried = None
        return RemoteFailure(type(exc), str(exc), None, carried, text)

    def rebuild(self) -> BaseException:
        if self.fields is not None:
            error = self.error_type.__new__(self.error_type)
            Exception.__init__(error, self.message)
            error.__dict__.update(self.fields)
        elif self.exception is not None:
            error = self.exception
        else:
            error = RuntimeError(f"{self.error_type.__name__}: {self.message}")
        error.add_note(f"raised in an organ actor:\n{self.remote_traceback}")
        return error


@dataclass(frozen=True, slots=True)
class BatchReply:
    """The jobs of a batch that ended within the linger time, by their index in the batch;
    ``ticket`` names the others, to :meth:`OrganActor.collect` (None when all ended)."""

    done: Mapping[int, Execution | RemoteFailure] = field(default_factory=dict)
    ticket: int | None = None


def _replying(call: Callable[[], T]) -> T | RemoteFailure:
    try:
        return call()
    except Exception as exc:  # every error is sent back, typed
        return RemoteFailure.of(exc)


class OrganActor:
    """Hosts many agents; the methods mirror :class:`AgentRuntime` and answer values or a
    :class:`RemoteFailure`. ``name`` is the actor's key in the checkpoint store."""

    def __init__(
        self,
        name: str,
        executor_factory: Callable[[], TaskExecutor],
        config: DomainConfig,
        checkpoint_store: CheckpointStore | None = None,
        checkpoint_every_tasks: int = 1000,
        checkpoint_every_s: float = 5.0,
        clock_factory: Callable[[], Clock] = SystemClock,
        max_jobs: int = 64,
    ) -> None:
        self.name = name
        self.started_at = time.time()
        self._clock = clock_factory()
        # The agents' heartbeats name the actor as their host: it outlives a restart.
        self._runtime = InProcessRuntime(executor_factory(), self._clock, config, host=name)
        self._store = checkpoint_store
        self._every_tasks = max(1, checkpoint_every_tasks)
        self._every_s = checkpoint_every_s
        # What changed since the last checkpoint: agents to save again, agents to forget.
        self._changes = 0
        self._dirty: set[str] = set()
        self._gone: set[str] = set()
        self._changes_lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._due = threading.Event()
        self._checkpoints = 0
        self._checkpointed_at: float | None = None
        self._jobs = ThreadPoolExecutor(max_workers=max_jobs, thread_name_prefix="job")
        self._parked: dict[int, dict[int, Future[Execution | RemoteFailure]]] = {}
        self._tickets = 0
        self._parked_lock = threading.Lock()
        self._restored = self._restore()
        if self._store is not None:
            threading.Thread(target=self._saver, name="checkpoint-saver", daemon=True).start()

    # -- the port's operations -----------------------------------------------------------

    def add_agents(self, agents: Sequence[AgentState]) -> RemoteFailure | None:
        """All or none, and durable: if the checkpoint cannot be written the agents are
        removed again and the failure is returned."""

        def add() -> None:
            self._runtime.add_agents(agents)
            ids = [agent.agent_id for agent in agents]
            self._mark(ids)
            try:
                self._save()
            except BaseException:
                for agent_id in ids:
                    self._runtime.remove_agent(agent_id)
                with self._changes_lock:
                    self._dirty.difference_update(ids)
                raise

        return _replying(add)

    def remove_agent(self, agent_id: str) -> AgentState | RemoteFailure:
        def remove() -> AgentState:
            state = self._runtime.remove_agent(agent_id)
            self._mark([agent_id], gone=True)
            try:
                self._save()  # so that a restart cannot bring the agent back
            except Exception:  # removed all the same; the saver retries
                log.warning("checkpoint of %s after a removal failed", self.name, exc_info=True)
            return state

        return _replying(remove)

    def agent(self, agent_id: str) -> AgentState | RemoteFailure:
        return _replying(lambda: self._runtime.agent(agent_id))

    def agent_ids(self) -> list[str]:
        return [beat.state.agent_id for beat in self._runtime.heartbeats()]

    def heartbeats(self) -> list[Heartbeat] | RemoteFailure:
        return _replying(self._runtime.heartbeats)

    def execute(self, agent_id: str, job: Job) -> Execution | RemoteFailure:
        def run() -> Execution:
            execution = self._runtime.execute(agent_id, job)
            self._mark([agent_id])
            return execution

        return _replying(run)

    def execute_batch(self, jobs: bytes, linger_s: float) -> bytes:
        """Run the jobs (``list[tuple[agent id, Job]]``, pickled) at once, each on a thread of
        the actor's pool, and answer (a pickled :class:`BatchReply`) with those that ended
        within ``linger_s``: a slow job delays its batch by ``linger_s`` at most, and is
        fetched with :meth:`collect`. Batches travel as one pickle each way: cheaper than
        Ray's serialisation of many small objects (numpy arrays out of band)."""
        batch: list[tuple[str, Job]] = pickle.loads(jobs)  # from our runtime only
        futures = [self._jobs.submit(self.execute, agent_id, job) for agent_id, job in batch]
        done, pending = wait(futures, timeout=linger_s)
        if not pending:
            reply = BatchReply({k: f.result() for k, f in enumerate(futures)})
        else:
            with self._parked_lock:
                self._tickets += 1
                ticket = self._tickets
                self._parked[ticket] = {k: f for k, f in enumerate(futures) if f in pending}
            reply = BatchReply({k: f.result() for k, f in enumerate(futures) if f in done},
                               ticket)
        return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)

    def collect(self, ticket: int) -> dict[int, Execution | RemoteFailure]:
        """The jobs a batch left running, once they have all ended."""
        with self._parked_lock:
            parked = self._parked.pop(ticket, {})
        wait(parked.values())
        return {k: f.result() for k, f in parked.items()}

    def teach(self, agent_id: str, lesson: Lesson) -> AgentState | RemoteFailure:
        return _replying(lambda: self._changed(self._runtime.teach(agent_id, lesson)))

    def set_roles(self, roles: Mapping[str, RoleProbabilities]) -> RemoteFailure | None:
        def set_all() -> None:
            self._runtime.set_roles(roles)
            self._mark(list(roles), urgent=True)

        return _replying(set_all)

    def record_salient_event(self, agent_id: str) -> AgentState | RemoteFailure:
        return _replying(lambda: self._changed(self._runtime.record_salient_event(agent_id)))

    # -- recovery ------------------------------------------------------------------------

    def checkpoint(self) -> int | RemoteFailure:
        """Save every hosted agent's state now; the number saved."""
        return _replying(lambda: self._save(everything=True))

    def restore(self) -> int | RemoteFailure:
        """Replace the hosted agents by the checkpointed ones; the number restored."""
        return _replying(self._restore)

    def status(self) -> HostStatus:
        # The hosted runtime reports the process (node, pid, agents, memory) without building
        # a heartbeat per agent; what it cannot know is this actor's name and its checkpoints.
        (here,) = self._runtime.hosts()
        return replace(here, started_at=self.started_at, restored=self._restored,
                       checkpoints=self._checkpoints, checkpointed_at=self._checkpointed_at)

    def _restore(self) -> int:
        if self._store is None:
            return 0
        states = self._store.load(self.name)
        with self._save_lock:
            for beat in self._runtime.heartbeats():
                self._runtime.remove_agent(beat.state.agent_id)
            # Whatever ran when the checkpoint was taken died with the old process.
            self._runtime.add_agents([state.with_load(0) for state in states])
            with self._changes_lock:
                self._dirty.clear()
                self._gone.clear()
                self._changes = 0
        return len(states)

    def _save(self, everything: bool = False) -> int:
        """Save what changed since the last save (or every agent); the states saved."""
        if self._store is None:
            return 0
        with self._save_lock:  # saves in order: an older state never overwrites a newer
            with self._changes_lock:
                dirty, gone = self._dirty, self._gone
                self._dirty, self._gone, self._changes = set(), set(), 0
            self._due.clear()
            if everything:
                dirty = {beat.state.agent_id for beat in self._runtime.heartbeats()}
            states = []
            for agent_id in sorted(dirty):
                try:
                    states.append(self._runtime.agent(agent_id))
                except NotFound:
                    gone.add(agent_id)
            try:
                self._store.save(self.name, states, sorted(gone))
            except BaseException:
                with self._changes_lock:  # still to be saved, unless changed again since
                    self._dirty.update(dirty - self._gone)
                    self._gone.update(gone - self._dirty)
                    self._changes += len(dirty) + len(gone)
                raise
            self._checkpoints += 1
            self._checkpointed_at = time.time()
            return len(states)

    def _changed(self, state: AgentState) -> AgentState:
        self._mark([state.agent_id])
        return state

    def _mark(self, agent_ids: Sequence[str], gone: bool = False, urgent: bool = False) -> None:
        """Note agents to save (or, ``gone``, to forget) at the next checkpoint, which is due
        after ``checkpoint_every_tasks`` changes (or at once, ``urgent``)."""
        with self._changes_lock:
            for agent_id in agent_ids:
                (self._gone if gone else self._dirty).add(agent_id)
                (self._dirty if gone else self._gone).discard(agent_id)
            self._changes += len(agent_ids)
            due = urgent or self._changes >= self._every_tasks
        if due:
            self._due.set()

    def _saver(self) -> None:
        """Save when asked (N changes, or a membership change) or every T seconds if changed."""
        while True:
            self._due.wait(timeout=self._every_s if self._every_s > 0 else None)
            with self._changes_lock:
                pending = self._changes
            if not pending:
                self._due.clear()
                continue
            try:
                self._save()
            except Exception:  # the saver must live on; retried next period
                log.warning("checkpoint of %s failed", self.name, exc_info=True)
                time.sleep(min(1.0, self._every_s or 1.0))


#: The Ray actor class. Created by :class:`adapters.ray.runtime.RayRuntime` with
#: ``.options(name=..., namespace=..., get_if_exists=True, max_concurrency=..., ...)``.
#: (Ray's stubs type actor handles loosely; they are used as ``Any``.)
RemoteOrganActor: Any = ray.remote(num_cpus=0)(OrganActor)
