"""The validation experiments: which scenarios are run, what is read from them, and its theory.

Each experiment pairs a scenario (``sim.validation.scenarios``) with measures whose values
are known exactly (from ``sim.analysis.theory``) and with run sizes for the fast subset and
the full set. A check compares one number per replication with its theoretical value:

* M/M/c mean wait in queue against Erlang C, over c in {1, 2, 4, 8, 16} and load
  rho = lambda E[S] / c in {0.5, 0.8, 0.9, 0.95};
* M/D/1 and M/G/1 (gamma and lognormal with cv 0.5 and 2, uniform) against
  Pollaczek-Khinchine, Wq = lambda E[S^2] / (2 (1 - rho)), with E[S^2] from the
  distribution's own analytic ``mean`` and ``variance``;
* a 3-stage tandem (4, 2 and 3 servers, load 0.8 each) and a whole crossing (exit and entry
  sides, risk-based selection and a limited secondary inspection, unlimited neutral zone)
  against Jackson's theorem: every station behaves as an independent M/M/c queue, so the
  mean total wait is the sum over stations of (share of travellers visiting) x (its wait);
* a finite neutral zone against the exactly matching birth-death chains (below);
* Little's law, L = lambda W, at every server pool of every run made here.

**The neutral zone and M/M/1/K.** bordersim never turns a traveller away: a full zone makes
the exit booth hold its finished vehicle (blocking after service). So no configuration is
an M/M/1/K *loss* system for the arriving travellers. Two configurations are exactly
solvable, and both are checked:

1. *Poisson arrivals, an exit stage with a huge number of booths and no service time, a zone
   of Z places, one exponential entry booth.* Blocked vehicles wait, each holding its own
   exit booth, and pass in order, so the total number of vehicles beyond the exit queue is
   an M/M/1 queue; the zone plus the entry booth hold min(N, Z + 1) of them. The zone is
   full (Z waiting, one in service) with probability P(N >= Z + 1) = rho^(Z+1), at least
   one exit booth is blocked with probability rho^(Z+2), and the mean wait (queueing plus
   blocking) is the M/M/1 value rho E[S] / (1 - rho). This is an M/M/1 queue observed
   through a window, not M/M/1/K.
2. *A single exponential exit booth that always has a vehicle waiting (all travellers arrive
   at time 0), a zone of Z places, one exponential entry booth.* Count M = (vehicles in the
   zone) + (vehicle in the entry booth) + (1 if the exit booth holds a finished, blocked
   vehicle). While M < Z + 2 the exit booth is serving, so M grows at the exit rate lambda
   (memoryless service: a restart after blocking is a fresh exponential time); it falls at
   the entry rate mu while M > 0; at M = Z + 2 the exit booth is blocked and M cannot grow.
   That is exactly the M/M/1/K birth-death chain with K = Z + 2 and rho = lambda / mu: the
   time-average distribution of M is pi_n = rho^n / sum_{j<=K} rho^j, the exit booth is
   blocked a fraction pi_K of the time, and the throughput is lambda (1 - pi_K). The
   "arrivals lost" of M/M/1/K are here exit services that are not started.

Run sizes are chosen so that the intervals are a few percent of the value: heavy loads need
long runs because their waits are strongly autocorrelated.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from sim.analysis.theory import jackson_wait, mm1_tail, mm1k_distribution, mmc_wait, pk_wait
from sim.validation.observations import (
    Statistic,
    entry_throughput,
    exit_blocked_share,
    mean_total_wait,
    pool_wait,
    state_mean,
    state_share,
)
from sim.validation.scenarios import (
    CROSSING_NODES,
    TANDEM,
    Builder,
    RunSize,
    crossing,
    single_stage,
    tandem,
    zone_poisson,
    zone_saturated,
)


@dataclass(frozen=True)
class Measure:
    """A quantity with a known theoretical value, read once per replication from a run."""

    name: str
    expected: float
    per_replication: Statistic


@dataclass(frozen=True)
class Experiment:
    """A scenario, what is compared on its runs, and how long it runs (fast subset and full)."""

    name: str
    title: str
    build: Builder
    measures: tuple[Measure, ...]
    full: RunSize
    fast: RunSize | None = None
    booth_only: tuple[str, ...] = field(default=())
    """Stages whose pools Little's law sees from service start only (saturated, never stationary)."""

    @property
    def seed(self) -> int:
        """A fixed seed per experiment: reproducible, and independent of the other experiments."""
        return zlib.crc32(self.name.encode()) % 1_000_000_007


def _mmc_experiments() -> list[Experiment]:
    """The Erlang C grid; run sizes grow with the load because heavy-traffic waits decorrelate slowly.

    Full runs have 20 replications everywhere: a replication's mean wait is skewed to the right
    (a rare congested spell dominates it, most visibly with many servers at low load), and with
    10 replications a t-interval of skewed means misses high more often than 1% of the time.
    """
    sizes = {
        0.5: RunSize(20, 1, 10),
        0.8: RunSize(20, 1, 10),
        0.9: RunSize(20, 2, 20),
        0.95: RunSize(20, 4, 60),
    }
    fast = {(1, 0.8): RunSize(8, 1, 6), (4, 0.9): RunSize(8, 1, 10)}
    out = []
    for c in (1, 2, 4, 8, 16):
        for rho, size in sizes.items():
            mean = c * rho  # 1 arrival per minute
            out.append(
                Experiment(
                    name=f"mmc_c{c}_rho{rho:g}",
                    title=f"M/M/{c}, ρ = {rho:g}",
                    build=single_stage({"dist": "exponential", "mean": mean}, c),
                    measures=(Measure("mean wait in queue vs Erlang C", mmc_wait(1.0, mean, c), mean_total_wait),),
                    full=size,
                    fast=fast.get((c, rho)),
                )
            )
    return out


PK_CASES = (
    # (name, title, distribution, load)
    ("md1", "M/D/1", {"dist": "constant", "value": 0.8}, 0.8),
    ("mg1_gamma_cv0.5", "M/G/1 gamma cv 0.5", {"dist": "gamma", "mean": 0.8, "cv": 0.5}, 0.8),
    ("mg1_gamma_cv2", "M/G/1 gamma cv 2", {"dist": "gamma", "mean": 0.8, "cv": 2.0}, 0.8),
    ("mg1_lognormal_cv0.5", "M/G/1 lognormal cv 0.5", {"dist": "lognormal", "mean": 0.8, "cv": 0.5}, 0.8),
    ("mg1_lognormal_cv2", "M/G/1 lognormal cv 2", {"dist": "lognormal", "mean": 0.7, "cv": 2.0}, 0.7),
    ("mg1_uniform", "M/G/1 uniform(0, 1.6)", {"dist": "uniform", "low": 0.0, "high": 1.6}, 0.8),
)


def _pk_experiments() -> list[Experiment]:
    """Pollaczek-Khinchine cases, E[S^2] from the model's own moments: theory and sampler describe one law."""
    from sim.scenario.schema import ControlStage

    fast = {"md1": RunSize(8, 1, 6), "mg1_gamma_cv2": RunSize(8, 1, 10)}
    full = {"mg1_gamma_cv2": RunSize(20, 1, 30), "mg1_lognormal_cv2": RunSize(20, 1, 60)}
    out = []
    for name, title, dist, rho in PK_CASES:
        d = ControlStage.model_validate({"per_vehicle": dist}).per_vehicle  # the model's own analytic moments
        out.append(
            Experiment(
                name=name,
                title=f"{title}, ρ = {rho:g}",
                build=single_stage(dist, 1),
                measures=(
                    Measure(
                        "mean wait in queue vs Pollaczek-Khinchine", pk_wait(1.0, d.mean, d.variance), mean_total_wait
                    ),
                ),
                full=full.get(name, RunSize(20, 1, 10)),
                fast=fast.get(name),
            )
        )
    return out


def _network_experiments() -> list[Experiment]:
    """Jackson networks: every station's wait, then the mean total wait of a traveller."""
    tandem_measures = [
        Measure(f"{s} ({c} servers) wait vs M/M/{c}", mmc_wait(1.0, m, c), pool_wait("a", s)) for s, c, m in TANDEM
    ]
    tandem_total = jackson_wait(1.0, [(1.0, m, c) for _, c, m in TANDEM])
    crossing_measures = [
        Measure(f"{label} ({c} servers) wait vs M/M/{c}", mmc_wait(lam, m, c), pool_wait(side, stage, sec))
        for label, side, stage, sec, c, lam, m in CROSSING_NODES
    ]
    crossing_total = jackson_wait(1.0, [(lam, m, c) for _, _, _, _, c, lam, m in CROSSING_NODES])
    return [
        Experiment(
            name="tandem",
            title="Tandem 4-2-3 servers, ρ = 0.8 each",
            build=tandem,
            measures=(*tandem_measures, Measure("mean total wait vs Jackson", tandem_total, mean_total_wait)),
            full=RunSize(20, 1, 15),
            fast=RunSize(6, 1, 6),
        ),
        Experiment(
            name="crossing",
            title="Crossing, double control with selection and secondary",
            build=crossing,
            measures=(*crossing_measures, Measure("mean total wait vs Jackson", crossing_total, mean_total_wait)),
            full=RunSize(20, 1, 15),
            fast=RunSize(6, 1, 5),
        ),
    ]


def _zone_experiments() -> list[Experiment]:
    """The two exactly solvable neutral-zone configurations (module docstring), ρ < 1 and ρ > 1."""
    zone1, rho1 = 2, 0.8
    zone2a, rho2a = 3, 0.9
    zone2b, rho2b = 1, 1.25
    k2a, k2b = zone2a + 2, zone2b + 2
    pi_a, pi_b = mm1k_distribution(rho2a, k2a), mm1k_distribution(rho2b, k2b)
    return [
        Experiment(
            name="zone_poisson",
            title=f"Zone of {zone1}, Poisson arrivals, M/M/1 entry, ρ = {rho1:g}",
            build=zone_poisson(zone1, rho1),
            measures=(
                Measure(
                    f"share of time the zone is full vs ρ^{zone1 + 1}",
                    mm1_tail(rho1, zone1 + 1),
                    state_share(zone1 + 1, zone1 + 1, with_blocked=False),
                ),
                Measure(
                    f"share of time an exit booth is blocked vs ρ^{zone1 + 2}",
                    mm1_tail(rho1, zone1 + 2),
                    exit_blocked_share,
                ),
                Measure("mean wait (queue + blocking) vs M/M/1", mmc_wait(1.0, rho1, 1), mean_total_wait),
            ),
            full=RunSize(20, 1, 15),
            fast=RunSize(8, 1, 8),
        ),
        Experiment(
            name="zone_saturated_a",
            title=f"Zone of {zone2a}, saturated exit booth, ρ = {rho2a:g} (M/M/1/{k2a})",
            build=zone_saturated(zone2a, rho2a),
            measures=(
                *(Measure(f"π_{n} of M/M/1/{k2a}", float(pi_a[n]), state_share(n, k2a)) for n in range(k2a + 1)),
                Measure(f"mean number vs M/M/1/{k2a}", float(np.dot(np.arange(k2a + 1), pi_a)), state_mean(k2a)),
                Measure("exit booth blocked share vs π_K", float(pi_a[-1]), exit_blocked_share),
                Measure("throughput per min vs λ(1 - π_K)", float(1 - pi_a[-1]), entry_throughput),
            ),
            full=RunSize(20, 1, 10),
            fast=RunSize(6, 0.5, 4),
            booth_only=("release",),
        ),
        Experiment(
            name="zone_saturated_b",
            title=f"Zone of {zone2b}, saturated exit booth, ρ = {rho2b:g} (M/M/1/{k2b})",
            build=zone_saturated(zone2b, rho2b),
            measures=(
                Measure("exit booth blocked share vs π_K", float(pi_b[-1]), exit_blocked_share),
                Measure("zone and entry empty vs π_0", float(pi_b[0]), state_share(0, k2b)),
                Measure("throughput per min vs λ(1 - π_K)", float(1 - pi_b[-1]), entry_throughput),
            ),
            full=RunSize(20, 1, 10),
            booth_only=("release",),
        ),
    ]


def experiments(full: bool) -> list[Experiment]:
    """The experiments a run makes: all of them with ``full``, else the fast subset."""
    every = [*_mmc_experiments(), *_pk_experiments(), *_network_experiments(), *_zone_experiments()]
    return every if full else [e for e in every if e.fast is not None]
