"""Redis adapters of the full profile: working memory (Mw), the consolidation queue, lease
locks and the outcome store, all on one pooled client (:mod:`adapters.redis.client`).

Every key starts with a configurable prefix (``seedcore`` by default), so several deployments
or test runs can share one server. The Lua scripts touch keys they build themselves, which a
single Redis server (or a Sentinel-managed primary) allows; Redis Cluster is not supported.
Redis 6.2 or later is needed (``GETEX``, and scripts that read ``TIME`` before writing).
"""
