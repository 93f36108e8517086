"""docker-compose.yml and deploy/Dockerfile, read as files (no Docker engine is needed).

With the Docker CLI and its compose plugin on PATH, `docker compose config -q` also validates
the file against the compose specification (the client does that without an engine).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from entrypoints.settings import Profile, Settings
from tests.deploy.promql import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"

#: service -> (image repository, required tag prefix); the SeedCore services build their image.
OFFICIAL_IMAGES = {
    "redis": ("redis", "7"),
    "postgres": ("pgvector/pgvector", "pg16"),
    "neo4j": ("neo4j", "5"),
    "mysql": ("mysql", "8"),
    "prometheus": ("prom/prometheus", ""),
    "alertmanager": ("prom/alertmanager", ""),
    "grafana": ("grafana/grafana", ""),
}
SEEDCORE_SERVICES = ("api", "worker")
#: Ray nodes: built from the SeedCore image, configured by Ray's own flags.
RAY_NODES = ("ray-head", "ray-worker")
BACKENDS = ("redis", "postgres", "neo4j", "mysql", "ray-head")
#: service -> a fragment its healthcheck command must contain.
HEALTHCHECKS = {
    "redis": "redis-cli ping",
    "postgres": "pg_isready",
    "neo4j": "cypher-shell",
    "mysql": "mysqladmin ping",
    "ray-head": "ray health-check",
    "api": "/healthz",
    "worker": "/metrics",
    "prometheus": "/-/ready",
    "alertmanager": "/-/ready",
    "grafana": "/api/health",
}
#: Where each stateful service keeps its data (a named volume must be mounted there).
DATA_DIRS = {
    "redis": "/data",
    "postgres": "/var/lib/postgresql/data",
    "neo4j": "/data",
    "mysql": "/var/lib/mysql",
    "prometheus": "/prometheus",
    "alertmanager": "/alertmanager",
    "grafana": "/var/lib/grafana",
}
#: Settings the full profile needs, with the value the compose network dictates where fixed.
FULL_PROFILE = {
    "SEEDCORE_PROFILE": "full",
    "SEEDCORE_LOG_FORMAT": "json",
    "SEEDCORE_REDIS_URL": None,
    "SEEDCORE_POSTGRES_DSN": None,
    "SEEDCORE_NEO4J_URL": "bolt://neo4j:7687",
    "SEEDCORE_NEO4J_USER": None,
    "SEEDCORE_NEO4J_PASSWORD": None,
    "SEEDCORE_NEO4J_DIALECT": "neo4j",
    "SEEDCORE_MYSQL_URL": None,
    "SEEDCORE_RAY_ADDRESS": "ray-head:6379",
}
#: Not (yet) a field of Settings, read by `seedcore worker` for its /metrics port.
EXTRA_SEEDCORE_VARIABLES = {"SEEDCORE_METRICS_PORT"}

_INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


@functools.cache
def compose() -> dict[str, Any]:
    """The parsed file (shared: read it, never change it)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def resolve(value: object) -> str:
    """A compose value as it is with no variable set: `${VAR:-default}` -> default, `$$` -> `$`."""
    text = str(value)
    text = _INTERPOLATION.sub(lambda m: m.group(2) or "", text)
    return text.replace("$$", "$")


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def resolved_environment(service: str) -> dict[str, str]:
    return {key: resolve(value) for key, value in environment(service).items()}


def command(service: str) -> list[str]:
    cmd = services()[service].get("command", [])
    return [resolve(part) for part in (cmd.split() if isinstance(cmd, str) else cmd)]


def healthcheck_text(service: str) -> str:
    test = services()[service].get("healthcheck", {}).get("test", [])
    return " ".join(test) if isinstance(test, list) else str(test)


def volume_mounts(service: str) -> dict[str, str]:
    """target -> source of the service's short-syntax volumes."""
    mounts = {}
    for volume in services()[service].get("volumes", []):
        source, target = volume.split(":")[:2]
        mounts[target] = source
    return mounts


def settings_variables() -> set[str]:
    return {f"SEEDCORE_{f.name.upper()}" for f in fields(Settings)}


# -------------------------------------------------------------------------------- shape ---

def test_compose_file_uses_the_compose_specification() -> None:
    document = compose()
    assert "version" not in document, "the compose specification has no `version:` key"
    assert set(document) <= {"services", "volumes", "networks", "configs", "secrets", "name"} | {
        key for key in document if key.startswith("x-")}


def test_every_service_exists() -> None:
    assert set(services()) == set(OFFICIAL_IMAGES) | set(SEEDCORE_SERVICES) | set(RAY_NODES)


@pytest.mark.parametrize("service", sorted(OFFICIAL_IMAGES))
def test_images_are_official_and_pinned(service: str) -> None:
    image = services()[service]["image"]
    repository, _, tag = image.partition(":")
    expected_repository, tag_prefix = OFFICIAL_IMAGES[service]
    assert repository == expected_repository, image
    assert tag and tag != "latest", f"{service}: pin a tag, not {image!r}"
    assert tag.startswith(tag_prefix), f"{service}: {image} is not the {tag_prefix} line"
    assert "build" not in services()[service]


def test_ray_nodes_run_the_seedcore_image_so_organ_actors_find_its_code() -> None:
    """Organ actors import SeedCore's modules wherever Ray places them."""
    for node in RAY_NODES:
        assert services()[node]["image"] == services()["api"]["image"]


@pytest.mark.parametrize("service", [*SEEDCORE_SERVICES, *RAY_NODES])
def test_seedcore_services_build_from_deploy_dockerfile(service: str) -> None:
    build = services()[service]["build"]
    assert (REPO / build["context"]).resolve() == REPO
    assert (REPO / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert services()[service]["image"] == services()["api"]["image"], "one image for both"


def test_commands() -> None:
    assert command("api") == ["seedcore", "serve", "--host", "0.0.0.0"]
    assert command("worker") == ["seedcore", "worker"]
    head = command("ray-head")
    assert head[:3] == ["ray", "start", "--head"] and "--block" in head
    assert any(part.startswith("--num-cpus=") for part in head)
    assert "--include-dashboard=false" in head
    worker = command("ray-worker")
    assert worker[:2] == ["ray", "start"] and "--block" in worker
    assert "--address=ray-head:6379" in worker
    mysql = command("mysql")
    assert "--innodb-flush-log-at-trx-commit=1" in mysql and "--sync-binlog=1" in mysql


# ---------------------------------------------------------------- health and start order ---

@pytest.mark.parametrize("service", sorted(HEALTHCHECKS))
def test_stateful_services_have_healthchecks(service: str) -> None:
    check = services()[service].get("healthcheck")
    assert check and check.get("test"), f"{service} has no healthcheck"
    assert check["test"][0] in ("CMD", "CMD-SHELL"), service
    assert HEALTHCHECKS[service] in healthcheck_text(service)
    assert {"interval", "timeout", "retries"} <= set(check), service


@pytest.mark.parametrize("service", SEEDCORE_SERVICES)
def test_seedcore_waits_for_healthy_backends(service: str) -> None:
    depends = services()[service]["depends_on"]
    for backend in BACKENDS:
        assert depends.get(backend, {}).get("condition") == "service_healthy", (service, backend)


def test_healthy_conditions_name_services_with_healthchecks() -> None:
    for name, service in services().items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, condition in depends.items():
            assert target in services(), (name, target)
            if condition.get("condition") == "service_healthy":
                assert services()[target].get("healthcheck"), (name, target)


def test_healthchecks_probe_the_ports_the_services_use() -> None:
    api_port = resolved_environment("api")["SEEDCORE_PORT"]
    metrics_port = resolved_environment("worker")["SEEDCORE_METRICS_PORT"]
    assert f"127.0.0.1:{api_port}/healthz" in healthcheck_text("api")
    assert f"127.0.0.1:{metrics_port}/metrics" in healthcheck_text("worker")


# --------------------------------------------------------------------------- the settings ---

@pytest.mark.parametrize("service", SEEDCORE_SERVICES)
def test_seedcore_variables_are_settings(service: str) -> None:
    known = settings_variables() | EXTRA_SEEDCORE_VARIABLES
    unknown = {key for key in environment(service) if key.startswith("SEEDCORE_")} - known
    assert not unknown, f"{service} sets variables Settings does not read: {sorted(unknown)}"


def test_no_other_service_sets_seedcore_variables() -> None:
    for name in set(services()) - set(SEEDCORE_SERVICES):
        assert not [k for k in environment(name) if k.startswith("SEEDCORE_")], name


@pytest.mark.parametrize("service", SEEDCORE_SERVICES)
def test_full_profile_is_configured(service: str) -> None:
    env = resolved_environment(service)
    for key, value in FULL_PROFILE.items():
        assert env.get(key), f"{service} does not set {key}"
        if value is not None:
            assert env[key] == value, (service, key)
    settings = Settings.from_env(env)  # every value parses
    assert settings.profile is Profile.FULL


@pytest.mark.parametrize("service", SEEDCORE_SERVICES)
def test_backend_urls_name_compose_services(service: str) -> None:
    env = resolved_environment(service)
    for key, host, port in (("SEEDCORE_REDIS_URL", "redis", 6379),
                            ("SEEDCORE_POSTGRES_DSN", "postgres", 5432),
                            ("SEEDCORE_MYSQL_URL", "mysql", 3306),
                            ("SEEDCORE_NEO4J_URL", "neo4j", 7687)):
        url = urlsplit(env[key])
        assert (url.hostname, url.port) == (host, port), (service, key)
    assert env["SEEDCORE_RAY_ADDRESS"].split(":")[0] in services()


def test_credentials_match_the_backends() -> None:
    env = resolved_environment("api")
    postgres = resolved_environment("postgres")
    dsn = urlsplit(env["SEEDCORE_POSTGRES_DSN"])
    assert (dsn.username, dsn.password, dsn.path.lstrip("/")) == (
        postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])
    mysql = resolved_environment("mysql")
    url = urlsplit(env["SEEDCORE_MYSQL_URL"])
    assert (url.username, url.password, url.path.lstrip("/")) == (
        mysql["MYSQL_USER"], mysql["MYSQL_PASSWORD"], mysql["MYSQL_DATABASE"])
    neo4j = resolved_environment("neo4j")
    assert neo4j["NEO4J_AUTH"] == f"{env['SEEDCORE_NEO4J_USER']}/{env['SEEDCORE_NEO4J_PASSWORD']}"
    # Neo4j 5 refuses passwords shorter than 8 characters.
    assert len(env["SEEDCORE_NEO4J_PASSWORD"]) >= 8
    # The same variables feed both sides, so overriding one password changes both.
    raw = environment("api")
    assert "${POSTGRES_PASSWORD" in raw["SEEDCORE_POSTGRES_DSN"]
    assert "${MYSQL_PASSWORD" in raw["SEEDCORE_MYSQL_URL"]
    assert "${NEO4J_PASSWORD" in raw["SEEDCORE_NEO4J_PASSWORD"]


def test_api_and_worker_share_their_backends() -> None:
    api, worker = environment("api"), environment("worker")
    shared = set(FULL_PROFILE) | {"SEEDCORE_DATA_DIR", "SEEDCORE_LOG_LEVEL"}
    assert {key: api.get(key) for key in shared} == {key: worker.get(key) for key in shared}


def test_secrets_come_from_variables_with_local_only_defaults() -> None:
    for name in services():
        for key, value in environment(name).items():
            secret = re.search(r"PASSWORD|AUTH|SECRET|TOKEN", key)
            in_url = urlsplit(value).password if "://" in value else None
            if not secret and not in_url:
                continue
            assert "${" in value, f"{name}: {key} is hard-coded"
    for variable, default in _INTERPOLATION.findall(COMPOSE_FILE.read_text()):
        if re.search(r"PASSWORD|SECRET|TOKEN", variable):
            assert default.startswith("local-dev-"), (
                f"${{{variable}}} defaults to {default!r}: name local defaults local-dev-*")


# ---------------------------------------------------------------------- ports and volumes ---

def _published(service: str) -> dict[int, str]:
    """container port -> host address of the service's published ports."""
    published = {}
    for port in services()[service].get("ports", []):
        parts = resolve(port).split(":")
        published[int(parts[-1])] = parts[0] if len(parts) == 3 else "0.0.0.0"
    return published


def test_ports() -> None:
    assert _published("api") == {8000: "127.0.0.1"}
    assert _published("prometheus") == {9090: "127.0.0.1"}
    assert _published("alertmanager") == {9093: "127.0.0.1"}
    assert _published("grafana") == {3000: "127.0.0.1"}
    for backend in (*BACKENDS, "ray-worker", "worker"):
        assert not _published(backend), f"{backend} should stay on the compose network"
    assert resolved_environment("api")["SEEDCORE_PORT"] == "8000"
    assert resolved_environment("api")["SEEDCORE_HOST"] == "0.0.0.0"
    assert resolved_environment("worker")["SEEDCORE_METRICS_PORT"] == "9100"


@pytest.mark.parametrize("service", sorted(DATA_DIRS))
def test_stateful_services_keep_data_in_named_volumes(service: str) -> None:
    source = volume_mounts(service).get(DATA_DIRS[service])
    assert source in (compose().get("volumes") or {}), f"{service}: no named volume for its data"


def test_named_volumes_are_declared_and_bind_mounts_exist() -> None:
    declared = set(compose().get("volumes") or {})
    used = set()
    for name in services():
        for target, source in volume_mounts(name).items():
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
                used.add(source)
            assert target.startswith("/"), (name, target)
    assert used == declared, f"declared but unused volumes: {sorted(declared - used)}"


def test_observability_configs_are_mounted_where_the_commands_read_them() -> None:
    prometheus = volume_mounts("prometheus")
    assert prometheus["/etc/prometheus"] == "./deploy/prometheus"
    assert "--config.file=/etc/prometheus/prometheus.yml" in command("prometheus")
    alertmanager = volume_mounts("alertmanager")
    assert alertmanager["/etc/alertmanager"] == "./deploy/alertmanager"
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in command("alertmanager")
    postgres = volume_mounts("postgres")
    assert postgres["/docker-entrypoint-initdb.d"] == "./deploy/postgres/initdb"
    assert "CREATE EXTENSION IF NOT EXISTS vector" in (
        REPO / "deploy" / "postgres" / "initdb" / "01-vector.sql").read_text()


# ------------------------------------------------------------------------------ the image ---

def test_dockerfile_installs_the_locked_package() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert "requirements.lock" in text
    assert "--constraint requirements.lock" in text
    assert re.search(r"pip install --no-deps \.", text)
    for package in ("domain", "application", "adapters", "entrypoints"):
        assert re.search(rf"^COPY {package} ", text, re.MULTILINE), package
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE), "run as a non-root user"
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.MULTILINE):
        assert (REPO / source).exists(), f"COPY {source}: no such path"
    ignore = (REPO / "deploy" / "Dockerfile.dockerignore").read_text().split()
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.MULTILINE):
        assert f"!{source}" in ignore or f"!{source}/" in ignore, f"{source} is ignored"


def test_entrypoint_script_runs_the_command() -> None:
    script = REPO / "deploy" / "entrypoint.sh"
    text = script.read_text()
    assert text.startswith("#!/bin/sh") and 'exec "$@"' in text
    assert script.stat().st_mode & 0o111, "entrypoint.sh must be executable"
    done = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_entrypoint_skips_ray_without_a_cluster_address(tmp_path: Path) -> None:
    script = REPO / "deploy" / "entrypoint.sh"
    for address in ("", "ray://ray-head:10001"):
        done = subprocess.run(["sh", str(script), "echo", "ran"], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "SEEDCORE_RAY_ADDRESS": address},
                              cwd=tmp_path, check=False, timeout=10)
        assert (done.returncode, done.stdout) == (0, "ran\n"), done.stderr


# ------------------------------------------------------------------------- docker compose ---

def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone is not None:
        probe = subprocess.run([standalone, "version"], capture_output=True, text=True,
                               check=False)
        if probe.returncode == 0 and re.search(r"v?2\.", probe.stdout):
            return [standalone]
    return None


def test_docker_compose_config_is_valid() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Docker compose v2 CLI on PATH (`docker compose` plugin or "
                    "docker-compose v2); the YAML checks above still ran")
    done = subprocess.run([*cli, "-f", str(COMPOSE_FILE), "config", "-q"], cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
