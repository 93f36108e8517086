"""The agent runtime on Ray: organ actors hosting many agents each, placed by a directory
actor, restarted on failure and restored from checkpoints.

- :mod:`adapters.ray.runtime`: :class:`~adapters.ray.runtime.RayRuntime`, the port's adapter.
- :mod:`adapters.ray.organ_actor`: the actor that hosts the agents of one organ (or shard).
- :mod:`adapters.ray.checkpoints`: where actors save their agents' states (a Ray actor or
  Redis).

Ray must be connected (``ray.init``) before a runtime is built; the composition root does it.
"""
