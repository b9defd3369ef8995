"""A staffing plan in the scenario's own terms: servers per crossing, side, stage and pool, hour by hour.

The scenario gives a side's servers per stage and pool (a flow, ``default`` for the flows not
named, or one pool for all flows) and they serve both directions of travel alike; the model
makes a pool per direction of each. So a plan decides what an author would write: one count,
or 24 counts where the pool works in shifts, per crossing, side, stage and pool, and that
count applies to the pool in both directions. ``with_plan`` gives the scenario with a plan in
place, validated like a file; ``fragment_text`` the same plan as YAML a scenario ``extends``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis.staffing_theory import HOURS, PoolNeed
from sim.calibration.fragment import comment, flow_value, name
from sim.model.compile import Model
from sim.model.routing import SHARED_POOL, PoolRef, pool_capacity_by_hour
from sim.scenario.schema import Scenario

Counts = tuple[int, ...]
"""Servers at each hour of the day (24 counts)."""


class PlanError(ValueError):
    """A request ``optimise`` cannot serve; ``option`` names the command-line option to change."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True, order=True)
class ScenarioPool:
    """One pool as the scenario writes it: ``crossings[id].sides.<side>.servers.<stage>[.<pool>]``."""

    crossing: str
    side: str
    stage: str
    pool: str  # a flow, "default", or SHARED_POOL (the stage's one pool for every flow)

    def describe(self) -> str:
        who = "every flow" if self.pool == SHARED_POOL else self.pool
        return f"side {self.side} {self.stage} ({who})"


@dataclass(frozen=True)
class PoolSpec:
    """What the search may change about a pool, and what the scenario had."""

    key: ScenarioPool
    model_pools: tuple[int, ...]  # the model's pools it sets: one per direction of travel
    scenario: Counts  # the scenario's servers at each hour
    written: Any  # as the scenario writes them (a count, 24 counts or "lanes * 0.5")
    shifts: bool  # planned hour by hour (the scenario has a shift plan here, or every pool is so planned)


Plan = dict[ScenarioPool, Counts]


@dataclass(frozen=True)
class Staffing:
    """The pools a flow's routes use at the chosen crossings, and each route's pools in the model."""

    flow: str
    crossings: tuple[str, ...]
    pools: dict[ScenarioPool, PoolSpec]
    routes: dict[tuple[str, str], tuple[int, ...]]  # (crossing, direction): the model's pools, in route order

    def of_crossing(self, crossing: str) -> list[ScenarioPool]:
        return [k for k in self.pools if k.crossing == crossing]

    def owner(self) -> dict[int, ScenarioPool]:
        """The scenario pool each model pool belongs to."""
        return {p: k for k, spec in self.pools.items() for p in spec.model_pools}

    def booth_hours(self, plan: Plan, crossing: str | None = None) -> float:
        """Server-hours per day the plan staffs, counting each direction's booths (before opening hours)."""
        return float(
            sum(
                sum(plan[k]) * len(spec.model_pools)
                for k, spec in self.pools.items()
                if crossing is None or k.crossing == crossing
            )
        )


def carrying(model: Model, flow: str) -> list[str]:
    """Crossings where ``flow`` draws arrivals of its own, in the scenario's order."""
    return list(dict.fromkeys(s.crossing for s in model.sources if s.flow == flow and not s.routed))


def choose_crossings(model: Model, scenario: Scenario, flow: str, asked: Iterable[str]) -> tuple[str, ...]:
    """The crossings to plan: those asked, else every one carrying ``flow``; refused with a reason otherwise.

    Crossings a corridor reaches are refused: their demand moves between crossings as
    servers change (route choice), and the search sizes each crossing as a system of its own.
    """
    if flow not in scenario.flows:
        raise PlanError("--flow", f"unknown flow {flow!r}; the scenario's flows: {', '.join(scenario.flows)}")
    ids = [c.id for c in scenario.crossings]
    routed = {o.crossing for c in model.corridors for o in c.options}
    routed_flow = {o.crossing for c in model.corridors if c.flow == flow for o in c.options}
    known = carrying(model, flow)
    for crossing in asked:
        if crossing not in ids:
            raise PlanError("--crossing", f"unknown crossing {crossing!r}; {flow} uses: {_some(known) or 'none'}")
    chosen = list(dict.fromkeys(asked)) or [c for c in ids if c in known or c in routed_flow]
    if not chosen:
        raise PlanError("--flow", f"no crossing of the scenario has demand for {flow!r}")
    linked = [c for c in chosen if c in routed]
    if linked:
        raise PlanError(
            "--crossing",
            f"corridors (route choice) bring travellers to {_some(linked)}: their demand would move between "
            "crossings as servers change, and optimise sizes each crossing on its own; choose other crossings "
            "with --crossing, or give their demand directly",
        )
    for crossing in chosen:
        if crossing not in known:
            raise PlanError(
                "--crossing", f"crossing {crossing!r} has no demand for {flow!r}; {flow} uses: {_some(known)}"
            )
    return tuple(chosen)


def _some(names: list[str], most: int = 8) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def staffing(model: Model, scenario: Scenario, flow: str, crossings: tuple[str, ...], by_hour: bool) -> Staffing:
    """The pools ``flow`` meets at ``crossings`` (secondary inspection places are left as they are)."""
    routes: dict[tuple[str, str], tuple[int, ...]] = {}
    for source in model.sources:
        if source.flow == flow and source.crossing in crossings and not source.routed:
            routes.setdefault((source.crossing, source.direction), tuple(st.pool for st in source.steps))
    wanted = [model.pools[p] for route in routes.values() for p in route]
    keys = {ScenarioPool(p.crossing, p.side, p.stage, p.pool) for p in wanted}
    members: dict[ScenarioPool, list[int]] = {k: [] for k in keys}
    for p in model.pools:  # every direction's pool of those keys, also where another flow is the one served
        key = ScenarioPool(p.crossing, p.side, p.stage, p.pool)
        if key in members and not p.secondary:
            members[key].append(p.index)
    crossing_of = {c.id: c for c in scenario.crossings}
    pools = {}
    for key in sorted(keys):
        side = crossing_of[key.crossing].sides[key.side]
        written = side.servers[key.stage]
        if key.pool != SHARED_POOL:
            written = written[key.pool]  # type: ignore[index]
        counts = tuple(pool_capacity_by_hour(PoolRef(key.side, key.stage, key.pool, written, side.lanes)))
        pools[key] = PoolSpec(key, tuple(members[key]), counts, written, by_hour or isinstance(written, list))
    return Staffing(flow, crossings, pools, dict(sorted(routes.items())))


def theory_plan(staff: Staffing, needs: list[PoolNeed], minimum: int = 1) -> Plan:
    """Theory's servers per scenario pool: the most any direction needs at each hour, one count where no shifts."""
    by_pool = {n.pool: n.servers for n in needs}
    plan: Plan = {}
    for key, spec in staff.pools.items():
        hourly = np.full(HOURS, minimum, dtype=np.int64)
        for p in spec.model_pools:
            if p in by_pool:
                hourly = np.maximum(hourly, by_pool[p])
        plan[key] = tuple(int(x) for x in hourly) if spec.shifts else (int(hourly.max()),) * HOURS
    return plan


def scenario_plan(staff: Staffing) -> Plan:
    """The servers the scenario itself gives."""
    return {k: spec.scenario for k, spec in staff.pools.items()}


def written_value(counts: Counts, shifts: bool) -> int | list[int]:
    """A pool's servers as a scenario writes them: 24 counts for a shift plan, else one."""
    return list(counts) if shifts else counts[0]


def with_plan(scenario: Scenario, staff: Staffing, plan: Plan) -> Scenario:
    """``scenario`` with the plan's servers in place of its own, validated as a file would be."""
    data = scenario.model_dump(by_alias=True)
    crossings = {c["id"]: c for c in data["crossings"]}
    for key, counts in plan.items():
        servers = crossings[key.crossing]["sides"][key.side]["servers"]
        value = written_value(counts, staff.pools[key].shifts)
        if key.pool == SHARED_POOL:
            servers[key.stage] = value
        else:
            servers[key.stage][key.pool] = value
    return Scenario.model_validate(data)


def fragment_text(
    staff: Staffing, plan: Plan, theory: Plan, header: list[str], extends: str, scenario_name: str
) -> str:
    """The plan as YAML that ``extends`` the scenario: its ``crossing_overrides``, a comment per pool."""
    lines = [comment(f"# {line}") if line else "#" for line in header]
    lines += ["", f"extends: {json.dumps(extends)}", f"name: {name(scenario_name)}", "", "crossing_overrides:"]
    nested: dict[str, dict[str, dict[str, list[ScenarioPool]]]] = {}
    for key in sorted(plan):
        nested.setdefault(key.crossing, {}).setdefault(key.side, {}).setdefault(key.stage, []).append(key)
    for crossing, sides in nested.items():
        lines += [f"  {name(crossing)}:", "    sides:"]
        for side, stages in sides.items():
            lines += [f"      {side}:", "        servers:"]
            for stage, keys in stages.items():
                if keys[0].pool == SHARED_POOL:  # one pool for every flow: the stage's value itself
                    lines.append(f"          {name(stage)}: {_valued(staff, plan, theory, keys[0])}")
                    continue
                lines.append(f"          {name(stage)}:")
                lines += [f"            {name(k.pool)}: {_valued(staff, plan, theory, k)}" for k in keys]
    return "\n".join(lines) + "\n"


def _valued(staff: Staffing, plan: Plan, theory: Plan, key: ScenarioPool) -> str:
    """A pool's planned servers, with a comment giving the scenario's and theory's."""
    spec = staff.pools[key]
    was = "a shift plan " + flow_value(spec.written) if isinstance(spec.written, list) else flow_value(spec.written)
    said = flow_value(written_value(theory[key], spec.shifts))
    value = flow_value(written_value(plan[key], spec.shifts))
    return comment(f"{value}   # scenario: {was}; theory (SIPP, Erlang C): {said}")
