"""A real Prometheus scrapes a running SeedCore; every query of the dashboards returns data and
every rule expression evaluates, over series that exist."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import RULES_FILE, dashboard_queries, metric_names, rule_queries, tool
from tests.ports import free_port

pytestmark = pytest.mark.backends



def _call(url: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def seedcore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "SEEDCORE_DATA_DIR": str(tmp_path_factory.mktemp("app")),
           "SEEDCORE_PORT": str(port), "SEEDCORE_LOG_LEVEL": "warning"}  # on Ray: organ actors
    proc = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait(f"{url}/healthz", proc, "seedcore serve")
    yield url
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def prometheus(seedcore: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = tool("prometheus")
    work: Path = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES_FILE)],
        "scrape_configs": [{"job_name": "seedcore-api",
                            "static_configs": [{"targets": [seedcore.split("//")[1]]}]}],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        [binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work}/data",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait(f"{url}/-/ready", proc, "prometheus")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def _drive(api: str) -> None:
    """Traffic that makes every kind of event happen at least once."""
    v1 = f"{api}/api/v1"
    tag = uuid.uuid4().hex[:6]
    for organ in ("a", "b"):
        _call(f"{v1}/organs", "POST", {"organ_id": f"{organ}-{tag}", "organ_type": "cognitive"})
        _call(f"{v1}/agents", "POST", {"agents": [
            {"organ_id": f"{organ}-{tag}", "agent_id": f"{organ}{k}-{tag}"} for k in range(3)]})
    # A budget the agent's first task exceeds: a crossing to the hard level.
    _call(f"{v1}/energy/budgets/agent/a0-{tag}", "PUT", {"joules": 1e-9})
    _call(f"{v1}/tasks", "POST", {"type": "general", "agent_hint": f"a0-{tag}"})
    fact = _call(f"{v1}/holons", "POST", {"content": f"fact {tag}", "kind": "fact"})["uuid"]
    for _ in range(3):
        _call(f"{v1}/tasks", "POST", {"type": "knowledge", "required_facts": [fact]})
        _call(f"{v1}/tasks", "POST", {"type": "general", "team_size": 2})
        _call(f"{v1}/tasks", "POST", {"type": "analysis"})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    _call(f"{v1}/tasks", "POST", {"type": "high_stakes", "risk": 0.9, "payload": {
        "operation": {"kind": "http", "method": "POST", "url": f"http://127.0.0.1:{closed}/"}}})
    _call(f"{v1}/holons/search", "POST", {"text": "fact", "k": 3})
    _call(f"{v1}/holons/{fact}/neighbours")


def _query(prometheus: str, expr: str) -> dict[str, Any]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    answer: dict[str, Any] = _call(url)
    return answer


def _eventually_has_data(prometheus: str, expr: str, deadline: float) -> list[Any]:
    while True:
        answer = _query(prometheus, expr)
        assert answer["status"] == "success", (expr, answer)
        if answer["data"]["result"] or time.monotonic() > deadline:
            result: list[Any] = answer["data"]["result"]
            return result
        time.sleep(1.0)


def test_every_dashboard_and_rule_query_answers_from_live_series(
    seedcore: str, prometheus: str
) -> None:
    _drive(seedcore)
    time.sleep(4.0)  # a few scrapes, so rate() and increase() have two samples
    _drive(seedcore)
    deadline = time.monotonic() + 30
    empty = [q for q in dashboard_queries() if not _eventually_has_data(prometheus, q, deadline)]
    assert empty == [], f"dashboard queries without data: {empty}"

    missing: set[str] = set()
    for expr in rule_queries():
        answer = _query(prometheus, expr)
        assert answer["status"] == "success", (expr, answer)
        for name in metric_names(expr):
            selector = f'count({{__name__=~"{name}(_bucket)?"}})'
            if not _eventually_has_data(prometheus, selector, deadline):
                missing.add(name)
    assert not missing, f"rule metrics without series: {missing}"
