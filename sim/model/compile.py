"""A scenario compiled for simulation: plain numbers, arrays and named dataclasses.

Compiling happens once per scenario; every replication then only draws random numbers and
runs. The engine sees nothing of the author's format (no pydantic objects, no regime names
to interpret): each traveller source knows its arrival rates over the horizon, its control
steps with their distributions, and the pools that serve them. Pools are per crossing,
direction, side, stage and flow pool: outbound and inbound traffic use separate booths.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np

from sim.model.arrivals import ArrivalPlan, follow_opening_hours, hour_edges, hourly_rates, profile_weights
from sim.model.booking import EQueuePlan, compile_equeues
from sim.model.calendar import demand_factors
from sim.model.corridors import compile_corridors
from sim.model.costs import CostPlan, compile_costs
from sim.model.distributions import PlainDistribution, compile_distribution
from sim.model.episodes import StepWindow, capacity_windows, overlay, step_windows
from sim.model.network import ChoicePlan, CorridorPlan, DiversionPlan
from sim.model.routing import SHARED_POOL, PoolRef, Step, build_route, pool_capacity_by_hour
from sim.model.staffing import capacity_schedule
from sim.model.weather import WeatherProcess, compile_weather, season_closures
from sim.scenario.schema import DIRECTIONS, MAX_OCCUPANCY, WEEKDAYS, Closure, Crossing, Scenario

UNLIMITED = 10**9
"""Capacity of a secondary inspection area with no stated limit: a pure delay."""

MAX_PERSONS = 100 * MAX_OCCUPANCY
"""Cap on one vehicle's drawn occupancy, so that a long-tailed distribution cannot overflow a count."""


@dataclass(frozen=True)
class PoolInfo:
    """A server pool: where it is, what it serves, and its capacity over the horizon."""

    index: int
    crossing: str
    direction: str
    side: str
    role: str
    stage: str
    pool: str
    secondary: bool
    initial: int
    change_times: list[float]
    change_caps: list[int]


@dataclass(frozen=True)
class SecondaryPlan:
    """A share of a stage's travellers sent aside to a longer inspection in another pool."""

    pool: int
    share: float
    time: PlainDistribution


@dataclass(frozen=True)
class StepPlan:
    """One control step of a source's route: its pool, who is selected, and how long it takes."""

    pool: int
    stage: str
    side: str
    role: str
    per_vehicle: PlainDistribution
    per_person: PlainDistribution
    select: float
    secondary: SecondaryPlan | None
    trace: np.ndarray | None = None  # replayed service times, one per arrival of the source
    windows: tuple[StepWindow, ...] = ()  # episodes that change the step for a while


@dataclass(frozen=True)
class Source:
    """Travellers of one flow arriving at one crossing in one direction."""

    index: int
    crossing: str
    direction: str
    flow: str
    key: tuple[str, ...]  # the source's identity in the random streams
    group: int  # its row (crossing x direction x flow) in the results
    arrivals: ArrivalPlan
    occupancy: PlainDistribution
    before_zone: tuple[StepPlan, ...]
    zone: int | None
    after_zone: tuple[StepPlan, ...]
    routed: bool = False  # a route corridor travellers take: it draws no arrivals of its own

    @property
    def steps(self) -> tuple[StepPlan, ...]:
        return self.before_zone + self.after_zone


@dataclass(frozen=True)
class Zone:
    """The neutral zone of a crossing in one direction: places for vehicles between the posts."""

    crossing: str
    direction: str
    capacity: int


@dataclass(frozen=True)
class Model:
    """Everything one replication needs, and nothing of the scenario format."""

    name: str
    seed: int
    horizon: float
    warmup: float
    start_weekday: int
    max_in_system: int
    max_arrivals: int
    sources: tuple[Source, ...]
    pools: tuple[PoolInfo, ...]
    zones: tuple[Zone, ...]
    groups: tuple[tuple[str, str, str], ...]  # (crossing, direction, flow) per group code
    crossings: tuple[str, ...] = field(default=())
    corridors: tuple[CorridorPlan, ...] = field(default=())
    choice: ChoicePlan = field(default=ChoicePlan("fixed_shares", "now", 60.0, 30.0))
    diversion: DiversionPlan | None = None
    weather: tuple[WeatherProcess, ...] = field(default=())
    start_date: datetime.date | None = None
    equeues: tuple[EQueuePlan, ...] = field(default=())
    wagon_flows: frozenset[str] = field(default=frozenset())
    """Flows whose occupancy counts wagons, not persons: their occupants are never counted as persons."""
    costs: CostPlan = field(default_factory=CostPlan)
    """Rates that turn hours of delay into money, fuel and emissions (``sim.analysis.costs``)."""

    @property
    def expected_arrivals(self) -> float:
        return sum(s.arrivals.expected for s in self.sources) + sum(c.arrivals.expected for c in self.corridors)

    def _linked(self) -> dict[str, str]:
        """Each crossing's representative: crossings a corridor links share one (union-find)."""
        parent = {c: c for c in self.crossings}

        def find(c: str) -> str:
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        for corridor in self.corridors:
            first = find(corridor.options[0].crossing)
            for option in corridor.options[1:]:
                parent[find(option.crossing)] = first
        return {c: find(c) for c in self.crossings}

    def pieces(self, count: int) -> list[Piece]:
        """Split into at most ``count`` independent pieces of whole crossings, balanced by demand.

        Crossings no corridor links are separate systems; those a corridor links (its
        travellers may go to either) stay in one piece. Larger systems are placed first,
        each into the lightest piece.
        """
        linked = self._linked()
        load: dict[str, float] = {}
        members: dict[str, list[str]] = {}
        for c in self.crossings:
            members.setdefault(linked[c], []).append(c)
        for s in self.sources:
            load[linked[s.crossing]] = load.get(linked[s.crossing], 0.0) + s.arrivals.expected
        for corridor in self.corridors:
            root = linked[corridor.options[0].crossing]
            load[root] = load.get(root, 0.0) + corridor.arrivals.expected
        order = sorted(members, key=lambda c: (-load.get(c, 0.0), c))
        bins: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(max(1, min(count, len(order))))]
        for c in order:
            k = min(range(len(bins)), key=lambda i: (bins[i][0], i))
            bins[k] = (bins[k][0] + load.get(c, 0.0), [*bins[k][1], *members[c]])
        return [self.piece(frozenset(names)) for _, names in bins if names]

    def piece(self, crossings: frozenset[str]) -> Piece:
        return Piece(
            crossings=tuple(sorted(crossings)),
            sources=tuple(s.index for s in self.sources if s.crossing in crossings),
            pools=tuple(p.index for p in self.pools if p.crossing in crossings),
            corridors=tuple(c.index for c in self.corridors if c.options[0].crossing in crossings),
        )

    def whole(self) -> Piece:
        return Piece(
            tuple(self.crossings),
            tuple(range(len(self.sources))),
            tuple(range(len(self.pools))),
            tuple(range(len(self.corridors))),
        )


@dataclass(frozen=True)
class Piece:
    """A part of the model no route leaves: its sources and pools, by index in the model."""

    crossings: tuple[str, ...]
    sources: tuple[int, ...]
    pools: tuple[int, ...]
    corridors: tuple[int, ...] = ()


def compile_model(scenario: Scenario) -> Model:
    """Resolve every demand entry into a source with its route of server pools."""
    crossings: dict[str, tuple[int, Crossing]] = {c.id: (i, c) for i, c in enumerate(scenario.crossings)}
    weekday = WEEKDAYS.index(scenario.start_weekday)
    horizon = scenario.horizon
    hours = int(np.ceil(horizon / 60.0))
    pool_index: dict[tuple, int] = {}
    pending: list[tuple[tuple, Crossing, Step, PoolRef | None, bool]] = []
    gates: set[int] = set()
    zones: list[Zone] = []
    zone_index: dict[tuple[str, str], int] = {}
    occurrences: dict[tuple[str, str, str], int] = {}
    group_index: dict[tuple[str, str, str], int] = {
        g: i
        for i, g in enumerate(
            sorted(
                {
                    (d.crossing, direction, d.flow)
                    for d in scenario.demand
                    for direction in (DIRECTIONS if d.direction == "both" else (d.direction,))
                }
                | {
                    (cid, direction, c.flow)
                    for c in scenario.corridors
                    for cid in c.crossings
                    for direction in (DIRECTIONS if c.direction == "both" else (c.direction,))
                }
            )
        )
    }
    sources: list[Source] = []

    pool_flows: dict[int, set[str]] = {}

    def pool_of(c: Crossing, direction: str, flow: str, step: Step, ref: PoolRef | None, secondary: bool) -> int:
        key = (c.id, direction, step.side, step.role, step.stage, ref.pool if ref else SHARED_POOL, secondary)
        if key not in pool_index:
            pool_index[key] = len(pending)
            pending.append((key, c, step, ref, secondary))
        pool_flows.setdefault(pool_index[key], set()).add(flow)
        return pool_index[key]

    def plan(c: Crossing, direction: str, flow: str, step: Step, trace: np.ndarray | None) -> StepPlan:
        per_vehicle, per_person, select, secondary = scenario.stages[step.stage].for_flow(flow, step.side)
        second = None
        if secondary is not None:
            second = SecondaryPlan(
                pool_of(c, direction, flow, step, step.secondary_pool, True),
                float(secondary.share),
                compile_distribution(secondary.time),
            )
        return StepPlan(
            pool=pool_of(c, direction, flow, step, step.pool, False),
            stage=step.stage,
            side=step.side,
            role=step.role,
            per_vehicle=compile_distribution(per_vehicle),
            per_person=compile_distribution(per_person),
            select=float(select),
            secondary=second,
            trace=trace,
            windows=step_windows(scenario.episodes, scenario.start_date, c.id, direction, flow, step.stage, step.side),
        )

    def add_source(
        crossing: Crossing,
        direction: str,
        flow: str,
        key: tuple[str, ...],
        arrivals: ArrivalPlan,
        traces: dict,
        routed: bool = False,
    ) -> Source:
        route = build_route(scenario, crossings[crossing.id][0], crossing, direction, flow)
        zone = None
        if crossing.neutral_zone is not None:
            zkey = (crossing.id, direction)
            if zkey not in zone_index:
                zone_index[zkey] = len(zones)
                zones.append(Zone(crossing.id, direction, crossing.neutral_zone))
            zone = zone_index[zkey]
        source = Source(
            index=len(sources),
            crossing=crossing.id,
            direction=direction,
            flow=flow,
            key=key,
            group=group_index[(crossing.id, direction, flow)],
            arrivals=arrivals,
            occupancy=compile_distribution(scenario.flows[flow].occupancy),
            before_zone=tuple(plan(crossing, direction, flow, s, traces.get(s.stage)) for s in route.before_zone),
            zone=zone,
            after_zone=tuple(plan(crossing, direction, flow, s, traces.get(s.stage)) for s in route.after_zone),
            routed=routed,
        )
        sources.append(source)
        # opening hours gate the first control a traveller can meet: the route's first
        # step, and the next ones as long as a traveller may skip the ones before
        # (risk-based selection); later controls clear those already inside
        for p in source.steps:
            gates.add(p.pool)
            if p.select >= 1.0:
                break
        return source

    for demand in scenario.demand:
        _, crossing = crossings[demand.crossing]
        for direction in DIRECTIONS if demand.direction == "both" else (demand.direction,):
            triple = (crossing.id, direction, demand.flow)
            n = occurrences.get(triple, 0)
            occurrences[triple] = n + 1
            arrivals, traces = _arrivals(scenario, demand, crossing, direction, weekday, hours)
            add_source(crossing, direction, demand.flow, (*triple, str(n)), arrivals, traces)

    routed: dict[tuple[str, str, str], Source] = {}

    def route_through(crossing: Crossing, direction: str, flow: str) -> Source:
        """The route corridor travellers take through a crossing (one per crossing, direction, flow)."""
        triple = (crossing.id, direction, flow)
        if triple not in routed:
            routed[triple] = add_source(
                crossing, direction, flow, (*triple, "routed"), ArrivalPlan(None, None, np.empty(0)), {}, True
            )
        return routed[triple]

    corridors = compile_corridors(scenario, crossings, weekday, hours, occurrences, route_through)

    in_season = _with_seasons(scenario)
    pools = []
    for index, (key, c, step, ref, secondary) in enumerate(pending):
        c = in_season.get(c.id, c)
        by_hour = (UNLIMITED,) * 24 if ref is None else tuple(pool_capacity_by_hour(ref))
        hours_of = c if index in gates else c.model_copy(update={"hours": "24h", "open_days": None})
        initial, times, caps = capacity_schedule(by_hour, hours_of, horizon, weekday)
        windows = capacity_windows(
            scenario.episodes, scenario.start_date, c.id, key[1], step.side, step.stage, pool_flows[index]
        )
        initial, times, caps = overlay(initial, times, caps, windows, horizon, UNLIMITED)
        pools.append(
            PoolInfo(index, c.id, key[1], step.side, step.role, step.stage, key[5], secondary, initial, times, caps)
        )
    sources_t = tuple(sources)
    return Model(
        name=scenario.name,
        seed=scenario.seed,
        horizon=horizon,
        warmup=scenario.warmup,
        start_weekday=weekday,
        max_in_system=scenario.limits.max_in_system,
        max_arrivals=scenario.limits.max_arrivals,
        sources=sources_t,
        pools=tuple(pools),
        equeues=compile_equeues(scenario, sources_t, tuple(pools)),
        zones=tuple(zones),
        groups=tuple(sorted(group_index, key=group_index.__getitem__)),
        crossings=tuple(dict.fromkeys(s.crossing for s in sources)),
        corridors=corridors,
        weather=compile_weather(scenario),
        start_date=scenario.start_date,
        wagon_flows=frozenset(name for name, f in scenario.flows.items() if f.occupants == "wagons"),
        costs=compile_costs(scenario.costs),
        choice=ChoicePlan(
            scenario.route_choice.rule,
            scenario.route_choice.information,
            scenario.route_choice.publish_every,
            scenario.route_choice.scale,
        ),
        diversion=None
        if scenario.diversion is None
        else DiversionPlan(
            scenario.diversion.on_closure,
            scenario.diversion.queue_threshold,
            scenario.diversion.review_every,
            scenario.diversion.margin,
            scenario.diversion.max_switches,
        ),
    )


def _with_seasons(scenario: Scenario) -> dict[str, Crossing]:
    """Crossings with a navigation season, their time out of season added to their closures."""
    out = {}
    for c in scenario.crossings:
        if c.season is not None and scenario.start_date is not None:
            windows = season_closures(c.season, scenario.start_date, scenario.horizon)
            extra = [Closure(start=a, end=b, reason="out of season") for a, b in windows if b > a]
            out[c.id] = c.model_copy(update={"closed": [*c.closed, *extra]})
    return out


def _arrivals(
    scenario: Scenario, demand, crossing: Crossing, direction: str, weekday: int, hours: int
) -> tuple[ArrivalPlan, dict[str, np.ndarray]]:
    """The source's arrival process over the horizon, and replayed service times by stage."""
    horizon = scenario.horizon
    if demand.times is not None:
        times = np.asarray(demand.times, dtype=float)
        order = np.argsort(times, kind="stable")  # ties keep file order
        keep = order[times[order] < horizon]
        traces = {stage: np.asarray(v, dtype=float)[keep] for stage, v in demand.service_times.items()}
        return ArrivalPlan(None, None, times[keep]), traces
    profiles = scenario.profiles
    rates = hourly_rates(
        demand.daily,
        profile_weights(demand.hourly, profiles.hourly),
        profile_weights(demand.weekly, profiles.weekly),
        weekday,
        hours,
    )
    factors = demand_factors(
        scenario.calendar, scenario.episodes, scenario.start_date, hours, crossing.id, direction, demand.flow
    )
    if factors is not None:
        rates = rates * factors
    if demand.during_hours:
        edges, rates = follow_opening_hours(rates, crossing, weekday, horizon)
    else:
        edges = hour_edges(hours, horizon)
    return ArrivalPlan(edges, rates, None), {}
