"""Salience of a failure and the flashbulb threshold."""

from __future__ import annotations

from domain.config import SalienceConfig

__all__ = ["is_flashbulb", "salience"]


def salience(risk: float, severity: float) -> float:
    """clamp01(risk · severity)."""
    return min(1.0, max(0.0, risk * severity))


def is_flashbulb(success: bool, score: float, config: SalienceConfig) -> bool:
    """A failed task at or above the threshold (inclusive) becomes an incident."""
    return (not success) and score >= config.threshold
