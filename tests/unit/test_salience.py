"""Salience and the flashbulb threshold (spec §7)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.config import SalienceConfig
from domain.salience import is_flashbulb, salience

CONFIG = SalienceConfig()


@pytest.mark.parametrize(
    ("risk", "incident"), [(0.69, False), (0.7, True), (0.9, True), (1.0, True), (0.0, False)]
)
def test_threshold_is_inclusive_at_07(risk: float, incident: bool) -> None:
    score = salience(risk, 1.0)
    assert score == pytest.approx(risk)
    assert is_flashbulb(False, score, CONFIG) is incident


def test_success_is_never_an_incident() -> None:
    for risk in (0.0, 0.7, 0.9, 1.0):
        assert not is_flashbulb(True, salience(risk, 1.0), CONFIG)


def test_salience_is_risk_times_severity() -> None:
    assert salience(0.8, 0.5) == pytest.approx(0.4)
    assert not is_flashbulb(False, salience(0.9, 0.7), CONFIG)  # 0.63
    assert is_flashbulb(False, salience(1.0, 0.7), CONFIG)


def test_defaults() -> None:
    assert (CONFIG.threshold, CONFIG.default_severity) == (0.7, 1.0)
    assert is_flashbulb(False, 0.5, SalienceConfig(threshold=0.5))


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
@settings(max_examples=200, deadline=None)
def test_salience_is_clamped_to_0_1(risk: float, severity: float) -> None:
    value = salience(risk, severity)
    assert 0.0 <= value <= 1.0
    product = risk * severity
    if 0.0 <= product <= 1.0:
        assert value == product
