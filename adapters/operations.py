"""The real operation executor: an HTTP request described by a ``high_stakes`` task.

An operation is ``{"kind": "http", "method": "GET", "url": "http://host:port/path",
"json": {...}, "headers": {...}}``; ``method`` defaults to GET, ``json`` and ``headers`` are
optional, and any other key is refused (a typo must not silently change the request).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from application.errors import InvalidInput, OperationFailed

__all__ = ["MAX_BODY_BYTES", "HttpOperations"]

#: The response body kept in a result: more than this is cut (and then never parsed as JSON).
MAX_BODY_BYTES = 4096

_KEYS = frozenset({"kind", "method", "url", "json", "headers"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    url: httpx.URL
    where: str  # scheme://host:port/path: what messages may say about the target
    content: bytes | None  # the JSON body, encoded here so that a JSON null is sent too
    headers: dict[str, str]


class HttpOperations:
    """Implements :class:`application.ports.operations.OperationExecutor` with httpx.

    Each network phase (connect, write, read) is bounded by ``timeout_s`` and the whole call
    is checked against it between body reads. Failures become ``OperationFailed`` with a
    stable code: ``E_CONN_REFUSED``, ``E_TIMEOUT``, ``E_HTTP_<status>`` (status ≥ 400) or
    ``E_TRANSPORT``. Messages name only scheme, host, port and path: never the query string,
    credentials or headers. Redirects are not followed. Thread-safe (one pooled client).
    """

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client if client is not None else httpx.Client(follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def run(self, operation: Mapping[str, Any], timeout_s: float) -> Mapping[str, Any]:
        """Perform the request; ``{"status": code, "body": JSON value or text}``. A JSON
        body (by content type) is parsed when it fits in 4 KiB; otherwise the text is
        returned cut to 4 KiB."""
        request = _parse(operation)
        if isinstance(timeout_s, bool) or not (math.isfinite(timeout_s) and timeout_s > 0):
            raise InvalidInput(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
        deadline = time.monotonic() + timeout_s
        label = f"{request.method} {request.where}"
        try:
            with self._client.stream(
                request.method,
                request.url,
                content=request.content,
                headers=request.headers,
                timeout=httpx.Timeout(timeout_s),
            ) as response:
                status = response.status_code
                raw, truncated = _read_capped(response, deadline, label, timeout_s)
                content_type = response.headers.get("content-type", "")
                encoding = response.encoding or "utf-8"
        except httpx.TimeoutException:
            raise _timeout(label, timeout_s) from None
        except httpx.ConnectError as exc:
            if _refused(exc):
                raise OperationFailed(
                    "ConnectionRefused", f"{label}: connection refused", "E_CONN_REFUSED"
                ) from None
            raise _transport(label, exc) from None
        except httpx.TransportError as exc:
            raise _transport(label, exc) from None
        if status >= 400:
            raise OperationFailed(
                "HttpError", f"{label} answered HTTP {status}", f"E_HTTP_{status}"
            )
        return {"status": status, "body": _body(raw, truncated, content_type, encoding)}


def _parse(operation: Mapping[str, Any]) -> _Request:
    if not isinstance(operation, Mapping):
        raise InvalidInput("an operation must be an object")
    unknown = sorted(str(key) for key in operation if key not in _KEYS)
    if unknown:
        raise InvalidInput(f"unknown operation fields: {', '.join(unknown)}")
    kind = operation.get("kind")
    if kind != "http":
        raise InvalidInput(f"unknown operation kind {kind!r}; expected 'http'")
    method = operation.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise InvalidInput(f"unknown HTTP method {method!r}")
    raw_url = operation.get("url")
    if not isinstance(raw_url, str) or not raw_url:
        raise InvalidInput("an http operation needs a url")
    try:
        url = httpx.URL(raw_url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise InvalidInput("the operation url is malformed") from None
    if url.scheme not in _SCHEMES or not url.host:
        raise InvalidInput("the operation url must be absolute http:// or https://")
    headers = operation.get("headers", {})
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise InvalidInput("operation headers must map strings to strings")
    content: bytes | None = None
    request_headers = dict(headers)
    if "json" in operation:
        try:
            content = json.dumps(operation["json"], allow_nan=False).encode("utf-8")
        except (TypeError, ValueError):
            raise InvalidInput("operation json must be a JSON value") from None
        if not any(name.lower() == "content-type" for name in request_headers):
            request_headers["Content-Type"] = "application/json"
    return _Request(
        method=method.upper(),
        url=url,
        where=_where(url),
        content=content,
        headers=request_headers,
    )


def _where(url: httpx.URL) -> str:
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = url.port if url.port is not None else (443 if url.scheme == "https" else 80)
    return f"{url.scheme}://{host}:{port}{url.path}"


def _read_capped(
    response: httpx.Response, deadline: float, label: str, timeout_s: float
) -> tuple[bytes, bool]:
    """Up to MAX_BODY_BYTES of the body, and whether there was more. Stops early: a huge or
    endless body costs at most one chunk beyond the cap."""
    buffer = bytearray()
    for chunk in response.iter_bytes():
        buffer.extend(chunk)
        if len(buffer) > MAX_BODY_BYTES:
            return bytes(buffer[:MAX_BODY_BYTES]), True
        if time.monotonic() > deadline:
            raise _timeout(label, timeout_s)
    return bytes(buffer), False


def _body(raw: bytes, truncated: bool, content_type: str, encoding: str) -> Any:
    media = content_type.split(";", 1)[0].strip().lower()
    if not truncated and raw and (media == "application/json" or media.endswith("+json")):
        try:
            return json.loads(raw)
        except ValueError:
            pass  # a server that lies about its content type gets its text returned
    try:
        return raw.decode(encoding, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _refused(exc: BaseException) -> bool:
    """Whether a connect error was a refusal; httpx keeps the OS error as an argument of the
    exception it wraps, so look through causes, contexts and arguments."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or "refused" in str(current).lower():
            return True
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return False


def _timeout(label: str, timeout_s: float) -> OperationFailed:
    return OperationFailed("Timeout", f"{label} timed out after {timeout_s:g} s", "E_TIMEOUT")


def _transport(label: str, exc: httpx.TransportError) -> OperationFailed:
    # The exception's class names the failure; its text may repeat the full URL, so it stays out.
    return OperationFailed("TransportError", f"{label}: {type(exc).__name__}", "E_TRANSPORT")
