"""``daily.csv`` and ``weekly.csv`` from the replications' ``DailyTotals``: means and 95% half-widths.

The counting is ``sim.analysis.daily``'s; this module adds the groups up into every row of
the summary (groups and totals), takes the mean and interval over replications, and lays
out the long tables by day and by week (ISO weeks, with dates, when the scenario has a
start date). The definitions of the columns are in ``sim.analysis.daily``.
"""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd

from sim.analysis.daily import DAY, DailyTotals, week_of_days
from sim.analysis.intervals import t_quantile
from sim.analysis.kpis import KEYS, groups_table
from sim.model.compile import Model


def rolled(levels: list[np.ndarray], rows: int, x: np.ndarray) -> np.ndarray:
    """Per-group figures ``x[..., group, t]`` added up into every row of the tables (groups and totals)."""
    if x.ndim > 2:  # one replication at a time
        return np.stack([rolled(levels, rows, part) for part in x])
    out = np.zeros((rows, x.shape[-1]), dtype=x.dtype)
    for codes in levels:
        np.add.at(out, codes, x)
    return out


def group_pools(model: Model) -> list[set[int]]:
    """The booth pools each group's travellers may use."""
    pools: list[set[int]] = [set() for _ in model.groups]
    for s in model.sources:
        for step in s.steps:
            pools[s.group].add(step.pool)
            if step.secondary is not None:
                pools[s.group].add(step.secondary.pool)
    return pools


def row_pools(model: Model, levels: list[np.ndarray], rows: int) -> list[set[int]]:
    """The booth pools each table row's travellers may use (a total row: its groups' together)."""
    own = group_pools(model)
    out: list[set[int]] = [set() for _ in range(rows)]
    for codes in levels:
        for g, row in enumerate(codes):
            out[int(row)] |= own[g]
    return out


def mean_and_halfwidth(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over replications (axis 0) and the 95% t half-width, NaNs left out, NaN with fewer than 2 values."""
    x = np.asarray(x, dtype=float)
    n = (~np.isnan(x)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(x, axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(np.isnan(x), 0.0, x - mean)
        sd = np.sqrt((dev**2).sum(axis=0) / np.maximum(n - 1, 1))
    t = np.full(n.shape, np.nan)
    for k in np.unique(n[n >= 2]):
        t[n == k] = t_quantile(0.975, int(k) - 1)
    return mean, t * sd / np.sqrt(np.maximum(n, 1))


def _periods(model: Model) -> tuple[int, int]:
    """The first and one past the last day that overlap the observation window."""
    days = max(1, math.ceil(model.horizon / DAY))
    if model.warmup >= model.horizon:
        return days, days
    return int(model.warmup // DAY), days


def daily_tables(model: Model, parts: list[DailyTotals], scenario_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``daily.csv`` and ``weekly.csv``: mean over replications, with 95% half-widths, per row and day (week)."""
    table, levels = groups_table(model)
    rows, n_groups = len(table), len(model.groups)
    first, days = _periods(model)
    span = np.arange(first, days)
    reps = len(parts)
    instants = parts[0].instants
    day_ends = np.searchsorted(instants, [min((d + 1) * DAY, model.horizon) for d in span])

    def stack(name: str) -> np.ndarray:
        return np.stack([getattr(p, name) for p in parts])

    arrivals = rolled(levels, rows, stack("arrivals"))[..., span]
    released = rolled(levels, rows, stack("released"))[..., span]
    wait_sum = rolled(levels, rows, stack("wait_sum"))[..., span]
    backlog = rolled(levels, rows, stack("inside"))[..., day_ends]
    crossing_rows = slice(n_groups, n_groups + parts[0].crossing_p95.shape[0])
    p95 = np.full((reps, rows, len(span)), np.nan)
    p95[:, :n_groups] = stack("wait_p95")[..., span]
    p95[:, crossing_rows] = stack("crossing_p95")[..., span]
    lines = _longest_lines(model, levels, rows, stack("queue")[..., day_ends])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_wait = np.where(released > 0, wait_sum / np.maximum(released, 1), np.nan)
    daily = _frame(
        table,
        span,
        reps,
        {
            "arrivals": arrivals,
            "released": released,
            "backlog_end": backlog,
            "wait_mean_min": mean_wait,
            "wait_p95_min": p95,
        },
        lines,
        "day",
    )
    if model.start_date is not None:
        daily.insert(
            daily.columns.get_loc("day") + 1,
            "date",
            [(model.start_date + datetime.timedelta(days=int(d))).isoformat() for d in daily["day"]],
        )
    daily.insert(0, "scenario", scenario_name)

    week_of, labels = week_of_days(model)
    weeks = np.unique(week_of[span]) if len(span) else np.empty(0, dtype=np.int64)
    member = [span[week_of[span] == w] - first for w in weeks]  # positions in the daily arrays
    last = np.asarray([m[-1] for m in member], dtype=np.int64)

    def per_week(x: np.ndarray) -> np.ndarray:
        return np.stack([x[..., m].sum(axis=-1) for m in member], axis=-1) if member else x[..., :0]

    w_released = per_week(released)
    w_sum = rolled(levels, rows, stack("week_sum"))[..., weeks]
    w_p95 = np.full((reps, rows, len(weeks)), np.nan)
    w_p95[:, :n_groups] = stack("week_p95")[..., weeks]
    w_p95[:, crossing_rows] = stack("crossing_week_p95")[..., weeks]
    with np.errstate(invalid="ignore", divide="ignore"):
        w_mean = np.where(w_released > 0, w_sum / np.maximum(w_released, 1), np.nan)
    w_lines = np.stack([lines[..., m].max(axis=-1) for m in member], axis=-1) if member else lines[..., :0]
    weekly = _frame(
        table,
        np.arange(len(weeks)),
        reps,
        {
            "arrivals": per_week(arrivals),
            "released": w_released,
            "backlog_end": backlog[..., last] if member else backlog[..., :0],
            "wait_mean_min": w_mean,
            "wait_p95_min": w_p95,
        },
        w_lines,
        "week",
    )
    position = weekly.pop("week").to_numpy()
    where = weekly.columns.get_loc("flow") + 1
    weekly.insert(where, "week", [labels[int(weeks[k])] for k in position])
    weekly.insert(where + 1, "first_day", [int(span[member[k][0]]) for k in position])
    weekly.insert(where + 2, "days", [len(member[k]) for k in position])
    if model.start_date is not None:
        weekly.insert(
            where + 2,
            "first_date",
            [(model.start_date + datetime.timedelta(days=int(d))).isoformat() for d in weekly["first_day"]],
        )
    weekly.insert(0, "scenario", scenario_name)
    return daily, weekly


def _longest_lines(model: Model, levels: list[np.ndarray], rows: int, queue: np.ndarray) -> np.ndarray:
    """Per replication, row and instant: the longest line among the pools the row's travellers use."""
    pools = row_pools(model, levels, rows)
    out = np.zeros((queue.shape[0], rows, queue.shape[-1]))
    for row, members in enumerate(pools):
        if members:
            out[:, row] = queue[:, sorted(members)].max(axis=1)
    return out


def _frame(
    table: pd.DataFrame, periods: np.ndarray, reps: int, columns: dict[str, np.ndarray], lines: np.ndarray, name: str
) -> pd.DataFrame:
    """A long table: every row of ``table`` for every period, each column's mean and half-width."""
    n_periods = len(periods)
    out = table.loc[table.index.repeat(n_periods), KEYS].reset_index(drop=True)
    out[name] = np.tile(periods, len(table))
    out["replications"] = reps
    for col, x in columns.items():
        mean, half = mean_and_halfwidth(x)
        out[col] = mean.reshape(-1)
        out[f"{col}_ci95"] = half.reshape(-1)
    out["longest_queue_end"] = mean_and_halfwidth(lines)[0].reshape(-1)
    return out
