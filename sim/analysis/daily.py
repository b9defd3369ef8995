"""Day-by-day and week-by-week figures of a replication, gathered from the record chunks.

A mean over a whole run hides what a border manager sees: a queue that builds up over the
days, a bad Monday, a backlog that never clears. ``DailyStats`` counts, per crossing x
direction x flow (a group code) and per day of the horizon, the arrivals and releases, the
travellers inside at set instants (the end of every day, and the instants the overload
analysis fits its trend to), and, per server pool, the line at those instants and the time
its booths spent blocked by a full neutral zone. Memory is days x groups counts, never a row
per traveller: waits are kept for the days not yet complete (a day or two) and the current
week, then reduced to a sum and a 95th percentile per group.

Definitions (``daily.csv``, ``weekly.csv``):

- day ``d`` is ``[d, d + 1)`` days from the start; only days that overlap the observation
  window ``[warm-up, horizon)`` are reported, and counts cover only that window;
- ``arrivals``: travellers who reached the crossing that day; ``released``: those who left
  it that day (whenever they arrived), the day's throughput;
- ``backlog_end``: travellers inside at the end of the day, whenever they arrived (the state
  of the crossing, warm-up arrivals included);
- ``wait_mean_min``, ``wait_p95_min``: waits of the travellers *released* that day, so a
  day's figure is final when the day ends and a long queue shows on the days it is cleared;
- ``longest_queue_end``: the longest line, at the end of the day, among the booth pools the
  row's travellers use (a line at one instant, not the day's maximum).

A corridor traveller counts at the crossing it used, from when it reached it. The sums and
quantiles come from values sorted within each group, so a run split into pieces (each group
lives in one piece) gives the same tables to the last digit. The 95th percentile of a day is
given for each crossing x direction x flow and each crossing; rows that add crossings up
(per flow, whole border) have none, because a split run holds no piece with all of their
values.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis.kpis import groups_table
from sim.engine.recorder import Chunk
from sim.model.compile import Model

DAY = 1440.0
"""Minutes in a day."""
P95 = 0.95


def measuring_instants(model: Model) -> np.ndarray:
    """When the travellers inside and the lines are counted: every day's end, and whole days back from the horizon.

    The day ends serve the daily table; the instants a whole number of days before the
    horizon (and the end of the warm-up) serve the trend of the backlog, which is fitted to
    points at the same time of day so that the daily rhythm of demand does not look like growth.
    """
    horizon, warmup = model.horizon, model.warmup
    days = max(1, math.ceil(horizon / DAY))
    ends = [min((d + 1) * DAY, horizon) for d in range(days)]
    back = [horizon - k * DAY for k in range(int((horizon - warmup) // DAY) + 1)]
    return np.unique(np.asarray([*ends, *back, warmup], dtype=float))


def week_of_days(model: Model) -> tuple[np.ndarray, list[str]]:
    """Each day's week index, and each week's label: ISO weeks with a start date, else weeks from the start."""
    days = max(1, math.ceil(model.horizon / DAY))
    if model.start_date is None:
        index = np.arange(days) // 7
        return index, [str(w) for w in range(int(index[-1]) + 1)]
    keys = [(model.start_date + datetime.timedelta(days=d)).isocalendar()[:2] for d in range(days)]
    order = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    return np.asarray([order[k] for k in keys]), [f"{y}-W{w:02d}" for y, w in order]


def sum_and_p95(
    codes: np.ndarray, rows: int, group: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum, 95th percentile and count of ``values`` per row (``codes[group]``), from the values sorted within each row.

    Sorting first makes them independent of the order the travellers came in (and so of
    how the run was chunked or split). The percentile is numpy's default (linear) one.
    """
    sums, p95, counts = np.zeros(rows), np.full(rows, np.nan), np.zeros(rows, dtype=np.int64)
    if len(values) == 0:
        return sums, p95, counts
    row = codes[group]
    order = np.lexsort((values, row))
    r, v = row[order], values[order]
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    present = r[starts]
    n = np.diff(np.r_[starts, len(r)])
    sums[present] = np.add.reduceat(v, starts)
    within = (n - 1) * P95  # the position inside each row's values, so no row depends on the others
    below = np.floor(within)
    frac = within - below
    lo = starts + below.astype(np.int64)
    hi = np.minimum(lo + 1, starts + n - 1)
    p95[present] = v[lo] + (v[hi] - v[lo]) * frac
    counts[present] = n
    return sums, p95, counts


@dataclass
class DailyTotals:
    """One replication's (or piece's) day-by-day counts, as arrays indexed by group, pool, day, week or instant."""

    instants: np.ndarray  # minutes at which ``inside`` and ``queue`` are counted
    arrivals: np.ndarray  # [group, day], in the window
    released: np.ndarray  # [group, day], in the window
    wait_sum: np.ndarray  # [group, day], waits of those released
    wait_p95: np.ndarray  # [group, day]
    crossing_p95: np.ndarray  # [crossing row, day]
    week_sum: np.ndarray  # [group, week]
    week_p95: np.ndarray  # [group, week]
    crossing_week_p95: np.ndarray  # [crossing row, week]
    inside: np.ndarray  # [group, instant]: travellers inside
    queue: np.ndarray  # [pool, instant]: line length
    busy: np.ndarray  # [pool]: server minutes held in the window (service and blocking)
    blocked: np.ndarray  # [pool]: of which held by a served traveller the full neutral zone kept back
    open_group: np.ndarray  # per traveller who arrived in the window and is still inside at the horizon
    open_wait: np.ndarray  # its wait so far (a lower bound of its wait)

    @staticmethod
    def merge(parts: Sequence[DailyTotals]) -> DailyTotals:
        """Totals of pieces of one replication: each group and pool is counted in exactly one piece.

        Counts and sums add (a piece holds zeros elsewhere); percentiles are NaN outside the
        piece that holds the values, so the largest of the pieces' is that piece's own.
        """
        if len(parts) == 1:
            return parts[0]
        first = parts[0]

        def add(name: str) -> np.ndarray:
            return sum((getattr(p, name) for p in parts[1:]), getattr(first, name).copy())

        def own(name: str) -> np.ndarray:
            return np.fmax.reduce(np.stack([getattr(p, name) for p in parts]), axis=0)

        return DailyTotals(
            instants=first.instants,
            arrivals=add("arrivals"),
            released=add("released"),
            wait_sum=add("wait_sum"),
            wait_p95=own("wait_p95"),
            crossing_p95=own("crossing_p95"),
            week_sum=add("week_sum"),
            week_p95=own("week_p95"),
            crossing_week_p95=own("crossing_week_p95"),
            inside=add("inside"),
            queue=add("queue"),
            busy=add("busy"),
            blocked=add("blocked"),
            open_group=np.concatenate([p.open_group for p in parts]),
            open_wait=np.concatenate([p.open_wait for p in parts]),
        )


def shortest_services(model: Model) -> np.ndarray:
    """Per pool, the shortest service any traveller can have there (0 where a distribution reaches 0)."""
    floor = np.full(len(model.pools), np.inf)
    known: dict[Any, float] = {}  # many steps share a distribution: evaluate each once

    def least(d: Any) -> float:
        if d not in known:
            known[d] = 0.0 if d.is_zero else float(np.nan_to_num(d.quantile(np.zeros(1))[0], nan=0.0))
        return known[d]

    for s in model.sources:
        for step in s.steps:
            if step.trace is not None:
                shortest = float(step.trace.min()) if len(step.trace) else 0.0
            else:
                shortest = least(step.per_vehicle) + least(step.per_person)  # at least one person
            floor[step.pool] = min(floor[step.pool], shortest)
            if step.secondary is not None:
                floor[step.secondary.pool] = min(floor[step.secondary.pool], least(step.secondary.time))
    return np.where(np.isfinite(floor), np.maximum(floor, 0.0), 0.0)


class DailyStats:
    """Accumulates ``DailyTotals`` from chunks (a ``ChunkConsumer``)."""

    def __init__(self, model: Model):
        self.warmup, self.horizon = model.warmup, model.horizon
        self.group_of = np.asarray([s.group for s in model.sources], dtype=np.int64)
        table, levels = groups_table(model)
        self.crossing_codes = levels[1] - len(model.groups)  # each group's crossing row, from 0
        self.crossing_rows = int(self.crossing_codes.max()) + 1 if len(self.crossing_codes) else 0
        self.own_codes = levels[0]
        g, p = len(model.groups), len(model.pools)
        self.shortest = shortest_services(model)
        self.servers = np.asarray([max(q.initial, *q.change_caps, 1) for q in model.pools], dtype=float)
        self.days = max(1, math.ceil(self.horizon / DAY))
        self.week_of, weeks = week_of_days(model)
        self.weeks = len(weeks)
        self.week_last = np.asarray([np.flatnonzero(self.week_of == w).max() for w in range(self.weeks)])
        self.instants = measuring_instants(model)
        width = len(self.instants) + 1  # one slot past the last instant: never counted
        self.width = width
        self.arrivals = np.zeros((g, self.days), dtype=np.int64)
        self.released = np.zeros((g, self.days), dtype=np.int64)
        self.wait_sum = np.zeros((g, self.days))
        self.wait_p95 = np.full((g, self.days), np.nan)
        self.crossing_p95 = np.full((self.crossing_rows, self.days), np.nan)
        self.week_sum = np.zeros((g, self.weeks))
        self.week_p95 = np.full((g, self.weeks), np.nan)
        self.crossing_week_p95 = np.full((self.crossing_rows, self.weeks), np.nan)
        self.inside = np.zeros(g * width, dtype=np.int64)  # +1 from the first instant inside, -1 from the first out
        self.queue = np.zeros(p * width, dtype=np.int64)
        self.busy = np.zeros(p)
        self.blocked = np.zeros(p)
        self.open_group: list[np.ndarray] = []
        self.open_wait: list[np.ndarray] = []
        self.pending: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}  # released waits of days not yet closed
        self.week_values: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.closed = -1  # the last day whose waits are final

    def add(self, c: Chunk) -> None:
        warmup, inst, width = self.warmup, self.instants, self.width
        g = self.group_of[c.source]
        arrival, release = c.arrival, c.release
        out = ~np.isnan(release)
        # inside at instant t: arrived at or before t, not yet released (still driving: NaN arrival, never)
        lo = np.searchsorted(inst, arrival, "left")
        hi = np.searchsorted(inst, np.where(out, release, np.inf), "left")
        size = len(self.inside)
        self.inside += np.bincount(g * width + lo, minlength=size)
        self.inside -= np.bincount(g * width + hi, minlength=size)
        arrived = arrival >= warmup
        day_a = np.minimum((arrival[arrived] // DAY).astype(np.int64), self.days - 1)
        self.arrivals += np.bincount(g[arrived] * self.days + day_a, minlength=self.arrivals.size).reshape(
            self.arrivals.shape
        )
        gone = out & (release >= warmup)
        day_r = np.minimum((release[gone] // DAY).astype(np.int64), self.days - 1)
        self.released += np.bincount(g[gone] * self.days + day_r, minlength=self.released.size).reshape(
            self.released.shape
        )
        waits, groups = c.wait()[gone], g[gone]
        for d in np.unique(day_r):
            at = day_r == d
            self.pending.setdefault(int(d), []).append((groups[at], waits[at]))
        if len(day_r):
            self._close_days_before(int(day_r.max()))
        self._visits(c)
        self._unfinished(c, g, arrived & ~out)

    def _visits(self, c: Chunk) -> None:
        """Lines at the instants, and booth time held (serving, or blocked by a full neutral zone)."""
        warmup, horizon, inst, width = self.warmup, self.horizon, self.instants, self.width
        idx = c.visit_pool.astype(np.int64)
        started = ~np.isnan(c.visit_start)
        left = ~np.isnan(c.visit_leave)
        # in the line from entering until its service starts (or it leaves the line, or for ever)
        until = np.where(started, c.visit_start, np.where(left, c.visit_leave, np.inf))
        lo = np.searchsorted(inst, c.visit_enter, "left")
        hi = np.searchsorted(inst, until, "left")
        size = len(self.queue)
        self.queue += np.bincount(idx * width + lo, minlength=size)
        self.queue -= np.bincount(idx * width + hi, minlength=size)
        leave = np.clip(np.where(left, c.visit_leave, horizon), warmup, horizon)
        start = np.clip(np.where(started, c.visit_start, horizon), warmup, horizon)
        n = len(self.busy)
        self.busy += np.bincount(idx[started], weights=(leave - start)[started], minlength=n)
        ended = ~np.isnan(c.visit_end)
        end = np.clip(np.where(ended, c.visit_end, horizon), warmup, horizon)
        self.blocked += np.bincount(idx[ended], weights=(leave - end)[ended], minlength=n)

    def _unfinished(self, c: Chunk, g: np.ndarray, inside: np.ndarray) -> None:
        """Each traveller of the window still inside at the horizon: a lower bound of its wait.

        Its wait so far (time inside minus the service it finished and the part of the
        service under way, so no service counts as waiting), plus the least time the line
        ahead of it still takes: with k travellers ahead in a pool of at most c booths, served
        first come first served (the default order), it cannot start before floor(k / c) of
        the pool's shortest possible services have ended. That second part is what keeps the
        bound useful when the queue is long: the travellers still waiting at the end are the
        ones whose wait so far is shortest.
        """
        if not inside.any():
            return
        tid = c.tid[inside]
        serving = np.isnan(c.visit_leave) & ~np.isnan(c.visit_start) & np.isnan(c.visit_end)
        under_way = _lookup(tid, c.visit_tid[serving], self.horizon - c.visit_start[serving])
        queued = np.isnan(c.visit_leave) & np.isnan(c.visit_start)
        pool, enter, who = c.visit_pool[queued].astype(np.int64), c.visit_enter[queued], c.visit_tid[queued]
        order = np.lexsort((who, enter, pool))
        pool, who = pool[order], who[order]
        first = np.flatnonzero(np.r_[True, pool[1:] != pool[:-1]]) if len(pool) else np.empty(0, dtype=np.int64)
        ahead = np.arange(len(pool)) - np.repeat(first, np.diff(np.r_[first, len(pool)]))
        still = np.floor(ahead / self.servers[pool]) * self.shortest[pool]
        line = _lookup(tid, who, still)
        so_far = self.horizon - c.arrival[inside] - c.service[inside] - under_way
        self.open_group.append(g[inside])
        self.open_wait.append(np.maximum(so_far, 0.0) + line)

    def _close_days_before(self, latest: int) -> None:
        """Reduce the waits of every day before ``latest``: no later chunk holds a release of those.

        A chunk holds the releases since the last flush, which may include ones at exactly
        the first instant of the next day; so the latest day seen may still be incomplete.
        """
        for d in sorted(k for k in self.pending if k < latest):
            self._close_day(d)

    def _close_day(self, d: int) -> None:
        parts = self.pending.pop(d, [])
        group = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=np.int64)
        values = np.concatenate([p[1] for p in parts]) if parts else np.empty(0)
        self.wait_sum[:, d], self.wait_p95[:, d], _ = sum_and_p95(self.own_codes, len(self.own_codes), group, values)
        self.crossing_p95[:, d] = sum_and_p95(self.crossing_codes, self.crossing_rows, group, values)[1]
        w = int(self.week_of[d])
        self.week_values.setdefault(w, []).append((group, values))
        self.closed = max(self.closed, d)
        for week in sorted(self.week_values):
            if self.week_last[week] <= self.closed:
                self._close_week(week)

    def _close_week(self, w: int) -> None:
        parts = self.week_values.pop(w)
        group = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts])
        self.week_sum[:, w], self.week_p95[:, w], _ = sum_and_p95(self.own_codes, len(self.own_codes), group, values)
        self.crossing_week_p95[:, w] = sum_and_p95(self.crossing_codes, self.crossing_rows, group, values)[1]

    def finish(self, pools: Sequence[Any]) -> DailyTotals:
        for d in range(self.days):
            if d > self.closed:
                self._close_day(d)
        for w in sorted(self.week_values):
            self._close_week(w)
        g, p, width = len(self.arrivals), len(self.busy), self.width
        inside = np.cumsum(self.inside.reshape(g, width), axis=1)[:, :-1]
        queue = np.cumsum(self.queue.reshape(p, width), axis=1)[:, :-1]
        return DailyTotals(
            instants=self.instants,
            arrivals=self.arrivals,
            released=self.released,
            wait_sum=self.wait_sum,
            wait_p95=self.wait_p95,
            crossing_p95=self.crossing_p95,
            week_sum=self.week_sum,
            week_p95=self.week_p95,
            crossing_week_p95=self.crossing_week_p95,
            inside=inside,
            queue=queue,
            busy=self.busy,
            blocked=self.blocked,
            open_group=np.concatenate(self.open_group) if self.open_group else np.empty(0, dtype=np.int64),
            open_wait=np.concatenate(self.open_wait) if self.open_wait else np.empty(0),
        )


def _lookup(tid: np.ndarray, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` of the traveller ids ``keys`` at each of ``tid``; 0 where a traveller has none."""
    out = np.zeros(len(tid))
    if len(keys) == 0:
        return out
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    at = np.minimum(np.searchsorted(keys, tid), len(keys) - 1)
    found = keys[at] == tid
    out[found] = values[at[found]]
    return out
