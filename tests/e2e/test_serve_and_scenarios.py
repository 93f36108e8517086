"""End to end: ``seedcore serve`` on the embedded profile in a child process, then
``seedcore scenario 1|2|3 --url`` against it, as a user would run them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ports import free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    data = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "SEEDCORE_DATA_DIR": str(data), "SEEDCORE_PORT": str(port),
           "SEEDCORE_LOG_FORMAT": "json"}
    log = (data / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"seedcore serve did not start: {(data / 'serve.log').read_text()}")
            time.sleep(0.2)
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=20) == 0, (data / "serve.log").read_text()
    finally:
        proc.kill()
        log.close()


@pytest.mark.parametrize("number", [1, 2, 3])
def test_scenario_command_passes_against_a_live_server(server: str, number: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "scenario", str(number), "--url", server],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert f"Scenario {number}: " in result.stdout and " 0 failed" in result.stdout


def test_the_default_runtime_hosts_the_agents_in_organ_actors(server: str) -> None:
    """``seedcore serve`` with no setting runs its agents on Ray: one actor per organ."""
    def get(path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"{server}{path}", timeout=30) as response:
            return dict(json.loads(response.read()))

    post = urllib.request.Request(
        f"{server}/api/v1/organs", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"organ_id": "e2e-ray", "organ_type": "utility"}).encode())
    urllib.request.urlopen(post, timeout=30).close()
    post = urllib.request.Request(
        f"{server}/api/v1/agents", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"agents": [{"organ_id": "e2e-ray", "agent_id": f"e2e-{k}"}
                                    for k in range(3)]}).encode())
    urllib.request.urlopen(post, timeout=30).close()
    hosts = get("/api/v1/runtime/hosts")["hosts"]
    assert isinstance(hosts, list)
    (actor,) = [h for h in hosts if h["name"] == "seedcore/organ:e2e-ray:0"]
    assert actor["agents"] == 3 and actor["pid"] != 0
    assert get("/readyz")["backends"] == {name: "ok" for name in (
        "working_memory", "holon_store", "graph", "incident_store", "consolidation_queue",
        "ledger", "runtime")}
    assert get("/api/v1/agents/e2e-1/heartbeat")["host"] == actor["name"]


def test_scenario_command_fails_on_an_unreachable_url() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "scenario", "1",
         "--url", f"http://127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "cannot reach" in result.stderr


def test_served_data_survives_a_restart(tmp_path: Path) -> None:
    """Covered at the service level in tests/embedded; here the HTTP surface is checked."""
    port = free_port()
    env = {**os.environ, "SEEDCORE_DATA_DIR": str(tmp_path), "SEEDCORE_PORT": str(port),
           "SEEDCORE_RUNTIME": "inprocess"}  # Ray's start-up twice would only add time
    url = f"http://127.0.0.1:{port}"
    body = b'{"content": "persisted through a restart", "kind": "fact"}'
    holon_uuid = None
    for attempt in range(2):
        proc = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve", "--no-loops"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline and proc.poll() is None
                    time.sleep(0.2)
            if attempt == 0:
                request = urllib.request.Request(f"{url}/api/v1/holons", data=body, method="POST",
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    holon_uuid = json.loads(response.read())["uuid"]
            else:
                with urllib.request.urlopen(f"{url}/api/v1/holons/{holon_uuid}",
                                            timeout=10) as response:
                    assert b"persisted through a restart" in response.read()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


def test_ctrl_c_stops_serve_and_its_private_ray_at_once(tmp_path: Path) -> None:
    """A terminal's Ctrl-C signals the whole process group, Ray's daemons included: the
    server must still stop promptly and cleanly, not wait on a dead Ray."""
    port = free_port()
    env = {**os.environ, "SEEDCORE_DATA_DIR": str(tmp_path), "SEEDCORE_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
