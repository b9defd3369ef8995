"""The executive summary at the top of every report: the few numbers that answer the question.

A minister's adviser reads the first screen and stops. It must say, per country and
direction, how long trucks and cars spend at the border and how long the slowest wait,
against the baseline with its interval, in words; and it must say, beside the very number
it affects, when that number cannot be taken at face value: a queue that grows without
bound (the mean leaves out the travellers still in it) or an interval too wide to tell a
change from noise. Everything comes from ``summary.csv``, ``overload.csv`` and
``comparison.csv``, so ``bordersim report`` redraws it; names are escaped by ``el``.
"""

from __future__ import annotations

import pandas as pd

from sim.analysis.kpis import ALL
from sim.outputs.html import Html, el, join
from sim.outputs.readable import amount, direction_label, duration, flow_label, negligible, per_day, plural_flow
from sim.outputs.results import RunFolder

KEY_FLOWS = 2
"""How many flows the summary speaks of: the vehicle flows with the most arrivals (trucks and cars)."""

IMPRECISE = 0.25
"""A mean whose 95% half-width exceeds this share of it is flagged as imprecise."""

DIRECTIONS = ("a_to_b", "b_to_a")


def key_flows(summary: pd.DataFrame, units: dict[str, str], n: int = KEY_FLOWS) -> list[str]:
    """The flows the summary speaks of: the busiest vehicle flows (any flow when there is none)."""
    rows = summary[(summary["crossing"] == ALL) & (summary["direction"] == ALL) & (summary["flow"] != ALL)]
    rows = rows.sort_values("arrivals", ascending=False, kind="stable")
    vehicles = [str(f) for f in rows["flow"] if units.get(str(f), "vehicle") == "vehicle"]
    return (vehicles or [str(f) for f in rows["flow"]])[:n]


def _row(table: pd.DataFrame | None, direction: str, flow: str) -> pd.Series | None:
    """The border-wide row of ``table`` for one direction and flow (None when the table has none)."""
    if table is None:
        return None
    hit = table[(table["crossing"] == ALL) & (table["direction"] == direction) & (table["flow"] == flow)]
    return None if hit.empty else hit.iloc[0]


def overload_caveat(
    overload: pd.DataFrame | None, direction: str, flow: str, names: dict[str, str] | None = None
) -> str:
    """The warning a figure needs when its queue grows without bound; empty when it clears.

    It names the crossings whose queue grows (by their names in ``names``, else their ids), so
    that a reader knows where the number understates the wait.
    """
    row = _row(overload, direction, flow)
    if row is None or overload is None or str(row["verdict"]) == "stable":
        return ""
    o = overload
    where = o[(o["crossing"] != ALL) & (o["direction"] == direction) & (o["flow"] == flow) & (o["verdict"] != "stable")]
    where = where.sort_values("growth_per_day", ascending=False)
    places = [str((names or {}).get(str(c), c)) for c in where["crossing"]]
    at = ""
    if places:
        shown = ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
        at = f" at {shown}"
    text = (
        f"Overloaded{at}: {row['backlog_end']:,.0f} {plural_flow(flow)} were still queueing at the end of the run "
        f"and the queue grew by about {row['growth_per_day']:,.0f} a day, so the mean leaves out the longest waits"
    )
    bound = row.get("wait_mean_lb_min")
    if bound is not None and not pd.isna(bound):
        text += f" (counting them at their wait so far, the mean is at least {duration(float(bound))})"
    return text + "."


def precision_caveat(mean: float, half: float, replications: int) -> str:
    """The warning a mean needs when its interval is too wide to lean on; empty when precise enough."""
    if replications < 2 or pd.isna(half):
        return "One replication: no interval; run more replications before relying on this figure."
    if mean > 0 and half > IMPRECISE * mean and half > 1.0:
        return (
            f"Imprecise: ± {duration(half)} at 95%; more replications (or --precision) would narrow it."
        )
    return ""


def _caveats(*texts: str) -> Html:
    shown = [t for t in texts if t]
    if not shown:
        return Html("")
    return join(el("span", t, class_="caveat") for t in shown)


def _names(r: RunFolder) -> dict[str, str]:
    """Each crossing's name as the scenario gives it, for sentences."""
    c = r.crossings
    return {str(i): str(n) if isinstance(n, str) and n else str(i) for i, n in zip(c["id"], c["name"], strict=True)}


def run_summary(r: RunFolder) -> Html:
    """In short, for one scenario: per direction, the key flows' time at the border and slowest waits."""
    s, units, countries = r.summary, r.units, r.countries
    items = []
    for direction in DIRECTIONS:
        for flow in key_flows(s, units):
            row = _row(s, direction, flow)
            if row is None or row["arrivals"] == 0:
                continue
            reps = int(row.get("replications", r.manifest.get("replications", 1)))
            mean, half = float(row["time_in_system_mean_min"]), float(row["time_in_system_mean_min_ci95"])
            head = f"{flow_label(flow).capitalize()}, {direction_label(direction, countries)}: "
            if pd.isna(mean):
                body = "none completed in the observation window."
            else:
                body = (
                    f"{duration(mean)} at the border on average"
                    + (f" (± {duration(half)})" if not pd.isna(half) else "")
                    + f"; the slowest 5% waited over {duration(float(row['wait_p95_min']))}; "
                    f"{row['throughput_per_day']:,.0f} {per_day(units.get(flow, 'vehicle'))}."
                )
            items.append(
                el(
                    "li",
                    join(
                        [
                            el("b", head),
                            body,
                            _caveats(
                                overload_caveat(r.overload, direction, flow, _names(r)),
                                "" if pd.isna(mean) else precision_caveat(mean, half, reps),
                            ),
                        ]
                    ),
                )
            )
    if not items:
        return Html("")
    return el(
        "section",
        join(
            [
                el("h2", "In short"),
                el("ul", join(items)),
                el("p", _WINDOW.format(days=_days(r)), class_="note"),
            ]
        ),
        id="summary",
        class_="summary",
    )


_WINDOW = (
    "Time at the border: from joining the first queue to leaving the last post, averaged over the "
    "{days} observed after the warm-up, ± the 95% interval over replications. The slowest 5%: the "
    "95th percentile of the wait in queues."
)


def _days(r: RunFolder) -> str:
    days = (float(r.manifest["horizon_min"]) - float(r.manifest["warmup_min"])) / 1440
    return f"{days:g} day{'s' if days != 1 else ''}"


def _metric(comparison: pd.DataFrame, scenario: str, direction: str, flow: str, metric: str) -> pd.Series | None:
    c = comparison
    hit = c[
        (c["scenario"] == scenario)
        & (c["crossing"] == ALL)
        & (c["direction"] == direction)
        & (c["flow"] == flow)
        & (c["metric"] == metric)
    ]
    return None if hit.empty else hit.iloc[0]


def change_words(row: pd.Series, metric: str) -> str:
    """A difference in words: "+4.8 h (95% interval +4.6 h to +5.0 h)", or "no change"/"no clear change"."""
    diff, low, high = float(row["diff"]), float(row["diff_ci95_low"]), float(row["diff_ci95_high"])
    if pd.isna(diff):
        return "not comparable"
    if diff == 0 and (pd.isna(low) or (low == 0 and high == 0)):
        return "no change"
    if negligible(diff, low, high, metric):
        return "practically no change (under 0.1 min either way)"
    text = amount(diff, metric, signed=True)
    if pd.isna(low):
        return f"{text} (one replication: no interval)"
    span = f"95% interval {amount(low, metric, True)} to {amount(high, metric, True)}"
    if low <= 0 <= high:
        return f"{text}, no clear change ({span})"
    return f"{text} ({span})"


def comparison_summary(runs: list[RunFolder], comparison: pd.DataFrame) -> Html:
    """In short, for a comparison: each scenario against the baseline, per direction, for the key flows."""
    base = runs[0]
    units, countries = base.units, base.countries
    flows = key_flows(base.summary, units)
    blocks = []
    for r in runs[1:]:
        items = []
        for direction in DIRECTIONS:
            for flow in flows:
                tis = _metric(comparison, r.name, direction, flow, "time_in_system_mean_min")
                p95 = _metric(comparison, r.name, direction, flow, "wait_p95_min")
                if tis is None:
                    continue
                head = f"{flow_label(flow).capitalize()}, {direction_label(direction, countries)}: "
                if pd.isna(tis["value"]):
                    body = "none in this scenario (or none completed in its observation window)."
                elif pd.isna(tis["baseline_value"]):
                    body = f"{duration(float(tis['value']))} at the border; none in the baseline to compare with."
                else:
                    body = (
                        f"{duration(float(tis['value']))} at the border on average instead of "
                        f"{duration(float(tis['baseline_value']))}: {change_words(tis, 'time_in_system_mean_min')}."
                    )
                    # a p95 wait under 0.1 min on both sides says nothing worth a sentence
                    shown = p95 is not None and not pd.isna(p95["value"])
                    if shown and max(p95["value"], p95["baseline_value"]) >= 0.1:
                        body += (
                            f" The slowest 5% waited over {duration(float(p95['value']))} instead of "
                            f"{duration(float(p95['baseline_value']))}: {change_words(p95, 'wait_p95_min')}."
                        )
                caveats = [
                    overload_caveat(r.overload, direction, flow, _names(r)),
                    overload_caveat(base.overload, direction, flow, _names(base)).replace(
                        "Overloaded", "In the baseline, overloaded", 1
                    ),
                ]
                if not pd.isna(tis["diff"]) and not pd.isna(tis["diff_ci95_low"]):
                    half = (float(tis["diff_ci95_high"]) - float(tis["diff_ci95_low"])) / 2
                    if abs(float(tis["diff"])) > 0 and half > 0.5 * abs(float(tis["diff"])) and half > 1.0:
                        caveats.append(
                            f"Imprecise: the interval (± {duration(half)}) is wide beside the change; more "
                            "replications would narrow it."
                        )
                items.append(el("li", join([el("b", head), body, _caveats(*caveats)])))
        if items:
            blocks.append(join([el("h3", r.name), el("ul", join(items))]))
    if not blocks:
        return Html("")
    lead = (
        f"Each scenario against the baseline, {base.name}, run with the same random numbers "
        f"({base.manifest['replications']} replications of {_days(base)} observed). Differences carry their "
        "95% paired interval; a change whose interval includes zero cannot be told from chance."
    )
    return el(
        "section",
        join([el("h2", "In short"), el("p", lead), *blocks, el("p", _WINDOW.format(days=_days(base)), class_="note")]),
        id="summary",
        class_="summary",
    )
