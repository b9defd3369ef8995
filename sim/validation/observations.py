"""What a validation check reads from a run: one number per replication, over the observed window.

A replication's statistic (its mean wait, the share of time the neutral zone is full, ...) is
one observation; the replications are independent, so the checks can put a Student-t
interval on their mean. Everything here looks only at the window [warm-up, horizon) and
reads the run's public tables (``records``, ``visits``, ``replications``), never the engine.
A replication with nothing to average (no visit to a pool in the window) gives NaN rather
than being left out, so that the check's interval is undefined and it fails instead of
passing on partial data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.experiments.run import RunResult

Statistic = Callable[["RunResult"], np.ndarray]
"""Reads one value per replication from a run."""


def window(result: RunResult) -> tuple[float, float]:
    """(warm-up, horizon) in minutes: the observed window, the same for every replication."""
    return float(result.scenario.warmup), float(result.scenario.horizon)


def _replications(result: RunResult) -> range:
    return range(int(result.scenario.replications))


def by_replication(frame: pd.DataFrame, result: RunResult) -> list[pd.DataFrame]:
    """The rows of each replication in order, an empty frame for one without rows (so none is skipped)."""
    groups = dict(tuple(frame.groupby("replication", observed=True)))
    return [groups.get(r, frame.iloc[:0]) for r in _replications(result)]


def pool_visits(result: RunResult, side: str, stage: str, secondary: bool = False) -> pd.DataFrame:
    """The visits to one stage's (primary or secondary) servers on one side, every replication."""
    v = result.visits
    mask = (v["side"] == side) & (v["stage"] == stage) & (v["secondary"] == secondary)
    return v[mask.to_numpy()]


def mean_total_wait(result: RunResult) -> np.ndarray:
    """The model's own KPI, per replication: mean wait (time in system less service) after the warm-up."""
    reps = result.replications
    rows = reps[(reps["crossing"] == "x") & (reps["direction"] == "a_to_b") & (reps["flow"] == "vehicle")]
    rows = rows.set_index("replication")["wait_mean_min"]
    return rows.reindex(list(_replications(result))).to_numpy(dtype=float)


def pool_wait(side: str, stage: str, secondary: bool = False) -> Statistic:
    """Mean wait in queue at one pool of the visits that entered it after the warm-up."""

    def stat(result: RunResult) -> np.ndarray:
        warmup, _ = window(result)
        v = pool_visits(result, side, stage, secondary)
        v = v[(v["enter_min"] >= warmup) & v["start_min"].notna()]
        return np.array([(g["start_min"] - g["enter_min"]).mean() for g in by_replication(v, result)])

    return stat


def occupancy(begin: np.ndarray, end: np.ndarray, warmup: float, horizon: float, top: int) -> np.ndarray:
    """Share of the window during which exactly n of the intervals [begin, end) cover time; n = 0..top.

    ``end`` NaN means still open at the horizon. Counts above ``top`` are folded into ``top``.
    """
    end = np.where(np.isnan(end), horizon, end)
    keep = end > begin
    begin, end = begin[keep], end[keep]
    times = np.concatenate([begin, end])
    steps = np.concatenate([np.ones(len(begin), dtype=np.int64), -np.ones(len(end), dtype=np.int64)])
    order = np.argsort(times, kind="stable")  # at a tie the order only makes zero-length pieces
    times, level = times[order], np.cumsum(steps[order])
    lo = np.clip(times, warmup, horizon)
    hi = np.clip(np.append(times[1:], horizon), warmup, horizon)
    dist = np.bincount(np.minimum(level, top), weights=hi - lo, minlength=top + 1)[: top + 1]
    first = times[0] if len(times) else horizon
    dist[0] += max(0.0, min(first, horizon) - warmup)
    return dist / (horizon - warmup)


def _blocked_intervals(v: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """[end, leave) of the visits whose traveller finished service but was held by a full zone."""
    end, leave = v["end_min"].to_numpy(), v["leave_min"].to_numpy()
    held = ~np.isnan(end) & (np.isnan(leave) | (leave > end))
    return end[held], leave[held]


def zone_count_distribution(result: RunResult, top: int, with_blocked: bool) -> list[np.ndarray]:
    """Per replication: time-average distribution of (zone + entry booth [+ blocked exit booth])."""
    warmup, horizon = window(result)
    entry = by_replication(pool_visits(result, "b", "entry"), result)
    exit_ = by_replication(pool_visits(result, "a", "release"), result)
    out = []
    for e, x in zip(entry, exit_, strict=True):
        begin, end = e["enter_min"].to_numpy(), e["leave_min"].to_numpy()
        if with_blocked:
            b0, b1 = _blocked_intervals(x)
            begin, end = np.concatenate([begin, b0]), np.concatenate([end, b1])
        out.append(occupancy(begin, end, warmup, horizon, top))
    return out


def state_share(n: int, top: int, with_blocked: bool = True) -> Statistic:
    """Share of time the zone, entry booth (and blocked exit booth) hold exactly n (n = top: n or more)."""

    def stat(result: RunResult) -> np.ndarray:
        return np.array([d[n] for d in zone_count_distribution(result, top, with_blocked)])

    return stat


def state_mean(top: int) -> Statistic:
    """Time-average number in zone + entry booth + blocked exit booth."""

    def stat(result: RunResult) -> np.ndarray:
        return np.array([float(np.dot(np.arange(top + 1), d)) for d in zone_count_distribution(result, top, True)])

    return stat


def exit_blocked_share(result: RunResult) -> np.ndarray:
    """Share of time at least one exit booth holds a finished vehicle that the full zone refuses."""
    warmup, horizon = window(result)
    out = []
    for x in by_replication(pool_visits(result, "a", "release"), result):
        b0, b1 = _blocked_intervals(x)
        out.append(1.0 - occupancy(b0, b1, warmup, horizon, 1)[0])
    return np.array(out)


def entry_throughput(result: RunResult) -> np.ndarray:
    """Vehicles leaving the entry booth per minute during the window."""
    warmup, horizon = window(result)
    out = []
    for e in by_replication(pool_visits(result, "b", "entry"), result):
        leave = e["leave_min"].to_numpy()
        out.append(np.count_nonzero((leave >= warmup) & (leave < horizon)) / (horizon - warmup))
    return np.array(out)
