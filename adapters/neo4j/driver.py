"""The official ``neo4j`` driver, configured to fail fast when the server is away."""

from __future__ import annotations

import neo4j

__all__ = ["make_driver"]


def make_driver(
    url: str,
    user: str = "",
    password: str = "",
    *,
    connection_timeout: float = 2.0,
    liveness_check_timeout: float | None = None,
) -> neo4j.Driver:
    """A driver for ``url`` (``bolt://`` for a single server, ``neo4j://`` for a routed Neo4j
    cluster). Without ``user`` no credentials are sent (``auth=None``), as FalkorDB's Bolt
    endpoint requires. Connecting, and waiting for a pooled connection, give up after about
    ``connection_timeout`` seconds. Nothing is sent until the first query: building the driver
    does not need the server.

    Pooled connections are not checked before reuse by default: FalkorDB's Bolt endpoint now
    and then leaves the check (a Bolt ``RESET``) unanswered, which stalled 1 to 2 calls in
    1,500 until the acquisition timeout. Without the check, the first call after a server
    restart fails (``BackendUnavailable``) and the driver drops every connection to that
    server, so the next call reconnects. On Neo4j, ``liveness_check_timeout=0`` makes the
    driver check every idle connection first instead.
    """
    auth = (user, password) if user else None
    return neo4j.GraphDatabase.driver(
        url,
        auth=auth,
        connection_timeout=connection_timeout,
        connection_acquisition_timeout=connection_timeout + 1.0,
        liveness_check_timeout=liveness_check_timeout,
        max_connection_pool_size=16,
    )
