"""Charts of electronic queues: where a booked traveller's wait goes, and how full the waiting area is.

Drawn from frames ``sim.outputs.equeue_sections`` builds out of ``equeue.csv``,
``equeue_area.csv`` and ``summary.csv``, like every other chart from the files alone. An
e-queue may run at one crossing or at twenty, so the bars are horizontal, one group per
crossing and direction, and beyond ``TOP`` groups only those with the longest waits are
drawn, with the number left out said in the title.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.outputs.charts import _colour, _label, _placeholder

TOP = 25
"""Bars (or groups of bars) a chart draws at most."""
LINES = 6
"""Waiting areas the occupancy chart draws at most: more lines would be unreadable."""

PARTS = (
    ("virtual", "virtual (away, before reaching the border)", "#9ecae1"),
    ("road_area", "on the road and in the waiting area", "#fdae6b"),
    ("call_up", "called, driving to the post", "#c7c7c7"),
    ("physical", "physical queue at the posts", "#d62728"),
)
"""The stacked parts of a wait: column, legend, colour (the physical queue stands out in red)."""
NO_EQUEUE_HATCH = "//"


def wait_split(frame: pd.DataFrame, top: int = TOP) -> Figure:
    """Stacked bars of the mean wait per e-queue (and scenario): virtual, road and area, call-up, physical.

    ``frame`` has one row per bar: ``group`` (the crossing and direction it belongs to),
    ``scenario``, ``equeue`` (empty for a scenario without an e-queue there, whose whole wait
    is the physical queue: drawn hatched) and the four parts in minutes. With one scenario
    the bars are the e-queues; with several, each group has a bar per scenario.
    """
    title = "Where the wait goes: e-queue (virtual, road and area) against the physical queue"
    if frame.empty:
        fig, ax = plt.subplots(figsize=(9, 2.8))
        _placeholder(ax, "no e-queue traveller finished in the observation window")
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        return fig
    keys = [p[0] for p in PARTS]
    f = frame.copy()
    f[keys] = f[keys].astype(float).fillna(0.0)
    groups = list(dict.fromkeys(f["group"]))
    total = len(groups)
    if total > top:
        longest = f.assign(_total=f[keys].sum(axis=1)).groupby("group", sort=False)["_total"].max()
        groups = longest.sort_values(ascending=False, kind="stable").index[:top].tolist()
    scenarios = list(dict.fromkeys(f["scenario"]))
    several = len(scenarios) > 1
    per_group = len(scenarios) if several else 1
    rows: list[tuple[float, pd.Series]] = []
    ticks, labels = [], []
    for g, name in enumerate(groups):
        members = f[f["group"] == name]
        base = g * (per_group + (0.6 if several else 0.25))
        for k, (_, row) in enumerate(members.iterrows()):
            y = base + (scenarios.index(row["scenario"]) if several else k)
            rows.append((y, row))
        ticks.append(base + (per_group - 1) / 2)
        labels.append(_label(name, 44))
    fig, ax = plt.subplots(figsize=(10.5, 0.3 * len(rows) + 0.18 * len(groups) + 2.4))
    hatched = False
    for y, row in rows:
        left = 0.0
        hatch = NO_EQUEUE_HATCH if not str(row.get("equeue", "")) else None
        hatched |= hatch is not None
        edge = _colour(scenarios.index(row["scenario"])) if several else "white"
        for key, _legend, colour in PARTS:
            width = float(row[key])
            if width <= 0:
                continue
            ax.barh(y, width, 0.8, left=left, color=colour, hatch=hatch, edgecolor=edge, linewidth=0.8)
            left += width
        if several:
            tag = _label(row["scenario"], 26) + ("" if str(row.get("equeue", "")) else " (no e-queue)")
            ax.text(left, y, f"  {tag}", va="center", fontsize=7, color="#333333")
    ax.set_yticks(ticks, labels, fontsize=8 if len(groups) > 12 else 9)
    top_y = max(y for y, _ in rows)
    ax.set_ylim(top_y + 0.6, -0.6)  # the first group on top
    right = max(float(r[keys].sum()) for _, r in rows)
    ax.set_xlim(0, max(1.0, right) * (1.45 if several else 1.1))
    ax.set_xlabel("mean wait of finished travellers (minutes; mean over replications)")
    ax.set_ylabel("crossing and direction")
    handles = [Patch(facecolor=colour, label=legend) for _key, legend, colour in PARTS]
    if hatched:
        handles.append(
            Patch(
                facecolor="white", edgecolor="#555555", hatch=NO_EQUEUE_HATCH, label="no e-queue: physical queue only"
            )
        )
    fig.legend(handles=handles, frameon=False, fontsize=8, loc="lower center", ncol=3)
    if total > len(groups):
        title += f"\n(the {len(groups)} with the longest waits; {total - len(groups)} more not shown)"
    ax.set_title(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.6 / fig.get_figheight(), 1, 1))  # room for the legend below
    return fig


def area_occupancy(series: list[tuple[str, pd.DataFrame]], capacity: dict[str, float], title: str) -> Figure:
    """Vehicles in the waiting area over the run, hour by hour: the mean (solid) and the largest (thin).

    ``series`` holds (label, rows of ``equeue_area.csv``) per line, at most ``LINES`` drawn;
    ``capacity`` the area's places by label (a dashed line), when it is limited.
    """
    fig, ax = plt.subplots(figsize=(12, 4))
    title = _label(title, 140)
    drawn = [(label, s) for label, s in series if len(s)][:LINES]
    if not drawn:
        _placeholder(ax, "no hour of the observation window logged")
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        return fig
    most = max(float(np.nanmax(s["area_max"].to_numpy(dtype=float), initial=0.0)) for _, s in drawn)
    shown_caps, far = False, []
    for i, (label, s) in enumerate(drawn):
        days = s["hour"].to_numpy(dtype=float) / 24.0
        colour = _colour(i)
        ax.plot(days, s["area_mean"].to_numpy(dtype=float), color=colour, linewidth=1.4, label=_label(label, 40))
        ax.step(days, s["area_max"].to_numpy(dtype=float), where="post", color=colour, linewidth=0.7, alpha=0.55)
        cap = capacity.get(label, np.nan)
        if not np.isfinite(cap):
            continue
        if cap <= 2 * max(most, 1.0):  # a line far above the data would flatten it
            ax.axhline(cap, color=colour, linestyle="--", linewidth=0.9, alpha=0.8)
            shown_caps = True
        else:
            far.append(cap)
    ax.plot([], [], color="#555555", linewidth=0.7, alpha=0.55, label="thin: the hour's largest (any replication)")
    if shown_caps:
        ax.plot([], [], color="#555555", linestyle="--", linewidth=0.9, label="dashed: places in the area")
    if far:
        low, high = min(far), max(far)
        places = f"{low:,.0f}" if low == high else f"{low:,.0f} to {high:,.0f}"
        title += f"; places ({places}) far above, not drawn"
    ax.set_ylim(bottom=0)
    ax.set_xlabel("days from the start of the run")
    ax.set_ylabel("vehicles in the waiting area")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
