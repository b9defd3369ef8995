"""What a traveller can know about the wait at a crossing: the queue now, or as published.

A crossing's expected wait, for a traveller arriving at time ``t``, is the sum over the
controls of its route of: the share of travellers that control selects times (the time
until the control reopens, if it is shut at ``t``, plus the travellers waiting there times
the mean service minutes of the traveller's flow, divided by the servers on duty). This is
what a display board or an e-queue website shows: a queue length turned into hours.

With ``information: now`` the queue is read live; with ``published`` from figures copied
every ``publish_every`` minutes (so a traveller may act on an hour-old board). Opening
hours and announced closures are known in advance (they come from the capacity source).
"""

from __future__ import annotations

import math
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
        self.at = 0.0

    def publish(self, now: float) -> None:
        """Copy the queues and capacities: what the board shows until the next copy."""
        self.queued = [len(p.queue) for p in self.pools]
        self.caps = [p.cap for p in self.pools]
        self.at = now

    def closed_for(self, pool: int, t: float) -> float:
        """Minutes from ``t`` until the pool has servers again (0 when it has them at ``t``)."""
        reopens = getattr(self.capacity, "reopens", None)
        if reopens is None:
            cap = self.caps[pool] if self.published else self.pools[pool].cap
            return 0.0 if cap > 0 else CLOSED_FOR_GOOD
        at = reopens(pool, t)
        return CLOSED_FOR_GOOD if math.isinf(at) else max(0.0, at - t)

    def wait(self, option: Option, t: float, ahead: int | None = None) -> float:
        """Expected minutes of waiting along ``option``'s route for a traveller arriving at ``t``.

        ``ahead``: travellers before it at the first control (its place in the line), when
        it is already there; the whole line otherwise.
        """
        total = 0.0
        for k, (pool, mean, select) in enumerate(option.work):
            if self.published:
                queued, cap = self.queued[pool], self.caps[pool]
            else:
                p = self.pools[pool]
                queued, cap = len(p.queue), p.cap
            if k == 0 and ahead is not None:
                queued = ahead
            servers = cap if cap > 0 else self.nominal[pool]
            total += select * (self.closed_for(pool, t) + queued * mean / servers)
        return total
