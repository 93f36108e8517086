"""Typed settings, read once from ``SEEDCORE_*`` environment variables at the entrypoint.

Every setting has a default that runs the embedded profile. Secrets are kept out of ``repr``
and logs: :meth:`Settings.redacted` is what may be printed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Profile", "RuntimeKind", "Settings", "SettingsError"]

PREFIX = "SEEDCORE_"


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


class Profile(StrEnum):
    EMBEDDED = "embedded"
    FULL = "full"


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class RuntimeKind(StrEnum):
    """Where agents run: organ actors on Ray (the default), or this process (tests, embedding
    the organism in another service)."""

    RAY = "ray"
    INPROCESS = "inprocess"


@dataclass(frozen=True, slots=True)
class Settings:
    profile: Profile = Profile.EMBEDDED
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8000
    metrics_port: int = 9100
    log_format: str = "console"
    log_level: str = "info"
    seed: int = 0
    embedding_dim: int = 384
    mw_ttl_s: float = 600.0
    mw_item_cap: int = 10_000
    redis_url: str = "redis://127.0.0.1:6379/0"
    postgres_dsn: str = "postgresql://postgres@127.0.0.1:5432/seedcore"
    neo4j_url: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = ""
    neo4j_password: str = field(default="", repr=False)
    neo4j_dialect: str = "neo4j"
    mysql_url: str = field(default="mysql://seedcore:seedcore@127.0.0.1:3306/seedcore", repr=False)
    selection_weights: str = ""
    runtime: RuntimeKind = RuntimeKind.RAY
    ray_address: str = ""  # empty: RAY_ADDRESS if set, else a private Ray for this process
    ray_namespace: str = "seedcore"
    agents_per_actor: int = 1000
    worker_id: str = ""

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> Settings:
        """Read every ``SEEDCORE_<FIELD>`` variable; unknown ``SEEDCORE_`` names are errors, so
        a typo does not silently fall back to a default."""
        source = os.environ if env is None else env
        known = {f.name.upper(): f for f in fields(Settings)}
        values: dict[str, object] = {}
        for name, raw in source.items():
            if not name.startswith(PREFIX):
                continue
            key = name[len(PREFIX):]
            spec = known.get(key)
            if spec is None:
                continue  # other SEEDCORE_ variables (tests, scripts) are not settings
            values[spec.name] = _convert(name, raw, spec.type)
        try:
            return Settings(**values)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise SettingsError(str(exc)) from None

    def __post_init__(self) -> None:
        if self.neo4j_dialect not in ("neo4j", "falkordb"):
            raise SettingsError("SEEDCORE_NEO4J_DIALECT must be neo4j or falkordb")
        if self.log_format not in ("console", "json"):
            raise SettingsError("SEEDCORE_LOG_FORMAT must be console or json")
        for name in ("port", "metrics_port"):
            if not 1 <= getattr(self, name) <= 65535:
                raise SettingsError(f"SEEDCORE_{name.upper()} must be within [1, 65535]")
        if self.agents_per_actor < 1:
            raise SettingsError("SEEDCORE_AGENTS_PER_ACTOR must be at least 1")
        if not self.ray_namespace.replace("-", "").replace("_", "").isalnum():
            raise SettingsError("SEEDCORE_RAY_NAMESPACE may hold letters, digits, - and _ only")
        if self.embedding_dim < 8:
            raise SettingsError("SEEDCORE_EMBEDDING_DIM must be at least 8")

    def redacted(self) -> dict[str, object]:
        """The settings as they may appear in a log line: passwords masked."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("password"):
                value = "***" if value else ""
            elif f.name.endswith(("_url", "_dsn")):
                value = _redact_url(str(value))
            out[f.name] = str(value) if isinstance(value, Path | StrEnum) else value
        return out


def _convert(name: str, raw: str, kind: object) -> object:
    text = raw.strip()
    try:
        if kind in ("int", int):
            return int(text)
        if kind in ("float", float):
            return float(text)
        if kind in ("Path", Path):
            return Path(text)
        if kind in ("Profile", Profile):
            return Profile(text)
        if kind in ("RuntimeKind", RuntimeKind):
            return RuntimeKind(text)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid value") from None
    return text
