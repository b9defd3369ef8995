"""Charts of corridor traffic: where it set off for, where it crossed, and how a scenario moves it.

Drawn from ``network.csv`` (per crossing: corridor trips per day that set off for it, used
it, were diverted out of it and into it), like the other charts from the files alone. A
border may have a few crossings or fifty, so the bars are horizontal, one row per crossing
with corridor traffic, and beyond ``TOP`` rows only the crossings where diversion moved the
most traffic are drawn, with the number left out said in the title.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from sim.outputs.charts import _colour, _label, _placeholder

TOP = 25
"""Rows a chart draws at most: beyond, the bars would be too thin to read."""

SET_OFF_COLOUR = "#c9c9c9"
NO_CORRIDOR_TRAFFIC = "no corridor trip set off in the observation window"


def _per_day(network: pd.DataFrame, key: str) -> pd.Series:
    """A per-day column by crossing (one row each in ``network.csv``)."""
    return network.drop_duplicates("crossing").set_index("crossing")[f"{key}_per_day"].astype(float)


def _height(rows: int) -> float:
    return 0.42 * rows + 1.9


def _title(title: str, shown: int, total: int, chosen_by: str) -> str:
    """The chart's title, saying when some crossings are left out and which are kept."""
    if total <= shown:
        return title
    return f"{title}\n(the {shown} crossings {chosen_by}; {total - shown} more not shown)"


def corridor_traffic(network: pd.DataFrame, scenario: str = "", top: int = TOP) -> Figure:
    """Per crossing: corridor trips per day that set off for it against those that crossed there.

    The two bars differ by diversion: a grey bar longer than the coloured one means trips left
    that crossing for another (closed, or its queue too long), a shorter one that it took in
    trips meant for others; the numbers diverted out and in are written beside the bars.
    """
    n = network.drop_duplicates("crossing")
    traffic = n[(n["set_off_for_per_day"] > 0) | (n["used_per_day"] > 0)].reset_index(drop=True)
    title = "Where corridor traffic went: trips per day that set off for each crossing and that crossed there"
    if scenario:
        title += f" ({_label(scenario)})"
    if traffic.empty:
        fig, ax = plt.subplots(figsize=(9, 2.8))
        _placeholder(ax, NO_CORRIDOR_TRAFFIC)
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        return fig
    total = len(traffic)
    if total > top:
        # the crossings whose traffic diversion changed most, then those with most diverted at all
        net = (traffic["diverted_in_per_day"] - traffic["diverted_out_per_day"]).abs()
        moved = traffic["diverted_in_per_day"] + traffic["diverted_out_per_day"]
        order = pd.DataFrame({"net": net, "moved": moved, "used": traffic["used_per_day"]})
        traffic = traffic.loc[order.sort_values(["net", "moved", "used"], ascending=False).index[:top]]
    bigger = traffic[["set_off_for_per_day", "used_per_day"]].max(axis=1)
    traffic = traffic.loc[bigger.sort_values(ascending=False, kind="stable").index]
    rows = len(traffic)
    fig, ax = plt.subplots(figsize=(10, _height(rows)))
    y = np.arange(rows)
    h = 0.38
    for offset, key, colour, label in (
        (-h / 2, "set_off_for", SET_OFF_COLOUR, "set off for it"),
        (h / 2, "used", _colour(0), "crossed there"),
    ):
        ax.barh(
            y + offset,
            traffic[f"{key}_per_day"],
            h,
            xerr=np.nan_to_num(traffic[f"{key}_per_day_ci95"].to_numpy(dtype=float)),
            color=colour,
            error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#444444"},
            label=label,
        )
    reach = [traffic[f"{k}_per_day"] + traffic[f"{k}_per_day_ci95"].fillna(0.0) for k in ("set_off_for", "used")]
    ends = np.maximum(*(r.to_numpy(dtype=float) for r in reach))
    for row, (end, out, into) in enumerate(
        zip(ends, traffic["diverted_out_per_day"], traffic["diverted_in_per_day"], strict=True)
    ):
        parts = [f"−{out:,.1f} diverted out" if out > 0 else "", f"+{into:,.1f} diverted in" if into > 0 else ""]
        note = ", ".join(p for p in parts if p)
        if note:
            ax.text(end, row, f"  {note}", va="center", fontsize=8, color="#333333")
    ax.set_yticks(y, [_label(c, 30) for c in traffic["crossing"]], fontsize=8 if rows > 12 else 9)
    ax.set_ylim(rows - 0.5, -0.5)  # the first row on top
    right = float(ends.max()) if len(ends) else 0.0
    ax.set_xlim(0, max(1.0, right) * 1.45)
    ax.set_xlabel("corridor trips per day (mean over replications; whiskers: 95% interval)")
    ax.set_ylabel("crossing")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    diverted = int(((traffic["diverted_in_per_day"] > 0) | (traffic["diverted_out_per_day"] > 0)).sum())
    chosen_by = "with the most traffic diverted" + (", then the busiest" if diverted < rows else "")
    ax.set_title(_title(title, rows, total, chosen_by), fontsize=10)
    fig.tight_layout()
    return fig


def corridor_change(networks: dict[str, pd.DataFrame | None], baseline: str, top: int = TOP) -> Figure:
    """Per crossing, corridor trips per day that crossed there in each scenario minus in the baseline.

    ``networks`` holds every scenario in the comparison's order, the baseline first, so that a
    scenario has the colour it has in the other charts of the report (the baseline's is
    skipped: it is the zero line). A scenario without corridors (None) crossed no corridor trip.
    """
    used = pd.DataFrame(
        {name: (_per_day(n, "used") if n is not None else pd.Series(dtype=float)) for name, n in networks.items()}
    ).fillna(0.0)
    used = used[used.max(axis=1) > 0]  # only crossings some corridor trip crossed at
    others = [name for name in networks if name != baseline]
    title = f"Change in corridor trips per day crossing at each crossing, against {_label(baseline)}"
    if used.empty or not others:
        fig, ax = plt.subplots(figsize=(9, 2.8))
        _placeholder(ax, "no corridor traffic in any scenario" if used.empty else "no scenario to compare")
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        return fig
    base = used[baseline]  # a baseline without corridors: a column of zeros
    change = used[others].sub(base, axis=0)
    total = len(change)
    largest = change.abs().max(axis=1)
    # the largest changes first, then the busiest crossings among those that did not change
    order = pd.DataFrame({"change": largest, "used": used.max(axis=1)})
    change = change.loc[order.sort_values(["change", "used"], ascending=False, kind="stable").index[:top]]
    rows = len(change)
    fig, ax = plt.subplots(figsize=(10, _height(rows) + 0.15 * rows * (len(others) - 1)))
    width = 0.8 / len(others)
    y = np.arange(rows)
    colours = {name: _colour(i) for i, name in enumerate(networks)}
    for i, name in enumerate(others):
        ax.barh(y + (i - (len(others) - 1) / 2) * width, change[name], width, color=colours[name], label=_label(name))
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [_label(c, 30) for c in change.index], fontsize=8 if rows > 12 else 9)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xlabel("change in corridor trips per day crossing there (scenario minus baseline, means)")
    ax.set_ylabel("crossing")
    ax.legend(frameon=False, fontsize=8, loc="best")
    ax.set_title(_title(title, rows, total, "with the largest change"), fontsize=10)
    fig.tight_layout()
    return fig
