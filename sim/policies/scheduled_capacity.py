"""The default capacity source: shifts, opening hours and closures, compiled into change times.

Changes are merged across pools lazily, one instant at a time, so a year of hourly shifts
at every pool of the border is never held as one list of Python objects.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from sim.model.compile import Model, Piece, PoolInfo


class ScheduledCapacity:
    """Each pool's capacity as compiled: its value at time 0 and every later change."""

    def initial(self, pool: PoolInfo) -> int:
        return pool.initial

    def changes(self, model: Model, piece: Piece) -> Iterator[tuple[float, list[tuple[int, int]]]]:
        merged = heapq.merge(*(_changes(model.pools[i]) for i in piece.pools if model.pools[i].change_times))
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


def _changes(pool: PoolInfo) -> Iterator[tuple[float, int, int]]:
    """(time, pool index, capacity) of each change of one pool, in time order."""
    for t, cap in zip(pool.change_times, pool.change_caps, strict=True):
        yield t, pool.index, cap
