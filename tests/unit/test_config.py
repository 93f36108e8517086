"""The defaults of the domain configuration are the spec's constants (§2-§7)."""

from __future__ import annotations

import dataclasses

import pytest

from domain.config import DomainConfig


def test_defaults_match_the_spec() -> None:
    cfg = DomainConfig()
    e = cfg.energy
    assert (e.w_pair, e.w_hyper, e.alpha, e.lambda_reg, e.beta_mem, e.top_patterns) == (
        1.0, 1.0, 0.5, 0.01, 0.2, 64
    )
    a = cfg.learning
    assert (a.eta_h, a.capability_decay, a.capability_success_weight,
            a.capability_quality_weight) == (0.05, 0.9, 0.6, 0.4)
    assert (a.utility_decay, a.utility_hit_weight, a.utility_compression_weight,
            a.utility_salient_weight) == (0.9, 0.5, 0.3, 0.2)
    assert (a.skill_rate, a.skill_initial, a.consumption_rate) == (0.1, 0.5, 0.2)
    assert (a.default_capability, a.default_capacity, a.quality_history) == (0.5, 4, 20)
    s = cfg.selection
    assert (s.capability, s.role, s.consumption, s.load, s.soft_budget, s.affinity) == (
        1.0, 0.5, 0.5, 1.0, 0.5, 0.5
    )
    assert (s.pair_affinity, s.epsilon, s.explore_among) == (0.5, 0.05, 3)
    b = cfg.budgets
    assert (b.window_s, b.soft_fraction, b.rising_alert_s) == (60.0, 0.8, 300.0)
    r = cfg.roles
    assert (r.default_role, r.evolution_rate, r.entropy_floor, r.mix_step) == (
        "S", 0.05, 0.2, 0.05
    )
    m = cfg.memory
    assert (m.mw_ttl_s, m.consolidation_kappa, m.consolidation_batch, m.miss_threshold) == (
        600.0, 0.5, 128, 2
    )
    assert (m.bytes_weight, m.recon_weight, m.miss_weight) == (0.4, 0.4, 0.2)
    assert (cfg.salience.threshold, cfg.salience.default_severity) == (0.7, 1.0)
    loops = cfg.loops
    assert (loops.heartbeat_s, loops.stale_after_periods, loops.energy_snapshot_s,
            loops.role_evolution_s, loops.consolidation_s, loops.hot_miss_s) == (
        10.0, 3, 5.0, 20.0, 2.0, 5.0
    )
    assert loops.heartbeat_stale_s == 30.0


def test_config_is_frozen_and_overridable() -> None:
    cfg = DomainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.energy.alpha = 1.0  # type: ignore[misc]
    changed = dataclasses.replace(cfg, energy=dataclasses.replace(cfg.energy, alpha=0.9))
    assert changed.energy.alpha == 0.9
    assert cfg.energy.alpha == 0.5
