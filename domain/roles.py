"""Roles (Explorer, Specialist, Optimizer), the ideal-role map, entropy and role evolution."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from domain.config import RolePolicy

__all__ = [
    "Role",
    "RoleProbabilities",
    "entropy",
    "evolve_roles",
    "ideal_role",
    "initial_roles",
    "role_distribution",
]

FloatArray = npt.NDArray[np.float64]
RoleProbabilities = tuple[float, float, float]

_Q_MIN = 1e-12
_UNIFORM: RoleProbabilities = (1 / 3, 1 / 3, 1 / 3)
_BY_ORGAN_TYPE: Mapping[str, RoleProbabilities] = {
    "cognitive": (0.3, 0.6, 0.1),
    "actuator": (0.7, 0.2, 0.1),
    "utility": (0.2, 0.3, 0.5),
}


class Role(IntEnum):
    """Index of each role in a probability vector ``p = (E, S, O)``."""

    E = 0
    S = 1
    O = 2  # noqa: E741 - the spec's name for the Optimizer role


def initial_roles(organ_type: str) -> RoleProbabilities:
    """Default role probabilities of a new agent, by the type of its organ."""
    return _BY_ORGAN_TYPE.get(organ_type, _UNIFORM)


def ideal_role(task_type: str, policy: RolePolicy) -> Role:
    """The role best suited to a task type; unknown types map to the policy's default."""
    for name, role in policy.ideal_roles:
        if name == task_type:
            return Role[role]
    return Role[policy.default_role]


def _normalised_q(p: FloatArray) -> FloatArray:
    q = np.clip(p, _Q_MIN, 1.0)
    normalised: FloatArray = q / q.sum(axis=-1, keepdims=True)
    return normalised


def entropy(p: FloatArray | RoleProbabilities) -> FloatArray:
    """Shannon entropy in nats of one or many role vectors (last axis is the roles)."""
    q = _normalised_q(np.asarray(p, dtype=np.float64))
    return np.asarray(-(q * np.log(q)).sum(axis=-1), dtype=np.float64)


def role_distribution(task_types: Mapping[str, int], policy: RolePolicy) -> RoleProbabilities:
    """Distribution of the ideal roles of successful tasks, given success counts per type."""
    counts = np.zeros(3)
    for task_type, successes in task_types.items():
        if successes > 0:
            counts[ideal_role(task_type, policy)] += successes
    total = counts.sum()
    if total == 0:
        raise ValueError("role_distribution needs at least one successful task")
    t = counts / total
    return (float(t[0]), float(t[1]), float(t[2]))


def evolve_roles(
    p: RoleProbabilities, target: RoleProbabilities, policy: RolePolicy
) -> RoleProbabilities:
    """Move ``p`` towards ``target`` and restore the entropy floor.

    ``p ← (1−r)·p + r·t``; if the entropy then falls below the floor, mix with the uniform
    distribution using the smallest multiple of ``mix_step`` that restores it.
    """
    rate = policy.evolution_rate
    moved = (1.0 - rate) * np.asarray(p) + rate * np.asarray(target)
    moved = moved / moved.sum()
    if float(entropy(moved)) < policy.entropy_floor:
        uniform = np.asarray(_UNIFORM)
        steps = round(1.0 / policy.mix_step)
        for k in range(1, steps + 1):
            mu = min(1.0, k * policy.mix_step)
            mixed = (1.0 - mu) * moved + mu * uniform
            if float(entropy(mixed)) >= policy.entropy_floor:
                moved = mixed
                break
    return (float(moved[0]), float(moved[1]), float(moved[2]))
