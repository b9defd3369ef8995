"""Weather closures as a capacity source: the compiled schedule, with every pool of a closed crossing at 0.

The episodes of each weather process are drawn once per replication, from the process's
own stream. A crossing is shut during the union of the windows of every process that acts
on it (and, when given, outside its navigation season); the rest of the time each of its
pools has the capacity of its compiled schedule, so a shift that changes during a storm is
in place when the storm ends.

Only instants where a pool's capacity really changes are emitted, pool by pool from lazy
generators merged in time order, as ``ScheduledCapacity`` does: no list of a whole year of
changes is built.
"""

from __future__ import annotations

import datetime
import heapq
import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.streams import stream
from sim.model.compile import Piece, PoolInfo
from sim.model.weather import WeatherProcess, Windows, merge_windows, rate_segments
from sim.policies.scheduled_capacity import by_instant, next_open, pool_changes, shut_spells


# -- drawing -----------------------------------------------------------------------------------
def draw_episodes(
    process: WeatherProcess, seed: int, replication: int, horizon: float, start_date: datetime.date | None
) -> list[tuple[float, float]]:
    """The process's windows in one replication: fixed and random, clipped to the horizon, merged, sorted."""
    windows = [(start, min(end, horizon)) for start, end in process.fixed if start < horizon]
    windows += _random_windows(process, seed, replication, horizon, start_date)
    return merge_windows(windows)


def _random_windows(
    process: WeatherProcess, seed: int, replication: int, horizon: float, start_date: datetime.date | None
) -> Windows:
    """Random episodes: starts by inversion of the cumulative rate, lengths by the duration's quantile."""
    if process.duration is None or not any(process.monthly_rate):
        return []
    edges, rates = rate_segments(process, horizon, start_date)
    cumulative = np.concatenate(([0.0], np.cumsum(rates * np.diff(edges))))
    rng = stream(seed, replication, "weather", process.id)
    block = _block_size(float(cumulative[-1]))
    windows: Windows = []
    level = 0.0
    while True:
        u = rng.random((block, 2))
        # summed from the last level on, in order, so blocks of any size give the same numbers
        levels = np.cumsum(np.concatenate(([level], -np.log1p(-u[:, 0]))))[1:]
        level = float(levels[-1])
        inside = levels < cumulative[-1]
        starts = _invert(levels[inside], edges, rates, cumulative)
        ends = np.minimum(starts + process.duration.quantile(u[inside, 1]), horizon)
        windows += zip(starts.tolist(), ends.tolist(), strict=True)
        if not inside.all():
            return windows


def _block_size(expected: float) -> int:
    """Episodes to draw at once: a quarter more than expected, so that one block is nearly always enough."""
    return _BLOCK * (1 + int(expected * 1.25) // _BLOCK)


def _invert(levels: np.ndarray, edges: np.ndarray, rates: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
    """The minutes at which the cumulative rate reaches ``levels`` (segments of rate 0 are passed over)."""
    k = np.searchsorted(cumulative, levels, side="right") - 1
    return edges[k] + (levels - cumulative[k]) / rates[k]


_BLOCK = 64
"""Episodes drawn per block, a multiple of this; the stream gives the same numbers in any blocks."""

SEASON = "season"
"""The process id recorded for windows outside a navigation season."""


@dataclass(frozen=True)
class _Shut:
    """A crossing's closures: disjoint windows [start, end), sorted, as two lists for bisecting."""

    starts: list[float]
    ends: list[float]

    @classmethod
    def of(cls, windows: Iterable[tuple[float, float]]) -> _Shut:
        merged = merge_windows(windows)
        return cls([s for s, _ in merged], [e for _, e in merged])

    def until(self, t: float) -> float | None:
        """The end of the window ``t`` is in, or None when the crossing is not shut at ``t``."""
        k = bisect_right(self.starts, t) - 1
        return self.ends[k] if k >= 0 and t < self.ends[k] else None

    def edges(self, horizon: float) -> list[tuple[float, bool]]:
        """(time, shut from then on) at each window edge before the horizon, strictly increasing."""
        found = []
        for start, end in zip(self.starts, self.ends, strict=True):
            found.append((start, True))
            if end < horizon:
                found.append((end, False))
        return found


def _shut_timeline(pool: PoolInfo, edges: list[tuple[float, bool]], closed: bool) -> Iterator[tuple[float, int, int]]:
    """(time, pool index, capacity) where the schedule and the closure edges together change the capacity.

    A two-way merge by hand: this runs once per change of every pool of a closed crossing,
    so it avoids the cost of a general merge. At an instant with both a change of the
    schedule and an edge, one capacity is emitted.
    """
    base = pool.initial
    last = 0 if closed else base
    k = 0
    for t, cap in zip(pool.change_times, pool.change_caps, strict=True):
        while k < len(edges) and edges[k][0] <= t:
            at, closed = edges[k]
            k += 1
            if at < t and (0 if closed else base) != last:
                last = 0 if closed else base
                yield at, pool.index, last
        base = cap
        if (0 if closed else base) != last:
            last = 0 if closed else base
            yield t, pool.index, last
    for at, closed in edges[k:]:
        if (0 if closed else base) != last:
            last = 0 if closed else base
            yield at, pool.index, last


class WeatherClosures:
    """Capacity source: the compiled schedule, shut during weather episodes (see the module).

    ``model`` needs ``pools``, ``horizon``, ``weather`` (compiled processes) and
    ``start_date``. ``seasons`` gives, per crossing id, the windows it is out of its
    navigation season (``sim.model.weather.season_closures``), applied like episodes.
    """

    def __init__(
        self,
        model: Any,
        seed: int,
        replication: int,
        seasons: Mapping[str, Iterable[tuple[float, float]]] | None = None,
    ) -> None:
        self.model = model
        self.horizon = float(model.horizon)
        self.episodes: list[tuple[str, str, float, float]] = []
        served = {p.crossing for p in model.pools}
        windows: dict[str, list[tuple[float, float]]] = {}
        for process in model.weather:
            drawn = draw_episodes(process, seed, replication, self.horizon, model.start_date)
            self._apply(process.id, [c for c in process.crossings if c in served], drawn, windows)
        for crossing, shut in (seasons or {}).items():
            if crossing in served:
                self._apply(SEASON, [crossing], merge_windows(shut), windows)
        self._shut = {c: _Shut.of(w) for c, w in windows.items() if w}
        self._edges = {c: shut.edges(self.horizon) for c, shut in self._shut.items()}

    def _apply(
        self,
        source: str,
        crossings: list[str],
        drawn: list[tuple[float, float]],
        windows: dict[str, list[tuple[float, float]]],
    ) -> None:
        """Record ``drawn`` windows as episodes of ``source`` at ``crossings`` and add them to their closures."""
        for crossing in crossings:
            self.episodes += [(source, crossing, start, end) for start, end in drawn]
            windows.setdefault(crossing, []).extend(drawn)

    def initial(self, pool: PoolInfo) -> int:
        shut = self._shut.get(pool.crossing)
        return 0 if shut is not None and shut.until(0.0) is not None else pool.initial

    def changes(self, model: Any, piece: Piece) -> Iterator[tuple[float, list[tuple[int, int]]]]:
        """(time, [(pool index, capacity), ...]) at each instant some pool's capacity changes."""
        pools = (model.pools[i] for i in piece.pools)
        timelines = (self._timeline(p) for p in pools if p.change_times or p.crossing in self._shut)
        yield from by_instant(heapq.merge(*timelines))

    def _timeline(self, pool: PoolInfo) -> Iterator[tuple[float, int, int]]:
        """(time, pool index, capacity) of one pool: its schedule, or the schedule with its crossing's closures."""
        shut = self._shut.get(pool.crossing)
        if shut is None:
            return pool_changes(pool)
        return _shut_timeline(pool, self._edges[pool.crossing], shut.until(0.0) is not None)

    def shut_spells(self, pool_index: int) -> list[tuple[float, float]]:
        """When the pool has no servers (its schedule's and its crossing's closures), sorted and disjoint."""
        pool = self.model.pools[pool_index]
        spells = shut_spells(pool)
        shut = self._shut.get(pool.crossing)
        if shut is not None:
            spells += list(zip(shut.starts, shut.ends, strict=True))
        return merge_windows(spells)

    def reopens(self, pool_index: int, now: float) -> float:
        """The first time >= ``now`` the pool has servers: ``now`` when open, inf when not before the horizon."""
        pool = self.model.pools[pool_index]
        shut = self._shut.get(pool.crossing)
        t = now
        while True:
            t = next_open(pool, t, self.horizon)
            end = None if shut is None or math.isinf(t) else shut.until(t)
            if end is None:
                return t
            if end >= self.horizon:
                return math.inf
            t = end
