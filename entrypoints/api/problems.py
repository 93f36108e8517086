"""RFC 9457 problem details: every error leaves the API as ``application/problem+json``.

Each application error class maps to one status. Request validation by Litestar is split in
two: a request that cannot be read as the declared types (malformed JSON, a wrong type, a
missing or unknown field, a malformed uuid) is a 400; one that can but whose values break a
declared constraint (a range, a length, a pattern, an enumeration) is a 422, like the domain
rules the services check. Anything unexpected is a 500 that says nothing about the cause.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap
from msgspec import Struct

from application.errors import (
    BackendUnavailable,
    Conflict,
    InvalidInput,
    NoEligibleAgent,
    NotFound,
    SeedCoreError,
    WriteFailed,
)
from domain.holon import InvalidRelationshipType
from domain.memory import InvalidKey

__all__ = [
    "PROBLEM_JSON",
    "BackendProblem",
    "BadRequest",
    "InvalidParam",
    "Problem",
    "ValidationProblem",
    "exception_handlers",
    "problem_responses",
]

PROBLEM_JSON = "application/problem+json"
_TYPE = "urn:seedcore:problem:"

log = structlog.get_logger("seedcore.api")


class Problem(Struct):
    """An RFC 9457 problem: ``type`` identifies the kind of problem, ``instance`` the request
    path it happened on."""

    type: str
    title: str
    status: int
    detail: str
    instance: str


class InvalidParam(Struct):
    """One input that was refused: where it was (``body``, ``query``, ``path``, ``header``),
    its name (a dotted path for body fields; empty for the whole body) and why."""

    location: str
    name: str
    reason: str


class ValidationProblem(Problem):
    """A 400 or 422: the problem and the inputs refused (empty for a domain rule that is not
    about one field)."""

    errors: list[InvalidParam]


class BackendProblem(Problem):
    """A 503: ``backend`` names the backend that is down or whose write was rolled back."""

    backend: str


class BadRequest(Exception):
    """A request the API cannot read (e.g. a malformed cursor): HTTP 400."""

    def __init__(self, detail: str, name: str = "", location: str = "query") -> None:
        super().__init__(detail)
        self.detail = detail
        self.name = name
        self.location = location


# -- building responses -------------------------------------------------------------------


def _respond(problem: Problem, headers: Mapping[str, str] | None = None) -> Response[Problem]:
    return Response(problem, status_code=problem.status, media_type=PROBLEM_JSON,
                    headers=dict(headers or {}))


def _instance(request: Request[Any, Any, Any]) -> str:
    """The request's path as sent (percent-encoded), so it is a valid URI reference."""
    raw = request.scope.get("raw_path")  # some servers leave the query string on it
    return raw.partition(b"?")[0].decode("latin-1") if raw else quote(request.url.path)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _validation(
    request: Request[Any, Any, Any], status: int, code: str, detail: str,
    errors: Iterable[InvalidParam] = (),
) -> Response[Problem]:
    return _respond(ValidationProblem(_TYPE + code, _title(status), status, detail,
                                      _instance(request), list(errors)))


def _plain(
    request: Request[Any, Any, Any], status: int, code: str, detail: str
) -> Response[Problem]:
    return _respond(Problem(_TYPE + code, _title(status), status, detail, _instance(request)))


# msgspec's wording for a value of the right type that breaks a declared constraint.
_CONSTRAINT = re.compile(
    r"^(Expected `[^`]+` (of length|matching regex|>=|<=|>|<|that is a multiple of)"
    r"|Invalid enum value)"
)


def _invalid_params(exc: ValidationException) -> list[InvalidParam]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    params = []
    for item in extra:
        if isinstance(item, Mapping):
            source = item.get("source") or "body"
            params.append(InvalidParam(
                location=str(getattr(source, "value", source)),
                name=str(item.get("key") or ""),
                reason=str(item.get("message") or "invalid"),
            ))
    return params


def on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    params = _invalid_params(exc)
    if params and all(_CONSTRAINT.match(p.reason) for p in params):
        return _validation(request, 422, "constraint_violation",
                           "a value breaks a declared constraint", params)
    detail = "the request cannot be read as the declared types"
    if not params and exc.detail:
        detail = f"{detail}: {exc.detail}"
    return _validation(request, 400, "malformed_request", detail, params)


def on_bad_request(request: Request[Any, Any, Any], exc: BadRequest) -> Response[Problem]:
    param = InvalidParam(exc.location, exc.name, exc.detail)
    return _validation(request, 400, "malformed_request", exc.detail, [param])


def on_invalid_input(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    code = exc.code if isinstance(exc, SeedCoreError) else "invalid_input"
    return _validation(request, 422, code, str(exc))


def on_not_found(request: Request[Any, Any, Any], exc: NotFound) -> Response[Problem]:
    return _plain(request, 404, exc.code, exc.message)


def on_conflict(request: Request[Any, Any, Any], exc: SeedCoreError) -> Response[Problem]:
    return _plain(request, 409, exc.code, exc.message)


def on_backend(
    request: Request[Any, Any, Any], exc: BackendUnavailable | WriteFailed
) -> Response[Problem]:
    problem = BackendProblem(_TYPE + exc.code, _title(503), 503, exc.message,
                             _instance(request), exc.backend)
    return _respond(problem, {"Retry-After": "1"})


def on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        return on_internal(request, exc)
    if status in (400, 422):  # e.g. a body that is not JSON at all
        return _validation(request, status, "malformed_request", exc.detail or _title(status))
    problem = Problem("about:blank", _title(status), status, exc.detail or _title(status),
                      _instance(request))
    return _respond(problem, exc.headers)


def on_internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.error("unhandled_error", path=request.url.path, method=request.method,
              error=type(exc).__name__, exc_info=exc)
    return _plain(request, 500, "internal_error", "the server failed to handle the request")


def exception_handlers() -> ExceptionHandlersMap:
    """Handlers by exception class; Litestar picks the closest class in each error's MRO."""
    return {
        ValidationException: on_validation,
        BadRequest: on_bad_request,
        InvalidInput: on_invalid_input,
        InvalidKey: on_invalid_input,
        InvalidRelationshipType: on_invalid_input,
        NotFound: on_not_found,
        Conflict: on_conflict,
        NoEligibleAgent: on_conflict,
        BackendUnavailable: on_backend,
        WriteFailed: on_backend,
        HTTPException: on_http,
        Exception: on_internal,
    }


# -- OpenAPI ------------------------------------------------------------------------------

_DESCRIPTIONS = {
    400: "The request cannot be read: malformed JSON, a wrong type, a missing or unknown "
         "field, a malformed uuid or cursor.",
    404: "An id names nothing.",
    409: "The request conflicts with the current state (an id taken, no agent free now).",
    422: "The request breaks a rule: a declared constraint or a domain rule.",
    503: "A backend the request needs is unavailable; `backend` names it. Retry later.",
}
_CONTAINERS: dict[int, type[Problem]] = {
    400: ValidationProblem, 422: ValidationProblem, 503: BackendProblem,
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem+json responses a route declares, one per status."""
    return {
        status: ResponseSpec(
            data_container=_CONTAINERS.get(status, Problem),
            description=_DESCRIPTIONS.get(status, _title(status)),
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in sorted(set(statuses))
    }
