"""Cross-references of the calendar and episodes: names, dates, and changes that would do nothing.

An episode that names an unknown crossing, a date without the scenario's ``start_date``, a
window outside the run, or a stage no traveller it concerns passes through would change
nothing, and a modeler would read an unchanged result as the episode's effect. Each is an
error at the field at fault. Called by ``sim.scenario.checks.check_scenario``.
"""

from __future__ import annotations

from typing import Any

from sim.model.routing import RouteError, build_route
from sim.scenario.calendar import Scope, is_dated, moment_minutes
from sim.scenario.checks import _hint, _known
from sim.scenario.schema import DIRECTIONS, Scenario

Loc = tuple[Any, ...]


def _scope_problems(s: Scenario, loc: Loc, scope: Scope) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    ids = {c.id for c in s.crossings}
    for j, cid in enumerate(scope.crossings or []):
        if cid not in ids:
            problems.append(((*loc, "crossings", j), f"no crossing with id {cid!r}{_hint(cid, ids)}"))
    for j, flow in enumerate(scope.flows or []):
        if flow not in s.flows:
            problems.append(((*loc, "flows", j), f"unknown flow {flow!r} (known: {_known(s.flows, flow)})"))
    return problems


def _travelled(s: Scenario) -> set[tuple[str, str, str]]:
    """(crossing, direction, flow) of every demand entry and corridor crossing."""
    out = set()
    for d in s.demand:
        for direction in DIRECTIONS if d.direction == "both" else (d.direction,):
            out.add((d.crossing, direction, d.flow))
    for c in s.corridors:
        for cid in c.crossings:
            for direction in DIRECTIONS if c.direction == "both" else (c.direction,):
                out.add((cid, direction, c.flow))
    return out


def _stages_met(s: Scenario, scope: Scope, travelled: set[tuple[str, str, str]]) -> set[tuple[str, str]]:
    """(stage, side) of every control the travellers in ``scope`` pass."""
    index = {c.id: i for i, c in enumerate(s.crossings)}
    met: set[tuple[str, str]] = set()
    for cid, direction, flow in travelled:
        if cid not in index or flow not in s.flows or not scope.covers(cid, direction, flow):
            continue
        crossing = s.crossings[index[cid]]
        try:
            route = build_route(s, index[cid], crossing, direction, flow)
        except (RouteError, KeyError):
            continue  # reported by the route checks
        met |= {(st.stage, st.side) for st in (*route.before_zone, *route.after_zone)}
    return met


def check_calendar(s: Scenario) -> list[tuple[Loc, str]]:
    """Every problem of ``calendar`` and ``episodes`` as (field location, message)."""
    problems: list[tuple[Loc, str]] = []
    if not s.calendar.empty and s.start_date is None:
        problems.append((("calendar",), "seasons, growth and holidays need the scenario's start_date"))
    for part in ("seasonal", "growth", "holidays"):
        for k, entry in enumerate(getattr(s.calendar, part)):
            problems += _scope_problems(s, ("calendar", part, k), entry)
    travelled = _travelled(s)
    for k, episode in enumerate(s.episodes):
        loc: Loc = ("episodes", k)
        found = _scope_problems(s, loc, episode)
        problems += found
        dated = [key for key in ("start", "end") if is_dated(getattr(episode, key))]
        if dated and s.start_date is None:
            problems.append(((*loc, dated[0]), "a date needs the scenario's start_date (or give a time such as 3 d)"))
            continue
        a = moment_minutes(episode.start, s.start_date)
        b = moment_minutes(episode.end, s.start_date, end=True)
        if b <= a:
            problems.append(((*loc, "end"), "end must be after start"))
            continue
        if b <= 0 or a >= s.horizon:
            problems.append(
                (
                    (*loc, "start"),
                    f"the episode {episode.name!r} lies outside the run (0 to {s.horizon / 1440:g} d"
                    f"{' from ' + s.start_date.isoformat() if s.start_date else ''}); move it or drop it",
                )
            )
        if found or not episode.stages:
            continue
        met = _stages_met(s, episode, travelled)
        for j, change in enumerate(episode.stages):
            cloc = (*loc, "stages", j)
            if change.stage not in s.stages:
                problems.append(((*cloc, "stage"), f"unknown stage {change.stage!r} (known: {_known(s.stages)})"))
                continue
            sides = (change.side,) if change.side else ("a", "b")
            if not any((change.stage, side) in met for side in sides):
                where = f"side {change.side}" if change.side else "either side"
                problems.append(
                    (
                        (*cloc, "stage"),
                        f"no traveller this episode concerns passes {change.stage!r} on {where}: its regime "
                        f"does not run it there (give the stage select: 0 in the regime, and the share here)",
                    )
                )
    return problems
