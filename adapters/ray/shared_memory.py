"""Working memory (Mw) and the consolidation queue shared by every process of one Ray namespace.

The embedded profile has no Redis, and its in-process adapters are invisible to the organ
actors, which are other processes: an agent's write to Mw would never reach the API, nor its
consolidation item the worker. So one named Ray actor, the *host*, keeps one
:class:`~adapters.memory.working_memory.InMemoryWorkingMemory` and one
:class:`~adapters.memory.consolidation_queue.InMemoryConsolidationQueue`, and every process
reaches them through :class:`RayWorkingMemory` and :class:`RayConsolidationQueue`: picklable
proxies that carry the host's address (a :class:`SharedMemoryHost`) and fetch its handle
lazily, in the process that uses them. The host is created exactly once, by whichever process
calls first (``get_if_exists``), with the options of that process's proxy.

Durability: Ray restarts the host when it dies, empty. Mw is a cache whose items expire
anyway; the queue's unconsolidated items are lost with it, which is the embedded profile's
durability (the in-process queue loses them on a restart of its process too). A call in
flight during the crash is not retried (``record_item_miss`` is not idempotent): it raises
``BackendUnavailable``.

Lifetime: by default the host belongs to the process that created it and dies with it (a
proxy's next call raises ``BackendUnavailable``, and the one after creates a new, empty host).
The composition root of the long-lived process should therefore make the first call
(``ping``), or pass ``detached=True``.

Errors: an exception of the hosted adapters (``InvalidKey``, ``ValueError``,
``BackendUnavailable``...) reaches the caller with its type and fields, as a
:class:`~adapters.ray.organ_actor.RemoteFailure` (Ray's own path cannot rebuild errors whose
constructor takes other arguments than ``args``, such as ``BackendUnavailable``). Ray's failures
(the host died, no answer within 30 s) become ``BackendUnavailable("working_memory", ...)`` or
``BackendUnavailable("consolidation_queue", ...)``, the backend names of the in-memory adapters.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from adapters.clock import SystemClock
from adapters.memory.consolidation_queue import InMemoryConsolidationQueue
from adapters.memory.working_memory import InMemoryWorkingMemory
from adapters.ray.organ_actor import RemoteFailure
from application.errors import BackendUnavailable
from application.ports.clock import Clock
from application.ports.consolidation_queue import PendingItem
from application.ports.working_memory import NamespaceStats
from domain.memory import validate_key, validate_namespace

try:
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError, RayError
except ImportError as missing:  # pragma: no cover - ray is a dependency of the package
    raise ImportError(
        "adapters.ray needs Ray: install it with `pip install 'ray>=2.40'`"
    ) from missing

__all__ = ["RayConsolidationQueue", "RayWorkingMemory", "SharedMemoryHost"]

WORKING_MEMORY = "working_memory"
CONSOLIDATION_QUEUE = "consolidation_queue"

_TIMEOUT_S = 30.0
#: Threads of the host: its adapters take one lock each, so this bounds waiting, not work.
_MAX_CONCURRENCY = 32
# The methods a proxy may call on each hosted adapter: its port, nothing private.
_METHODS = {
    WORKING_MEMORY: frozenset({
        "set", "get", "contains_many", "ttl", "delete", "delete_namespace", "stats",
        "namespaces", "record_item_miss", "item_misses", "ping",
    }),
    CONSOLIDATION_QUEUE: frozenset({"enqueue", "peek", "ack", "size"}),
}


class _MemoryHost:
    """The actor: the two in-memory adapters, built here on the clock of ``clock_factory``.
    Every method answers its value or a :class:`RemoteFailure`."""

    def __init__(
        self, clock_factory: Callable[[], Clock], item_cap: int, miss_window_s: float
    ) -> None:
        self._memory = InMemoryWorkingMemory(
            clock_factory(), item_cap=item_cap, miss_window_s=miss_window_s
        )
        self._queue = InMemoryConsolidationQueue()
        self._queue_down = False  # the in-memory queue has no outage switch of its own

    def call(self, backend: str, method: str, args: tuple[Any, ...]) -> Any:
        try:
            if method not in _METHODS[backend]:
                raise AttributeError(f"{backend} has no method {method!r}")
            if backend == WORKING_MEMORY:
                return getattr(self._memory, method)(*args)
            if self._queue_down:
                raise BackendUnavailable(backend, "the in-memory backend is switched down")
            return getattr(self._queue, method)(*args)
        except Exception as exc:  # every error is sent back, typed
            return RemoteFailure.of(exc)

    def set_down(self, down: bool) -> None:
        self._memory.down = down
        self._queue_down = down


# Ray's stubs type actor handles loosely; the handles here are used as ``Any``.
_RemoteHost: Any = ray.remote(num_cpus=0, max_restarts=-1)(_MemoryHost)


def _host(
    namespace: str,
    name: str,
    clock_factory: Callable[[], Clock],
    item_cap: int,
    miss_window_s: float,
    detached: bool,
) -> SharedMemoryHost:
    """Rebuilds a pickled :class:`SharedMemoryHost` (its options are keyword-only)."""
    return SharedMemoryHost(namespace, name, clock_factory=clock_factory, item_cap=item_cap,
                            miss_window_s=miss_window_s, detached=detached)


class SharedMemoryHost:
    """The address of the host actor (``name`` in ``namespace``) and the options it is created
    with: ``clock_factory`` (picklable, called in the actor), ``item_cap`` and
    ``miss_window_s`` of the working memory, and whether it outlives its creator
    (``detached``). Picklable: the handle is fetched or created on first use, per process.
    Needs a connected Ray (``ray.init``)."""

    def __init__(
        self,
        namespace: str = "seedcore",
        name: str = "memory",
        *,
        clock_factory: Callable[[], Clock] = SystemClock,
        item_cap: int = 10_000,
        miss_window_s: float = 600.0,
        detached: bool = False,
    ) -> None:
        # Refused here: in the actor, a bad option would surface as a dead host.
        if item_cap < 1:
            raise ValueError("item_cap must be at least 1")
        if not (math.isfinite(miss_window_s) and miss_window_s > 0):
            raise ValueError("miss_window_s must be positive")
        self.namespace = namespace
        self.name = name
        self.clock_factory = clock_factory
        self.item_cap = item_cap
        self.miss_window_s = miss_window_s
        self.detached = detached
        self._actor: Any = None
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Callable[..., SharedMemoryHost], tuple[Any, ...]]:
        # The address and options, not the handle.
        return _host, (self.namespace, self.name, self.clock_factory, self.item_cap,
                       self.miss_window_s, self.detached)

    def call(self, backend: str, method: str, *args: Any) -> Any:
        """``method(*args)`` on the hosted adapter of ``backend`` (``"working_memory"`` or
        ``"consolidation_queue"``): its value, or its exception raised here."""
        try:
            reply = ray.get(self._handle().call.remote(backend, method, args), timeout=_TIMEOUT_S)
        except RayActorError as failure:
            # The host died: if for good (its owner died), the next call creates a new one.
            self._forget()
            raise _unavailable(backend, failure) from None
        except (GetTimeoutError, RayError) as failure:
            raise _unavailable(backend, failure) from None
        if isinstance(reply, RemoteFailure):
            raise reply.rebuild()
        return reply

    def set_down(self, down: bool) -> None:
        """Make every call of both adapters raise ``BackendUnavailable`` (after the working
        memory's validation), as an unreachable backend would; for the tests' outages."""
        try:
            ray.get(self._handle().set_down.remote(down), timeout=_TIMEOUT_S)
        except (GetTimeoutError, RayError) as failure:
            raise _unavailable(WORKING_MEMORY, failure) from None

    def close(self) -> None:
        """Remove the host and everything it holds, for every process (a later call creates
        an empty one). No error when there is none."""
        with self._lock:
            actor, self._actor = self._actor, None
        if actor is None:
            try:
                actor = ray.get_actor(self.name, namespace=self.namespace)
            except ValueError:
                return
        ray.kill(actor, no_restart=True)

    def _handle(self) -> Any:
        with self._lock:
            if self._actor is None:
                self._actor = _RemoteHost.options(
                    name=self.name, namespace=self.namespace, get_if_exists=True,
                    lifetime="detached" if self.detached else None,
                    max_concurrency=_MAX_CONCURRENCY,
                ).remote(self.clock_factory, self.item_cap, self.miss_window_s)
            return self._actor

    def _forget(self) -> None:
        with self._lock:
            self._actor = None


def _unavailable(backend: str, failure: Exception) -> BackendUnavailable:
    return BackendUnavailable(backend, f"{type(failure).__name__}: {failure}")


class RayWorkingMemory:
    """Implements :class:`application.ports.working_memory.WorkingMemory` on the shared host.

    Namespaces and keys are validated here, so ``InvalidKey`` comes before any round trip,
    even when the host is gone; the other checks are the hosted adapter's."""

    def __init__(self, host: SharedMemoryHost) -> None:
        self.host = host  # pickled as its address (see SharedMemoryHost.__reduce__)

    def set(self, namespace: str, key: str, value: bytes, expires_in: float) -> None:
        validate_namespace(namespace)
        validate_key(key)
        self._call("set", namespace, key, value, expires_in)

    def get(self, namespace: str, key: str, renew_for: float | None = None) -> bytes | None:
        validate_namespace(namespace)
        validate_key(key)
        value: bytes | None = self._call("get", namespace, key, renew_for)
        return value

    def contains_many(self, namespace: str, keys: Sequence[str]) -> list[bool]:
        validate_namespace(namespace)
        for key in keys:
            validate_key(key)
        found: list[bool] = self._call("contains_many", namespace, list(keys))
        return found

    def ttl(self, namespace: str, key: str) -> float | None:
        validate_namespace(namespace)
        validate_key(key)
        remaining: float | None = self._call("ttl", namespace, key)
        return remaining

    def delete(self, namespace: str, key: str) -> bool:
        validate_namespace(namespace)
        validate_key(key)
        existed: bool = self._call("delete", namespace, key)
        return existed

    def delete_namespace(self, namespace: str) -> int:
        validate_namespace(namespace)
        removed: int = self._call("delete_namespace", namespace)
        return removed

    def stats(self, namespace: str) -> NamespaceStats:
        validate_namespace(namespace)
        stats: NamespaceStats = self._call("stats", namespace)
        return stats

    def namespaces(self) -> list[str]:
        names: list[str] = self._call("namespaces")
        return names

    def record_item_miss(self, key: str) -> int:
        validate_key(key)
        count: int = self._call("record_item_miss", key)
        return count

    def item_misses(self, keys: Sequence[str] | None = None) -> Mapping[str, int]:
        if keys is not None:
            for key in keys:
                validate_key(key)
        counts: Mapping[str, int] = self._call(
            "item_misses", None if keys is None else list(keys)
        )
        return counts

    def ping(self) -> None:
        self._call("ping")

    def set_down(self, down: bool) -> None:
        """See :meth:`SharedMemoryHost.set_down` (the queue goes down too)."""
        self.host.set_down(down)

    def close(self) -> None:
        """Remove the shared host: the consolidation queue's content goes too."""
        self.host.close()

    def _call(self, method: str, *args: Any) -> Any:
        return self.host.call(WORKING_MEMORY, method, *args)


class RayConsolidationQueue:
    """Implements :class:`application.ports.consolidation_queue.ConsolidationQueue` on the
    shared host (the one its working memory uses, when built on the same host)."""

    def __init__(self, host: SharedMemoryHost) -> None:
        self.host = host  # pickled as its address (see SharedMemoryHost.__reduce__)

    def enqueue(self, item: PendingItem, kappa: float) -> None:
        self._call("enqueue", item, kappa)

    def peek(self, limit: int) -> list[PendingItem]:
        items: list[PendingItem] = self._call("peek", limit)
        return items

    def ack(self, item_ids: Sequence[str]) -> int:
        removed: int = self._call("ack", list(item_ids))
        return removed

    def size(self) -> int:
        waiting: int = self._call("size")
        return waiting

    def set_down(self, down: bool) -> None:
        """See :meth:`SharedMemoryHost.set_down` (the working memory goes down too)."""
        self.host.set_down(down)

    def close(self) -> None:
        """Remove the shared host: the working memory's content goes too."""
        self.host.close()

    def _call(self, method: str, *args: Any) -> Any:
        return self.host.call(CONSOLIDATION_QUEUE, method, *args)
