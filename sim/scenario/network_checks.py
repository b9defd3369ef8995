"""Cross-references of corridors, route choice and diversion: names, eligibility, servable routes.

Called by ``sim.scenario.checks.check_scenario``, whose helpers for naming the known values it shares.
"""

from __future__ import annotations

from typing import Any

from sim.model.routing import RouteError, build_route
from sim.scenario.checks import _hint, _known
from sim.scenario.schema import DIRECTIONS, Scenario

Loc = tuple[Any, ...]


def check_network(s: Scenario, servable: set[str], checked_routes: set[tuple[str, str, str]]) -> list[tuple[Loc, str]]:
    """Problems of the corridors, given the regimes whose routes can be checked (``servable``)."""
    problems: list[tuple[Loc, str]] = []
    crossing_index = {c.id: i for i, c in enumerate(s.crossings)}
    seen: dict[str, int] = {}
    for k, corridor in enumerate(s.corridors):
        loc: Loc = ("corridors", k)
        if corridor.id in seen:
            problems.append(
                ((*loc, "id"), f"duplicate corridor id {corridor.id!r} (also corridors[{seen[corridor.id]}])")
            )
        seen.setdefault(corridor.id, k)
        if corridor.flow not in s.flows:
            problems.append(
                ((*loc, "flow"), f"unknown flow {corridor.flow!r} (known: {_known(s.flows, corridor.flow)})")
            )
            continue
        for key, table, length in (("hourly", s.profiles.hourly, 24), ("weekly", s.profiles.weekly, 7)):
            value = getattr(corridor, key)
            if isinstance(value, str) and value not in table:
                problems.append(((*loc, key), f"unknown {key} profile {value!r} (known: {_known(table, value)})"))
            elif isinstance(value, list) and sum(value) <= 0:
                problems.append(((*loc, key), f"the {length} weights must not all be 0"))
        allowed = s.flows[corridor.flow].categories
        usable = 0
        for cid in corridor.crossings:
            oloc = (*loc, "crossings", cid)
            if cid not in crossing_index:
                problems.append((oloc, f"no crossing with id {cid!r}{_hint(cid, crossing_index)}"))
                continue
            crossing = s.crossings[crossing_index[cid]]
            if allowed is not None and crossing.category not in allowed:
                problems.append(
                    (
                        oloc,
                        f"flow {corridor.flow!r} may not use {crossing.category} crossings such as {cid!r} "
                        f"(flows.{corridor.flow}.categories)",
                    )
                )
                continue
            usable += 1
            if s.regime_of(crossing) not in servable:
                continue
            for direction in DIRECTIONS if corridor.direction == "both" else (corridor.direction,):
                key3 = (cid, direction, corridor.flow)
                if key3 in checked_routes:
                    continue
                checked_routes.add(key3)
                try:
                    build_route(s, crossing_index[cid], crossing, direction, corridor.flow)
                except RouteError as err:
                    problems.append((err.loc, str(err)))
                except KeyError:
                    pass  # unknown stage: reported with the regimes
        shares = [o.share for o in corridor.crossings.values() if o.share is not None]
        if s.route_choice.rule == "fixed_shares" and shares and sum(shares) <= 0:
            problems.append(((*loc, "crossings"), "the shares must not all be 0 (route_choice.rule is fixed_shares)"))
        if usable == 0 and not problems:
            problems.append(((*loc, "crossings"), "no crossing this corridor's flow may use"))
    for flow in s.route_choice.speeds:
        if flow not in s.flows:
            problems.append(
                (("route_choice", "speeds", flow), f"unknown flow {flow!r} (known: {_known(s.flows, flow)})")
            )
    if s.diversion is not None and not s.corridors:
        problems.append(
            (("diversion",), "diversion moves corridor travellers between crossings; this scenario has no corridors")
        )
    return problems
