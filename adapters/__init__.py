"""Adapters: one module per port of ``application.ports``, named like the port module.

``adapters/<port>.py`` holds the real implementations (system clock, HTTP operations, the hashing
embedder, and later the Redis, Postgres, Bolt and MySQL backends); ``adapters/memory/<port>.py``
holds the in-memory implementations that the embedded profile and the tests use. Every adapter is
proven against the same behavioural suite in ``tests/contract``.
"""
