"""Where the tests find the real backends: ``SEEDCORE_*`` variables, defaulting to the ports
``scripts/services.sh`` starts them on."""

from __future__ import annotations

import os

__all__ = ["BACKEND_DEFAULTS", "backend_url"]

BACKEND_DEFAULTS = {
    "SEEDCORE_REDIS_URL": "redis://127.0.0.1:16379/0",
    "SEEDCORE_POSTGRES_DSN": "postgresql://postgres@127.0.0.1:15432/seedcore",
    "SEEDCORE_NEO4J_URL": "bolt://127.0.0.1:17687",
    "SEEDCORE_NEO4J_DIALECT": "falkordb",
    "SEEDCORE_MYSQL_URL": "mysql://seedcore:seedcore@127.0.0.1:13306/seedcore",
}


def backend_url(name: str) -> str:
    """The URL of one backend for the tests (``name`` is a key of ``BACKEND_DEFAULTS``)."""
    return os.environ.get(name) or BACKEND_DEFAULTS[name]
