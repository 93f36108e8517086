"""Where organ actors keep their agents' state between restarts.

An organ actor saves the states of its agents under its own key (its namespace and name):
the agents added, at once; then, every N state changes or T seconds, the agents that changed
since the last save (so a save costs what changed, not the whole actor); and the removal of
an agent, at once. ``__init__`` loads them back when Ray restarts the actor. A store is handed
to the actor at creation, so it must be picklable: both stores here carry only an address and
connect lazily, in the process that uses them.

- :class:`ActorCheckpointStore` keeps the states in a named, detached Ray actor (pickled bytes
  in a dict): for the tests and embedded use. It survives the failure of an organ actor, not
  its own nor the cluster's.
- :class:`RedisCheckpointStore` keeps them in Redis (a hash per organ actor, one field per
  agent, each state pickled with :mod:`pickle`): for a deployment. Only this application
  writes these keys, which is what makes unpickling them safe; never point it at a Redis that
  others can write.
- :class:`SqliteCheckpointStore` keeps them in a SQLite file (a row per agent, the state
  pickled likewise): the embedded profile's store, which outlives the whole cluster. The same
  caution holds: only this application may write the file.
"""

from __future__ import annotations

import pickle
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from application.errors import BackendUnavailable
from domain.agent import AgentState

try:
    import ray
    from ray.exceptions import GetTimeoutError, RayError
except ImportError as missing:  # pragma: no cover - ray is a dependency of the package
    raise ImportError(
        "adapters.ray needs Ray: install it with `pip install 'ray>=2.40'`"
    ) from missing

__all__ = [
    "ActorCheckpointStore",
    "CheckpointStore",
    "RedisCheckpointStore",
    "SqliteCheckpointStore",
]

_TIMEOUT_S = 30.0
#: How long a SQLite write waits for another process's to end before giving up.
_SQLITE_BUSY_TIMEOUT_S = 10.0


class CheckpointStore(Protocol):
    """Agent states by organ actor. Picklable; every method may be called from many threads
    and many processes at once. A backend that cannot be reached raises ``BackendUnavailable``."""

    def save(
        self, actor_name: str, states: Sequence[AgentState], removed: Sequence[str] = ()
    ) -> None:
        """Store these states (replacing earlier ones of the same agents) and forget the
        ``removed`` agent ids, all at once; the actor's other agents stay as they were."""
        ...

    def load(self, actor_name: str) -> list[AgentState]:
        """Every state saved for the actor, sorted by agent id; empty when none were."""
        ...

    def delete(self, actor_name: str) -> None:
        """Forget the actor's checkpoint (the actor was removed for good); no error if none."""
        ...


class _CheckpointHolder:
    """Checkpoints as pickled states in a dict per actor. Its methods are idempotent, hence
    retried by Ray after a restart of the holder (which loses what it held)."""

    def __init__(self) -> None:
        self._blobs: dict[str, dict[str, bytes]] = {}
        self._lock = threading.Lock()

    def save(self, key: str, blobs: dict[str, bytes], removed: Sequence[str]) -> None:
        with self._lock:
            held = self._blobs.setdefault(key, {})
            held.update(blobs)
            for agent_id in removed:
                held.pop(agent_id, None)

    def load(self, key: str) -> dict[str, bytes]:
        with self._lock:
            return dict(self._blobs.get(key, {}))

    def delete(self, key: str) -> None:
        with self._lock:
            self._blobs.pop(key, None)


# Ray's stubs type actor handles loosely; the handles here are used as ``Any``.
_RemoteHolder: Any = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(
    _CheckpointHolder
)


class ActorCheckpointStore:
    """Checkpoints in one named, detached Ray actor (``name`` in ``namespace``), created
    exactly once by whichever process uses it first and removed by :meth:`close`. Needs a
    connected Ray (``ray.init``)."""

    def __init__(self, namespace: str = "seedcore", name: str = "checkpoints") -> None:
        self.namespace = namespace
        self.name = name
        self._holder: Any = None  # the handle, fetched or created on first use
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type[ActorCheckpointStore], tuple[str, str]]:
        return ActorCheckpointStore, (self.namespace, self.name)  # the address, not the handle

    def save(
        self, actor_name: str, states: Sequence[AgentState], removed: Sequence[str] = ()
    ) -> None:
        self._call("save", actor_name, _blobs(states), list(removed))

    def load(self, actor_name: str) -> list[AgentState]:
        return _states(self._call("load", actor_name))

    def delete(self, actor_name: str) -> None:
        self._call("delete", actor_name)

    def close(self) -> None:
        """Remove the holder actor and every checkpoint in it."""
        with self._lock:
            holder, self._holder = self._holder, None
        if holder is None:
            try:
                holder = ray.get_actor(self.name, namespace=self.namespace)
            except ValueError:
                return
        ray.kill(holder, no_restart=True)

    def _call(self, method: str, *args: object) -> Any:
        try:
            return ray.get(getattr(self._handle(), method).remote(*args), timeout=_TIMEOUT_S)
        except (GetTimeoutError, RayError) as failure:
            raise BackendUnavailable(
                "checkpoints", f"{type(failure).__name__}: {failure}"
            ) from None

    def _handle(self) -> Any:
        with self._lock:
            if self._holder is None:
                self._holder = _RemoteHolder.options(
                    name=self.name, namespace=self.namespace, get_if_exists=True,
                    # Detached: whichever process creates it first (often an organ actor),
                    # the holder must not die with that process.
                    lifetime="detached", max_concurrency=8,
                ).remote()
            return self._holder


class RedisCheckpointStore:
    """Checkpoints in Redis: a hash ``<prefix>:ckpt:<actor name>``, agent id -> pickled state;
    a save is one ``MULTI``/``EXEC`` of ``HSET`` and ``HDEL``."""

    def __init__(self, url: str, prefix: str = "seedcore") -> None:
        from adapters.redis.client import validate_prefix

        self.url = url
        self.prefix = validate_prefix(prefix)
        self._client: Any = None  # connected on first use, in the process that uses it
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type[RedisCheckpointStore], tuple[str, str]]:
        return RedisCheckpointStore, (self.url, self.prefix)  # the address, not the connection

    def save(
        self, actor_name: str, states: Sequence[AgentState], removed: Sequence[str] = ()
    ) -> None:
        key, blobs = self._key(actor_name), _blobs(states)
        if not blobs and not removed:
            return

        def write(r: Any) -> None:
            with r.pipeline(transaction=True) as pipe:
                if blobs:
                    pipe.hset(key, mapping=blobs)
                if removed:
                    pipe.hdel(key, *removed)
                pipe.execute()

        self._run(write)

    def load(self, actor_name: str) -> list[AgentState]:
        blobs = self._run(lambda r: r.hgetall(self._key(actor_name)))
        return _states({k.decode(): v for k, v in blobs.items()})

    def delete(self, actor_name: str) -> None:
        self._run(lambda r: r.delete(self._key(actor_name)))

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _key(self, actor_name: str) -> str:
        return f"{self.prefix}:ckpt:{actor_name}"

    def _run(self, command: Any) -> Any:
        import redis

        client = self._connected()
        try:
            return command(client.redis)
        except redis.RedisError as error:
            raise client.unavailable(error) from None

    def _connected(self) -> Any:
        with self._lock:
            if self._client is None:
                from adapters.redis.client import RedisClient

                self._client = RedisClient(self.url)
            return self._client


class SqliteCheckpointStore:
    """Checkpoints in a SQLite file: table ``agent_checkpoints`` (actor, agent id -> pickled
    state); a save is one transaction of upserts and deletes. Many processes use the file at
    once (organ actors, the API): WAL lets readers run beside the one writer, and a writer
    waits up to 10 s for another's. Each process opens its own connection on first use,
    shared by its threads under a lock. The file's directory is created when missing."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None  # opened on first use, per process
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type[SqliteCheckpointStore], tuple[Path]]:
        return SqliteCheckpointStore, (self.path,)  # the path, not the connection

    def save(
        self, actor_name: str, states: Sequence[AgentState], removed: Sequence[str] = ()
    ) -> None:
        blobs = _blobs(states)
        if not blobs and not removed:
            return
        with self._session(write=True) as conn:
            conn.executemany(
                "INSERT INTO agent_checkpoints (actor, agent_id, state) VALUES (?, ?, ?)"
                " ON CONFLICT (actor, agent_id) DO UPDATE SET state = excluded.state",
                [(actor_name, agent_id, blob) for agent_id, blob in blobs.items()],
            )
            conn.executemany(  # after the upserts: an id both saved and removed is removed
                "DELETE FROM agent_checkpoints WHERE actor = ? AND agent_id = ?",
                [(actor_name, agent_id) for agent_id in removed],
            )

    def load(self, actor_name: str) -> list[AgentState]:
        with self._session(write=False) as conn:
            rows = conn.execute(
                "SELECT agent_id, state FROM agent_checkpoints WHERE actor = ?", (actor_name,)
            ).fetchall()
        return _states({str(agent_id): bytes(state) for agent_id, state in rows})

    def delete(self, actor_name: str) -> None:
        with self._session(write=True) as conn:
            conn.execute("DELETE FROM agent_checkpoints WHERE actor = ?", (actor_name,))

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    @contextmanager
    def _session(self, write: bool) -> Iterator[sqlite3.Connection]:
        """This process's connection, inside one transaction when ``write`` (a read is one
        statement, atomic as it is); SQLite's errors become ``BackendUnavailable``."""
        with self._lock:
            try:
                conn = self._connected()
                if write:
                    conn.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, OSError) as error:
                raise _sqlite_unavailable(error) from None
            try:
                yield conn
                if write:
                    conn.execute("COMMIT")
            except BaseException as failure:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):  # the original error is the one to report
                        conn.execute("ROLLBACK")
                if isinstance(failure, sqlite3.Error):
                    raise _sqlite_unavailable(failure) from None
                raise

    def _connected(self) -> sqlite3.Connection:
        """This process's connection, opened (and the table created) on first use; call it
        with the lock held."""
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=_SQLITE_BUSY_TIMEOUT_S,
                                   isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS agent_checkpoints (actor TEXT NOT NULL,"
                    " agent_id TEXT NOT NULL, state BLOB NOT NULL,"
                    " PRIMARY KEY (actor, agent_id))"
                )
            except sqlite3.Error:
                conn.close()
                raise
            self._conn = conn
        return self._conn


def _sqlite_unavailable(error: Exception) -> BackendUnavailable:
    return BackendUnavailable("checkpoints", f"{type(error).__name__}: {error}")


def _blobs(states: Sequence[AgentState]) -> dict[str, bytes]:
    return {s.agent_id: pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL) for s in states}


def _states(blobs: dict[str, bytes]) -> list[AgentState]:
    states = []
    for agent_id in sorted(blobs):
        state = pickle.loads(blobs[agent_id])  # written by this application only (see above)
        if not isinstance(state, AgentState) or state.agent_id != agent_id:
            raise BackendUnavailable("checkpoints", f"{agent_id!r} has a corrupt checkpoint")
        states.append(state)
    return states
