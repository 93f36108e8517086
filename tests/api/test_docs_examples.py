"""Every curl example of docs/api.md, run in order against the app as ``seedcore serve`` builds
it (the embedded profile, on a fresh data directory), must answer 2xx.

The format the examples keep: ```bash blocks whose commands are ``curl`` lines (continued with
a trailing backslash) with ``-X``, ``-H``, ``-d`` and the URL; ``NAME=$(curl ... | jq -r .field)``
captures a field for later ``$NAME`` uses.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from entrypoints.api import create_app
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import RuntimeKind, Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BASE = "http://127.0.0.1:8000"
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)
_CAPTURE = re.compile(r"^(?P<name>[A-Z_]+)=\$\((?P<curl>curl .*) \| jq -r (?P<path>\.[\w.]+)\)$")
_IGNORED_FLAGS = {"-s", "-i", "-S", "--silent", "--include"}


@dataclass
class Example:
    line: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    capture: tuple[str, str] | None = None  # (variable, jq path)


def commands(text: str) -> Iterator[str]:
    for block in _BLOCK.findall(text):
        for command in block.replace("\\\n", " ").splitlines():
            command = " ".join(command.split())
            if command and not command.startswith("#"):
                yield command


def parse(command: str, variables: dict[str, str]) -> Example:
    for name, value in variables.items():
        command = command.replace(f"${{{name}}}", value).replace(f"${name}", value)
    capture = None
    match = _CAPTURE.match(command)
    if match:
        capture = (match["name"], match["path"])
        command = match["curl"]
    args = shlex.split(command)
    assert args[0] == "curl", command
    example = Example(command, "", "", capture=capture)
    method = None
    rest = iter(args[1:])
    for arg in rest:
        if arg in _IGNORED_FLAGS:
            continue
        if arg == "-X":
            method = next(rest)
        elif arg == "-H":
            name, _, value = next(rest).partition(":")
            example.headers[name.strip()] = value.strip()
        elif arg in ("-d", "--data"):
            example.body = next(rest)
        elif arg.startswith(BASE):
            example.path = arg[len(BASE):]
        else:
            raise AssertionError(f"unexpected curl argument {arg!r} in {command}")
    assert example.path, f"no {BASE} URL in {command}"
    example.method = method or ("POST" if example.body is not None else "GET")
    return example


def field_at(body: Any, path: str) -> str:
    for part in path.strip(".").split("."):
        body = body[part]
    return str(body)


def test_the_docs_hold_examples_for_every_resource() -> None:
    paths = " ".join(commands(DOC.read_text()))
    for resource in ("/healthz", "/readyz", "/metrics", "/api/v1/organs", "/api/v1/agents",
                     "/api/v1/tasks", "/api/v1/energy", "/api/v1/memory", "/api/v1/holons",
                     "/api/v1/incidents", "/api/v1/runtime/hosts"):
        assert f"{BASE}{resource}" in paths, resource


def test_every_example_answers_2xx(tmp_path: Path) -> None:
    services = bootstrap(Settings(data_dir=tmp_path, runtime=RuntimeKind.INPROCESS))
    variables: dict[str, str] = {}
    seen: list[tuple[str, str, int]] = []
    with TestClient(app=create_app(services)) as client:
        for command in commands(DOC.read_text()):
            example = parse(command, variables)
            content = None if example.body is None else example.body.encode()
            if content is not None:
                json.loads(content)  # every body in the docs is valid JSON
            response = client.request(example.method, example.path, content=content,
                                      headers=example.headers)
            assert 200 <= response.status_code < 300, (example.line, response.text)
            seen.append((example.method, example.path, response.status_code))
            if example.capture is not None:
                name, path = example.capture
                variables[name] = field_at(response.json(), path)
    assert len(seen) >= 40
    # what the prose says about these examples
    statuses = {(method, path): status for method, path, status in seen}
    assert statuses[("POST", "/api/v1/tasks")] == 201
    replays = [status for method, path, status in seen if (method, path) == ("POST",
                                                                               "/api/v1/tasks")]
    assert replays[:2] == [201, 200]


@pytest.mark.parametrize(
    ("command", "method", "path", "body"),
    [
        ("curl -s http://127.0.0.1:8000/healthz", "GET", "/healthz", None),
        ("curl -s -X DELETE http://127.0.0.1:8000/api/v1/agents/x", "DELETE",
         "/api/v1/agents/x", None),
        ("curl -s -X POST http://127.0.0.1:8000/api/v1/organs -H 'Content-Type: application/json'"
         " -d '{\"a\": 1}'", "POST", "/api/v1/organs", '{"a": 1}'),
        ("X=$(curl -s 'http://127.0.0.1:8000/api/v1/incidents?limit=1' | jq -r .next_cursor)",
         "GET", "/api/v1/incidents?limit=1", None),
    ],
)
def test_the_parser(command: str, method: str, path: str, body: str | None) -> None:
    example = parse(command, {})
    assert (example.method, example.path, example.body) == (method, path, body)
