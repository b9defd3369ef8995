"""The verdict at the top of every report, and the backlog section of a run's report.

A reader skims the first lines of a page; if a queue grows without bound, the mean waits
further down describe only the travellers who got through, and the page must say so before
any table. The verdict and the section are built from ``overload.csv`` and ``daily.csv``
alone, so ``bordersim report`` redraws them; a folder written before these files existed
gets a short box saying there is no verdict. Crossing, direction and flow names are free
text: every sentence goes through ``el`` and every cell through ``data_table``, which escape them.
"""

from __future__ import annotations

import pandas as pd

from sim.analysis.overload import overloaded_rows, verdict_sentence
from sim.outputs import charts
from sim.outputs.html import Html, data_table, el, fmt, join, pm
from sim.outputs.network_sections import Embed
from sim.outputs.readable import direction_label
from sim.outputs.results import RunFolder

_BOX = "border-left:4px solid {colour};background:{background};padding:.4rem 1rem;margin:1rem 0"
STABLE_STYLE = _BOX.format(colour="#2e7d32", background="#eef7ee")
OVERLOADED_STYLE = _BOX.format(colour="#b3261e", background="#fcf1f0")
UNKNOWN_STYLE = _BOX.format(colour="#8a8a8a", background="#f5f5f5")
MAX_ROWS = 25
"""Overloaded rows the report lists; ``overload.csv`` has them all."""

NO_VERDICT = (
    "No overload verdict: this results folder was written before bordersim wrote overload.csv. "
    "Run the scenario again for one."
)


def _directions(countries: tuple[str, str]) -> dict[str, str]:
    return {d: direction_label(d, countries) for d in ("a_to_b", "b_to_a")}


def verdict_box(overload: pd.DataFrame | None, countries: tuple[str, str] = ("A", "B")) -> Html:
    """The run's verdict, first on its page: stable, or how many queues grow and the worst of them."""
    if overload is None:
        return el("div", el("p", NO_VERDICT), id="verdict", class_="verdict", style=UNKNOWN_STYLE)
    stable, sentence = verdict_sentence(overload, _directions(countries))
    head, _, rest = sentence.partition(":")
    return el(
        "div",
        el("p", join([el("strong", f"{head}:"), rest])),
        id="verdict",
        class_="verdict " + ("stable" if stable else "overloaded"),
        style=STABLE_STYLE if stable else OVERLOADED_STYLE,
    )


def comparison_verdicts(runs: list[RunFolder]) -> Html:
    """Each compared scenario's verdict, first on the comparison's page."""
    lines, bad, unknown = [], 0, 0
    for r in runs:
        if r.overload is None:
            unknown += 1
            lines.append(el("li", join([el("b", r.name), ": ", NO_VERDICT])))
            continue
        stable, sentence = verdict_sentence(r.overload, _directions(r.countries))
        bad += not stable
        lines.append(el("li", join([el("b", r.name), ": ", sentence])))
    if bad:
        head = (
            f"Overloaded: {bad} of {len(runs)} scenarios {'has' if bad == 1 else 'have'} a queue that grows without "
            "bound. Their mean waits "
            "over finished travellers understate the wait, so a difference in them (even a significant one) is "
            "not what it seems: the comparison marks those rows as overloaded."
        )
        style = OVERLOADED_STYLE
    elif unknown:
        head, style = "No overload verdict for some scenarios.", UNKNOWN_STYLE
    else:
        head, style = "Stable: every queue cleared in every scenario.", STABLE_STYLE
    return el(
        "div",
        join([el("p", el("strong", head)), el("ul", join(lines))]),
        id="verdict",
        class_="verdict " + ("overloaded" if bad else "stable"),
        style=style,
    )


def overload_rows_table(overload: pd.DataFrame, countries: tuple[str, str] = ("A", "B")) -> pd.DataFrame:
    """The rows whose queue grows, fastest first: backlog, growth and the waits with and without the queue."""
    rows = overloaded_rows(overload).head(MAX_ROWS)
    return pd.DataFrame(
        {
            "crossing": rows["crossing"].astype(str),
            "direction": [direction_label(str(d), countries) for d in rows["direction"]],
            "flow": rows["flow"].astype(str),
            "verdict": rows["verdict"].astype(str),
            "backlog at the end": [
                pm(m, h, 0) for m, h in zip(rows["backlog_end"], rows["backlog_end_ci95"], strict=True)
            ],
            "growth per day": [
                pm(m, h, 1) for m, h in zip(rows["growth_per_day"], rows["growth_per_day_ci95"], strict=True)
            ],
            "mean wait, finished (min)": rows["wait_mean_min"].map(lambda v: fmt(v, 1)),
            "mean wait, lower bound (min)": rows["wait_mean_lb_min"].map(lambda v: fmt(v, 1)),
            "p95 wait, lower bound (min)": rows["wait_p95_lb_min"].map(lambda v: fmt(v, 1)),
            "where": rows["note"].astype(str),
        }
    )


EXPLAINED = (
    "Backlog: travellers inside at the end of the run. Growth: its least-squares slope per day over the "
    "second half of the observation window, at the same time of day, ± the 95% half-width over "
    "replications. Lower bounds count the travellers still inside with their wait so far. Capped "
    "upstream: a full neutral zone keeps the exit side's booths blocked, so the queue shows before the "
    "zone while the bottleneck is past it. overload.csv has every row, daily.csv and weekly.csv the "
    "figures day by day and week by week."
)


def run_overload_section(r: RunFolder, embed: Embed) -> Html:
    """The backlog section of a run's report: the overloaded rows and, over more than a day, the daily backlog."""
    parts: list[Html] = []
    if r.overload is not None:
        rows = overloaded_rows(r.overload)
        if len(rows):
            caption = f"{len(rows)} crossing x direction x flow row(s) whose queue grows without bound"
            if len(rows) > MAX_ROWS:
                caption += f" (the {MAX_ROWS} fastest growing)"
            parts.append(
                el(
                    "div",
                    data_table(overload_rows_table(r.overload, r.countries), "overloaded", caption),
                    class_="wide",
                )
            )
    window = float(r.manifest["horizon_min"]) - float(r.manifest["warmup_min"])
    if r.daily is not None and window > 1440 and len(r.daily):
        parts.append(
            embed(
                "daily_backlog",
                charts.daily_backlog(r.daily),
                "Backlog at the end of each day",
                "Travellers inside at the end of each day of the observation window; a line that climbs day "
                "after day is a queue that does not clear.",
            )
        )
    if not parts:
        return Html("")
    return join([el("h2", "Backlog and overload"), *parts, el("p", EXPLAINED, class_="note")])
