"""``equeue.csv``, ``equeue_slots.csv`` and ``equeue_area.csv`` from the replications' ``EQueueTotals``.

The counting and the definitions are ``sim.analysis.equeue``'s; this module takes each
figure per replication (a mean over the finished travellers, a share, a count), then its
mean over replications with the 95% half-width (``mean_and_halfwidth``, the one the daily
tables use). Counts are per replication, like ``daily.csv``'s.

- ``equeue.csv``: one row per e-queue and class: ``booked`` (travellers whose wanted time is
  in the window; walk-ins count at their arrival), ``finished``, ``inside_at_end``,
  ``booked_beyond`` (booked for a time past the horizon), each part of the time
  (``<part>_mean_min``, ``<part>_p95_min`` for virtual, road, area, call_up, physical,
  service and their sum without service, wait), ``late_share``, ``lost_share`` and
  ``refused_share`` (of those that reached the border); for a priority class
  ``priority_served`` (served on a booking of a slot reserved for it), ``reserved_slots`` (the class's
  slots in the window) and ``quota_slots`` (floor(quota x the day's slots), summed over the
  days the window touches): served <= reserved <= quota.
- ``equeue_slots.csv``: one row per e-queue: slots ``offered`` in the window, used by their
  holder, by someone else, unused, ``utilisation`` (used / offered), ``no_show`` bookings and
  ``no_show_rate`` (no-shows / slots booked at all), the waiting area's mean and largest
  occupancy, and the road's.
- ``equeue_area.csv``: one row per e-queue and hour of the window: the mean over replications
  of the hour's mean occupancy (with its half-width) and the largest over replications of the
  hour's maximum; the same for the road.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.daily_tables import mean_and_halfwidth
from sim.analysis.equeue import AREA_FIELDS, COMPONENTS, EQueueTotals, class_names, row_offsets
from sim.model.booking import UNLIMITED_AREA, EQueuePlan
from sim.model.compile import Model

KEYS = ("scenario", "equeue", "crossing", "direction", "flows")
PRIORITY = ("priority_served", "reserved_slots", "quota_slots")


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """``top / bottom``, NaN where ``bottom`` is 0 (nothing to take a share of)."""
    top, bottom = np.asarray(top, dtype=float), np.asarray(bottom, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def quota_slots(model: Model, plan: EQueuePlan) -> list[int]:
    """Per priority class: floor(quota x the day's slots), summed over the days the window touches.

    The days from the later of the warm-up and the e-queue's start to the horizon; the slots
    reserved in the window are these, less those of a partial first or last day.
    """
    lo, hi = max(model.warmup, plan.start), model.horizon
    if hi <= lo or not len(plan.slot_times):
        return [0] * len(plan.classes)
    day = (plan.slot_times // 1440.0).astype(np.int64)
    days = range(int(lo // 1440.0), int(math.ceil(hi / 1440.0)))
    per_day = np.bincount(day, minlength=days.stop)[days.start : days.stop]
    return [int(sum(math.floor(q * n + 1e-9) for n in per_day.tolist())) for q in plan.quotas]


def _keys(model: Model, scenario: str) -> list[dict[str, str]]:
    """What names each e-queue in the tables (its name repeats across the crossings of one entry)."""
    return [
        {
            "scenario": scenario,
            "equeue": p.name,
            "crossing": p.crossing,
            "direction": p.direction,
            "flows": " ".join(p.flows),
        }
        for p in model.equeues
    ]


def _columns(out: pd.DataFrame, values: dict[str, np.ndarray]) -> None:
    """Each figure's mean over replications (axis 0) and its 95% half-width, as two columns."""
    for name, x in values.items():
        mean, half = mean_and_halfwidth(x)
        out[name] = mean
        out[f"{name}_ci95"] = half


def equeue_table(model: Model, parts: list[EQueueTotals], scenario: str) -> pd.DataFrame:
    """``equeue.csv``: one row per e-queue and class, each figure's mean and 95% half-width over replications."""
    offsets = row_offsets(model)
    keys = _keys(model, scenario)
    rows = [{**keys[i], "class": name} for i, plan in enumerate(model.equeues) for name in class_names(plan)]
    out = pd.DataFrame(rows, columns=[*KEYS, "class"])
    out["replications"] = len(parts)

    def stack(kind: str, name: str) -> np.ndarray:
        return np.stack([getattr(p, kind)[name] for p in parts]).astype(float)

    finished = stack("counts", "finished")
    reached = stack("counts", "reached")
    values: dict[str, np.ndarray] = {
        name: stack("counts", name) for name in ("booked", "finished", "inside_at_end", "booked_beyond")
    }
    for name in COMPONENTS:
        values[f"{name}_mean_min"] = _ratio(stack("sums", name), finished)
        values[f"{name}_p95_min"] = stack("p95", name)
    for flag in ("late", "lost", "refused"):
        values[f"{flag}_share"] = _ratio(stack("counts", flag), reached)
    _columns(out, values)
    # priority figures only on the rows of priority classes
    priority = np.zeros(len(out), dtype=bool)
    quota = np.full(len(out), np.nan)
    for i, plan in enumerate(model.equeues):
        at = offsets[i] + 1 + np.arange(len(plan.classes))
        priority[at] = True
        quota[at] = quota_slots(model, plan)
    for name in ("priority_served", "reserved_slots"):
        mean, half = mean_and_halfwidth(stack("counts", name))
        out[name] = np.where(priority, mean, np.nan)
        out[f"{name}_ci95"] = np.where(priority, half, np.nan)
    out["quota_slots"] = quota
    return out


def _window_area(model: Model, parts: list[EQueueTotals]) -> tuple[np.ndarray, np.ndarray]:
    """Per replication and e-queue: the mean and the largest of each ``AREA_FIELDS`` over the window's hours."""
    area = np.stack([p.area for p in parts])  # [replication, e-queue, hour, field]
    n = area.shape[2]
    first = min(n, int(math.ceil(model.warmup / 60.0 - 1e-9)))
    window = area[:, :, first:, :]
    if window.shape[2] == 0:
        empty = np.full(area.shape[:2] + (len(AREA_FIELDS),), np.nan)
        return empty, empty
    return _nanmean(window, 2), np.fmax.reduce(window, axis=2)


def slots_table(model: Model, parts: list[EQueueTotals], scenario: str) -> pd.DataFrame:
    """``equeue_slots.csv``: one row per e-queue: slots, who used them, no-shows, and the waiting area."""
    out = pd.DataFrame(_keys(model, scenario), columns=list(KEYS))
    out["slots_from"] = [p.slots_from for p in model.equeues]
    out["area_capacity"] = [
        np.nan if p.area_capacity >= UNLIMITED_AREA else float(p.area_capacity) for p in model.equeues
    ]
    out["replications"] = len(parts)

    def stack(name: str) -> np.ndarray:
        return np.stack([p.slots[name] for p in parts]).astype(float)

    offered = stack("offered")
    used = stack("used_by_holder") + stack("used_by_others")
    any_booking = stack("booked") + stack("no_show") + stack("vacated")
    values = {
        name: stack(name)
        for name in ("offered", "used_by_holder", "used_by_others", "unused", "never_booked", "no_show", "vacated")
    }
    values["utilisation"] = _ratio(used, offered)
    values["no_show_rate"] = _ratio(stack("no_show"), any_booking)
    mean, most = _window_area(model, parts)
    for k, name in enumerate(AREA_FIELDS):
        if name.endswith("_mean"):
            values[name] = mean[..., k]
    _columns(out, values)
    for k, name in enumerate(AREA_FIELDS):
        if name.endswith("_max"):
            out[name] = _largest(most[..., k])
    return out


def _largest(x: np.ndarray) -> np.ndarray:
    """The largest over replications (axis 0), NaN where none has a value."""
    return np.fmax.reduce(x, axis=0)


def _nanmean(x: np.ndarray, axis: int) -> np.ndarray:
    """The mean along ``axis`` of the values there are, NaN where there is none (and no warning)."""
    n = (~np.isnan(x)).sum(axis=axis)
    return np.where(n > 0, np.nansum(x, axis=axis) / np.maximum(n, 1), np.nan)


def area_table(model: Model, parts: list[EQueueTotals], scenario: str) -> pd.DataFrame:
    """``equeue_area.csv``: per e-queue and hour of the window, occupancy of the waiting area and the road."""
    area = np.stack([p.area for p in parts])  # [replication, e-queue, hour, field]
    n_queues, n_hours = area.shape[1], area.shape[2]
    first = min(n_hours, int(math.ceil(model.warmup / 60.0 - 1e-9)))
    hours = np.arange(first, n_hours)
    keys = pd.DataFrame(_keys(model, scenario), columns=list(KEYS))
    out = keys.loc[keys.index.repeat(len(hours))].reset_index(drop=True)
    out["hour"] = np.tile(hours, n_queues)
    out["replications"] = len(parts)
    window = area[:, :, first:, :]
    for k, name in enumerate(AREA_FIELDS):
        x = window[..., k].reshape(len(parts), -1)
        if name.endswith("_mean"):
            mean, half = mean_and_halfwidth(x)
            out[name] = mean
            out[f"{name}_ci95"] = half
        else:
            out[name] = _largest(x)
    return out


def equeue_tables(
    model: Model, parts: list[EQueueTotals], scenario: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three e-queue tables of a run: per class, per e-queue (slots), per e-queue and hour (area)."""
    return equeue_table(model, parts, scenario), slots_table(model, parts, scenario), area_table(model, parts, scenario)
