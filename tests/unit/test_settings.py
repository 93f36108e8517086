"""Settings read from ``SEEDCORE_*`` variables and the CLI's overrides of them."""

from __future__ import annotations

import pytest

from entrypoints.cli import _settings as cli_settings
from entrypoints.cli import build_parser
from entrypoints.ray_runtime import cluster_address
from entrypoints.settings import Profile, RuntimeKind, Settings, SettingsError


def test_the_defaults_run_the_embedded_profile_on_a_private_ray() -> None:
    settings = Settings.from_env({})
    assert settings.profile is Profile.EMBEDDED and settings.runtime is RuntimeKind.RAY
    assert (settings.ray_address, settings.ray_namespace, settings.agents_per_actor) == (
        "", "seedcore", 1000)


def test_runtime_settings_are_read_and_checked() -> None:
    settings = Settings.from_env({"SEEDCORE_RUNTIME": "inprocess",
                                  "SEEDCORE_AGENTS_PER_ACTOR": "250",
                                  "SEEDCORE_RAY_NAMESPACE": "team-a_1"})
    assert settings.runtime is RuntimeKind.INPROCESS
    assert (settings.agents_per_actor, settings.ray_namespace) == (250, "team-a_1")
    with pytest.raises(SettingsError, match="SEEDCORE_RUNTIME"):
        Settings.from_env({"SEEDCORE_RUNTIME": "threads"})
    with pytest.raises(SettingsError, match="SEEDCORE_AGENTS_PER_ACTOR"):
        Settings.from_env({"SEEDCORE_AGENTS_PER_ACTOR": "0"})
    with pytest.raises(SettingsError, match="SEEDCORE_RAY_NAMESPACE"):
        Settings.from_env({"SEEDCORE_RAY_NAMESPACE": "a/b"})


def test_the_cluster_is_seedcore_ray_address_then_ray_address(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert cluster_address(Settings()) == ""
    monkeypatch.setenv("RAY_ADDRESS", "head:6379")
    assert cluster_address(Settings()) == "head:6379"
    assert cluster_address(Settings(ray_address="ray://other:10001")) == "ray://other:10001"


def test_the_runtime_option_overrides_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDCORE_RUNTIME", "ray")
    args = build_parser().parse_args(["serve", "--runtime", "inprocess"])
    assert cli_settings(args).runtime is RuntimeKind.INPROCESS
    args = build_parser().parse_args(["worker"])
    assert cli_settings(args).runtime is RuntimeKind.RAY
