"""E-queues compiled: each crossing and direction's slot timeline, rules and distributions.

A slot timeline is two arrays: each slot's start time (minutes from the start of the run,
in order) and its class (0 regular, k the k-th priority class). It runs past the horizon by
the booking horizon and two days, so a traveller booking near the end still finds slots.
Counts per hour come from the scenario (a count, 24 counts) or from the booths on duty at
the e-queue's first control and the mean service time there; fractions of a slot carry
over, so the long-run rate is exact. Each day's reserved slots are a floor of the quota
times the day's slots, so a quota is never exceeded by rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.model.distributions import PlainDistribution, compile_distribution
from sim.scenario.calendar import moment_minutes
from sim.scenario.schema import Scenario

REGULAR = 0
"""The class of a slot open to every booking."""

UNLIMITED_AREA = 10**9


@dataclass(frozen=True)
class EQueuePlan:
    """One crossing and direction's e-queue: who it holds, its slots and its rules."""

    index: int
    name: str
    crossing: str
    direction: str
    flows: tuple[str, ...]
    sources: tuple[int, ...]
    start: float
    slot_times: np.ndarray
    slot_class: np.ndarray
    classes: tuple[str, ...]  # priority class names; class k is classes[k - 1]
    quotas: tuple[float, ...]
    class_demand: tuple[float, ...]
    release_before: float
    lead: PlainDistribution
    booking_horizon: float
    before: PlainDistribution
    late_share: float
    late: PlainDistribution
    earliest: float | None
    latest: float | None
    no_show: float
    walk_in_share: float
    walk_in_rule: str
    area_capacity: int
    call_up: PlainDistribution
    fill_unused: bool
    slots_from: str  # "given" or the pool the booths were counted at, for the outputs

    @property
    def end(self) -> float:
        """The end of the slot timeline."""
        return float(self.slot_times[-1]) if len(self.slot_times) else 0.0


def booth_minutes(initial: int, times: list[float], caps: list[int], hours: int) -> np.ndarray:
    """Booth-minutes on duty in each hour from a capacity schedule (a step function)."""
    edges = np.arange(hours + 1) * 60.0
    t = np.concatenate(([0.0], np.asarray(times, dtype=float)))  # segment i starts at t[i]
    c = np.concatenate(([float(initial)], np.asarray(caps, dtype=float)))
    before = np.concatenate(([0.0], np.cumsum(np.diff(t) * c[:-1])))  # integral up to t[i]
    i = np.searchsorted(t, edges, side="right") - 1
    at = before[i] + (edges - t[i]) * c[i]
    return np.diff(at)


def hourly_counts(rates: np.ndarray) -> np.ndarray:
    """Whole slots per hour from fractional rates, carrying the fractions over."""
    cum = np.floor(np.cumsum(rates) + 1e-9)
    return np.diff(np.concatenate(([0.0], cum))).astype(np.int64)


def lay_out(counts: np.ndarray, together: int) -> np.ndarray:
    """Start times of ``counts[h]`` slots in each hour h, ``together`` at a time, evenly spaced."""
    counts = np.asarray(counts, dtype=np.int64)
    groups = -(-counts // together)  # ceil: start times in each hour
    hour = np.repeat(np.arange(len(counts)), groups)
    first = np.repeat(np.cumsum(groups) - groups, groups)
    j = np.arange(len(hour)) - first  # the group's place in its hour
    starts = hour * 60.0 + j * (60.0 / groups[hour])
    size = np.minimum(together, counts[hour] - j * together)
    return np.repeat(starts, size)


def reserve(times: np.ndarray, quotas: tuple[float, ...], interleave: str) -> np.ndarray:
    """Each slot's class: per day, floor(quota x the day's slots) reserved for each class."""
    cls = np.zeros(len(times), dtype=np.int8)
    if not quotas or not len(times):
        return cls
    day = (times // 1440.0).astype(np.int64)
    bounds = np.flatnonzero(np.diff(day)) + 1
    for a, b in zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [len(times)])), strict=True):
        n = int(b - a)
        taken = np.zeros(n, dtype=bool)
        pos = 0
        for k, q in enumerate(quotas, start=1):
            r = math.floor(q * n + 1e-9)
            if r <= 0:
                continue
            if interleave == "ahead":
                wanted = list(range(pos, pos + r))
                pos += r
            else:
                wanted = [min(n - 1, int((i + 0.5) * n / r)) for i in range(r)]
            for w in wanted:
                j = w
                while taken[j % n]:
                    j += 1
                taken[j % n] = True
                cls[a + j % n] = k
    return cls


def compile_equeues(scenario: Scenario, sources: tuple, pools: tuple) -> tuple[EQueuePlan, ...]:
    """One plan per crossing and direction of every ``equeues`` entry."""
    plans: list[EQueuePlan] = []
    for q in scenario.equeues:
        for cid in q.crossings:
            for direction in q.directions:
                members = [s for s in sources if s.crossing == cid and s.direction == direction and s.flow in q.flows]
                if not members:
                    continue
                end = scenario.horizon + q.booking.horizon + 2 * 1440.0
                hours = int(math.ceil(end / 60.0))
                rates, slots_from = _rates(q, members, pools, scenario.horizon, hours)
                times = lay_out(hourly_counts(rates), q.slots.together)
                classes = q.priority.classes
                a = q.arrival
                plans.append(
                    EQueuePlan(
                        index=len(plans),
                        name=f"{q.name or cid}" + ("" if len(q.directions) == 1 else f" {direction}"),
                        crossing=cid,
                        direction=direction,
                        flows=tuple(q.flows),
                        sources=tuple(s.index for s in members),
                        start=0.0 if q.start is None else moment_minutes(q.start, scenario.start_date),
                        slot_times=times,
                        slot_class=reserve(times, tuple(c.quota for c in classes), q.priority.interleave),
                        classes=tuple(c.name for c in classes),
                        quotas=tuple(c.quota for c in classes),
                        class_demand=tuple(c.demand for c in classes),
                        release_before=q.priority.release_before,
                        lead=compile_distribution(q.booking.lead),
                        booking_horizon=q.booking.horizon,
                        before=compile_distribution(a.before),
                        late_share=a.late_share,
                        late=compile_distribution(a.late),
                        earliest=a.earliest,
                        latest=a.latest,
                        no_show=q.no_show,
                        walk_in_share=q.walk_in.share,
                        walk_in_rule=q.walk_in.rule,
                        area_capacity=UNLIMITED_AREA if q.area.capacity is None else q.area.capacity,
                        call_up=compile_distribution(q.call_up),
                        fill_unused=q.fill_unused,
                        slots_from=slots_from,
                    )
                )
    return tuple(plans)


def _rates(q, members: list, pools: tuple, horizon: float, hours: int) -> tuple[np.ndarray, str]:
    """Slots per hour (fractional) over the timeline, and where they came from."""
    per_hour = q.slots.per_hour
    if isinstance(per_hour, int):
        return np.full(hours, float(per_hour)), "given"
    if isinstance(per_hour, list):
        return np.asarray([per_hour[h % 24] for h in range(hours)], dtype=float), "given"
    first = members[0]
    step = next((st for st in first.steps if st.select >= 1.0), first.steps[0])
    pool = pools[step.pool]
    run_hours = max(1, int(math.ceil(horizon / 60.0)))
    booths = booth_minutes(pool.initial, pool.change_times, pool.change_caps, run_hours)
    # beyond the run the last day repeats (nobody knows the later shifts)
    last = booths[-24:] if run_hours >= 24 else np.resize(booths, 24)
    booths = np.concatenate((booths, np.resize(last, max(0, hours - run_hours))))
    weights, means = [], []
    for s in members:
        st = next((x for x in s.steps if x.pool == step.pool), None)
        if st is None:
            continue
        weights.append(max(s.arrivals.expected, 1e-9))
        means.append(st.per_vehicle.mean + st.per_person.mean * s.occupancy.mean)
    mean = float(np.average(means, weights=weights)) if means else 0.0
    if mean <= 0:
        return np.zeros(hours), "given"
    where = f"{pool.side}:{pool.stage}"
    return booths / mean * q.slots.utilisation, where
