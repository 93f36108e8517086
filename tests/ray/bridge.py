"""A bridge from Ray actors back to objects of the test process.

The contract suite and the scenarios observe what a runtime does through objects that live in
the test process: a probe handler that records loads and waits at a barrier, a fake clock the
test moves, a memory service whose counters it reads. An organ actor is another process, so it
reaches them through this bridge: the test *exposes* an object and hands the actor a picklable
:class:`Remote` (address, key and object id); each call on it is one round trip over a local
socket (``multiprocessing.connection``, authenticated with a random key), served on its own
thread in the test process, so calls from several actor threads run at once.

Errors travel as :class:`adapters.ray.organ_actor.RemoteFailure`, so the application's errors
keep their type and fields across the bridge as they do across the runtime.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import AuthenticationError
from multiprocessing.connection import (
    Client,
    Connection,
    Listener,
    answer_challenge,
    deliver_challenge,
)
from typing import Any

from adapters.ray.organ_actor import RemoteFailure

__all__ = ["Bridge", "BridgedClock", "ClockFactory", "Provide", "Remote"]


class Remote:
    """A proxy for one exposed object: ``remote.method(*args)`` runs ``obj.method(*args)`` in
    the test process. Picklable (its connections are per thread and are not pickled)."""

    def __init__(self, address: tuple[str, int], authkey: bytes, oid: int) -> None:
        self._address = address
        self._authkey = authkey
        self._oid = oid
        self._local = threading.local()

    def __getstate__(self) -> tuple[tuple[str, int], bytes, int]:
        return self._address, self._authkey, self._oid

    def __setstate__(self, state: tuple[tuple[str, int], bytes, int]) -> None:
        self._address, self._authkey, self._oid = state
        self._local = threading.local()

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._invoke(method, args, kwargs)

        return call

    def _invoke(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = Client(self._address)
            answer_challenge(conn, self._authkey)
            deliver_challenge(conn, self._authkey)
            self._local.conn = conn
        conn.send((self._oid, method, args, kwargs))
        ok, value = conn.recv()
        if ok:
            return value
        assert isinstance(value, RemoteFailure)
        raise value.rebuild()


class Bridge:
    """Serves exposed objects until :meth:`close`."""

    def __init__(self) -> None:
        self._authkey = secrets.token_bytes(16)
        # The handshake runs on each connection's own thread (see ``_serve``), and the backlog
        # is deep: many actor threads connect at once when a test starts.
        self._listener = Listener(("127.0.0.1", 0), backlog=256)
        self._objects: dict[int, object] = {}
        self._ids = itertools.count(1)
        self._closed = False
        threading.Thread(target=self._accept, name="bridge-accept", daemon=True).start()

    def expose(self, obj: object) -> Remote:
        oid = next(self._ids)
        self._objects[oid] = obj
        address: tuple[str, int] = self._listener.address
        return Remote(address, self._authkey, oid)

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except OSError:
                if self._closed:
                    return
                time.sleep(0.01)
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        with conn:
            try:
                deliver_challenge(conn, self._authkey)
                answer_challenge(conn, self._authkey)
            except (OSError, EOFError, AuthenticationError):
                return
            while True:
                try:
                    oid, method, args, kwargs = conn.recv()
                except (EOFError, OSError):
                    return
                try:
                    reply: tuple[bool, Any] = (
                        True, getattr(self._objects[oid], method)(*args, **kwargs)
                    )
                except Exception as exc:  # sent back to the caller, typed
                    reply = (False, RemoteFailure.of(exc))
                conn.send(reply)


@dataclass(frozen=True)
class Provide:
    """A zero-argument factory returning the proxy (an actor's ``executor_factory``)."""

    remote: Remote

    def __call__(self) -> Any:
        return self.remote


class BridgedClock:
    """The test's clock for wall and monotonic time; CPU time is the calling thread's own."""

    def __init__(self, remote: Remote) -> None:
        self._remote = remote

    def now(self) -> float:
        value: float = self._remote.now()
        return value

    def monotonic(self) -> float:
        value: float = self._remote.monotonic()
        return value

    def thread_cpu(self) -> float:
        return time.thread_time()


@dataclass(frozen=True)
class ClockFactory:
    """An actor's ``clock_factory``: a :class:`BridgedClock` on the test's clock."""

    remote: Remote

    def __call__(self) -> BridgedClock:
        return BridgedClock(self.remote)
