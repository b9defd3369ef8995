"""The default route policy: the crossing's controls in the regime's order.

A traveller meets each control step of its source's route; a step with a selection share
below 1 (risk-based control) is skipped unless its selection uniform falls below the share;
a step with a secondary inspection sends it on to the secondary pool when its uniform falls
below that share. Service times are the step's distribution evaluated at the traveller's
own uniforms (``sim.engine.luck``), computed for a whole week's travellers at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine.hooks import Stations
from sim.engine.luck import SECONDARY, SECONDARY_TIME, SELECT, WeekDraws, service_times
from sim.model.compile import Source, StepPlan
from sim.model.network import CorridorPlan


class _Step:
    """One step of a source's route for one week: where, how long, who goes."""

    __slots__ = ("station", "service", "chosen", "second", "second_flags", "second_times")

    def __init__(self, station: Any, service: list[float] | None = None, chosen: list[bool] | None = None):
        self.station = station
        self.service = service  # None: a gate (the neutral zone), passed without service
        self.chosen = chosen  # None: every traveller
        self.second: Any = None
        self.second_flags: list[bool] = []
        self.second_times: list[float] = []


class FixedRoute:
    """Every traveller of a source takes the same controls, as its regime orders them."""

    def __init__(self) -> None:
        self._weeks: dict[Any, tuple[WeekDraws, list[_Step]]] = {}

    def bind(self, stations: Stations) -> None:
        self.pools = stations.pools
        self.zones = stations.zones
        self.sources = stations.model.sources

    def route(self, source: Source, draws: WeekDraws, row: int) -> list[tuple[Any, float]]:
        cached = self._weeks.get(source.index)
        if cached is None or cached[0] is not draws:
            cached = self._weeks[source.index] = (draws, self._plan(source, draws))
        return self._route(cached[1], row)

    def route_option(self, corridor: CorridorPlan, option: int, draws: WeekDraws, row: int) -> list[tuple[Any, float]]:
        """The steps of a corridor's traveller at one of its crossings (its luck rows mapped to that route)."""
        key = (corridor.index, option)
        cached = self._weeks.get(key)
        if cached is None or cached[0] is not draws:
            opt = corridor.options[option]
            plan = self._plan(self.sources[opt.source], draws, opt.luck_rows, opt.drive_to)
            cached = self._weeks[key] = (draws, plan)
        return self._route(cached[1], row)

    @staticmethod
    def _route(steps: list[_Step], row: int) -> list[tuple[Any, float]]:
        route: list[tuple[Any, float]] = []
        for st in steps:
            service = st.service
            if service is None:
                route.append((st.station, 0.0))
                continue
            if st.chosen is not None and not st.chosen[row]:
                continue
            route.append((st.station, service[row]))
            if st.second is not None and st.second_flags[row]:
                route.append((st.second, st.second_times[row]))
        return route

    def _plan(
        self, source: Source, draws: WeekDraws, rows: tuple[int, ...] | None = None, drive: float = 0.0
    ) -> list[_Step]:
        """Each step's station, service times, selection and secondary, for the week's travellers.

        ``rows``: the luck row each step reads (a corridor's layout); the step's own index otherwise.
        ``drive``: minutes from a corridor traveller's departure to the crossing, so that an
        episode's window is met when the traveller gets there.
        """
        steps = []
        for i, st in enumerate(source.steps):
            if i == len(source.before_zone) and source.zone is not None:
                steps.append(_Step(self.zones[source.zone]))
            r = i if rows is None else rows[i]
            luck = draws.luck[r]
            if st.windows:
                steps.append(self._step_in_episodes(st, draws, r, draws.times + drive))
                continue
            chosen = (luck[SELECT] < st.select).tolist() if st.select < 1.0 else None
            step = _Step(self.pools[st.pool], service_times(st, draws, r).tolist(), chosen)
            sec = st.secondary
            if sec is not None and sec.share > 0:
                step.second = self.pools[sec.pool]
                step.second_flags = (luck[SECONDARY] < sec.share).tolist()
                step.second_times = np.asarray(sec.time.quantile(luck[SECONDARY_TIME]), dtype=float).tolist()
            steps.append(step)
        if len(source.before_zone) == len(source.steps) and source.zone is not None:
            steps.append(_Step(self.zones[source.zone]))
        return steps

    def _step_in_episodes(self, st: StepPlan, draws: WeekDraws, r: int, times: np.ndarray) -> _Step:
        """A step whose shares or time an episode changes for those who arrive in its window.

        Each traveller keeps its own uniforms: inside the window it is selected when its
        selection uniform falls below the episode's share instead of the step's, and its
        service time is the same quantile scaled by the episode's factor.
        """
        luck = draws.luck[r]
        n = len(times)
        select = np.full(n, st.select)
        factor = np.ones(n)
        sec = st.secondary
        second = np.full(n, sec.share if sec is not None else 0.0)
        for w in st.windows:
            inside = (times >= w.start) & (times < w.end)
            if w.select is not None:
                select[inside] = w.select
            if w.secondary_share is not None:
                second[inside] = w.secondary_share
            factor[inside] *= w.time_factor
        chosen = (luck[SELECT] < select).tolist() if (select < 1.0).any() else None
        step = _Step(self.pools[st.pool], (service_times(st, draws, r) * factor).tolist(), chosen)
        if sec is not None and (second > 0).any():
            step.second = self.pools[sec.pool]
            step.second_flags = (luck[SECONDARY] < second).tolist()
            step.second_times = np.asarray(sec.time.quantile(luck[SECONDARY_TIME]), dtype=float).tolist()
        return step
