"""The calibration as a scenario fragment: YAML a scenario ``extends`` (or that extends a base itself).

The fragment holds only what observations say: ``flows`` (occupancy, when persons were
counted), ``stages`` (per side and flow: the fitted time per vehicle, ``per_person: 0`` so
that a base's time per person is not added on top of a time that already includes it, and
``select``), ``profiles`` and ``demand``. Crossings, booths and the regime stay the
modeler's. Each estimate carries a comment with its sample size, its 95% interval and why
its distribution was chosen, so the file explains itself where it is used.

It is written by hand rather than by a YAML library, to place those comments beside their
values; names are scenario identifiers (checked on reading), quoted where YAML would read
them as something else.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sim.scenario.errors import printable

if TYPE_CHECKING:
    from sim.calibration.study import Calibration

_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def name(text: str) -> str:
    """A name as a YAML key or value: quoted when YAML (1.1 or 1.2) would read it as a boolean or null."""
    return json.dumps(text) if text.lower() in _YAML_WORDS else text


def number(x: float, digits: int = 6) -> str:
    """A number YAML reads back as one: whole numbers without a point, others to ``digits`` significant digits."""
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"


def flow_value(value: Any, digits: int = 6) -> str:
    """A value in YAML's flow style: ``{dist: lognormal, mean: 2, cv: 0.5}``, ``[1, 2]``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{name(k)}: {flow_value(v, digits)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow_value(v, digits) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value, digits)
    return name(str(value))


def comment(text: str) -> str:
    """One comment line's text: control characters escaped, so nothing a file holds can end the comment."""
    return printable(text, 2000)


def _range(interval: tuple[float, float]) -> str:
    return f"[{interval[0]:.4g}, {interval[1]:.4g}]"


def fragment_text(cal: Calibration, extends: str | None = None) -> str:
    """The fragment's YAML text."""
    obs = cal.observations
    period = f"{obs.days} day{'s' if obs.days != 1 else ''}"
    if obs.first_date is not None:
        period += f" from {obs.first_date.isoformat()}"
    lines = [
        comment(f"# Calibrated by bordersim calibrate from {obs.source}: {len(obs.vehicles)} vehicles over {period}."),
        "# Use it as the base of a scenario (extends: this file) that adds the crossings, booths and regime,",
        "# or give it an extends: line naming such a scenario. Mappings merge key by key; lists (demand) replace.",
        "# Times are minutes. A fitted time is a vehicle's whole time at the stage (end - start), so per_person",
        "# is 0; every fit tried, with its KS test and AIC, is in the calibration report.",
    ]
    if extends is not None:
        lines += [f"extends: {json.dumps(extends)}"]
    if cal.occupancy:
        lines += ["", "flows:"]
        for flow, persons in cal.occupancy.items():
            values, weights = persons["values"], persons["weights"]
            occ = values[0] if len(values) == 1 else {"dist": "empirical", "values": values, "weights": weights}
            counted = f"{sum(weights)} vehicle{'s' if sum(weights) > 1 else ''}"
            lines += [f"  {name(flow)}:", f"    occupancy: {flow_value(occ)}   # persons counted in {counted}"]
    lines += ["", "stages:", *_stages(cal)]
    lines += ["", "profiles:", "  hourly:"]
    for a in cal.arrivals:
        lines += [f"    {name(a.profile)}: {flow_value(a.hourly, 4)}"]
    weekly = [a for a in cal.arrivals if a.weekly is not None]
    if weekly:
        lines += ["  weekly:                               # Monday first"]
        lines += [f"    {name(a.profile)}: {flow_value(a.weekly, 4)}" for a in weekly]
    lines += ["", "demand:"]
    for a in cal.arrivals:
        entry: dict[str, Any] = {"crossing": a.crossing, "flow": a.flow, "direction": a.direction}
        entry["daily"] = float(f"{a.daily:.6g}")
        entry["hourly"] = a.profile
        if a.weekly is not None:
            entry["weekly"] = a.profile
        no_week = "" if a.weekly is not None else "; no weekly profile: some weekday was not observed"
        lines += [
            comment(
                f"  # {a.count} arrivals over {a.days:g} days; daily volume 95% interval {_range(a.daily_interval)} "
                f"(Poisson){no_week}"
            ),
            f"  - {flow_value(entry)}",
        ]
    return "\n".join(lines) + "\n"


def _stages(cal: Calibration) -> list[str]:
    """``stages.<stage>.sides.<side>.flows.<flow>``: the most specific place, so a base's other settings stay."""
    shares = {(s.stage, s.side, s.flow): s for s in cal.shares}
    lines: list[str] = []
    stage_seen: str | None = None
    side_seen: tuple[str, str] | None = None
    for (stage, side, flow), choice in cal.services.items():
        if stage != stage_seen:
            lines += [f"  {name(stage)}:", "    sides:"]
            stage_seen, side_seen = stage, None
        if (stage, side) != side_seen:
            lines += [f"      {side}:", "        flows:"]
            side_seen = (stage, side)
        share = shares[(stage, side, flow)]
        ci = ", ".join(f"{k} {_range(v)}" for k, v in choice.intervals.items())
        lines += [
            comment(f"          # {choice.why} (n = {choice.n}){'; 95% intervals: ' + ci if ci else ''}"),
            comment(
                f"          # select: {share.checked} of {share.vehicles} vehicles checked, 95% interval "
                f"{_range(share.interval)} (Wilson)"
            ),
            f"          {name(flow)}: "
            + flow_value({"per_vehicle": choice.dist, "per_person": 0, "select": float(f"{share.share:.6g}")}),
        ]
    return lines
