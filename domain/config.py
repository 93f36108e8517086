"""Every tunable constant of the domain, in one typed, frozen configuration object.

The defaults are those of the domain specification; a deployment overrides them through its
settings. Nothing else in ``domain/`` holds a literal hyperparameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "AgentLearning",
    "BudgetPolicy",
    "ConsumptionCosts",
    "DomainConfig",
    "EnergyWeights",
    "LoopSchedule",
    "MemoryPolicy",
    "RolePolicy",
    "SalienceConfig",
    "SelectionWeights",
]


@dataclass(frozen=True, slots=True)
class EnergyWeights:
    """Weights of the five system-energy terms (each clamped to [0, 10] when used)."""

    w_pair: float = 1.0
    w_hyper: float = 1.0
    alpha: float = 0.5
    lambda_reg: float = 0.01
    beta_mem: float = 0.2
    top_patterns: int = 64

    def clamped(self) -> EnergyWeights:
        def clamp(value: float) -> float:
            return min(10.0, max(0.0, value))

        return EnergyWeights(
            w_pair=clamp(self.w_pair),
            w_hyper=clamp(self.w_hyper),
            alpha=clamp(self.alpha),
            lambda_reg=clamp(self.lambda_reg),
            beta_mem=clamp(self.beta_mem),
            top_patterns=self.top_patterns,
        )


@dataclass(frozen=True, slots=True)
class ConsumptionCosts:
    """Power of a busy core and the nominal cost of each memory operation, in joules."""

    cpu_watts: float = 15.0
    mw_read: float = 0.001
    mw_write: float = 0.001
    mlt_read: float = 0.01
    mlt_search: float = 0.05
    graph_hop: float = 0.005
    mfb_write: float = 0.02


@dataclass(frozen=True, slots=True)
class AgentLearning:
    """Learning rates of the agent-state updates."""

    eta_h: float = 0.05
    capability_decay: float = 0.9
    capability_success_weight: float = 0.6
    capability_quality_weight: float = 0.4
    utility_decay: float = 0.9
    utility_hit_weight: float = 0.5
    utility_compression_weight: float = 0.3
    utility_salient_weight: float = 0.2
    skill_rate: float = 0.1
    skill_initial: float = 0.5
    consumption_rate: float = 0.2
    default_capability: float = 0.5
    default_capacity: int = 4
    quality_history: int = 20


@dataclass(frozen=True, slots=True)
class SelectionWeights:
    """Weights of the selection score (lower score wins) and the exploration rule."""

    capability: float = 1.0
    role: float = 0.5
    consumption: float = 0.5
    load: float = 1.0
    soft_budget: float = 0.5
    affinity: float = 0.5
    pair_affinity: float = 0.5
    epsilon: float = 0.05
    explore_among: int = 3


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """Consumption budgets: rolling window, soft fraction, and the energy-rising alert."""

    window_s: float = 60.0
    soft_fraction: float = 0.8
    rising_alert_s: float = 300.0


@dataclass(frozen=True, slots=True)
class RolePolicy:
    """Ideal-role map, evolution rate and entropy floor."""

    ideal_roles: tuple[tuple[str, str], ...] = (
        ("exploration", "E"),
        ("discovery", "E"),
        ("research", "E"),
        ("optimization", "S"),
        ("analysis", "S"),
        ("execution", "S"),
        ("knowledge", "S"),
        ("high_stakes", "S"),
        ("monitoring", "O"),
        ("maintenance", "O"),
        ("observation", "O"),
    )
    default_role: str = "S"
    evolution_rate: float = 0.05
    entropy_floor: float = 0.2
    mix_step: float = 0.05


@dataclass(frozen=True, slots=True)
class MemoryPolicy:
    """Working-memory TTL and caps, consolidation and hot-miss promotion parameters."""

    mw_ttl_s: float = 600.0
    mw_item_cap: int = 10_000
    consolidation_kappa: float = 0.5
    consolidation_batch: int = 128
    miss_threshold: int = 2
    bytes_budget: int = 512 * 1024 * 1024
    recon_weight: float = 0.4
    bytes_weight: float = 0.4
    miss_weight: float = 0.2


@dataclass(frozen=True, slots=True)
class SalienceConfig:
    """Incident threshold (inclusive) and the default severity of a task."""

    threshold: float = 0.7
    default_severity: float = 1.0
    default_risk: float = 0.5


@dataclass(frozen=True, slots=True)
class LoopSchedule:
    """Periods of the worker's control loops, in seconds."""

    heartbeat_s: float = 10.0
    stale_after_periods: int = 3
    energy_snapshot_s: float = 5.0
    role_evolution_s: float = 20.0
    consolidation_s: float = 2.0
    hot_miss_s: float = 5.0

    @property
    def heartbeat_stale_s(self) -> float:
        return self.heartbeat_s * self.stale_after_periods


@dataclass(frozen=True, slots=True)
class DomainConfig:
    """All domain defaults in one object; override any part with ``dataclasses.replace``."""

    energy: EnergyWeights = field(default_factory=EnergyWeights)
    costs: ConsumptionCosts = field(default_factory=ConsumptionCosts)
    learning: AgentLearning = field(default_factory=AgentLearning)
    selection: SelectionWeights = field(default_factory=SelectionWeights)
    budgets: BudgetPolicy = field(default_factory=BudgetPolicy)
    roles: RolePolicy = field(default_factory=RolePolicy)
    memory: MemoryPolicy = field(default_factory=MemoryPolicy)
    salience: SalienceConfig = field(default_factory=SalienceConfig)
    loops: LoopSchedule = field(default_factory=LoopSchedule)
