"""Where a traveller goes: the ordered control steps of one crossing, direction and flow.

A regime says which stages run on the exit side, on the entry side, or jointly; the crossing
says how many servers each side has for each stage and flow. This module joins the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.scenario.schema import Crossing, Scenario, Side

SHARED_POOL = "all"


@dataclass(frozen=True)
class PoolRef:
    """One server pool: the servers a stage has on one side for one direction."""

    side: str
    stage: str
    pool: str  # a flow name, "default", or SHARED_POOL
    spec: Any  # int, 24 ints, or "lanes"
    lanes: int | None


@dataclass(frozen=True)
class Step:
    """One control step of a route."""

    side: str  # the post where it happens: "a" or "b"
    role: str  # "exit", "entry" or "joint"
    stage: str
    pool: PoolRef
    secondary_pool: PoolRef | None


@dataclass(frozen=True)
class Route:
    """Exit-side steps, then the neutral zone, then entry-side steps."""

    before_zone: tuple[Step, ...]
    after_zone: tuple[Step, ...]


def sides_of(direction: str) -> tuple[str, str]:
    """(exit side, entry side) for a direction."""
    return ("a", "b") if direction == "a_to_b" else ("b", "a")


def _pool(side_name: str, side: Side, stage: str, flow: str, table: dict[str, Any]) -> PoolRef | None:
    spec = table.get(stage)
    if spec is None:
        return None
    if isinstance(spec, dict):
        if flow in spec:
            return PoolRef(side_name, stage, flow, spec[flow], side.lanes)
        if "default" in spec:
            return PoolRef(side_name, stage, "default", spec["default"], side.lanes)
        return None
    return PoolRef(side_name, stage, SHARED_POOL, spec, side.lanes)


class RouteError(ValueError):
    """A route cannot be built; the message says what the scenario lacks and where."""

    def __init__(self, loc: tuple[Any, ...], message: str):
        super().__init__(message)
        self.loc = loc


def build_route(scenario: Scenario, index: int, crossing: Crossing, direction: str, flow: str) -> Route:
    """The steps a traveller of ``flow`` takes through ``crossing`` in ``direction``."""
    regime_name = scenario.regime_of(crossing)
    regime = scenario.all_regimes()[regime_name].for_flow(flow)
    exit_side, entry_side = sides_of(direction)
    joint_side = exit_side if regime.joint_at == "exit" else entry_side

    def step(side_name: str, role: str, stage: str) -> Step:
        side = crossing.sides[side_name]
        pool = _pool(side_name, side, stage, flow, side.servers)
        if pool is None:
            raise RouteError(
                ("crossings", index, "sides", side_name, "servers"),
                f"no servers for stage {stage!r} and flow {flow!r} (regime {regime_name!r}, {direction}); "
                f"add servers.{stage}",
            )
        if isinstance(pool.spec, str) and side.lanes is None:
            raise RouteError(
                ("crossings", index, "sides", side_name, "lanes"),
                f"servers.{stage} counts in lanes but the side has no lanes",
            )
        _check_booths(pool, ("crossings", index, "sides", side_name, "servers", stage), f"servers.{stage}")
        secondary = _pool(side_name, side, stage, flow, side.secondary_servers)
        if secondary is not None:
            loc = ("crossings", index, "sides", side_name, "secondary_servers", stage)
            if isinstance(secondary.spec, str) and side.lanes is None:
                raise RouteError(
                    ("crossings", index, "sides", side_name, "lanes"),
                    f"secondary_servers.{stage} counts in lanes but the side has no lanes",
                )
            _check_booths(secondary, loc, f"secondary_servers.{stage}")
        return Step(side_name, role, stage, pool, secondary)

    before = [step(exit_side, "exit", s) for s in regime.exit]
    after = []
    joint = [step(joint_side, "joint", s) for s in regime.joint]
    if regime.joint_at == "exit":
        before += joint
    else:
        after += joint
    after += [step(entry_side, "entry", s) for s in regime.entry]
    return Route(tuple(before), tuple(after))


MAX_BOOTHS = 100_000
"""Servers one pool may have in any hour: more is a slip of the pen (``lanes * 50000``)."""


def _check_booths(pool: PoolRef, loc: tuple[Any, ...], what: str) -> None:
    """A pool a route uses must have booths at some hour, and not absurdly many.

    A pool with none at any hour would hold its travellers for ever: the run would end with
    everyone inside and nothing to report, so such a scenario is refused at load.
    """
    hours = pool_capacity_by_hour(pool)
    if max(hours) == 0:
        raise RouteError(loc, f"{what} gives 0 booths at every hour of the day; travellers sent here would never pass")
    if max(hours) > MAX_BOOTHS:
        raise RouteError(loc, f"{what} gives {max(hours):,} booths; at most {MAX_BOOTHS:,}")


def pool_capacity_by_hour(pool: PoolRef) -> list[int]:
    """Servers in a pool for each hour of the day (before opening hours apply)."""
    spec = pool.spec
    if isinstance(spec, str):  # "lanes" or "lanes * share"
        share = float(spec.split("*")[1]) if "*" in spec else 1.0
        lanes = int(pool.lanes or 0)
        return [max(1, round(lanes * share)) if share > 0 else 0] * 24
    if isinstance(spec, list):
        return [int(x) for x in spec]
    return [int(spec)] * 24
