"""What a traveller can know about the wait at a crossing: the queue now, or as published.

A crossing's expected wait, for a traveller arriving at time ``t``, is the time until its
first control reopens if it is shut at ``t`` (opening hours, closures and weather shut a
crossing at its first control), plus the sum over the controls of its route of: the share
of travellers that control selects times the travellers waiting there times the mean
service minutes of the traveller's flow, divided by the servers on duty. This is
what a display board or an e-queue website shows: a queue length turned into hours.

With ``information: now`` the queue is read live; with ``published`` from figures copied
every ``publish_every`` minutes (so a traveller may act on an hour-old board). Opening
hours and announced closures are known in advance (they come from the capacity source).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from sim.model.network import Option

CLOSED_FOR_GOOD = 30 * 1440.0
"""Wait counted for a control that does not reopen within the run: a month (no one plans on it)."""


class WaitBoard:
    """Expected waits from the engine's pools, live or as last published."""

    def __init__(self, engine: Any, information: str, publish_every: float):
        self.pools = engine.pools
        self.capacity = engine.capacity
        self.published = information == "published"
        self.publish_every = publish_every
        self.nominal = [max(1, p.initial, *p.change_caps) for p in engine.model.pools]
        self.queued = [0] * len(self.pools)
        self.caps = [p.cap for p in self.pools]
        self.at = -1.0  # nothing published yet
        self.horizon = engine.model.horizon
        self._spells: dict[int, tuple[list[float], list[float]] | bool] = {}
        self._cache: dict[int, tuple[float, float]] = {}

    def publish(self, now: float) -> None:
        """Copy the queues and capacities: what the board shows until the next copy."""
        self.queued = [len(p.queue) for p in self.pools]
        self.caps = [p.cap for p in self.pools]
        self.at = now

    def closed_for(self, pool: int, t: float) -> float:
        """Minutes from ``t`` until the pool has servers again (0 when it has them at ``t``)."""
        spells = self._spells.get(pool)
        if spells is None:
            spells = self._spells[pool] = self._shut(pool)
        if spells is False:  # a capacity source that cannot say: shut now means shut for good
            cap = self.caps[pool] if self.published else self.pools[pool].cap
            return 0.0 if cap > 0 else CLOSED_FOR_GOOD
        starts, ends = spells
        k = bisect_right(starts, t) - 1
        if k < 0 or t >= ends[k]:
            return 0.0
        return CLOSED_FOR_GOOD if ends[k] >= self.horizon else ends[k] - t

    def _shut(self, pool: int) -> tuple[list[float], list[float]] | bool:
        spells = getattr(self.capacity, "shut_spells", None)
        if spells is None:
            return False
        found = spells(pool)
        return [a for a, _ in found], [b for _, b in found]

    def queue_wait(self, option: Option, ahead: int | None = None) -> float:
        """Expected minutes of queueing along ``option``'s route as the lines stand (or were published)."""
        published = self.published
        if published and ahead is None:
            cached = self._cache.get(id(option))
            if cached is not None and cached[0] == self.at:
                return cached[1]
        total = 0.0
        first = True
        for pool, mean, select in option.work:
            if published:
                queued, cap = self.queued[pool], self.caps[pool]
            else:
                p = self.pools[pool]
                queued, cap = len(p.queue), p.cap
            if first and ahead is not None:
                queued = ahead
            first = False
            if queued:
                total += select * queued * mean / (cap if cap > 0 else self.nominal[pool])
        if published and ahead is None:
            self._cache[id(option)] = (self.at, total)
        return total

    def costs(self, options: tuple[Option, ...], now: float) -> list[float]:
        """Generalised cost of each option for a traveller setting off at ``now``: drives plus expected wait.

        The same figures as ``wait``, in one pass over the options (this runs at every departure).
        """
        out = []
        closed_for, queue_wait = self.closed_for, self.queue_wait
        for o in options:
            gate, _, select = o.work[0]
            arrive = now + o.drive_to
            out.append(o.drive_to + o.drive_on + select * closed_for(gate, arrive) + queue_wait(o))
        return out

    def wait(self, option: Option, t: float, ahead: int | None = None) -> float:
        """Expected minutes of waiting along ``option``'s route for a traveller arriving at ``t``.

        ``ahead``: travellers before it at the first control (its place in the line), when
        it is already there; the whole line otherwise. A crossing is shut at its first
        control (opening hours, closures and weather shut it there; those past it finish).
        """
        gate, _, select = option.work[0]
        return select * self.closed_for(gate, t) + self.queue_wait(option, ahead)
