"""The calibration report: every estimate with its interval, every fit tried, and why one was chosen.

A modeler has to defend a calibrated scenario; the report is the evidence, in markdown so it
goes straight into a study's annex. Names from the file are escaped so that a cell cannot
break the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.calibration.fitting import BOOTSTRAP, KS_LEVEL, Choice
from sim.scenario.errors import printable

if TYPE_CHECKING:
    from sim.calibration.study import Calibration


def cell(text: object) -> str:
    """Text safe in a markdown table cell."""
    return printable(str(text), 200).replace("|", "\\|")


def _params(values: dict[str, float], intervals: dict[str, tuple[float, float]]) -> str:
    parts = []
    for k, v in values.items():
        ci = intervals.get(k)
        parts.append(f"{k} {v:.4g}" + (f" [{ci[0]:.4g}, {ci[1]:.4g}]" if ci else ""))
    return ", ".join(parts)


def report_text(cal: Calibration) -> str:
    """The whole report."""
    obs = cal.observations
    since = f", from {obs.first_date.isoformat()}" if obs.first_date else ""
    visits = sum(len(v.visits) for v in obs.vehicles)
    out = [
        "# Calibration report",
        "",
        f"Observations: `{cell(obs.source)}` ({obs.layout} layout, times as {obs.clock}): {len(obs.vehicles)} "
        f"vehicles, {visits} controls, {obs.days} whole days{since}.",
        "",
        "How each number is estimated is in `docs/calibration.md`. In short: demand is a Poisson process "
        "(daily volume = arrivals / days, 95% Garwood interval; profiles are counts per hour and per weekday "
        "scaled to mean 1); a service time is end - start; each family is fitted by maximum likelihood, tested "
        f"by Kolmogorov-Smirnov with a parametric-bootstrap p-value ({BOOTSTRAP} samples, seed {cal.seed}), and "
        f"the lowest AIC among those passing at {KS_LEVEL:.0%} is chosen, preferring fewer parameters within 2 "
        "AIC units. Intervals are 95%.",
        "",
        "## Demand",
        "",
        "| crossing | direction | flow | arrivals | days | daily volume | 95% interval |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for a in cal.arrivals:
        out.append(
            f"| {cell(a.crossing)} | {a.direction} | {cell(a.flow)} | {a.count} | {a.days:g} | {a.daily:.4g} | "
            f"[{a.daily_interval[0]:.4g}, {a.daily_interval[1]:.4g}] |"
        )
    out += ["", "Hour-of-day profiles (hours 00-23, mean 1):", ""]
    out += ["| profile | " + " | ".join(f"{h:02d}" for h in range(24)) + " |", "| --- |" + " ---: |" * 24]
    for a in cal.arrivals:
        out.append(f"| {cell(a.profile)} | " + " | ".join(f"{w:.2f}" for w in a.hourly) + " |")
    out += ["", "Weekday profiles (mean 1):", "", "| profile | Mon | Tue | Wed | Thu | Fri | Sat | Sun |"]
    out += ["| --- |" + " ---: |" * 7]
    for a in cal.arrivals:
        weeks = " | ".join(f"{w:.2f}" for w in a.weekly) if a.weekly else " | ".join(["-"] * 7)
        out.append(f"| {cell(a.profile)} | {weeks} |")
    if any(a.weekly is None for a in cal.arrivals):
        out += ["", "No weekday profile where some weekday was never observed (fewer than 7 days)."]
    out += ["", "## Service times", ""]
    for (stage, side, flow), choice in cal.services.items():
        out += _service_section(stage, side, flow, choice)
    out += ["## Selection shares", ""]
    out += ["| stage | side | flow | checked | vehicles | share | 95% interval (Wilson) | by crossing and direction |"]
    out += ["| --- | --- | --- | ---: | ---: | ---: | --- | --- |"]
    for s in cal.shares:
        lo, hi = s.interval
        where = "; ".join(f"{cell(c)} {d}: {k}/{n}" for c, d, k, n in s.where)
        out.append(
            f"| {cell(s.stage)} | {s.side} | {cell(s.flow)} | {s.checked} | {s.vehicles} | {s.share:.4g} | "
            f"[{lo:.4g}, {hi:.4g}] | {where} |"
        )
    if cal.occupancy:
        out += ["", "## Persons per vehicle", "", "| flow | persons: vehicles |", "| --- | --- |"]
        for flow, occ in cal.occupancy.items():
            pairs = ", ".join(f"{v}: {w}" for v, w in zip(occ["values"], occ["weights"], strict=True))
            out.append(f"| {cell(flow)} | {pairs} |")
    return "\n".join(out) + "\n"


def _service_section(stage: str, side: str, flow: str, choice: Choice) -> list[str]:
    out = [
        f"### {cell(stage)}, side {side}, {cell(flow)}",
        "",
        f"n = {choice.n}, mean {choice.mean:.4g} min, cv {choice.cv:.3g}."
        + (f" KS on a random {choice.ks_n} of them." if choice.fits and choice.ks_n < choice.n else "")
        + (
            f" Times are whole {'minutes' if choice.resolution == 1 else 'seconds'}; the KS bootstrap rounds alike."
            if choice.resolution
            else ""
        ),
        "",
    ]
    if choice.fits:
        best = min(f.aic for f in choice.fits)
        out += [
            "| family | parameters [95% interval] | KS D | KS p | AIC | ΔAIC | passes KS | chosen |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        for f in choice.fits:
            mark = "**yes**" if f.family == choice.family else ""
            out.append(
                f"| {f.family} | {_params(f.params, f.intervals)} | {f.ks_d:.4f} | {f.ks_p:.3f} | {f.aic:.1f} | "
                f"{f.aic - best:.1f} | {'yes' if f.passes else 'no'} | {mark} |"
            )
        for family, why in choice.skipped.items():
            out.append(f"| {family} | not fitted: {why} | | | | | | |")
        out.append("")
    written = {k: v for k, v in choice.dist.items() if k not in ("values", "weights")}
    values = len(choice.dist.get("values", []))
    shown = ", ".join(f"{k}: {v if isinstance(v, str) else f'{v:.4g}'}" for k, v in written.items())
    out += [f"Chosen: {choice.why}. Written as {{{shown}{f', {values} values' if values else ''}}}.", ""]
    return out
