"""Each source's draws, one calendar week at a time: arrival times, occupancy and luck.

A week's block holds, for every traveller arriving in it, its number of persons and its
luck: per control step it may meet, four uniforms (service, selection, sent to secondary,
secondary time) and, where time is counted per person, one uniform per person. Turning
luck into service times is the route policy's business (``sim.policies.fixed_route``): the
same uniform gives the same quantile of whatever distribution applies where the traveller
is actually served.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.streams import WEEK_MIN, stream
from sim.model.arrivals import arrival_times
from sim.model.compile import MAX_PERSONS, Source, StepPlan
from sim.model.network import CorridorPlan, step_identities

SERVICE, SELECT, SECONDARY, SECONDARY_TIME = range(4)
"""Rows of a step's luck: which uniform decides what."""


def step_keys(source: Source) -> list[tuple[str, str, str]]:
    """(stage, role, occurrence) of each step: the luck's identity, the same at any crossing."""
    return step_identities(source.steps)


@dataclass
class WeekDraws:
    """The draws of one source for one week."""

    week: int
    times: np.ndarray
    persons: np.ndarray
    luck: list[np.ndarray]  # per step: 4 x n uniforms
    person_luck: list[np.ndarray | None]  # per step: one uniform per person, or None
    first: int  # index of the week's first traveller in the source's whole sequence
    choice: np.ndarray | None = None  # corridors: a uniform per traveller for its choice of crossing


class SourceDraws:
    """Draws a source's weeks on demand, each from its own named streams."""

    def __init__(self, source: Source, seed: int, replication: int, horizon: float):
        self.source = source
        self.key = source.key
        self.arrivals = source.arrivals
        self.occupancy = source.occupancy
        self.keys = step_keys(source)
        # a uniform per person where time is counted per person (and not replayed)
        self.per_person = [not (st.per_person.is_zero or st.trace is not None) for st in source.steps]
        self.seed = seed
        self.replication = replication
        self.horizon = horizon
        arrivals = self.arrivals
        self.weeks = 1 if arrivals.times is not None else max(1, int(np.ceil(horizon / WEEK_MIN)))
        if arrivals.edges is not None:
            bounds = np.minimum(np.arange(self.weeks + 1) * WEEK_MIN, horizon)
            self.cuts = np.searchsorted(arrivals.edges, bounds)
        self.drawn = 0

    def week(self, w: int) -> WeekDraws:
        key = self.key
        week = str(w)
        if self.arrivals.times is not None:
            times = self.arrivals.times
        else:
            a, b = int(self.cuts[w]), int(self.cuts[w + 1])
            edges = self.arrivals.edges[a : b + 1]  # type: ignore[index]
            rates = self.arrivals.rates[a:b]  # type: ignore[index]
            rng = stream(self.seed, self.replication, "arrivals", *key, week)
            times = arrival_times(rng, rates, edges) if b > a else np.empty(0)
        n = len(times)
        occ = self.occupancy.quantile(stream(self.seed, self.replication, "occupancy", *key, week).random(n))
        persons = np.clip(np.rint(occ), 1, MAX_PERSONS).astype(np.int64)
        luck, person_luck = [], []
        for per_person, (stage, role, k) in zip(self.per_person, self.keys, strict=True):
            luck.append(stream(self.seed, self.replication, "luck", *key, stage, role, k, week).random((4, n)))
            person_luck.append(
                stream(self.seed, self.replication, "luck-person", *key, stage, role, k, week).random(
                    int(persons.sum())
                )
                if per_person
                else None
            )
        first = self.drawn
        self.drawn += n
        return WeekDraws(w, times, persons, luck, person_luck, first)


class CorridorDraws(SourceDraws):
    """A corridor's draws: as a source's, with luck for every step of every crossing it may use.

    Each traveller also gets a ``choice`` uniform (which crossing, under fixed shares or
    logit, and ties), from a stream of its own so that the other draws are those the
    corridor would have without a choice.
    """

    def __init__(self, corridor: CorridorPlan, seed: int, replication: int, horizon: float):
        self.source = None  # type: ignore[assignment]
        self.key = corridor.key
        self.arrivals = corridor.arrivals
        self.occupancy = corridor.occupancy
        self.keys = list(corridor.luck_keys)
        self.per_person = list(corridor.person_luck)
        self.seed = seed
        self.replication = replication
        self.horizon = horizon
        self.weeks = max(1, int(np.ceil(horizon / WEEK_MIN)))
        bounds = np.minimum(np.arange(self.weeks + 1) * WEEK_MIN, horizon)
        self.cuts = np.searchsorted(self.arrivals.edges, bounds)  # type: ignore[arg-type]
        self.drawn = 0

    def week(self, w: int) -> WeekDraws:
        block = super().week(w)
        block.choice = stream(self.seed, self.replication, "choice", *self.key, str(w)).random(len(block.times))
        return block


def service_times(step: StepPlan, draws: WeekDraws, index: int) -> np.ndarray:
    """Service time of each of the week's travellers at ``step`` (the ``index``-th of its route)."""
    n = len(draws.times)
    if step.trace is not None:
        return step.trace[draws.first : draws.first + n]
    u = draws.luck[index][SERVICE]
    svc = step.per_vehicle.quantile(u) if not step.per_vehicle.is_zero else np.zeros(n)
    person_u = draws.person_luck[index]
    if person_u is not None and n and not step.per_person.is_zero:
        per_person = step.per_person.quantile(person_u)
        starts = np.concatenate(([0], np.cumsum(draws.persons)[:-1]))
        svc = svc + np.add.reduceat(per_person, starts)
    return svc
