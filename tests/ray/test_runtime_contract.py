"""The agent-runtime contract suite (tests/contract/test_agent_runtime.py), unchanged, run
against :class:`adapters.ray.runtime.RayRuntime`: its test classes and functions are collected
here again, and its ``world`` fixture takes ``runtime_factory``, which in this directory is the
Ray one (tests/ray/conftest.py). Tests added to the suite later are picked up too."""

from __future__ import annotations

import pytest

from tests.contract import test_agent_runtime as contract

world = contract.world
globals().update(
    {name: test for name, test in vars(contract).items() if name.startswith(("Test", "test_"))}
)

pytestmark = pytest.mark.ray
