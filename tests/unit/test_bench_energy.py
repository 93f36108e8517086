"""The energy benchmark runs and returns well-formed figures (not timings against goals)."""

from __future__ import annotations

import io
import math

import numpy as np

from entrypoints import bench_energy


def test_run_returns_positive_finite_figures_and_prints_the_machine() -> None:
    out = io.StringIO()
    figures = bench_energy.run(repeats=3, seed=1, out=out)
    assert set(figures) == {"energy_1000", "energy_10000", "select_1000"}
    for name, values in figures.items():
        assert set(values) == {"median_ms", "p10_ms", "p90_ms"}, name
        for value in values.values():
            assert isinstance(value, float)
            assert math.isfinite(value)
            assert value > 0.0
        assert values["p10_ms"] <= values["median_ms"] <= values["p90_ms"]
    text = out.getvalue()
    first = text.splitlines()[0]
    assert first.startswith("machine:")
    assert "numpy" in first
    assert "Python" in first
    assert "CPUs" in first
    assert text.count("goal median") == 2
    assert text.count("PASS") + text.count("MISS") == 2


def test_the_organism_has_the_announced_shape() -> None:
    inputs = bench_energy.build_organism(500, np.random.default_rng(0))
    assert inputs.h.shape == (500, bench_energy.DIM)
    assert np.all(np.linalg.norm(inputs.h, axis=1) <= 1.0 + 1e-12)
    np.testing.assert_allclose(inputs.p.sum(axis=1), 1.0)
    assert 900 <= inputs.pairs.shape[0] <= 1000
    assert np.all(inputs.pairs[:, 0] < inputs.pairs[:, 1])
    assert np.all((inputs.pair_weights >= 0.1) & (inputs.pair_weights <= 5.0))
    assert inputs.pattern_scores.shape == (200,)
    candidates, reference = bench_energy.build_candidates(1000, np.random.default_rng(0))
    assert len(candidates) == 1000
    assert reference > 0.0
    assert 0 < int(candidates.eligible.sum()) < 1000
