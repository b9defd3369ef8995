"""The model against queueing theory: checks that regenerate ``docs/validation.md``.

A simulator earns trust by reproducing results that are known exactly. Each check here
builds an ordinary bordersim scenario dict, runs it through the public API
(``sim.scenario_from_dict`` and ``sim.run``), throws away the scenario's warm-up, and
compares one number per replication with its theoretical value:

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

**The interval.** A replication's statistic (say its mean wait) is one observation; the
replications are independent (each has its own random streams). A check passes when the
theoretical value lies in the 99% Student-t interval of the mean of the replications'
statistics: mean +- t(0.995, R - 1) s / sqrt(R). This is a test at the 1% level, not a
tolerance: about one check in a hundred fails by chance even if the model is exact, so the
overall verdict asks whether the number of failures is more than chance explains (a
binomial tail below 1%). The seeds are fixed (derived from each run's name), so a given
version of the model always gives the same table; run sizes are chosen so that the
intervals are a few percent of the value (heavy loads need long runs because their waits
are strongly autocorrelated). A replication's mean wait is skewed to the right (a rare
congested spell weighs heavily), so the t-interval misses below the theory somewhat more
often than its level says; 20 replications keep that excess small.

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

**Little's law.** For each pool and replication, over the window [warm-up, horizon): L is
the time-average number of travellers in the pool (queue, service and blocked), lambda the
rate of visits ending in the window (in steady state, the arrival rate), and W the mean
time in the pool of those visits. L - lambda W is then a difference of two boundary terms:
the time spent in the window by the visits still open at its end, less the time spent
before the window by the visits that were open at its start. In steady state both have the
same expectation (lambda E[W^2] / 2), so the check is that 0 lies in the 99% interval of
the replications' L - lambda W. Counting visits *entering* the window for lambda instead
adds (change in the number present) x W / T, whose two factors are correlated (a queue that
grew has just served its long waits): a bias of the same order, 1 / T, as the boundary
terms, which the interval would eventually detect. The saturated exit booth of
configuration 2 is not in steady state (its backlog only drains), so there the law is
applied to its booth alone (from service start to leaving).

Run ``python -m sim.validation [--full] [--out docs/validation.md]``: the default runs a
fast subset (under a minute); ``--full`` runs every check with long runs (several minutes).
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.validation.recursion import ExactCheck, replay_checks
from sim.validation.recursion import markdown as recursion_markdown

if TYPE_CHECKING:
    from sim.experiments.run import RunResult

LEVEL = 0.99
"""Confidence level of every interval (two-sided Student t over replications)."""

ARRIVALS_PER_DAY = 1440.0
"""One arrival per minute on average in every open system: minutes are then customer units."""

FAMILY_ALPHA = 0.01
"""The overall verdict fails when an exact model would fail this many checks (or more) less often than this."""

# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class CheckResult:
    """One comparison: the theoretical value, the simulated mean, its interval and the verdict."""

    name: str
    expected: float
    simulated: float
    ci_low: float
    ci_high: float
    passed: bool
    detail: str = ""
    run: str = ""
    replications: int = 0

    def t_statistic(self) -> float:
        """How many standard errors the simulated mean lies from the expected value (NaN if unknown)."""
        from scipy import stats

        half = (self.ci_high - self.ci_low) / 2
        if self.replications < 2 or not half > 0:
            return math.nan
        return (self.simulated - self.expected) / (half / stats.t.ppf(0.5 + LEVEL / 2, self.replications - 1))


@dataclass(frozen=True)
class RunSize:
    """How long and how often a check's scenario is run."""

    replications: int
    warmup_days: float
    window_days: float

    @property
    def horizon_days(self) -> float:
        return self.warmup_days + self.window_days

    def describe(self) -> str:
        return f"{self.replications} x ({_num(self.warmup_days)} d warm-up + {_num(self.window_days)} d)"


@dataclass(frozen=True)
class Measure:
    """A quantity with a known theoretical value, read once per replication from a run."""

    name: str
    expected: float
    per_replication: Callable[[RunResult], np.ndarray]


@dataclass(frozen=True)
class Experiment:
    """A scenario, what is compared on its runs, and how long it runs (fast subset and full)."""

    name: str
    title: str
    build: Callable[[RunSize, int], dict[str, Any]]
    measures: tuple[Measure, ...]
    full: RunSize
    fast: RunSize | None = None
    booth_only: tuple[str, ...] = field(default=())
    """Stages whose pools Little's law sees from service start only (saturated, never stationary)."""

    @property
    def seed(self) -> int:
        """A fixed seed per experiment: reproducible, and independent of the other experiments."""
        return zlib.crc32(self.name.encode()) % 1_000_000_007


# --------------------------------------------------------------------------------------------
# theory


def erlang_c(c: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``offered`` = lambda E[S].

    Computed through the Erlang B recursion, which stays accurate where the textbook ratio of
    factorials overflows or cancels.
    """
    if offered >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = offered * b / (k + offered * b)
    rho = offered / c
    return b / (1.0 - rho + rho * b)


def mmc_wait(lam: float, mean_service: float, c: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C): C(c, a) E[S] / (c - a)."""
    offered = lam * mean_service
    return erlang_c(c, offered) * mean_service / (c - offered)


def pk_wait(lam: float, mean_service: float, variance: float) -> float:
    """Mean wait in queue of M/G/1 (Pollaczek-Khinchine): lambda E[S^2] / (2 (1 - rho))."""
    rho = lam * mean_service
    return lam * (variance + mean_service**2) / (2.0 * (1.0 - rho))


def mm1k_distribution(rho: float, k: int) -> np.ndarray:
    """Stationary distribution of the number in an M/M/1/K system: pi_n proportional to rho^n."""
    weights = rho ** np.arange(k + 1, dtype=float)
    return weights / weights.sum()


# --------------------------------------------------------------------------------------------
# scenarios


def _num(x: float) -> str:
    return f"{x:g}"


def _base(name: str, size: RunSize, seed: int) -> dict[str, Any]:
    return {
        "name": name,
        "horizon": f"{_num(size.horizon_days)} d",
        "warmup": f"{_num(size.warmup_days)} d",
        "replications": size.replications,
        "seed": seed,
        "flows": {"vehicle": {"occupancy": 1}},
    }


def _crossing(servers_a: dict[str, Any], servers_b: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "x",
        "category": "multilateral",
        "hours": "24h",
        "sides": {"a": {"servers": servers_a, **extra.pop("side_a", {})}, "b": {"servers": servers_b}},
        **extra,
    }


def _poisson(rate_per_min: float = 1.0) -> list[dict[str, Any]]:
    return [{"crossing": "x", "flow": "vehicle", "direction": "a_to_b", "daily": rate_per_min * ARRIVALS_PER_DAY}]


def single_stage(per_vehicle: dict[str, Any], servers: int) -> Callable[[RunSize, int], dict[str, Any]]:
    """One stage on the exit side, Poisson arrivals at 1 per minute: an M/G/c queue."""

    def build(size: RunSize, seed: int) -> dict[str, Any]:
        return {
            **_base("single_stage", size, seed),
            "stages": {"check": {"per_vehicle": per_vehicle, "per_person": 0}},
            "regimes": {"queue": {"exit": ["check"]}},
            "regime": "queue",
            "crossings": [_crossing({"check": servers}, {})],
            "demand": _poisson(),
        }

    return build


TANDEM = (("stage_1", 4, 3.2), ("stage_2", 2, 1.6), ("stage_3", 3, 2.4))
"""(stage, servers, mean service in minutes): load 0.8 at each stage with 1 arrival a minute."""


def tandem(size: RunSize, seed: int) -> dict[str, Any]:
    """Three exponential stages one after the other on the exit side: a Jackson tandem."""
    return {
        **_base("tandem", size, seed),
        "stages": {s: {"per_vehicle": {"dist": "exponential", "mean": m}} for s, _, m in TANDEM},
        "regimes": {"tandem": {"exit": [s for s, _, _ in TANDEM]}},
        "regime": "tandem",
        "crossings": [_crossing({s: c for s, c, _ in TANDEM}, {})],
        "demand": _poisson(),
    }


CROSSING_NODES = (
    # (label, side, stage, secondary, servers, arrival rate per min, mean service)
    ("exit border control", "a", "border_control", False, 2, 1.0, 1.6),
    ("exit customs (half selected)", "a", "customs", False, 2, 0.5, 2.4),
    ("exit secondary inspection", "a", "customs", True, 2, 0.15, 10.0),
    ("entry border control", "b", "border_control", False, 3, 1.0, 1.6),
    ("entry customs", "b", "customs", False, 3, 1.0, 2.4),
)
"""The crossing's stations: exit side a (customs checks half, 30% of them go to a 2-place
secondary inspection), entry side b (checks everyone). Loads 0.8, 0.6, 0.75, 0.53, 0.8."""


def crossing(size: RunSize, seed: int) -> dict[str, Any]:
    """Double control at one crossing, every time exponential, no limit on the neutral zone."""
    return {
        **_base("crossing", size, seed),
        "stages": {
            "border_control": {"per_vehicle": {"dist": "exponential", "mean": 1.6}},
            "customs": {
                "per_vehicle": {"dist": "exponential", "mean": 2.4},
                "sides": {
                    "a": {
                        "select": 0.5,
                        "secondary": {"share": 0.3, "time": {"dist": "exponential", "mean": 10.0}},
                    }
                },
            },
        },
        "regime": "double_control",
        "crossings": [
            _crossing(
                {"border_control": 2, "customs": 2},
                {"border_control": 3, "customs": 3},
                side_a={"secondary_servers": {"customs": 2}},
            )
        ],
        "demand": _poisson(),
    }


def zone_poisson(zone: int, rho: float) -> Callable[[RunSize, int], dict[str, Any]]:
    """Configuration 1: Poisson arrivals, instant exit stage with ample booths, finite zone, M/M/1 entry."""

    def build(size: RunSize, seed: int) -> dict[str, Any]:
        return {
            **_base("zone_poisson", size, seed),
            "stages": {
                "release": {"per_vehicle": 0},
                "entry": {"per_vehicle": {"dist": "exponential", "mean": rho}},
            },
            "regimes": {"zone": {"exit": ["release"], "entry": ["entry"]}},
            "regime": "zone",
            "crossings": [_crossing({"release": 10_000}, {"entry": 1}, neutral_zone=zone)],
            "demand": _poisson(),
        }

    return build


def zone_saturated(zone: int, rho: float) -> Callable[[RunSize, int], dict[str, Any]]:
    """Configuration 2: a backlogged exponential exit booth (rate 1), finite zone, exponential entry (rate 1/rho)."""

    def build(size: RunSize, seed: int) -> dict[str, Any]:
        horizon = size.horizon_days * 1440.0
        backlog = int(horizon + 10 * math.sqrt(horizon) + 100)  # more than the exit booth can serve
        return {
            **_base("zone_saturated", size, seed),
            "stages": {
                "release": {"per_vehicle": {"dist": "exponential", "mean": 1.0}},
                "entry": {"per_vehicle": {"dist": "exponential", "mean": rho}},
            },
            "regimes": {"zone": {"exit": ["release"], "entry": ["entry"]}},
            "regime": "zone",
            "crossings": [_crossing({"release": 1}, {"entry": 1}, neutral_zone=zone)],
            "demand": [{"crossing": "x", "flow": "vehicle", "direction": "a_to_b", "times": [0.0] * backlog}],
        }

    return build


# --------------------------------------------------------------------------------------------
# statistics per replication (all over the window [warm-up, horizon))


def _window(result: RunResult) -> tuple[float, float]:
    return float(result.scenario.warmup), float(result.scenario.horizon)


def _replications(result: RunResult) -> range:
    return range(int(result.scenario.replications))


def _by_replication(frame: pd.DataFrame, result: RunResult) -> list[pd.DataFrame]:
    groups = dict(tuple(frame.groupby("replication", observed=True)))
    return [groups.get(r, frame.iloc[:0]) for r in _replications(result)]


def _pool_visits(result: RunResult, side: str, stage: str, secondary: bool = False) -> pd.DataFrame:
    v = result.visits
    mask = (v["side"] == side) & (v["stage"] == stage) & (v["secondary"] == secondary)
    return v[mask.to_numpy()]


def mean_total_wait(result: RunResult) -> np.ndarray:
    """The model's own KPI, per replication: mean wait (time in system less service) after the warm-up."""
    reps = result.replications
    rows = reps[(reps["crossing"] == "x") & (reps["direction"] == "a_to_b") & (reps["flow"] == "vehicle")]
    rows = rows.set_index("replication")["wait_mean_min"]
    return rows.reindex(list(_replications(result))).to_numpy(dtype=float)


def pool_wait(side: str, stage: str, secondary: bool = False) -> Callable[[RunResult], np.ndarray]:
    """Mean wait in queue at one pool of the visits that entered it after the warm-up."""

    def stat(result: RunResult) -> np.ndarray:
        warmup, _ = _window(result)
        v = _pool_visits(result, side, stage, secondary)
        v = v[(v["enter_min"] >= warmup) & v["start_min"].notna()]
        return np.array([(g["start_min"] - g["enter_min"]).mean() for g in _by_replication(v, result)])

    return stat


def _occupancy(begin: np.ndarray, end: np.ndarray, warmup: float, horizon: float, top: int) -> np.ndarray:
    """Share of the window during which exactly n of the intervals [begin, end) cover time; n = 0..top.

    ``end`` NaN means still open at the horizon. Counts above ``top`` are folded into ``top``.
    """
    end = np.where(np.isnan(end), horizon, end)
    keep = end > begin
    begin, end = begin[keep], end[keep]
    times = np.concatenate([begin, end])
    steps = np.concatenate([np.ones(len(begin), dtype=np.int64), -np.ones(len(end), dtype=np.int64)])
    order = np.argsort(times, kind="stable")  # at a tie the order only makes zero-length pieces
    times, level = times[order], np.cumsum(steps[order])
    lo = np.clip(times, warmup, horizon)
    hi = np.clip(np.append(times[1:], horizon), warmup, horizon)
    dist = np.bincount(np.minimum(level, top), weights=hi - lo, minlength=top + 1)[: top + 1]
    first = times[0] if len(times) else horizon
    dist[0] += max(0.0, min(first, horizon) - warmup)
    return dist / (horizon - warmup)


def _blocked_intervals(v: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """[end, leave) of the visits whose traveller finished service but was held by a full zone."""
    end, leave = v["end_min"].to_numpy(), v["leave_min"].to_numpy()
    held = ~np.isnan(end) & (np.isnan(leave) | (leave > end))
    return end[held], leave[held]


def zone_count_distribution(result: RunResult, top: int, with_blocked: bool) -> list[np.ndarray]:
    """Per replication: time-average distribution of (zone + entry booth [+ blocked exit booth])."""
    warmup, horizon = _window(result)
    entry = _by_replication(_pool_visits(result, "b", "entry"), result)
    exit_ = _by_replication(_pool_visits(result, "a", "release"), result)
    out = []
    for e, x in zip(entry, exit_, strict=True):
        begin, end = e["enter_min"].to_numpy(), e["leave_min"].to_numpy()
        if with_blocked:
            b0, b1 = _blocked_intervals(x)
            begin, end = np.concatenate([begin, b0]), np.concatenate([end, b1])
        out.append(_occupancy(begin, end, warmup, horizon, top))
    return out


def state_share(n: int, top: int, with_blocked: bool = True) -> Callable[[RunResult], np.ndarray]:
    """Share of time the zone, entry booth (and blocked exit booth) hold exactly n (n = top: n or more)."""

    def stat(result: RunResult) -> np.ndarray:
        return np.array([d[n] for d in zone_count_distribution(result, top, with_blocked)])

    return stat


def state_mean(top: int) -> Callable[[RunResult], np.ndarray]:
    """Time-average number in zone + entry booth + blocked exit booth."""

    def stat(result: RunResult) -> np.ndarray:
        return np.array([float(np.dot(np.arange(top + 1), d)) for d in zone_count_distribution(result, top, True)])

    return stat


def exit_blocked_share(result: RunResult) -> np.ndarray:
    """Share of time at least one exit booth holds a finished vehicle that the full zone refuses."""
    warmup, horizon = _window(result)
    out = []
    for x in _by_replication(_pool_visits(result, "a", "release"), result):
        b0, b1 = _blocked_intervals(x)
        out.append(1.0 - _occupancy(b0, b1, warmup, horizon, 1)[0])
    return np.array(out)


def entry_throughput(result: RunResult) -> np.ndarray:
    """Vehicles leaving the entry booth per minute during the window."""
    warmup, horizon = _window(result)
    out = []
    for e in _by_replication(_pool_visits(result, "b", "entry"), result):
        leave = e["leave_min"].to_numpy()
        out.append(np.count_nonzero((leave >= warmup) & (leave < horizon)) / (horizon - warmup))
    return np.array(out)


# --------------------------------------------------------------------------------------------
# the checks


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
    tandem_measures = [
        Measure(f"{s} ({c} servers) wait vs M/M/{c}", mmc_wait(1.0, m, c), pool_wait("a", s)) for s, c, m in TANDEM
    ]
    tandem_total = sum(mmc_wait(1.0, m, c) for _, c, m in TANDEM)
    crossing_measures = [
        Measure(f"{label} ({c} servers) wait vs M/M/{c}", mmc_wait(lam, m, c), pool_wait(side, stage, sec))
        for label, side, stage, sec, c, lam, m in CROSSING_NODES
    ]
    crossing_total = sum(lam * mmc_wait(lam, m, c) for _, _, _, _, c, lam, m in CROSSING_NODES)
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
                    rho1 ** (zone1 + 1),
                    state_share(zone1 + 1, zone1 + 1, with_blocked=False),
                ),
                Measure(
                    f"share of time an exit booth is blocked vs ρ^{zone1 + 2}", rho1 ** (zone1 + 2), exit_blocked_share
                ),
                Measure("mean wait (queue + blocking) vs M/M/1", rho1 * rho1 / (1 - rho1), mean_total_wait),
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


# --------------------------------------------------------------------------------------------
# evaluation


def t_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean, low, high): the Student-t interval of the mean of independent replications."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    n = len(v)
    mean = float(v.mean()) if n else math.nan
    if n < 2 or np.isnan(v).any():
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def _contains(low: float, high: float, value: float) -> bool:
    """Inside the interval, with room for rounding when the interval has no width (an exact result)."""
    slack = 1e-9 * max(1.0, abs(value))
    return bool(low - slack <= value <= high + slack)


def little(result: RunResult, booth_only: Iterable[str] = ()) -> list[tuple[str, float, float, float, float]]:
    """Little's law at every pool: (pool label, mean lambda W, mean L, interval of L from L - lambda W)."""
    warmup, horizon = _window(result)
    span = horizon - warmup
    keys = ["side", "role", "stage", "pool", "secondary"]
    booth_only = set(booth_only)
    rows = []
    for key, pool in result.visits.groupby(keys, observed=True, sort=True):
        side, role, stage, name, secondary = key
        begin_col = "start_min" if stage in booth_only else "enter_min"
        l_vals, lw_vals = [], []
        for v in _by_replication(pool, result):
            begin = v[begin_col].to_numpy()
            leave = v["leave_min"].to_numpy()
            present = ~np.isnan(begin)
            begin, leave = begin[present], leave[present]
            stay = np.clip(np.where(np.isnan(leave), horizon, leave), warmup, horizon) - np.clip(begin, warmup, horizon)
            l_vals.append(stay.sum() / span)
            left = ~np.isnan(leave) & (leave >= warmup) & (leave < horizon)
            lam = np.count_nonzero(left) / span
            w = float((leave[left] - begin[left]).mean()) if left.any() else 0.0
            lw_vals.append(lam * w)
        l_arr, lw_arr = np.array(l_vals), np.array(lw_vals)
        d_mean, d_low, d_high = t_interval(l_arr - lw_arr)
        label = f"{stage}{' secondary' if secondary else ''} ({role}, side {side}" + (
            ", booth only)" if stage in booth_only else ")"
        )
        if name != "all":
            label += f" [{name}]"
        rows.append((label, float(lw_arr.mean()), float(l_arr.mean()), d_low - d_mean, d_high - d_mean))
    return rows


def run_experiment(exp: Experiment, full: bool, jobs: int = 1) -> list[CheckResult]:
    """Run one experiment and compare each of its measures, then Little's law at each pool."""
    import sim

    size = exp.full if full or exp.fast is None else exp.fast
    data = exp.build(size, exp.seed)
    data["name"] = exp.name.replace(".", "_")
    t0 = time.perf_counter()
    result = sim.run(sim.scenario_from_dict(data), jobs=jobs)
    wall = time.perf_counter() - t0
    run = f"{exp.title}: {size.describe()}, seed {exp.seed}, {len(result.records):,} travellers, {wall:.1f} s"
    out = []
    for m in exp.measures:
        values = m.per_replication(result)
        mean, low, high = t_interval(values)
        out.append(
            CheckResult(
                name=f"{exp.title}: {m.name}",
                expected=float(m.expected),
                simulated=mean,
                ci_low=low,
                ci_high=high,
                passed=_contains(low, high, m.expected),
                detail=f"{len(values)} replications; relative half-width {_rel(mean, low, high)}",
                run=run,
                replications=len(values),
            )
        )
    for label, lw, big_l, lo, hi in little(result, exp.booth_only):
        low, high = big_l + lo, big_l + hi
        out.append(
            CheckResult(
                name=f"{exp.title}: Little's law at {label}",
                expected=lw,
                simulated=big_l,
                ci_low=low,
                ci_high=high,
                passed=_contains(low, high, lw),
                detail="expected = λW, simulated = L; interval from the replications' L - λW",
                run=run,
                replications=size.replications,
            )
        )
    return out


def _rel(mean: float, low: float, high: float) -> str:
    if not mean or math.isnan(low):
        return "n/a"
    return f"{(high - low) / 2 / abs(mean):.1%}"


def run_checks(full: bool = False, jobs: int = 1, progress: Callable[[str], None] | None = None) -> list[CheckResult]:
    """Run every check (``full``) or the fast subset, each experiment in turn.

    ``jobs`` runs each experiment's replications in that many processes (same results).
    """
    out: list[CheckResult] = []
    for exp in experiments(full):
        results = run_experiment(exp, full, jobs)
        out.extend(results)
        if progress is not None:
            failed = sum(not r.passed for r in results)
            progress(f"{exp.title}: {len(results)} checks, {failed} outside their interval ({results[0].run})")
    return out


def chance_of_failures(results: list[CheckResult], level: float = LEVEL) -> float:
    """P(at least this many failures) if each check failed independently with probability 1 - level."""
    from scipy import stats

    n = len(results)
    k = sum(not r.passed for r in results)
    return float(stats.binom.sf(k - 1, n, 1 - level)) if k else 1.0


def verdict(results: list[CheckResult]) -> bool:
    """True when the failures (if any) are as few as chance alone explains at the 1% level."""
    return bool(results) and chance_of_failures(results) >= FAMILY_ALPHA


# --------------------------------------------------------------------------------------------
# the report


def _decimals(r: CheckResult) -> int:
    """Decimals that show the interval's half-width to two significant digits (at least 4 digits overall)."""
    half = (r.ci_high - r.ci_low) / 2
    size = max(abs(r.expected), abs(r.simulated))
    digits = 3 - math.floor(math.log10(size)) if size > 0 else 4
    if half > 0 and math.isfinite(half):
        digits = max(digits, 1 - math.floor(math.log10(half)))
    return min(max(digits, 0), 9)


def _fmt(x: float, decimals: int) -> str:
    return "n/a" if math.isnan(x) else f"{x:.{decimals}f}"


def _versions() -> str:
    import scipy
    import simpy

    import sim

    return (
        f"bordersim {sim.__version__}, Python {platform.python_version()}, SimPy {simpy.__version__}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, scipy {scipy.__version__}, {platform.platform()}"
    )


METHOD = """\
Each check builds an ordinary bordersim scenario (one crossing, arrivals at 1 per minute
unless said otherwise), runs it with `sim.run`, discards the scenario's warm-up, and reads
one statistic per replication. A check passes when the theoretical value lies in the
**99% Student-t interval** of the mean over the replications
(mean ± t(0.995, R − 1) · s / √R). The interval is a test at the 1% level, not a tolerance:
about 1 check in 100 fails by chance even for an exact model, so the verdict asks whether the
failures are more than chance explains (binomial tail below 1%). Seeds are fixed per run, so
the table is reproducible. Run sizes (replications × (warm-up + observed window)) are listed
under *Runs*: 20 replications each in the full set, longest at heavy loads as their waits decorrelate
slowly. A replication's mean wait is skewed to the right (skewness about 1 at these run
sizes: a rare congested spell weighs heavily), so the t-interval misses *below* the theory
somewhat more often than its level says: a wait check failing narrowly on the low side is
the expected kind of chance failure (checks outside their interval are listed with their
t statistic after the table).

Checks: M/M/c mean wait in queue against Erlang C (c ∈ {1, 2, 4, 8, 16}, ρ ∈ {0.5, 0.8,
0.9, 0.95}); M/D/1 and M/G/1 against Pollaczek–Khinchine, Wq = λE[S²] / (2(1 − ρ)), with
E[S²] from the distribution's analytic mean and variance; a 3-stage tandem and a whole
crossing (exit and entry sides, risk-based selection, a 2-place secondary inspection) against
Jackson's theorem (each station an independent M/M/c; the mean total wait is the sum of the
stations' waits weighted by the share of travellers visiting them); a finite neutral zone
against the exactly matching birth–death chains (below); and Little's law at every pool of
every run: L (time-average number in the pool over the window) against λW (visits ending
in the window per minute, the arrival rate in steady state, × their mean time in the pool).
L − λW is a difference of boundary terms with mean 0 in steady state; the interval shown is
L ± the 99% half-width of the replications' L − λW.

**Neutral zone.** bordersim never turns a traveller away: when the zone is full the exit
booth keeps its finished vehicle (blocking after service). No configuration is therefore an
M/M/1/K *loss* system for arriving travellers; two are exactly solvable:

1. *Poisson arrivals, an instant exit stage with ample booths, a zone of Z places, one
   exponential entry booth.* Blocked vehicles wait in order, each in its own exit booth, so
   the vehicles past the exit queue form an M/M/1 queue of which the zone and entry booth
   hold min(N, Z + 1): the zone is full with probability ρ^(Z+1), some exit booth is
   blocked with probability ρ^(Z+2), and the mean wait (queue plus blocking) is the M/M/1
   value. This is M/M/1 seen through a window, not M/M/1/K.
2. *One exponential exit booth (rate λ) that always has a vehicle waiting (all travellers
   arrive at time 0), a zone of Z places, one exponential entry booth (rate μ).* Let M =
   vehicles in the zone + in the entry booth + 1 if the exit booth holds a blocked vehicle.
   M rises at rate λ while M < Z + 2 (the exit booth is serving; after a block it restarts a
   fresh exponential time, which memorylessness makes equivalent), falls at rate μ while M >
   0, and cannot rise at M = Z + 2 (the booth is blocked). That is exactly the M/M/1/K chain
   with K = Z + 2: M's time-average distribution is π_n ∝ ρ^n, the exit booth is blocked a
   share π_K of the time, and the throughput is λ(1 − π_K). The saturated exit booth's
   backlog only drains, so Little's law is applied there to the booth alone.
"""


def write_markdown(
    results: list[CheckResult],
    path: str | Path,
    command: str = "python -m sim.validation",
    exact: list[ExactCheck] | None = None,
) -> Path:
    """Write the validation report: method, verdict, one table row per check, the exact checks, the runs.

    ``command`` is how the file was made, printed so that a reader can regenerate it.
    """
    path = Path(path)
    n = len(results)
    failed = [r for r in results if not r.passed]
    ok = verdict(results)
    lines = [
        "# Model validation",
        "",
        f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by `{command}`; {_versions()}.",
        "",
        f"**{n - len(failed)} of {n} checks pass** (theory inside the 99% interval). "
        + (
            f"{len(failed)} outside; with {n} checks at the 1% level, {n * (1 - LEVEL):.1f} are expected by "
            f"chance and P(≥ {len(failed)}) = {chance_of_failures(results):.2f}: "
            + ("consistent with an exact model." if ok else "more than chance explains.")
            if failed
            else "No failure."
        ),
        "",
        "## Method",
        "",
        METHOD,
        "## Results",
        "",
        "| check | expected | simulated | interval | pass |",
        "| --- | ---: | ---: | --- | :---: |",
    ]
    for r in results:
        d = _decimals(r)
        interval = f"[{_fmt(r.ci_low, d)}, {_fmt(r.ci_high, d)}]"
        verdict_cell = "yes" if r.passed else "**no**"
        lines.append(f"| {r.name} | {_fmt(r.expected, d)} | {_fmt(r.simulated, d)} | {interval} | {verdict_cell} |")
    if failed:
        from scipy import stats

        lines += ["", "## Outside their interval", ""]
        for r in failed:
            t = r.t_statistic()
            if math.isfinite(t):
                p = 2 * stats.t.sf(abs(t), r.replications - 1)
                lines.append(f"- {r.name}: t = {t:.2f} over {r.replications} replications, two-sided p = {p:.4f}")
            else:
                lines.append(f"- {r.name}")
    if exact:
        lines += ["", *recursion_markdown(exact)]
    runs = list(dict.fromkeys(r.run for r in results if r.run))
    if runs:
        lines += [
            "",
            "## Runs",
            "",
            "replications × (warm-up + observed window), seed, travellers simulated, wall time",
            "",
        ]
        lines += [f"- {run}" for run in runs]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.validation [--full] [--out FILE] [--jobs N]``: run the checks, write the report.

    Exit status 0 when the failures are no more than chance explains, 1 otherwise.
    """
    parser = argparse.ArgumentParser(prog="python -m sim.validation", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="every check with long runs (several minutes)")
    parser.add_argument("--out", default="docs/validation.md", help="markdown file to write")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes per run (results are the same)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f} s] {message}", file=sys.stderr, flush=True)

    results = run_checks(full=args.full, jobs=args.jobs, progress=say)
    exact = replay_checks()
    say(f"replayed traces: {sum(c.passed for c in exact)} of {len(exact)} match the recursion exactly")
    path = write_markdown(results, args.out, "python -m sim.validation" + (" --full" if args.full else ""), exact)
    failed = sum(not r.passed for r in results)
    say(f"{len(results) - failed} of {len(results)} checks pass; wrote {path}")
    return 0 if verdict(results) and all(c.passed for c in exact) else 1


if __name__ == "__main__":
    sys.exit(main())
