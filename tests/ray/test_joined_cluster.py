"""Two processes on one Ray cluster, as compose runs them: this test process plays the API (it
creates the agents) and a ``seedcore worker`` child joins the same cluster with
``SEEDCORE_RAY_ADDRESS``. The worker's heartbeat loop adopts the agents the API created, and its
exit leaves the shared, detached actors in place."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import ray

from adapters.ray.runtime import RayRuntime
from application.services import Services
from application.tier0 import AgentSpec
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from tests.backends import BACKEND_DEFAULTS, backend_url
from tests.ports import free_port

pytestmark = [pytest.mark.ray, pytest.mark.backends]



@pytest.fixture
def cluster_env(ray_session: None, tmp_path: Any) -> dict[str, str]:
    """The settings of both processes: full profile, one cluster, a namespace of their own."""
    return {
        **{name: backend_url(name) for name in BACKEND_DEFAULTS},
        "SEEDCORE_PROFILE": "full",
        "SEEDCORE_DATA_DIR": str(tmp_path),
        "SEEDCORE_RAY_ADDRESS": ray.get_runtime_context().gcs_address,
        "SEEDCORE_RAY_NAMESPACE": f"seedcore-joined-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture
def api(cluster_env: dict[str, str]) -> Iterator[Services]:
    services = bootstrap(Settings.from_env(cluster_env))
    try:
        yield services
    finally:
        runtime = services.runtime
        assert isinstance(runtime, RayRuntime)
        runtime.close()  # the actors are detached: removed by hand, as an operator would
        services.close()


def _worker_lines(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "worker"],
        env={**os.environ, **env, "SEEDCORE_LOG_FORMAT": "json",
             "SEEDCORE_METRICS_PORT": str(free_port())},
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )


def test_a_worker_joining_the_cluster_adopts_the_agents_and_leaves_them_running(
    cluster_env: dict[str, str], api: Services
) -> None:
    api.tier0.create_organ("joined", "utility")
    ids = [s.agent_id for s in api.tier0.create_agents(
        [AgentSpec("joined", f"j{k}") for k in range(3)])]
    host = f"{cluster_env['SEEDCORE_RAY_NAMESPACE']}/organ:joined:0"
    assert {api.tier0.host_of(i) for i in ids} == {host}

    worker = _worker_lines(cluster_env)
    try:
        assert worker.stderr is not None
        seen: list[str] = []
        heartbeat: dict[str, Any] | None = None
        for line in worker.stderr:  # ends if the worker exits
            seen.append(line)
            if line.startswith("{") and '"loop": "heartbeats"' in line:
                heartbeat = json.loads(line)
                break
        assert heartbeat is not None, "".join(seen)
        assert (heartbeat["agents"], heartbeat["adopted"], heartbeat["hosts"]) == (3, 3, 1)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, worker.stderr.read()
    finally:
        worker.kill()

    # The worker only disconnected: the agents and their actor are still there.
    (status,) = [h for h in api.tier0.hosts() if h.name == host]
    assert status.agents == 3
    assert api.tier0.heartbeat("j1").state.agent_id == "j1"
