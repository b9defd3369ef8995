"""A scenario compiled for simulation: traveller sources, server pools and neutral zones.

Compiling happens once per scenario; every replication then only draws random numbers and
runs. Pools are per crossing, direction, side, stage and flow pool: outbound and inbound
traffic use separate booths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.model.routing import SHARED_POOL, PoolRef, Step, build_route, pool_capacity_by_hour
from sim.model.staffing import capacity_schedule
from sim.scenario.schema import DIRECTIONS, WEEKDAYS, ControlStage, Crossing, Scenario

UNLIMITED = 10**9
"""Capacity of a secondary inspection area with no stated limit: a pure delay."""


@dataclass(frozen=True)
class PoolInfo:
    """A server pool as it appears in results."""

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
class StepPlan:
    """How one step of a source's route is drawn and served."""

    pool: int
    stage: str
    side: str
    stage_def: ControlStage
    secondary_pool: int | None


@dataclass
class Source:
    """Travellers of one flow arriving at one crossing in one direction."""

    index: int
    crossing: str
    direction: str
    flow: str
    key: tuple[str, ...]
    rates_args: tuple[float, list[float] | None, list[float] | None] | None
    times: list[float] | None
    crossing_def: Crossing | None  # set when arrivals follow this crossing's opening hours
    before_zone: list[StepPlan]
    after_zone: list[StepPlan]
    zone: int | None
    service_trace: dict[str, list[float]] = field(default_factory=dict)  # replayed service times by stage


@dataclass
class Network:
    scenario: Scenario
    sources: list[Source] = field(default_factory=list)
    pools: list[PoolInfo] = field(default_factory=list)
    zones: list[tuple[str, str, int]] = field(default_factory=list)  # crossing, direction, capacity

    @property
    def start_weekday(self) -> int:
        return WEEKDAYS.index(self.scenario.start_weekday)


def _profile(scenario: Scenario, value: str | list[float] | None, table: dict[str, list[float]]) -> list[float] | None:
    if value is None:
        return None
    return table[value] if isinstance(value, str) else list(value)


def compile_network(scenario: Scenario) -> Network:
    """Resolve every demand entry into a source with its route of server pools."""
    net = Network(scenario)
    crossings: dict[str, tuple[int, Crossing]] = {c.id: (i, c) for i, c in enumerate(scenario.crossings)}
    pool_index: dict[tuple, int] = {}
    zone_index: dict[tuple[str, str], int] = {}
    occurrences: dict[tuple[str, str, str], int] = {}

    pending: list[tuple[tuple, Crossing, Step, PoolRef | None, bool]] = []
    gates: set[int] = set()

    def pool_of(c: Crossing, direction: str, step: Step, ref: PoolRef | None, secondary: bool) -> int:
        key = (c.id, direction, step.side, step.role, step.stage, ref.pool if ref else SHARED_POOL, secondary)
        if key not in pool_index:
            pool_index[key] = len(pending)
            pending.append((key, c, step, ref, secondary))
        return pool_index[key]

    def plan(c: Crossing, direction: str, flow: str, step: Step) -> StepPlan:
        stage_def = scenario.stages[step.stage]
        primary = pool_of(c, direction, step, step.pool, False)
        secondary = None
        if stage_def.for_flow(flow, step.side)[3] is not None:
            secondary = pool_of(c, direction, step, step.secondary_pool, True)
        return StepPlan(primary, step.stage, step.side, stage_def, secondary)

    for demand in scenario.demand:
        i, crossing = crossings[demand.crossing]
        directions = DIRECTIONS if demand.direction == "both" else (demand.direction,)
        for direction in directions:
            triple = (crossing.id, direction, demand.flow)
            n = occurrences.get(triple, 0)
            occurrences[triple] = n + 1
            route = build_route(scenario, i, crossing, direction, demand.flow)
            times = demand.times or []
            order = sorted(range(len(times)), key=times.__getitem__)  # stable: ties keep file order
            zone = None
            if crossing.neutral_zone is not None:
                zkey = (crossing.id, direction)
                if zkey not in zone_index:
                    zone_index[zkey] = len(net.zones)
                    net.zones.append((crossing.id, direction, crossing.neutral_zone))
                zone = zone_index[zkey]
            net.sources.append(
                Source(
                    index=len(net.sources),
                    crossing=crossing.id,
                    direction=direction,
                    flow=demand.flow,
                    key=(crossing.id, direction, demand.flow, str(n)),
                    rates_args=None
                    if demand.daily is None
                    else (
                        demand.daily,
                        _profile(scenario, demand.hourly, scenario.profiles.hourly),
                        _profile(scenario, demand.weekly, scenario.profiles.weekly),
                    ),
                    times=None if demand.times is None else [demand.times[j] for j in order],
                    service_trace={stage: [v[j] for j in order] for stage, v in demand.service_times.items()},
                    crossing_def=crossing if demand.during_hours else None,
                    before_zone=[plan(crossing, direction, demand.flow, s) for s in route.before_zone],
                    after_zone=[plan(crossing, direction, demand.flow, s) for s in route.after_zone],
                    zone=zone,
                )
            )
            # opening hours gate the first control a traveller can meet: the route's first
            # step, and the next ones as long as a traveller may skip the ones before
            # (risk-based selection); later controls clear those already inside
            for p in net.sources[-1].before_zone + net.sources[-1].after_zone:
                gates.add(p.pool)
                if p.stage_def.for_flow(demand.flow, p.side)[2] >= 1.0:
                    break

    weekday = WEEKDAYS.index(scenario.start_weekday)
    for index, (key, c, step, ref, secondary) in enumerate(pending):
        if ref is None:  # unlimited places: open whenever the crossing is, shut by its closures
            hours_of = c if index in gates else c.model_copy(update={"hours": "24h", "open_days": None})
            initial, times, caps = capacity_schedule((UNLIMITED,) * 24, hours_of, scenario.horizon, weekday)
        else:
            by_hour = tuple(pool_capacity_by_hour(ref))
            hours_of = c if index in gates else c.model_copy(update={"hours": "24h", "open_days": None})
            initial, times, caps = capacity_schedule(by_hour, hours_of, scenario.horizon, weekday)
        net.pools.append(
            PoolInfo(index, c.id, key[1], step.side, step.role, step.stage, key[5], secondary, initial, times, caps)
        )
    return net
