"""Cross-references a schema cannot check: names that must exist, routes that must be servable.

Returns every problem with the location of the field at fault, so the loader can report
them all at once with file and line.
"""

from __future__ import annotations

import difflib
from typing import Any

from sim.model.routing import RouteError, build_route
from sim.scenario.schema import DIRECTIONS, RESERVED_NAMES, Scenario

Loc = tuple[Any, ...]


def _known(names: Any, wrong: object = None) -> str:
    """The names that would be valid, and the closest to ``wrong`` when it looks like a typo of one."""
    names = sorted(names)
    text = ", ".join(names) if names else "none defined"
    if isinstance(wrong, str):
        close = difflib.get_close_matches(wrong, names, n=1, cutoff=0.6)
        if close:
            text += f"; did you mean {close[0]!r}?"
    return text


def _hint(wrong: str, names: Any) -> str:
    """A "did you mean" for a name among many (crossing ids), where listing them all would not help."""
    close = difflib.get_close_matches(wrong, sorted(names), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_scenario(s: Scenario) -> list[tuple[Loc, str]]:  # noqa: C901 - a flat list of checks reads best
    """Every cross-reference problem in ``s`` as (field location, message)."""
    problems: list[tuple[Loc, str]] = []
    regimes = s.all_regimes()

    for i, c in enumerate(s.crossings):
        if c.id.lower() == "all":
            problems.append((("crossings", i, "id"), f"{c.id!r} is reserved: it names {RESERVED_NAMES['all']}"))
    for name in s.flows:
        if name.lower() in RESERVED_NAMES:
            problems.append((("flows", name), f"{name!r} is reserved: it names {RESERVED_NAMES[name.lower()]}"))
    if s.warmup >= s.horizon:
        problems.append((("warmup",), f"must be shorter than the horizon ({s.horizon:g} min)"))

    seen: dict[str, int] = {}
    for i, c in enumerate(s.crossings):
        if c.id in seen:
            problems.append((("crossings", i, "id"), f"duplicate crossing id {c.id!r} (also crossings[{seen[c.id]}])"))
        seen.setdefault(c.id, i)
    crossing_index = {c.id: i for i, c in enumerate(s.crossings)}

    def check_regime_name(loc: Loc, name: str) -> None:
        if name not in regimes:
            problems.append((loc, f"unknown regime {name!r} (known: {_known(regimes, name)})"))

    check_regime_name(("regime", "default"), s.regime.default)
    for cat, name in s.regime.by_category.items():
        check_regime_name(("regime", "by_category", cat), name)
    for cid, name in s.regime.by_crossing.items():
        check_regime_name(("regime", "by_crossing", cid), name)
        if cid not in crossing_index:
            problems.append(
                (("regime", "by_crossing", cid), f"no crossing with id {cid!r}{_hint(cid, crossing_index)}")
            )

    used = {s.regime_of(c) for c in s.crossings}
    broken: set[str] = set()  # regimes naming unknown stages: their routes cannot be checked
    for name, regime in regimes.items():
        if name not in s.regimes and name not in used:
            continue  # an unused built-in regime may name stages this scenario lacks
        base: Loc = ("regimes", name) if name in s.regimes else ("regime",)
        variants = [((), regime)] + [(("flows", f), v) for f, v in regime.flows.items()]
        for fname in regime.flows:
            if fname not in s.flows:
                problems.append(((*base, "flows", fname), f"unknown flow {fname!r} (known: {_known(s.flows, fname)})"))
        for sub, lst in variants:
            for part in ("exit", "entry", "joint"):
                names = getattr(lst, part)
                for j, stage in enumerate(names):
                    if stage not in s.stages:
                        broken.add(name)
                        problems.append(
                            (
                                (*base, *sub, part, j),
                                f"regime {name!r} names unknown stage {stage!r} (known: {_known(s.stages, stage)})",
                            )
                        )
                for dup in sorted({n for n in names if names.count(n) > 1}):
                    problems.append(((*base, *sub, part), f"stage {dup!r} is listed twice"))

    for name, stage in s.stages.items():
        for fname in stage.flows:
            if fname not in s.flows:
                problems.append(
                    (("stages", name, "flows", fname), f"unknown flow {fname!r} (known: {_known(s.flows, fname)})")
                )

    for i, c in enumerate(s.crossings):
        for side_name, side in c.sides.items():
            for table in ("servers", "secondary_servers"):
                for stage, spec in getattr(side, table).items():
                    loc = ("crossings", i, "sides", side_name, table, stage)
                    if stage not in s.stages:
                        problems.append((loc, f"unknown stage {stage!r} (known: {_known(s.stages, stage)})"))
                    if isinstance(spec, dict):
                        for fname in spec:
                            if fname != "default" and fname not in s.flows:
                                problems.append(
                                    (
                                        (*loc, fname),
                                        f"unknown flow {fname!r} (known: {_known([*s.flows, 'default'], fname)})",
                                    )
                                )

    for name, prof in s.profiles.hourly.items():
        if sum(prof) <= 0:
            problems.append((("profiles", "hourly", name), "weights must not all be 0"))
    for name, prof in s.profiles.weekly.items():
        if sum(prof) <= 0:
            problems.append((("profiles", "weekly", name), "weights must not all be 0"))

    if not s.demand and not s.corridors:
        problems.append((("demand",), "no demand: add at least one demand entry (crossing, flow, daily) or corridor"))
    checked_routes: set[tuple[str, str, str]] = set()
    for k, d in enumerate(s.demand):
        loc = ("demand", k)
        if d.crossing not in crossing_index:
            problems.append(
                ((*loc, "crossing"), f"no crossing with id {d.crossing!r}{_hint(d.crossing, crossing_index)}")
            )
            continue
        if d.flow not in s.flows:
            problems.append(((*loc, "flow"), f"unknown flow {d.flow!r} (known: {_known(s.flows, d.flow)})"))
            continue
        for key, table, length in (("hourly", s.profiles.hourly, 24), ("weekly", s.profiles.weekly, 7)):
            value = getattr(d, key)
            if isinstance(value, str) and value not in table:
                problems.append(((*loc, key), f"unknown {key} profile {value!r} (known: {_known(table, value)})"))
            elif isinstance(value, list) and sum(value) <= 0:
                problems.append(((*loc, key), f"the {length} weights must not all be 0"))
        for stage in d.service_times:
            if stage not in s.stages:
                problems.append(
                    ((*loc, "service_times", stage), f"unknown stage {stage!r} (known: {_known(s.stages, stage)})")
                )
        crossing = s.crossings[crossing_index[d.crossing]]
        allowed = s.flows[d.flow].categories
        if allowed is not None and crossing.category not in allowed:
            problems.append(
                (
                    (*loc, "flow"),
                    f"flow {d.flow!r} may not use {crossing.category} crossings "
                    f"such as {crossing.id!r} (flows.{d.flow}.categories)",
                )
            )
        if s.regime_of(crossing) not in regimes or s.regime_of(crossing) in broken:
            continue  # reported above; every route would also lack servers for the unknown stage
        directions = DIRECTIONS if d.direction == "both" else (d.direction,)
        for direction in directions:
            key3 = (crossing.id, direction, d.flow)
            if key3 in checked_routes:
                continue
            checked_routes.add(key3)
            try:
                build_route(s, crossing_index[d.crossing], crossing, direction, d.flow)
            except RouteError as err:
                problems.append((err.loc, str(err)))
            except KeyError:
                pass  # unknown stage: reported above
    from sim.model.weather import check_weather
    from sim.scenario.booking_checks import check_equeues
    from sim.scenario.calendar_checks import check_calendar
    from sim.scenario.costs import check_costs
    from sim.scenario.network_checks import check_network

    servable = {name for name in regimes if name not in broken}
    problems += check_network(s, servable, checked_routes)
    problems += check_weather(s)
    problems += check_calendar(s)
    problems += check_equeues(s)
    problems += check_costs(s.flows, s.costs)
    # one message per location and text
    unique: list[tuple[Loc, str]] = []
    for p in problems:
        if p not in unique:
            unique.append(p)
    return unique
