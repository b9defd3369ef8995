"""The default capacity source: shifts, opening hours and closures, compiled into change times.

Changes are merged across pools lazily, one instant at a time, so a year of hourly shifts
at every pool of the border is never held as one list of Python objects.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from sim.model.compile import Model, Piece, PoolInfo


class ScheduledCapacity:
    """Each pool's capacity as compiled: its value at time 0 and every later change.

    The engine only needs ``initial`` and ``changes``; ``reopens`` (when a shut pool has
    servers again, for policies that tell travellers how long to wait) needs the model,
    given here or later with ``bind``.
    """

    def __init__(self, model: Model | None = None) -> None:
        self.model = model

    def bind(self, model: Model) -> None:
        """Give the model ``reopens`` looks pools up in."""
        self.model = model

    def initial(self, pool: PoolInfo) -> int:
        return pool.initial

    def changes(self, model: Model, piece: Piece) -> Iterator[tuple[float, list[tuple[int, int]]]]:
        merged = heapq.merge(*(pool_changes(model.pools[i]) for i in piece.pools if model.pools[i].change_times))
        yield from by_instant(merged)

    def reopens(self, pool_index: int, now: float) -> float:
        """The first time >= ``now`` the pool has servers: ``now`` when open, inf when not before the horizon."""
        if self.model is None:
            raise RuntimeError("reopens needs the model: pass it to ScheduledCapacity(model) or bind(model)")
        return next_open(self.model.pools[pool_index], now, self.model.horizon)

    def shut_spells(self, pool_index: int) -> list[tuple[float, float]]:
        """When the pool has no servers, as sorted disjoint [start, end): for boards that look often."""
        if self.model is None:
            raise RuntimeError("shut_spells needs the model: pass it to ScheduledCapacity(model) or bind(model)")
        return shut_spells(self.model.pools[pool_index])


def shut_spells(pool: PoolInfo) -> list[tuple[float, float]]:
    """The stretches [start, end) when the compiled capacity is 0 (end inf: not before the schedule ends)."""
    spells: list[tuple[float, float]] = []
    start = 0.0 if pool.initial == 0 else None
    for t, cap in zip(pool.change_times, pool.change_caps, strict=True):
        if cap == 0 and start is None:
            start = t
        elif cap > 0 and start is not None:
            spells.append((start, t))
            start = None
    if start is not None:
        spells.append((start, math.inf))
    return spells


def by_instant(merged: Iterable[tuple[float, int, int]]) -> Iterator[tuple[float, list[tuple[int, int]]]]:
    """Group time-ordered (time, pool index, capacity) into (time, [(pool index, capacity), ...])."""
    batch: list[tuple[int, int]] = []
    at = None
    for t, i, cap in merged:
        if at is not None and t != at:
            yield at, batch
            batch = []
        at = t
        batch.append((i, cap))
    if at is not None:
        yield at, batch


def pool_changes(pool: PoolInfo) -> Iterator[tuple[float, int, int]]:
    """(time, pool index, capacity) of each change of one pool, in time order."""
    for t, cap in zip(pool.change_times, pool.change_caps, strict=True):
        yield t, pool.index, cap


def capacity_at(pool: PoolInfo, t: float) -> int:
    """The pool's compiled capacity at time ``t`` (a change at ``t`` has happened)."""
    k = bisect_right(pool.change_times, t)
    return pool.initial if k == 0 else pool.change_caps[k - 1]


def next_open(pool: PoolInfo, now: float, horizon: float) -> float:
    """The first time >= ``now`` the compiled capacity is above 0; inf when not before ``horizon``.

    Scans forward from ``now``'s change: the closed stretch it passes over is one night or
    one closure, not the whole schedule.
    """
    if capacity_at(pool, now) > 0:
        return now
    times, caps = pool.change_times, pool.change_caps
    for k in range(bisect_right(times, now), len(times)):
        if caps[k] > 0:
            return times[k] if times[k] < horizon else math.inf
    return math.inf
