"""The "Electronic queue" section of a run's and a comparison's report.

Only scenarios with e-queues write ``equeue.csv``, ``equeue_slots.csv`` and
``equeue_area.csv``; the section is built from these files (and ``summary.csv`` for a
compared scenario without an e-queue), so ``bordersim report`` redraws it, and is left out
of a page whose scenarios have none. E-queue, crossing and class names come from the
scenario: every cell goes through ``data_table`` and every sentence through ``el``, which
escape them; the charts shorten and quote them (``sim.outputs.charts._label``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sim.outputs.equeue_charts import LINES, area_occupancy, wait_split
from sim.outputs.equeue_frames import (
    ALL,
    KEYS,
    all_names,
    comparison_frame,
    comparison_table,
    crossing_names,
    label,
    place,
    priority_table,
    same,
    slot_table,
    time_table,
    wait_parts,
    where,
)
from sim.outputs.html import Html, data_table, el, join
from sim.outputs.network_sections import Embed
from sim.outputs.results import RunFolder

FOLDED_AFTER = 3
"""E-queues whose tables start open; a border of many e-queues keeps its page short."""

INTRO = (
    "With an electronic queue a driver books a time slot instead of queueing at the border. Until "
    "shortly before the slot the driver waits wherever they are (the virtual queue: at home, at a "
    "depot, on the way), then reaches the border, waits in the waiting area (or on the road when "
    "the area is full or too early) and is called to the post at the slot. Their wait counts from "
    "the time they wanted to cross, so it is split here into where it was spent: the virtual "
    "queue costs little, the road and the physical queue at the posts cost most. Priority classes "
    "have a share of each day's slots reserved; walk-ins came without a booking."
)
TIME_NOTE = (
    "Means over the finished travellers whose wanted time is in the observation window, ± the 95% "
    "half-width over replications. Virtual: from the wanted time to reaching the border. Road: "
    "from the border to entering the waiting area (it was full, or the driver came before the "
    "window opened). Waiting area: until called. Call-up: from the call to the post. Physical "
    "queue: at the posts, waiting before and between controls; controls: the controls themselves. "
    "Total wait: all but the controls, the wait the other tables show. Late, lost and refused: "
    "shares of the travellers who reached the border. Priority served: travellers served on a "
    "booking of a slot reserved for their class, against the reserved slots in the window and the quota "
    "(a share of each day's slots, rounded down). equeue.csv has every figure and its 95th percentile."
)
SLOT_NOTE = (
    "Slots whose time is in the observation window. Used by holder: the traveller who booked it "
    "came and was called; by others: a slot left unused (never booked, a no-show's, or left by "
    "a holder called earlier) given to someone else. Utilisation: used / offered. No-show rate: "
    "bookings nobody came for, of all slots booked. Waiting area: vehicles in it, the mean over "
    "the window and the most at any time (any replication). equeue_slots.csv and "
    "equeue_area.csv (hour by hour) have them all."
)
COMPARISON_NOTE = (
    "Per crossing and direction with an e-queue in some scenario: each scenario's mean wait of the "
    "finished travellers of the e-queue's flows, split where it was spent. A scenario without an "
    "e-queue there has only the physical queue: its wait is the standard one of summary.csv for "
    "the same crossing, direction and flows (several flows: weighted by the travellers completed). "
    "The combined equeue.csv beside this report has every scenario's figures by class."
)


def _area_series(area: pd.DataFrame | None, slots: pd.DataFrame, names: dict[str, str]) -> tuple[list, dict]:
    """The busiest waiting areas' hourly rows (by their largest occupancy) and their places, by chart label."""
    if area is None or slots.empty:
        return [], {}
    busiest = slots.sort_values(["area_max", "area_mean"], ascending=False, kind="stable").head(LINES)
    series, capacity = [], {}
    for _, s in busiest.iterrows():
        name = place(s, names)
        if name in capacity:  # two e-queues at one place, for different flows
            name = f"{s['equeue']} ({s['flows']}): {name}"
        series.append((name, same(area, s).sort_values("hour")))
        capacity[name] = float(s["area_capacity"])
    return series, capacity


def _area_chart(r: RunFolder, embed: Embed, names: dict[str, str]) -> Html:
    """The waiting areas of a run, hour by hour (the busiest ``LINES`` of them)."""
    if r.equeue_slots is None or r.equeue_area is None:
        return Html("")
    series, capacity = _area_series(r.equeue_area, r.equeue_slots, names)
    title = "Vehicles in the waiting area, hour by hour"
    if len(r.equeue_slots) > len(series):
        title += f" (the {len(series)} busiest of {len(r.equeue_slots)})"
    return embed(
        "equeue_area",
        area_occupancy(series, capacity, title),
        "Waiting-area occupancy",
        "Vehicles in each waiting area over the run: the mean over replications of each hour's average "
        "(thick), and the most at any instant of the hour in any replication (thin).",
    )


def _split_frame(every: pd.DataFrame, scenario: str, names: dict[str, str]) -> pd.DataFrame:
    """``wait_split``'s bars of a run: one per e-queue, named by its place unless two share one."""
    shared = every.duplicated(["crossing", "direction"], keep=False).to_numpy()
    groups = [
        f"{row['equeue']} ({row['flows']}): {place(row, names)}" if twice else place(row, names)
        for (_, row), twice in zip(every.iterrows(), shared, strict=True)
    ]
    head = pd.DataFrame({"group": groups, "scenario": scenario, "equeue": every["equeue"].astype(str).to_numpy()})
    return pd.concat([head, wait_parts(every)], axis=1)


def run_equeue_section(r: RunFolder, embed: Embed) -> Html:
    """The section of one scenario's report; empty when it has no e-queue."""
    if r.equeue is None or r.equeue.empty:
        return Html("")
    names = crossing_names(r.crossings)
    e = r.equeue
    every = e[e["class"] == ALL].reset_index(drop=True)
    chart = embed(
        "equeue_split",
        wait_split(_split_frame(every, r.name, names)),
        "Where the e-queue's wait goes",
        "Mean wait of the finished travellers of each e-queue, from the time they wanted to cross: away "
        "(virtual), on the road and in the waiting area, driving to the post, and in the physical queue.",
    )
    parts: list[Html] = [el("h2", "Electronic queue"), el("p", INTRO), chart, _area_chart(r, embed, names)]
    if r.equeue_slots is not None:
        parts += [
            el("h3", "Slots and waiting areas"),
            el("p", SLOT_NOTE, class_="note"),
            el("div", data_table(slot_table(r.equeue_slots, names), "equeue-slots"), class_="wide"),
        ]
    parts += [el("h3", "Where the time goes"), el("p", TIME_NOTE, class_="note")]
    queues = every[KEYS]
    for k, q in queues.iterrows():
        caption = f"{label(q, names)}: {q['flows']}"
        table = el("div", data_table(time_table(same(e, q)), f"equeue-{k}"), class_="wide")
        attrs = {"open": ""} if len(queues) <= FOLDED_AFTER else {}
        parts.append(el("details", join([el("summary", caption), table]), **attrs))
    return join(parts)


def comparison_equeue_section(runs: Sequence[RunFolder], embed: Embed) -> Html:
    """The section of a comparison's report (baseline first in ``runs``); empty when no scenario has an e-queue."""
    with_queues = [r for r in runs if r.equeue is not None and not r.equeue.empty]
    if not with_queues:
        return Html("")
    names = all_names(runs)
    frame = comparison_frame(runs)
    chart = embed(
        "equeue_split",
        wait_split(frame),
        "E-queue against the physical queue",
        "Per crossing and direction with an e-queue, each scenario's mean wait split where it was spent; "
        "hatched: a scenario without an e-queue there, whose whole wait is the physical queue.",
    )
    parts: list[Html] = [
        el("h2", "Electronic queue"),
        el("p", INTRO),
        chart,
        el("h3", "E-queue against the physical queue"),
        el("p", COMPARISON_NOTE, class_="note"),
        el("div", data_table(comparison_table(frame), "equeue-comparison"), class_="wide"),
        _comparison_area(runs, embed, names),
    ]
    slots = [r.equeue_slots for r in with_queues if r.equeue_slots is not None]
    if slots:
        table = slot_table(pd.concat(slots, ignore_index=True), names, scenario=True)
        parts += [
            el("h3", "Slots and waiting areas"),
            el("p", SLOT_NOTE, class_="note"),
            el("div", data_table(table, "equeue-slots"), class_="wide"),
        ]
    priority = priority_table(runs, names)
    if len(priority):
        parts += [el("h3", "Priority classes"), el("div", data_table(priority, "equeue-priority"), class_="wide")]
    return join(parts)


def _comparison_area(runs: Sequence[RunFolder], embed: Embed, names: dict[str, str]) -> Html:
    """The place whose waiting area held the most vehicles in any scenario, drawn for each scenario with one there."""
    slots = [r.equeue_slots for r in runs if r.equeue_slots is not None and len(r.equeue_slots)]
    if not slots:
        return Html("")
    top = pd.concat(slots, ignore_index=True).sort_values(["area_max", "area_mean"], ascending=False).iloc[0]
    at = ["crossing", "direction"]
    series, capacity = [], {}
    for r in runs:
        if r.equeue_area is None or r.equeue_slots is None:
            continue
        for _, s in same(r.equeue_slots, top, at).iterrows():
            name = f"{r.name}: {s['equeue']} ({s['flows']})"
            series.append((name, same(r.equeue_area, s).sort_values("hour")))
            capacity[name] = float(s["area_capacity"])
    return embed(
        "equeue_area",
        area_occupancy(series, capacity, f"Vehicles in the waiting area at {where(top, names)}"),
        "Waiting-area occupancy",
        f"The busiest waiting area ({where(top, names)}) in each scenario that has it: the mean over "
        "replications of each hour's average (thick) and the most at any instant of the hour (thin).",
    )
