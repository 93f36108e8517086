"""A pooled redis-py client built from a URL, and the conversion of its errors.

Every adapter of this package talks to Redis through one :class:`RedisClient`: a blocking
connection pool (a caller waits at most ``pool_timeout`` for a free connection), short socket
timeouts, and no automatic retry, because a retried Lua script that counts or evicts could
apply twice. A connection that the server closed while it sat in the pool is replaced by
redis-py before use, so a restarted server costs no failed call.

Every ``redis.RedisError`` becomes ``BackendUnavailable("redis", reason)``; the reason never
contains the password of the URL.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from application.errors import BackendUnavailable

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.exceptions import NoScriptError
    from redis.retry import Retry
except ImportError as missing:  # pragma: no cover - redis is a dependency of the package
    raise ImportError(
        "adapters.redis needs redis-py: install it with `pip install 'redis>=5'`"
    ) from missing

__all__ = ["BACKEND", "PREFIX_PATTERN", "RedisClient", "Script", "validate_prefix"]

#: The backend name carried by every ``BackendUnavailable`` of this package.
BACKEND = "redis"

#: Key prefixes: no ``:`` (it separates the parts of a key) and no glob character, so a
#: prefix can never make one deployment's SCAN pattern match another's keys.
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def validate_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not PREFIX_PATTERN.fullmatch(prefix):
        raise ValueError(f"key prefix {prefix!r} must match {PREFIX_PATTERN.pattern}")
    return prefix


class Script:
    """A Lua script run with ``EVALSHA`` in one round trip; after a server restart (which
    empties the script cache) it loads its source again and retries, which is safe because a
    script the server did not know did not run. Called with the ``numkeys`` keys first, then
    the arguments. Lighter than redis-py's ``Script`` on the hot path."""

    __slots__ = ("_execute", "_load", "_numkeys", "_source", "sha")

    def __init__(self, client: redis.Redis, source: str, numkeys: int) -> None:
        self._source = source
        self._numkeys = numkeys
        self._execute: Callable[..., Any] = client.execute_command
        self._load: Callable[[str], Any] = client.script_load
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    def __call__(self, *keys_and_args: Any) -> Any:
        try:
            return self._execute("EVALSHA", self.sha, self._numkeys, *keys_and_args)
        except NoScriptError:
            self._load(self._source)
            return self._execute("EVALSHA", self.sha, self._numkeys, *keys_and_args)


class RedisClient:
    """One connection pool to one Redis server.

    ``url`` is a ``redis://`` (or ``rediss://``) URL with an optional password and database.
    ``socket_timeout`` bounds every command, ``connect_timeout`` every connection attempt,
    ``max_connections`` the pool and ``pool_timeout`` the wait for a free connection.
    """

    def __init__(
        self,
        url: str,
        *,
        socket_timeout: float = 1.5,
        connect_timeout: float = 1.0,
        max_connections: int = 64,
        pool_timeout: float = 2.0,
    ) -> None:
        self._secrets = _secrets_of(url)
        try:
            pool = redis.BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=pool_timeout,
                socket_timeout=socket_timeout,
                socket_connect_timeout=connect_timeout,
                socket_keepalive=True,
                retry_on_timeout=False,
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
        except ValueError as bad:
            raise ValueError(self.scrub(f"invalid Redis URL: {bad}")) from None
        self.redis = redis.Redis(connection_pool=pool)

    @property
    def pool(self) -> redis.ConnectionPool:
        """The connection pool (tests use it to cut the link to the server)."""
        pool: redis.ConnectionPool = self.redis.connection_pool
        return pool

    def script(self, source: str, numkeys: int) -> Script:
        """A Lua script taking ``numkeys`` keys; calling it runs it in one round trip."""
        return Script(self.redis, source, numkeys)

    def unavailable(self, error: Exception) -> BackendUnavailable:
        """The error to raise for a failed call; the password never appears in it."""
        detail = str(error) or "no detail"
        return BackendUnavailable(BACKEND, self.scrub(f"{type(error).__name__}: {detail}"))

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def ping(self) -> None:
        try:
            self.redis.ping()
        except redis.RedisError as error:
            raise self.unavailable(error) from None

    def close(self) -> None:
        """Close every connection of the pool; later calls open new ones."""
        self.redis.connection_pool.disconnect()


def _secrets_of(url: str) -> list[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    if not password:
        return []
    plain = unquote(password)
    return sorted({password, plain, quote(plain, safe="")}, key=len, reverse=True)
