"""Factories of the real-backend adapters, one module per group of backends.

Each module exposes lists named like the port lists of ``tests/contract/conftest.py``; every
entry is a ``pytest.param(factory, id=..., marks=pytest.mark.backends)``.
"""
