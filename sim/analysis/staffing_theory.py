"""How many servers queueing theory asks for, hour by hour: the starting point of ``optimise``.

The method is the stationary independent period-by-period approximation (SIPP, as Green,
Kolesar and Soares studied it): each hour of the day is treated as its own steady-state
M/M/c queue, with the hour's arrival rate and the pool's mean service time, and gets the
fewest servers that meet the target in that hour. It ignores the queue one hour hands to the
next, service times that are not exponential, blocking by a full neutral zone and secondary
inspections, which is why the simulation search that follows has the last word.

A traveller's wait is the sum of its waits at the stages of its route, so a target on the
whole wait is split equally over the k stages (stated, and conservative):

- mean wait <= X: at each stage, select x E[Wq] <= X / k (a traveller not selected does not
  queue there);
- time in system <= X: the same, with X less the mean service of the route;
- q-quantile of the wait <= X: at each stage, select x P(Wq > X / k) <= (1 - q) / k; by the
  union bound the whole wait then exceeds X with probability at most 1 - q.

Rates come from the compiled model, so hourly and weekly profiles, calendar factors and
opening hours are already applied; an hour's rate is the mean over the observation window of
the rate at that hour of the day (a peak day may then need more: the simulation finds out).
Conventions follow ``sim.analysis.theory``: rates per minute, times in minutes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sim.analysis.theory import erlang_c, mmc_wait
from sim.model.arrivals import ArrivalPlan
from sim.model.compile import Model, Source, StepPlan
from sim.model.corridors import mean_service

HOURS = 24
METRICS: dict[str, float | None] = {
    "wait_mean_min": None,
    "wait_p50_min": 0.5,
    "wait_p90_min": 0.9,
    "wait_p95_min": 0.95,
    "time_in_system_mean_min": None,
}
"""The targets ``optimise`` knows, each with the quantile of the wait it bounds (None: a mean)."""
MAX_SERVERS = 100_000
"""The most servers theory will propose for one pool in one hour (the scenario's own limit)."""


class TheoryError(ValueError):
    """Theory cannot meet the target at all (e.g. the service alone takes longer than the target)."""


@dataclass(frozen=True)
class Target:
    """What must hold on each crossing x direction row of a flow: ``metric`` <= ``limit`` minutes."""

    metric: str
    limit: float
    confidence: float = 0.95

    @property
    def quantile(self) -> float | None:
        return METRICS[self.metric]

    @property
    def quantity(self) -> str:
        """What is bounded, in words: ``mean wait``, ``95th percentile wait``..."""
        if self.quantile is not None:
            return f"{100 * self.quantile:g}th percentile wait"
        return "mean wait" if self.metric == "wait_mean_min" else "mean time in system"

    def describe(self) -> str:
        return f"{self.quantity} <= {self.limit:g} min"


def wait_tail(lam: float, mean_service: float, c: int, t: float) -> float:
    """P(Wq > t) in M/M/c: C(c, a) exp(-(c - a) t / E[S]), with a = lambda E[S]; 1 when unstable."""
    offered = lam * mean_service
    if offered >= c:
        return 1.0
    return erlang_c(c, offered) * math.exp(-(c - offered) * t / mean_service)


@dataclass(frozen=True)
class StageBudget:
    """What one stage of a route may add to the wait: a mean, or a time with a probability of exceeding it."""

    mean: float | None = None
    time: float | None = None
    probability: float | None = None

    def met(self, lam: float, mean_service: float, c: int, select: float) -> bool:
        """Whether ``c`` servers keep a selected share ``select`` of the traveller's wait within the budget."""
        if lam * mean_service >= c:
            return False
        if self.mean is not None:
            return select * mmc_wait(lam, mean_service, c) <= self.mean
        assert self.time is not None
        assert self.probability is not None
        return select * wait_tail(lam, mean_service, c, self.time) <= self.probability


def stage_budget(target: Target, stages: int, route_service: float = 0.0) -> StageBudget:
    """The target split equally over the ``stages`` of a route (see the module's docstring)."""
    k = max(1, stages)
    if target.quantile is not None:
        return StageBudget(time=target.limit / k, probability=(1.0 - target.quantile) / k)
    limit = target.limit
    if target.metric == "time_in_system_mean_min":
        limit -= route_service
        if limit <= 0:
            raise TheoryError(
                f"the service alone takes {route_service:.3g} min on average, more than the target of "
                f"{target.limit:g} min: no number of servers meets it"
            )
    return StageBudget(mean=limit / k)


def fewest_servers(lam: float, mean_service: float, select: float, budget: StageBudget) -> int:
    """The fewest servers with load below 1 that meet ``budget`` (0 when nothing arrives)."""
    if lam <= 0 or mean_service <= 0 or select <= 0:
        return 0
    c = int(math.floor(lam * mean_service)) + 1
    while not budget.met(lam, mean_service, c, select):
        c += 1
        if c > MAX_SERVERS:
            raise TheoryError(f"more than {MAX_SERVERS:,} servers would be needed")
    return c


def arrivals_by_hour(plan: ArrivalPlan, start: float, end: float) -> np.ndarray:
    """Mean arrivals per minute at each hour of the day over [start, end)."""
    exposure = _minutes_by_hour(start, end)
    counts = np.zeros(HOURS)
    if plan.times is not None:
        t = plan.times[(plan.times >= start) & (plan.times < end)]
        np.add.at(counts, (t // 60).astype(np.int64) % HOURS, 1.0)
    else:
        assert plan.edges is not None
        assert plan.rates is not None
        lo = np.clip(plan.edges[:-1], start, end)
        hi = np.clip(plan.edges[1:], start, end)
        middle = (plan.edges[:-1] + plan.edges[1:]) / 2  # each piece lies within one hour
        np.add.at(counts, (middle // 60).astype(np.int64) % HOURS, plan.rates * (hi - lo))
    return np.divide(counts, exposure, out=np.zeros(HOURS), where=exposure > 0)


def _minutes_by_hour(start: float, end: float) -> np.ndarray:
    """Minutes of [start, end) falling in each hour of the day."""
    out = np.zeros(HOURS)
    first, last = int(start // 60), int(math.ceil(end / 60))
    for h in range(first, last):
        out[h % HOURS] += max(0.0, min(end, (h + 1) * 60.0) - max(start, h * 60.0))
    return out


@dataclass(frozen=True)
class PoolNeed:
    """Theory's answer for one server pool of the model (one direction), hour by hour."""

    pool: int
    arrivals: np.ndarray  # arrivals per minute at each hour of the day (all flows the pool serves)
    mean_service: np.ndarray  # the pool's mean service time at each hour, in minutes
    servers: np.ndarray  # fewest servers meeting the target flow's budget at each hour


def _time_served(step: StepPlan, persons: float) -> float:
    """Mean minutes a selected traveller spends being served at a step, secondary inspection included."""
    secondary = step.secondary.share * step.secondary.time.mean if step.secondary is not None else 0.0
    return mean_service(step, persons) + secondary


def route_of(model: Model, crossing: str, direction: str, flow: str) -> list[Source]:
    """The sources (demand entries) of one crossing x direction x flow that draw their own arrivals."""
    return [
        s for s in model.sources if (s.crossing, s.direction, s.flow) == (crossing, direction, flow) and not s.routed
    ]


def pool_needs(model: Model, flow: str, crossings: Iterable[str], target: Target) -> list[PoolNeed]:
    """Servers each pool on ``flow``'s routes at ``crossings`` needs, hour by hour (SIPP)."""
    chosen = set(crossings)
    rates: dict[int, np.ndarray] = {}
    work: dict[int, np.ndarray] = {}
    for source in model.sources:
        if source.crossing not in chosen or source.routed:
            continue
        lam = arrivals_by_hour(source.arrivals, model.warmup, model.horizon)
        persons = max(1.0, source.occupancy.mean)
        for step in source.steps:
            rates.setdefault(step.pool, np.zeros(HOURS))
            work.setdefault(step.pool, np.zeros(HOURS))
            rates[step.pool] += lam * step.select
            work[step.pool] += lam * step.select * mean_service(step, persons)
    needs: dict[int, np.ndarray] = {}
    for crossing in sorted(chosen):
        for direction in ("a_to_b", "b_to_a"):
            sources = route_of(model, crossing, direction, flow)
            if not sources:
                continue
            steps = sources[0].steps
            persons = max(1.0, sources[0].occupancy.mean)
            route_service = sum(st.select * _time_served(st, persons) for st in steps)
            budget = stage_budget(target, len(steps), route_service)
            for st in steps:
                lam, busy = rates[st.pool], work[st.pool]
                mean = np.divide(busy, lam, out=np.zeros(HOURS), where=lam > 0)
                c = [fewest_servers(lam[h], mean[h], st.select, budget) for h in range(HOURS)]
                needs[st.pool] = np.maximum(needs.get(st.pool, np.zeros(HOURS, dtype=np.int64)), c)
    out = []
    for pool in sorted(needs):
        lam, busy = rates[pool], work[pool]
        mean = np.divide(busy, lam, out=np.zeros(HOURS), where=lam > 0)
        out.append(PoolNeed(pool, lam, mean, needs[pool].astype(np.int64)))
    return out
