"""The tables of the "Electronic queue" section, from the files a run wrote.

``sim.outputs.equeue_sections`` lays them out on the page; here each becomes a frame of
display strings (means with their 95% half-widths, shares in per cent) or, for the chart and
the comparison, of numbers. E-queue, crossing and class names are free text from the scenario:
they stay plain strings here, and ``data_table`` escapes every cell.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.outputs.html import fmt, pm
from sim.outputs.results import RunFolder

ALL = "ALL"
KEYS = ["equeue", "crossing", "direction", "flows"]
"""What tells one e-queue from another in the files (a name repeats across crossings)."""


def direction_words(value: object) -> str:
    """``a_to_b`` as a reader says it: ``a to b``."""
    return str(value).replace("_", " ")


def crossing_names(crossings: pd.DataFrame) -> dict[str, str]:
    """Each crossing's name by id, as crossings.csv gives it (the id when it has none)."""
    meta = crossings.drop_duplicates("id")
    return {str(i): (str(n) if str(n) else str(i)) for i, n in zip(meta["id"], meta["name"], strict=True)}


def same(frame: pd.DataFrame, row: pd.Series, keys: Sequence[str] = KEYS) -> pd.DataFrame:
    """The rows of ``frame`` of the e-queue (or place) ``row`` names."""
    match = np.ones(len(frame), dtype=bool)
    for k in keys:
        match &= (frame[k].astype(str) == str(row[k])).to_numpy()
    return frame[match]


def where(row: pd.Series, names: dict[str, str]) -> str:
    """A crossing and direction as a reader says it: its name, the id when they differ, and the direction."""
    crossing = str(row["crossing"])
    name = names.get(crossing, crossing)
    shown = name if name == crossing else f"{name} ({crossing})"
    return f"{shown}, {direction_words(row['direction'])}"


def place(row: pd.Series, names: dict[str, str]) -> str:
    """A crossing and direction as a chart names it: short, its name (or id) and the direction."""
    crossing = str(row["crossing"])
    return f"{names.get(crossing, crossing)}, {direction_words(row['direction'])}"


def label(row: pd.Series, names: dict[str, str]) -> str:
    """An e-queue as the page names it: its name at its crossing and direction (names repeat across crossings)."""
    at = where(row, names)
    return at if str(row["equeue"]) == str(row["crossing"]) else f"{row['equeue']} at {at}"


def percent(mean: object, half: object) -> str:
    """A share and its half-width, in per cent."""
    return pm(100.0 * float(mean), 100.0 * float(half), 1) if pd.notna(mean) else "–"


def _share_cols(rows: pd.DataFrame) -> dict[str, list[str]]:
    """The late, lost-slot and refused shares of ``equeue.csv`` rows, in per cent."""
    return {
        f"{title} (%)": [percent(m, h) for m, h in zip(rows[f"{k}_share"], rows[f"{k}_share_ci95"], strict=True)]
        for k, title in (("late", "late"), ("lost", "lost slot"), ("refused", "refused"))
    }


def time_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Where the time of one e-queue's travellers went, per class, with intervals."""
    parts = (
        ("virtual", "virtual"),
        ("road", "road"),
        ("area", "waiting area"),
        ("call_up", "call-up"),
        ("physical", "physical queue"),
        ("service", "controls"),
        ("wait", "total wait"),
    )
    priority = rows["quota_slots"].notna()
    return pd.DataFrame(
        {
            "class": rows["class"].astype(str),
            "booked": [pm(m, h, 0) for m, h in zip(rows["booked"], rows["booked_ci95"], strict=True)],
            "finished": [pm(m, h, 0) for m, h in zip(rows["finished"], rows["finished_ci95"], strict=True)],
            "still inside": rows["inside_at_end"].map(lambda v: fmt(v, 0)),
            **{
                f"{title} (min)": [
                    pm(m, h) for m, h in zip(rows[f"{k}_mean_min"], rows[f"{k}_mean_min_ci95"], strict=True)
                ]
                for k, title in parts
            },
            "p95 wait (min)": rows["wait_p95_min"].map(lambda v: fmt(v, 1)),
            **_share_cols(rows),
            "priority served / reserved / quota": [
                f"{fmt(s, 1)} / {fmt(r, 0)} / {fmt(q, 0)}" if p else ""
                for s, r, q, p in zip(
                    rows["priority_served"], rows["reserved_slots"], rows["quota_slots"], priority, strict=True
                )
            ],
        }
    )


def slot_table(slots: pd.DataFrame, names: dict[str, str], scenario: bool = False) -> pd.DataFrame:
    """One row per e-queue: slots, who used them, no-shows, the waiting area and the road."""
    table = pd.DataFrame(
        {
            "e-queue": [label(r, names) for _, r in slots.iterrows()],
            "flows": slots["flows"].astype(str),
            "slots offered": slots["offered"].map(lambda v: fmt(v, 0)),
            "used by holder": [
                pm(m, h, 0) for m, h in zip(slots["used_by_holder"], slots["used_by_holder_ci95"], strict=True)
            ],
            "used by others": [
                pm(m, h, 0) for m, h in zip(slots["used_by_others"], slots["used_by_others_ci95"], strict=True)
            ],
            "unused": [pm(m, h, 0) for m, h in zip(slots["unused"], slots["unused_ci95"], strict=True)],
            "utilisation (%)": [
                percent(m, h) for m, h in zip(slots["utilisation"], slots["utilisation_ci95"], strict=True)
            ],
            "no-show bookings": [pm(m, h, 0) for m, h in zip(slots["no_show"], slots["no_show_ci95"], strict=True)],
            "no-show rate (%)": [
                percent(m, h) for m, h in zip(slots["no_show_rate"], slots["no_show_rate_ci95"], strict=True)
            ],
            "in waiting area, mean": slots["area_mean"].map(lambda v: fmt(v, 1)),
            "in waiting area, most": slots["area_max"].map(lambda v: fmt(v, 0)),
            "places": slots["area_capacity"].map(lambda v: "unlimited" if pd.isna(v) else fmt(v, 0)),
            "on the road, most": slots["road_max"].map(lambda v: fmt(v, 0)),
        }
    )
    if scenario:
        table.insert(0, "scenario", slots["scenario"].astype(str).to_numpy())
    return table


def wait_parts(rows: pd.DataFrame) -> pd.DataFrame:
    """The stacked parts of the mean wait (``wait_split``'s columns) of ``equeue.csv`` rows."""
    return pd.DataFrame(
        {
            "virtual": rows["virtual_mean_min"].to_numpy(dtype=float),
            "road_area": (rows["road_mean_min"] + rows["area_mean_min"]).to_numpy(dtype=float),
            "call_up": rows["call_up_mean_min"].to_numpy(dtype=float),
            "physical": rows["physical_mean_min"].to_numpy(dtype=float),
        }
    )


def standard_wait(summary: pd.DataFrame, crossing: str, direction: str, flows: list[str]) -> tuple[float, float]:
    """The mean wait (and half-width) of a crossing, direction and flows in ``summary.csv``.

    One flow: its row. Several: the flows' means weighted by the travellers each completed
    (no interval: the replications' pairing is not in the summary).
    """
    rows = summary[
        (summary["crossing"] == crossing) & (summary["direction"] == direction) & (summary["flow"].isin(flows))
    ]
    if rows.empty:
        return np.nan, np.nan
    if len(rows) == 1:
        return float(rows["wait_mean_min"].iloc[0]), float(rows["wait_mean_min_ci95"].iloc[0])
    w = rows["completed"].to_numpy(dtype=float)
    v = rows["wait_mean_min"].to_numpy(dtype=float)
    ok = ~np.isnan(v) & (w > 0)
    return (float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else np.nan), np.nan


def comparison_frame(runs: Sequence[RunFolder]) -> pd.DataFrame:
    """Per crossing, direction and flows with an e-queue somewhere, each scenario's split of the mean wait.

    A scenario with an e-queue there for those flows gives its ``ALL`` class row; one
    without gives its standard wait as the physical queue (the baseline to set the e-queue
    against). ``group`` names the place for a chart, ``where`` for a table.
    """
    names = all_names(runs)
    place_keys = ["crossing", "direction", "flows"]
    every = {r.name: r.equeue[r.equeue["class"] == ALL] for r in runs if r.equeue is not None}
    places = pd.concat(list(every.values()), ignore_index=True)[place_keys].drop_duplicates()
    rows = []
    for _, p in places.iterrows():
        at = {"group": f"{place(p, names)}: {p['flows']}", "where": f"{where(p, names)}: {p['flows']}"}
        for r in runs:
            mine = same(every[r.name], p, place_keys) if r.name in every else pd.DataFrame()
            for _, q in mine.iterrows():
                rows.append(
                    {
                        **at,
                        "scenario": r.name,
                        "equeue": str(q["equeue"]),
                        **wait_parts(q.to_frame().T).iloc[0].to_dict(),
                        "wait": q["wait_mean_min"],
                        "wait_ci95": q["wait_mean_min_ci95"],
                        "p95": q["wait_p95_min"],
                    }
                )
            if len(mine):
                continue
            wait, half = standard_wait(r.summary, str(p["crossing"]), str(p["direction"]), str(p["flows"]).split())
            rows.append(
                {
                    **at,
                    "scenario": r.name,
                    "equeue": "",
                    "virtual": 0.0,
                    "road_area": 0.0,
                    "call_up": 0.0,
                    "physical": wait,
                    "wait": wait,
                    "wait_ci95": half,
                    "p95": np.nan,
                }
            )
    return pd.DataFrame(rows)


def all_names(runs: Sequence[RunFolder]) -> dict[str, str]:
    """Crossing names by id over every scenario (the first scenario naming a crossing gives its name)."""
    names: dict[str, str] = {}
    for r in runs:
        for k, v in crossing_names(r.crossings).items():
            names.setdefault(k, v)
    return names


def comparison_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``comparison_frame`` as the page shows it: one row per place and scenario."""
    return pd.DataFrame(
        {
            "crossing, direction: flows": frame["where"].astype(str),
            "scenario": frame["scenario"].astype(str),
            "e-queue": [str(q) if q else "none: physical queue only" for q in frame["equeue"]],
            "virtual (min)": frame["virtual"].map(lambda v: fmt(v, 1)),
            "road and waiting area (min)": frame["road_area"].map(lambda v: fmt(v, 1)),
            "call-up (min)": frame["call_up"].map(lambda v: fmt(v, 1)),
            "physical queue (min)": frame["physical"].map(lambda v: fmt(v, 1)),
            "total wait (min)": [pm(m, h) for m, h in zip(frame["wait"], frame["wait_ci95"], strict=True)],
            "p95 wait (min)": frame["p95"].map(lambda v: fmt(v, 1)),
        }
    )


def priority_table(runs: Sequence[RunFolder], names: dict[str, str]) -> pd.DataFrame:
    """Priority classes of every scenario: served against the reserved slots and the quota."""
    parts = [r.equeue[r.equeue["quota_slots"].notna()] for r in runs if r.equeue is not None]
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if rows.empty:
        return rows
    return pd.DataFrame(
        {
            "scenario": rows["scenario"].astype(str),
            "e-queue": [label(r, names) for _, r in rows.iterrows()],
            "class": rows["class"].astype(str),
            "booked": [pm(m, h, 0) for m, h in zip(rows["booked"], rows["booked_ci95"], strict=True)],
            "served in reserved slots": [
                pm(m, h, 1) for m, h in zip(rows["priority_served"], rows["priority_served_ci95"], strict=True)
            ],
            "reserved slots": rows["reserved_slots"].map(lambda v: fmt(v, 0)),
            "quota": rows["quota_slots"].map(lambda v: fmt(v, 0)),
            "total wait (min)": [
                pm(m, h) for m, h in zip(rows["wait_mean_min"], rows["wait_mean_min_ci95"], strict=True)
            ],
        }
    )
