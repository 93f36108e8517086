"""Contract of the operation port for HTTP executors, against a real local HTTP server."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from adapters.memory.operations import ScriptedOperations
from application.errors import InvalidInput, OperationFailed
from application.ports.operations import OperationExecutor
from tests.contract.conftest import Harness

SLOW_S = 1.0
SECRET = "s3cr3t-T0KEN"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/json":
            self._send(200, b'{"ok": true, "n": 3}', "application/json")
        elif path == "/text":
            self._send(200, "héllo".encode(), "text/plain; charset=utf-8")
        elif path == "/fail":
            self._send(500, f"internal error {SECRET}".encode(), "text/plain")
        elif path == "/slow":
            time.sleep(SLOW_S)
            self._send(200, b"late", "text/plain")
        elif path == "/big":
            self._send(200, b"x" * 10_000, "text/plain")
        elif path == "/bigjson":
            self._send(200, json.dumps({"data": "y" * 10_000}).encode(), "application/json")
        elif path == "/liar":
            self._send(200, b"not json", "application/json")
        else:
            self._send(404, b"no such thing", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"null")
        echo = {"method": "POST", "received": body, "type": self.headers.get("Content-Type")}
        self._send(201, json.dumps(echo).encode(), "application/json")

    def do_DELETE(self) -> None:
        self._send(204, b"", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may have given up already (the timeout test): nothing to report then.
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def ops(http_operations: Harness[OperationExecutor]) -> OperationExecutor:
    return http_operations.adapter


def get(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "http", "method": "GET", "url": url, **extra}


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def failure_of(
    ops: OperationExecutor, operation: Mapping[str, Any], timeout_s: float = 2.0
) -> OperationFailed:
    with pytest.raises(OperationFailed) as caught:
        ops.run(operation, timeout_s)
    return caught.value


class TestSuccess:
    def test_a_json_response_is_parsed(self, ops: OperationExecutor, server: str) -> None:
        assert ops.run(get(f"{server}/json"), 2.0) == {"status": 200, "body": {"ok": True, "n": 3}}

    def test_a_text_response_is_decoded(self, ops: OperationExecutor, server: str) -> None:
        assert ops.run(get(f"{server}/text"), 2.0) == {"status": 200, "body": "héllo"}

    def test_a_post_sends_its_json_body(self, ops: OperationExecutor, server: str) -> None:
        operation = {"kind": "http", "method": "POST", "url": f"{server}/echo", "json": {"a": [1]}}
        result = ops.run(operation, 2.0)
        assert result["status"] == 201
        assert result["body"]["received"] == {"a": [1]}
        assert result["body"]["type"] == "application/json"

    def test_a_json_null_body_is_sent_too(self, ops: OperationExecutor, server: str) -> None:
        operation = {"kind": "http", "method": "post", "url": f"{server}/echo", "json": None}
        assert ops.run(operation, 2.0)["body"]["received"] is None

    def test_an_empty_response_is_an_empty_body(self, ops: OperationExecutor, server: str) -> None:
        operation = {"kind": "http", "method": "DELETE", "url": f"{server}/thing"}
        assert ops.run(operation, 2.0) == {"status": 204, "body": ""}

    def test_a_long_body_is_cut_to_4_kib(self, ops: OperationExecutor, server: str) -> None:
        assert ops.run(get(f"{server}/big"), 2.0)["body"] == "x" * 4096
        big_json = ops.run(get(f"{server}/bigjson"), 2.0)["body"]
        assert isinstance(big_json, str)
        assert len(big_json.encode()) == 4096

    def test_a_body_that_is_not_the_json_it_claims_is_text(
        self, ops: OperationExecutor, server: str
    ) -> None:
        assert ops.run(get(f"{server}/liar"), 2.0)["body"] == "not json"


class TestFailures:
    def test_an_http_error_status_fails_with_its_code(
        self, ops: OperationExecutor, server: str
    ) -> None:
        failure = failure_of(ops, get(f"{server}/fail"))
        assert (failure.error_type, failure.error_code) == ("HttpError", "E_HTTP_500")
        failure = failure_of(ops, get(f"{server}/missing"))
        assert (failure.error_type, failure.error_code) == ("HttpError", "E_HTTP_404")

    def test_a_refused_connection_fails_as_refused(self, ops: OperationExecutor) -> None:
        failure = failure_of(ops, get(f"http://127.0.0.1:{closed_port()}/x"))
        assert (failure.error_type, failure.error_code) == ("ConnectionRefused", "E_CONN_REFUSED")

    def test_a_slow_server_fails_as_a_timeout_within_the_limit(
        self, ops: OperationExecutor, server: str
    ) -> None:
        started = time.monotonic()
        failure = failure_of(ops, get(f"{server}/slow"), timeout_s=0.2)
        elapsed = time.monotonic() - started
        assert (failure.error_type, failure.error_code) == ("Timeout", "E_TIMEOUT")
        assert elapsed < SLOW_S * 0.8

    def test_messages_name_the_target_but_no_secret(
        self, ops: OperationExecutor, server: str
    ) -> None:
        host_port = server.removeprefix("http://")
        operation = get(
            f"http://user:{SECRET}@{host_port}/fail?token={SECRET}",
            headers={"Authorization": f"Bearer {SECRET}"},
        )
        failure = failure_of(ops, operation)
        assert f"{host_port}/fail" in failure.message
        assert SECRET not in failure.message
        assert SECRET not in str(failure)
        refused = failure_of(ops, get(f"http://127.0.0.1:{closed_port()}/x?token={SECRET}"))
        assert SECRET not in refused.message


class TestMalformedOperations:
    @pytest.mark.parametrize(
        "operation",
        [
            {"kind": "http", "method": "GET"},
            {"kind": "http", "method": "GET", "url": ""},
            {"kind": "http", "method": "GET", "url": "ftp://127.0.0.1/file"},
            {"kind": "http", "method": "GET", "url": "file:///etc/passwd"},
            {"kind": "http", "method": "GET", "url": "/relative/path"},
            {"kind": "http", "method": "GET", "url": 42},
            {"kind": "shell", "method": "GET", "url": "http://127.0.0.1/"},
            {"method": "GET", "url": "http://127.0.0.1/"},
            {"kind": "http", "method": "BREW", "url": "http://127.0.0.1/"},
            {"kind": "http", "method": None, "url": "http://127.0.0.1/"},
            {"kind": "http", "url": "http://127.0.0.1/", "jsno": {}},
            {"kind": "http", "url": "http://127.0.0.1/", "json": {1, 2}},
            {"kind": "http", "url": "http://127.0.0.1/", "headers": {"X": 1}},
        ],
    )
    def test_a_malformed_operation_is_invalid_input(
        self, ops: OperationExecutor, operation: dict[str, Any]
    ) -> None:
        with pytest.raises(InvalidInput):
            ops.run(operation, 1.0)

    @pytest.mark.parametrize("timeout_s", [0.0, -1.0, float("nan")])
    def test_a_timeout_that_is_not_positive_is_invalid_input(
        self, ops: OperationExecutor, server: str, timeout_s: float
    ) -> None:
        with pytest.raises(InvalidInput):
            ops.run(get(f"{server}/json"), timeout_s)


class TestScriptedOperations:
    """The test double other suites use in place of a real executor."""

    def test_it_runs_the_registered_script_and_records_the_call(self) -> None:
        scripted = ScriptedOperations()
        scripted.register("echo", lambda op, timeout: {"got": op["value"], "timeout": timeout})
        assert scripted.run({"name": "echo", "value": 7}, 1.5) == {"got": 7, "timeout": 1.5}
        assert scripted.calls == [({"name": "echo", "value": 7}, 1.5)]

    def test_failures_of_a_script_reach_the_caller(self) -> None:
        def fail(op: Mapping[str, Any], timeout: float) -> Mapping[str, Any]:
            raise OperationFailed("Timeout", "too slow", "E_TIMEOUT")

        scripted = ScriptedOperations({"fail": fail})
        with pytest.raises(OperationFailed) as caught:
            scripted.run({"name": "fail"}, 1.0)
        assert caught.value.error_code == "E_TIMEOUT"

    @pytest.mark.parametrize("operation", [{"name": "unknown"}, {}, {"name": 3}])
    def test_an_unknown_name_is_invalid_input(self, operation: dict[str, Any]) -> None:
        with pytest.raises(InvalidInput):
            ScriptedOperations().run(operation, 1.0)
