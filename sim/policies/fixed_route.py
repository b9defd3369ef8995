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
from sim.model.compile import Source
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
            cached = self._weeks[key] = (draws, self._plan(self.sources[opt.source], draws, opt.luck_rows))
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

    def _plan(self, source: Source, draws: WeekDraws, rows: tuple[int, ...] | None = None) -> list[_Step]:
        """Each step's station, service times, selection and secondary, for the week's travellers.

        ``rows``: the luck row each step reads (a corridor's layout); the step's own index otherwise.
        """
        steps = []
        for i, st in enumerate(source.steps):
            if i == len(source.before_zone) and source.zone is not None:
                steps.append(_Step(self.zones[source.zone]))
            r = i if rows is None else rows[i]
            luck = draws.luck[r]
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
