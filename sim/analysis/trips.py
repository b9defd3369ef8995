"""Where corridor traffic went: trips per corridor, travellers diverted in and out per crossing.

Gathered chunk by chunk like the other statistics (``sim.analysis.running``), from the
trip rows the engine logs (``sim.engine.recorder.TRIP_COLUMNS``). A trip counts when it
departs in the observation window [warm-up, horizon). Its trip time is departure to
arrival at the destination: the drive to the crossing, any detour, the time at the
crossing(s) and the drive on. Its extra drive is what it drove beyond the corridor's least
drive (the shortest option's to + on): the price of the choice or the diversion.

Conservation is checked, not assumed: every departure is completed or still on its way
(``TripTotals.unfinished``), and a diverted trip is counted out of the crossing it set off
for and into the one it used, once each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.intervals import ci95_halfwidth
from sim.engine.recorder import TRIP_COLUMNS, Chunk
from sim.model.compile import Model

_COL = {name: i for i, name in enumerate(TRIP_COLUMNS)}
COUNTS = ("departures", "completed", "unfinished", "diverted")
SUMS = ("trip_time", "drive", "km", "extra_drive", "extra_km")
PER_OPTION = ("set_off_for", "used", "diverted_out", "diverted_in")


@dataclass
class TripTotals:
    """Per corridor and per option of one replication: counts and sums of trips in the window."""

    counts: dict[str, np.ndarray]  # per corridor
    sums: dict[str, np.ndarray]  # per corridor, over completed trips
    options: dict[str, np.ndarray]  # per option (corridors' options laid end to end)

    @staticmethod
    def merge(parts: Sequence[TripTotals]) -> TripTotals:
        """Totals of pieces (each corridor runs in one piece: its figures are summed from zeros elsewhere)."""
        first = parts[0]
        return TripTotals(
            {k: sum((p.counts[k] for p in parts[1:]), first.counts[k].copy()) for k in COUNTS},
            {k: sum((p.sums[k] for p in parts[1:]), first.sums[k].copy()) for k in SUMS},
            {k: sum((p.options[k] for p in parts[1:]), first.options[k].copy()) for k in PER_OPTION},
        )


def option_offsets(model: Model) -> np.ndarray:
    """Where each corridor's options start in the per-option arrays."""
    sizes = [len(c.options) for c in model.corridors]
    return np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64) if sizes else np.zeros(0, np.int64)


class TripStats:
    """Accumulates ``TripTotals`` from chunks."""

    def __init__(self, model: Model):
        self.warmup = model.warmup
        n = len(model.corridors)
        self.offsets = option_offsets(model)
        self.best_drive = np.asarray([c.best_drive for c in model.corridors], dtype=float)
        self.best_km = np.asarray([c.best_km for c in model.corridors], dtype=float)
        m = sum(len(c.options) for c in model.corridors)
        self.counts = {k: np.zeros(n, dtype=np.int64) for k in COUNTS}
        self.sums = {k: np.zeros(n) for k in SUMS}
        self.options = {k: np.zeros(m, dtype=np.int64) for k in PER_OPTION}
        self.drive_on = np.asarray([o.drive_on for c in model.corridors for o in c.options], dtype=float)

    def add(self, chunk: Chunk) -> None:
        t = chunk.trips
        if t is None or not len(t):
            return
        t = t[t[:, _COL["departure"]] >= self.warmup]
        corridor = t[:, _COL["corridor"]].astype(np.int64)
        first = self.offsets[corridor] + t[:, _COL["first_option"]].astype(np.int64)
        final = self.offsets[corridor] + t[:, _COL["option"]].astype(np.int64)
        done = ~np.isnan(t[:, _COL["release"]])
        switched = t[:, _COL["switches"]] > 0
        n, m = len(self.counts["departures"]), len(self.options["used"])
        c = self.counts
        c["departures"] += np.bincount(corridor, minlength=n)
        c["completed"] += np.bincount(corridor[done], minlength=n)
        c["unfinished"] += np.bincount(corridor[~done], minlength=n)
        c["diverted"] += np.bincount(corridor[switched], minlength=n)
        trip_time = t[:, _COL["release"]] + self.drive_on[final] - t[:, _COL["departure"]]
        drive, km = t[:, _COL["drive"]], t[:, _COL["km"]]
        s = self.sums
        cd = corridor[done]
        s["trip_time"] += np.bincount(cd, weights=trip_time[done], minlength=n)
        s["drive"] += np.bincount(cd, weights=drive[done], minlength=n)
        s["km"] += np.bincount(cd, weights=km[done], minlength=n)
        s["extra_drive"] += np.bincount(cd, weights=(drive - self.best_drive[corridor])[done], minlength=n)
        s["extra_km"] += np.bincount(cd, weights=(km - self.best_km[corridor])[done], minlength=n)
        o = self.options
        o["set_off_for"] += np.bincount(first, minlength=m)
        o["used"] += np.bincount(final[done], minlength=m)
        o["diverted_out"] += np.bincount(first[switched & (first != final)], minlength=m)
        o["diverted_in"] += np.bincount(final[switched & (first != final)], minlength=m)

    def finish(self, pools: Sequence[Any]) -> TripTotals:
        return TripTotals(self.counts, self.sums, self.options)


def corridor_kpis(model: Model, totals: TripTotals, replication: int) -> pd.DataFrame:
    """One row per corridor and direction for one replication."""
    days = (model.horizon - model.warmup) / 1440.0
    c, s = totals.counts, totals.sums
    done = np.maximum(c["completed"], 1)
    rows = pd.DataFrame(
        {
            "corridor": [k.id for k in model.corridors],
            "direction": [k.direction for k in model.corridors],
            "flow": [k.flow for k in model.corridors],
            "origin": [k.origin for k in model.corridors],
            "destination": [k.destination for k in model.corridors],
            "replication": replication,
            "departures": c["departures"],
            "completed": c["completed"],
            "unfinished": c["unfinished"],
            "diverted": c["diverted"],
            "departures_per_day": c["departures"] / days,
            "diverted_per_day": c["diverted"] / days,
            "trip_time_mean_min": np.where(c["completed"] > 0, s["trip_time"] / done, np.nan),
            "drive_mean_min": np.where(c["completed"] > 0, s["drive"] / done, np.nan),
            "extra_drive_vehicle_hours_per_day": s["extra_drive"] / 60.0 / days,
            "extra_km_per_day": s["extra_km"] / days,
        }
    )
    return rows


def crossing_flows(model: Model, totals: TripTotals, replication: int) -> pd.DataFrame:
    """One row per crossing for one replication: corridor trips that set off for it, used it, moved."""
    days = (model.horizon - model.warmup) / 1440.0
    names = [o.crossing for c in model.corridors for o in c.options]
    frame = pd.DataFrame({"crossing": names, **{k: v for k, v in totals.options.items()}})
    out = frame.groupby("crossing", sort=True).sum().reset_index()
    for k in PER_OPTION:
        out[f"{k}_per_day"] = out[k] / days
    out.insert(1, "replication", replication)
    return out


CORRIDOR_MEANS = (
    "departures_per_day",
    "diverted_per_day",
    "trip_time_mean_min",
    "drive_mean_min",
    "extra_drive_vehicle_hours_per_day",
    "extra_km_per_day",
)


def summarize_corridors(reps: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Per corridor and direction over replications: totals of counts, means with 95% half-widths."""
    keys = ["corridor", "direction", "flow", "origin", "destination"]
    g = reps.groupby(keys, sort=False)
    out = g[["departures", "completed", "unfinished", "diverted"]].sum()
    for k in CORRIDOR_MEANS:
        out[k] = g[k].mean()
        out[f"{k}_ci95"] = g[k].agg(ci95_halfwidth)
    out = out.reset_index()
    out.insert(0, "scenario", scenario)
    return out


def summarize_crossing_flows(reps: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Per crossing over replications: mean corridor trips per day set off for, used, diverted out and in."""
    g = reps.groupby("crossing", sort=True)
    out = g[list(PER_OPTION)].sum()
    for k in PER_OPTION:
        out[f"{k}_per_day"] = g[f"{k}_per_day"].mean()
        out[f"{k}_per_day_ci95"] = g[f"{k}_per_day"].agg(ci95_halfwidth)
    out = out.reset_index()
    out.insert(0, "scenario", scenario)
    return out
