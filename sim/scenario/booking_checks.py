"""Cross-references of the e-queues: crossings, flows, who would be held, and overlaps.

An e-queue that names an unknown crossing or flow, or one no demand entry sends travellers
through, would change nothing, and a modeler would read an unchanged result as the
e-queue's effect; each is an error at the field at fault. Two e-queues holding the same
travellers, and corridor travellers reaching an e-queue's crossing (they choose their
crossing on the way, which a booked slot does not allow for yet), are errors too. Called
by ``sim.scenario.checks.check_scenario``.
"""

from __future__ import annotations

from typing import Any

from sim.model.routing import RouteError, build_route, pool_capacity_by_hour
from sim.scenario.calendar import is_dated, moment_minutes
from sim.scenario.checks import _hint, _known
from sim.scenario.schema import DIRECTIONS, Scenario

Loc = tuple[Any, ...]


MAX_SLOTS_PER_HOUR = 100_000
"""Slots an hour an e-queue may derive from booths: more means a control that takes no time."""


def _slots_from_booths(s: Scenario, k: int, cid: str, direction: str, flow: str) -> str | None:
    """Why ``per_hour: booths`` cannot be derived for these travellers, or None."""
    index = {c.id: i for i, c in enumerate(s.crossings)}
    crossing = s.crossings[index[cid]]
    try:
        route = build_route(s, index[cid], crossing, direction, flow)
    except (RouteError, KeyError):
        return None  # reported by the route checks
    steps = [*route.before_zone, *route.after_zone]
    if not steps:
        return f"{flow} travellers at {cid!r} meet no control: there are no booths to derive slots from"
    first = steps[0]
    for st in steps:
        per_vehicle, per_person, select, _ = s.stages[st.stage].for_flow(flow, st.side)
        if select >= 1.0:
            first = st
            break
    per_vehicle, per_person, _, _ = s.stages[first.stage].for_flow(flow, first.side)
    mean = per_vehicle.mean + per_person.mean * s.flows[flow].occupancy.mean
    booths = max(pool_capacity_by_hour(first.pool)) if first.pool is not None else None
    where = f"{first.stage!r} on side {first.side} at {cid!r}"
    if booths is None:
        return f"{where} has no booths listed (no limit): give slots.per_hour as a count"
    if mean <= 0:
        return f"{where} takes no time for {flow}: give slots.per_hour as a count"
    if booths * 60.0 / mean * s.equeues[k].slots.utilisation > MAX_SLOTS_PER_HOUR:
        return f"{where} would give more than {MAX_SLOTS_PER_HOUR:,} slots an hour: give slots.per_hour as a count"
    return None


def check_equeues(s: Scenario) -> list[tuple[Loc, str]]:
    """Every problem of ``equeues`` as (field location, message)."""
    problems: list[tuple[Loc, str]] = []
    ids = {c.id for c in s.crossings}
    demanded = {
        (d.crossing, direction, d.flow)
        for d in s.demand
        for direction in (DIRECTIONS if d.direction == "both" else (d.direction,))
    }
    by_corridor = {
        (cid, direction, c.flow): c.id
        for c in s.corridors
        for cid in c.crossings
        for direction in (DIRECTIONS if c.direction == "both" else (c.direction,))
    }
    held: dict[tuple[str, str, str], int] = {}
    for k, q in enumerate(s.equeues):
        loc: Loc = ("equeues", k)
        for j, cid in enumerate(q.crossings):
            if cid not in ids:
                problems.append(((*loc, "crossings", j), f"no crossing with id {cid!r}{_hint(cid, ids)}"))
        for j, flow in enumerate(q.flows):
            if flow not in s.flows:
                problems.append(((*loc, "flows", j), f"unknown flow {flow!r} (known: {_known(s.flows, flow)})"))
        if q.start is not None:
            if is_dated(q.start) and s.start_date is None:
                problems.append(
                    ((*loc, "start"), "a date needs the scenario's start_date (or give a time such as 3 d)")
                )
            elif moment_minutes(q.start, s.start_date) >= s.horizon:
                problems.append(((*loc, "start"), "the e-queue starts after the end of the run: it would hold nobody"))
        for j, cid in enumerate(q.crossings):
            if cid not in ids:
                continue
            covered = False
            for direction in q.directions:
                for flow in q.flows:
                    key = (cid, direction, flow)
                    if key in by_corridor:
                        problems.append(
                            (
                                (*loc, "crossings", j),
                                f"corridor {by_corridor[key]!r} sends {flow} travellers through {cid!r} "
                                f"({direction}); e-queues hold per-crossing demand only, not corridor travellers",
                            )
                        )
                    if key in held and held[key] != k:
                        problems.append(
                            (
                                (*loc, "crossings", j),
                                f"{flow} travellers at {cid!r} ({direction}) are already held by equeues[{held[key]}]",
                            )
                        )
                    held.setdefault(key, k)
                    covered = covered or key in demanded
                    if key in demanded and q.slots.per_hour == "booths" and flow in s.flows:
                        why = _slots_from_booths(s, k, cid, direction, flow)
                        if why is not None:
                            problems.append(((*loc, "slots", "per_hour"), why))
            if not covered:
                problems.append(
                    (
                        (*loc, "crossings", j),
                        f"no demand entry sends {', '.join(q.flows)} travellers through {cid!r} in "
                        f"{' or '.join(q.directions)}: this e-queue would hold nobody",
                    )
                )
    return problems
